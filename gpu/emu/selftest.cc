// Kernels that test the emulator itself (emu_test.go), not part of the PTX:
// barrier semantics (a block-wide exchange through shared memory) and the
// detection of a barrier in divergent code.
#define GEOMLOSS_EMU 1
#include "cuda_emu.h"
#include "../kernels/common.cuh"

// Each thread writes its index to shared memory, then reads its mirror's
// (valid only if every write happened before any read), twice with reuse.
extern "C" void emu_selftest_reverse(Params p) {
	GL_DYNAMIC_SMEM(smem);
	int* s = (int*)smem;
	int* out = (int*)p.out;
	const int t = threadIdx.x, B = blockDim.x, g = blockIdx.x * B;
	s[t] = g + t;
	__syncthreads();
	int v = s[B - 1 - t];
	__syncthreads();
	s[t] = 2 * v;
	__syncthreads();
	out[g + t] = s[B - 1 - t];
}
GL_REGISTER(emu_selftest_reverse)

// Odd threads take an extra barrier: undefined on a device, reported here.
extern "C" void emu_selftest_divergent(Params p) {
	if (threadIdx.x % 2) __syncthreads();
	__syncthreads();
}
GL_REGISTER(emu_selftest_divergent)
