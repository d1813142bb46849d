// Shared definitions of the GPU kernels. Compiled by nvcc to PTX (make ptx)
// and, with GEOMLOSS_EMU defined, by the host C++ compiler through
// gpu/emu/cuda_emu.h, which runs a block's threads as coroutines switched at
// __syncthreads (the CPU check of the kernels' logic).
#pragma once

#ifdef GEOMLOSS_EMU
#include "../emu/cuda_emu.h"
#define GL_DYNAMIC_SMEM(name) unsigned char* name = emu_shared_memory()
#define GL_REGISTER(NAME) static emu_registration gl_reg_##NAME(#NAME, NAME);
#else
#define GL_DYNAMIC_SMEM(name) extern __shared__ __align__(16) unsigned char name[]
#define GL_REGISTER(NAME)
#endif

// Params is the one by-value argument of every kernel. Every field is 8
// bytes, so its layout is the same in C++ and in the Go encoder
// (gpu/params.go): pointers, then integers, then reals.
struct Params {
	const void* x;        // rows: n×d, row-major
	const void* y;        // columns: m×d
	const void* h;        // soft-min log-weights h_j, or kernel weights w_j (m)
	void* out;            // n results
	void* grad;           // n×d gradients, or null
	void* state;          // running (max, sum, gradient) per row between column chunks, or null
	const int* slices;    // per block: first row, end row, row cluster; null = dense
	const int* offsets;   // K+1 offsets into cols (block-sparse)
	const int* cols;      // kept column clusters
	const int* colstart;  // L+1 column cluster boundaries
	long long n, m, d;
	long long flags;      // GL_FIRST: start the rows afresh; GL_LAST: write out (and grad)
	double eps;           // soft-min temperature, or kernel width σ
	double pad;
};

#define GL_FIRST 1
#define GL_LAST 2
#define GL_MAXD 32  // largest D of the generic kernels (the engine falls back to the CPU above)

// Squared-distance floor of the Euclidean cost and the laplacian/energy kernels (core.DistClamp).
#define GL_CLAMP 1e-8

__device__ inline float gl_exp(float v) { return expf(v); }
__device__ inline double gl_exp(double v) { return exp(v); }
__device__ inline float gl_log(float v) { return logf(v); }
__device__ inline double gl_log(double v) { return log(v); }
__device__ inline float gl_sqrt(float v) { return sqrtf(v); }
__device__ inline double gl_sqrt(double v) { return sqrt(v); }

// The row range and the column-range list of this block: a dense launch
// (slices == null) reduces rows [b·B, b·B + B) over columns [0, m); a
// block-sparse one reads its slice (first row, end row, cluster k) and
// reduces over the kept column clusters of k.
struct Rows {
	int r0, r1, c0, c1;
};

__device__ inline Rows gl_rows(const Params& p) {
	Rows r;
	if (p.slices) {
		const int* s = p.slices + 3 * blockIdx.x;
		r.r0 = s[0];
		r.r1 = s[1];
		r.c0 = p.offsets[s[2]];
		r.c1 = p.offsets[s[2] + 1];
	} else {
		r.r0 = blockIdx.x * blockDim.x;
		r.r1 = min((long long)r.r0 + blockDim.x, p.n);
		r.c0 = 0;
		r.c1 = 1;
	}
	return r;
}

// Column range c of the block (c0 ≤ c < c1).
__device__ inline void gl_cols(const Params& p, int c, int* j0, int* j1) {
	if (p.slices) {
		int l = p.cols[c];
		*j0 = p.colstart[l];
		*j1 = p.colstart[l + 1];
	} else {
		*j0 = 0;
		*j1 = (int)p.m;
	}
}

// Loads columns [t0, t0+cnt) into the shared tile: cnt points of dd
// coordinates, then their cnt weights. Called by every thread of the block,
// between two barriers.
template <typename T>
__device__ inline void gl_load_tile(const T* y, const T* w, int dd, int t0, int cnt, T* sy, T* sw) {
	for (int q = threadIdx.x; q < cnt * dd; q += blockDim.x) sy[q] = y[(long long)t0 * dd + q];
	for (int q = threadIdx.x; q < cnt; q += blockDim.x) sw[q] = w[t0 + q];
}
