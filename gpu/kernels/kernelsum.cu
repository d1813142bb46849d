// Kernel sums with their gradients (core.Pair.KernelSum):
//
//	out_i  = Σ_j w_j k(x_i, y_j),   grad_i = Σ_j w_j ∇₁k(x_i, y_j) = Σ_j w_j g_ij (x_i − y_j)
//
// with s = |x − y|², σ = p.eps and (core.KernelValue)
//
//	gaussian:  k = exp(−s/(2σ²)),                       g = −k/σ²
//	laplacian: k = exp(−r), r = sqrt(max(s/σ², 1e-8)),   g = −k/(σ² r), 0 if s/σ² < 1e-8
//	energy:    k = −sqrt(max(s, 1e-8)),                  g = −1/sqrt(s), 0 if s < 1e-8
//
// Same layout as the soft-min (softmin.cu): a thread per row, shared tiles
// of columns in ascending order, tile partial sums in T folded into double
// accumulators; column chunks carry (S, G) in state.
#include "common.cuh"

#define GL_GAUSSIAN 1
#define GL_LAPLACIAN 2
#define GL_ENERGY 3

template <typename T, int D, int K, bool GRAD>
__device__ void gl_kernelsum(const Params& p) {
	GL_DYNAMIC_SMEM(smem);
	const int dd = D ? D : (int)p.d;
	const int B = blockDim.x;
	T* sy = (T*)smem;
	T* sw = sy + B * dd;
	const T* x = (const T*)p.x;
	const T* y = (const T*)p.y;
	const T* w = (const T*)p.h;
	const Rows rw = gl_rows(p);
	const int i = rw.r0 + threadIdx.x;
	const bool active = i < rw.r1;
	const T sigma = T(p.eps);
	const T s2 = sigma * sigma;
	const T half_inv_s2 = T(1) / (T(2) * s2);
	const T inv_s2 = T(1) / s2;
	const T clamp = T(GL_CLAMP);
	constexpr int ND = D ? D : GL_MAXD;
	constexpr int NG = GRAD ? ND : 1;
	T xi[ND];
	double G[NG];
	T g[NG];
	double* st = (double*)p.state;
	double S = 0;
	for (int k = 0; k < dd; k++) xi[k] = active ? x[(long long)i * dd + k] : T(0);
	if (GRAD)
		for (int k = 0; k < dd; k++) G[k] = 0, g[k] = 0;
	if (active && !(p.flags & GL_FIRST)) {
		S = st[i];
		if (GRAD)
			for (int k = 0; k < dd; k++) G[k] = st[p.n + (long long)i * dd + k];
	}
	for (int c = rw.c0; c < rw.c1; c++) {
		int j0, j1;
		gl_cols(p, c, &j0, &j1);
		for (int t0 = j0; t0 < j1; t0 += B) {
			const int cnt = min(B, j1 - t0);
			__syncthreads();
			gl_load_tile<T>(y, w, dd, t0, cnt, sy, sw);
			__syncthreads();
			if (!active) continue;
			T s_t = 0;
			for (int jj = 0; jj < cnt; jj++) {
				const T* yj = sy + jj * dd;
				T s = 0;
				for (int k = 0; k < dd; k++) {
					T t = xi[k] - yj[k];
					s += t * t;
				}
				T v, f;
				if (K == GL_GAUSSIAN) {
					v = gl_exp(-s * half_inv_s2);
					f = -v * inv_s2;
				} else if (K == GL_LAPLACIAN) {
					T q = s * inv_s2;
					T r = gl_sqrt(q > clamp ? q : clamp);
					v = gl_exp(-r);
					f = q < clamp ? T(0) : -v * inv_s2 / r;
				} else {
					T r = gl_sqrt(s > clamp ? s : clamp);
					v = -r;
					f = s < clamp ? T(0) : T(-1) / r;
				}
				const T wj = sw[jj];
				s_t += wj * v;
				if (GRAD) {
					const T wf = wj * f;
					for (int k = 0; k < dd; k++) g[k] += wf * (xi[k] - yj[k]);
				}
			}
			S += (double)s_t;
			if (GRAD)
				for (int k = 0; k < dd; k++) G[k] += (double)g[k], g[k] = 0;
		}
	}
	if (!active) return;
	if (!(p.flags & GL_LAST)) {
		st[i] = S;
		if (GRAD)
			for (int k = 0; k < dd; k++) st[p.n + (long long)i * dd + k] = G[k];
		return;
	}
	((T*)p.out)[i] = (T)S;
	if (GRAD)
		for (int k = 0; k < dd; k++) ((T*)p.grad)[(long long)i * dd + k] = (T)G[k];
}

#define GL_KSUM(NAME, T, D, K, GRAD) \
	extern "C" __global__ void NAME(Params p) { gl_kernelsum<T, D, K, GRAD>(p); } \
	GL_REGISTER(NAME)

#define GL_KSUM_D(PRE, T, K, GRAD)       \
	GL_KSUM(PRE##_d1, T, 1, K, GRAD) \
	GL_KSUM(PRE##_d2, T, 2, K, GRAD) \
	GL_KSUM(PRE##_d3, T, 3, K, GRAD) \
	GL_KSUM(PRE##_dn, T, 0, K, GRAD)

#define GL_KSUM_G(PRE, T, K)             \
	GL_KSUM_D(PRE##_g0, T, K, false) \
	GL_KSUM_D(PRE##_g1, T, K, true)

GL_KSUM_G(gl_ksum_f32_gaussian, float, GL_GAUSSIAN)
GL_KSUM_G(gl_ksum_f32_laplacian, float, GL_LAPLACIAN)
GL_KSUM_G(gl_ksum_f32_energy, float, GL_ENERGY)
GL_KSUM_G(gl_ksum_f64_gaussian, double, GL_GAUSSIAN)
GL_KSUM_G(gl_ksum_f64_laplacian, double, GL_LAPLACIAN)
GL_KSUM_G(gl_ksum_f64_energy, double, GL_ENERGY)
