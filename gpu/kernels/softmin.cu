// Online soft-min with its gradient accumulation (core.Pair.SoftMin):
//
//	out_i  = −ε · log Σ_j exp(z_ij),   z_ij = h_j − C(x_i, y_j)/ε
//	grad_i = Σ_j P_ij ∇₁C(x_i, y_j),   P_ij = exp(z_ij) / Σ_j exp(z_ij)
//
// One thread per row i, one block per B rows; the columns stream through
// shared-memory tiles of B points, in ascending j, so the result of a row is
// a fixed sequence of operations (deterministic on a device, independent of
// the launch). The log-sum-exp is online: a running max μ, a sum S of
// exp(z − μ) and Σ exp(z − μ)∇C, both rescaled by exp(μ − z) when z raises
// the max. Within a tile the sums run in T, and each tile's partial sum is
// folded into a double accumulator (error O((B + M/B)·u) rather than O(M·u)
// in float32). Terms with z = −∞ (h_j = −∞) contribute nothing; a row
// without any finite term gives +∞ and a zero gradient.
//
// Column chunks: with GL_FIRST unset the (μ, S, G) of each row are read from
// state, and with GL_LAST unset they are written back instead of out/grad,
// so a reduction over columns too many for the device runs as a fixed
// sequence of launches with the same result as one.
#include "common.cuh"

#define GL_COST_EUCLIDEAN 1
#define GL_COST_HALFSQ 2

template <typename T, int D, int COST, bool GRAD>
__device__ void gl_softmin(const Params& p) {
	GL_DYNAMIC_SMEM(smem);
	const int dd = D ? D : (int)p.d;
	const int B = blockDim.x;
	T* sy = (T*)smem;
	T* sh = sy + B * dd;
	const T* x = (const T*)p.x;
	const T* y = (const T*)p.y;
	const T* h = (const T*)p.h;
	const Rows rw = gl_rows(p);
	const int i = rw.r0 + threadIdx.x;
	const bool active = i < rw.r1;
	const T inv = T(1) / T(p.eps);
	const T clamp = T(GL_CLAMP);
	constexpr int ND = D ? D : GL_MAXD;
	constexpr int NG = GRAD ? ND : 1;
	T xi[ND];
	double G[NG];
	T g[NG];
	double* st = (double*)p.state;
	T mu = -INFINITY;
	double S = 0;
	for (int k = 0; k < dd; k++) xi[k] = active ? x[(long long)i * dd + k] : T(0);
	if (GRAD)
		for (int k = 0; k < dd; k++) G[k] = 0, g[k] = 0;
	if (active && !(p.flags & GL_FIRST)) {
		mu = (T)st[i];
		S = st[p.n + i];
		if (GRAD)
			for (int k = 0; k < dd; k++) G[k] = st[2 * p.n + (long long)i * dd + k];
	}
	for (int c = rw.c0; c < rw.c1; c++) {
		int j0, j1;
		gl_cols(p, c, &j0, &j1);
		for (int t0 = j0; t0 < j1; t0 += B) {
			const int cnt = min(B, j1 - t0);
			__syncthreads();
			gl_load_tile<T>(y, h, dd, t0, cnt, sy, sh);
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
				T cst = COST == GL_COST_HALFSQ ? s / T(2) : gl_sqrt(s > clamp ? s : clamp);
				T z = sh[jj] - cst * inv;
				if (!(z > T(-INFINITY))) continue;
				T e;
				if (z > mu) {
					T r = gl_exp(mu - z);
					S *= (double)r;
					s_t *= r;
					if (GRAD)
						for (int k = 0; k < dd; k++) G[k] *= (double)r, g[k] *= r;
					mu = z;
					e = T(1);
				} else {
					e = gl_exp(z - mu);
				}
				s_t += e;
				if (GRAD) {
					T f = e;
					if (COST == GL_COST_EUCLIDEAN) f = s < clamp ? T(0) : e / cst;
					for (int k = 0; k < dd; k++) g[k] += f * (xi[k] - yj[k]);
				}
			}
			S += (double)s_t;
			if (GRAD)
				for (int k = 0; k < dd; k++) G[k] += (double)g[k], g[k] = 0;
		}
	}
	if (!active) return;
	if (!(p.flags & GL_LAST)) {
		st[i] = (double)mu;
		st[p.n + i] = S;
		if (GRAD)
			for (int k = 0; k < dd; k++) st[2 * p.n + (long long)i * dd + k] = G[k];
		return;
	}
	T* out = (T*)p.out;
	T* grad = (T*)p.grad;
	if (!(mu > T(-INFINITY))) {
		out[i] = T(INFINITY);
		if (GRAD)
			for (int k = 0; k < dd; k++) grad[(long long)i * dd + k] = 0;
		return;
	}
	out[i] = (T)(-p.eps * ((double)mu + log(S)));
	if (GRAD)
		for (int k = 0; k < dd; k++) grad[(long long)i * dd + k] = (T)(G[k] / S);
}

#define GL_SOFTMIN(NAME, T, D, COST, GRAD) \
	extern "C" __global__ void NAME(Params p) { gl_softmin<T, D, COST, GRAD>(p); } \
	GL_REGISTER(NAME)

#define GL_SOFTMIN_D(PRE, T, COST, GRAD)       \
	GL_SOFTMIN(PRE##_d1, T, 1, COST, GRAD) \
	GL_SOFTMIN(PRE##_d2, T, 2, COST, GRAD) \
	GL_SOFTMIN(PRE##_d3, T, 3, COST, GRAD) \
	GL_SOFTMIN(PRE##_dn, T, 0, COST, GRAD)

GL_SOFTMIN_D(gl_softmin_f32_p2_g0, float, GL_COST_HALFSQ, false)
GL_SOFTMIN_D(gl_softmin_f32_p2_g1, float, GL_COST_HALFSQ, true)
GL_SOFTMIN_D(gl_softmin_f32_p1_g0, float, GL_COST_EUCLIDEAN, false)
GL_SOFTMIN_D(gl_softmin_f32_p1_g1, float, GL_COST_EUCLIDEAN, true)
GL_SOFTMIN_D(gl_softmin_f64_p2_g0, double, GL_COST_HALFSQ, false)
GL_SOFTMIN_D(gl_softmin_f64_p2_g1, double, GL_COST_HALFSQ, true)
GL_SOFTMIN_D(gl_softmin_f64_p1_g0, double, GL_COST_EUCLIDEAN, false)
GL_SOFTMIN_D(gl_softmin_f64_p1_g1, double, GL_COST_EUCLIDEAN, true)
