// cuda_emu.h: just enough of CUDA C++ for the kernels of gpu/kernels to
// compile with the host C++ compiler and run on the CPU, for their tests.
//
// A launch runs its blocks one after another, in blockIdx order. Within a
// block, every thread is a coroutine (ucontext) with its own stack; the
// scheduler resumes threads 0, 1, …, B−1 in turn, each running until its next
// __syncthreads() or its end, and repeats until all have ended — so each
// barrier phase of every thread completes before any thread starts the next
// one, which is what __syncthreads guarantees on a device. A block whose
// threads reach different barrier counts, or end while others wait at a
// barrier, is reported (a barrier in divergent code: undefined behaviour on
// a device).
#pragma once
#include <algorithm>
#include <cmath>

using std::max;
using std::min;

struct emu_dim3 {
	unsigned x, y, z;
};

// The current thread's index and the launch geometry.
extern thread_local emu_dim3 emu_threadIdx, emu_blockIdx, emu_blockDim, emu_gridDim;

// emu_syncthreads suspends the current thread until every thread of the
// block has reached the barrier.
void emu_syncthreads();
// emu_shared_memory returns the block's dynamic shared memory (16-byte aligned).
unsigned char* emu_shared_memory();

#define threadIdx emu_threadIdx
#define blockIdx emu_blockIdx
#define blockDim emu_blockDim
#define gridDim emu_gridDim
#define __syncthreads() emu_syncthreads()
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__

typedef void (*emu_kernel)(struct Params);

// Kernels register themselves by name (see GL_REGISTER in the kernel macros).
struct emu_registration {
	emu_registration(const char* name, emu_kernel fn);
};
