// One pass of the separable grid soft-min (core/grid.AxisEngine.LSEAxis):
// for every line along an axis of N pixels of a row-major array
// outer × N × stride,
//
//	out[o, u, s] = LSE_v( in[o, v, s] − κ(|u − v|) ),   κ = the AxisKernel's Cost table,
//
// keeping only the terms t_v ≥ m_u − Tau, m_u = max_v t_v (Tau = +∞ keeps
// all). One thread per output pixel, consecutive threads along s (coalesced
// reads of a strided axis; along the last axis a warp's threads read the same
// in[v], a broadcast). Computed in float64 — κ is the float64 table every
// engine uses — in two passes over v (the max, then the sum), each in
// ascending v: deterministic. A line whose terms are all −∞ gives −∞.
//
// Params fields: x = in, out = out, h = κ (double, N entries), n = outer,
// m = N, d = stride, eps = Tau.
#include "common.cuh"

template <typename T>
__device__ void gl_lseaxis(const Params& p) {
	const long long outer = p.n, N = p.m, stride = p.d;
	const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (idx >= outer * N * stride) return;
	const long long s = idx % stride, rest = idx / stride;
	const long long u = rest % N, o = rest / N;
	const T* in = (const T*)p.x + o * N * stride + s;
	const double* cost = (const double*)p.h;
	double m = -INFINITY;
	for (long long v = 0; v < N; v++) {
		double t = (double)in[v * stride] - cost[u > v ? u - v : v - u];
		m = t > m ? t : m;
	}
	T* out = (T*)p.out + o * N * stride + s + u * stride;
	if (!(m > -INFINITY)) {
		*out = T(-INFINITY);
		return;
	}
	const double floor = m - p.eps;
	double S = 0;
	for (long long v = 0; v < N; v++) {
		double t = (double)in[v * stride] - cost[u > v ? u - v : v - u];
		if (t >= floor) S += exp(t - m);
	}
	*out = (T)(m + log(S));
}

extern "C" __global__ void gl_lseaxis_f32(Params p) { gl_lseaxis<float>(p); }
GL_REGISTER(gl_lseaxis_f32)
extern "C" __global__ void gl_lseaxis_f64(Params p) { gl_lseaxis<double>(p); }
GL_REGISTER(gl_lseaxis_f64)
