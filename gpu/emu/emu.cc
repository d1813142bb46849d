// The CPU emulator of the GPU kernels (see cuda_emu.h): the kernel sources
// compiled with the host compiler, a block scheduler over ucontext
// coroutines, and a launch entry point for Go (emu.go).
#define GEOMLOSS_EMU 1
// Coroutine switches longjmp between stacks, which the fortified longjmp rejects.
#undef _FORTIFY_SOURCE
#include "cuda_emu.h"

#include <setjmp.h>
#include <ucontext.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "emu.h"

// The kernels, compiled for the CPU.
#include "../kernels/kernelsum.cu"
#include "../kernels/lseaxis.cu"
#include "../kernels/softmin.cu"

thread_local emu_dim3 emu_threadIdx, emu_blockIdx, emu_blockDim, emu_gridDim;

static std::map<std::string, emu_kernel>& registry() {
	static std::map<std::string, emu_kernel> r;
	return r;
}

emu_registration::emu_registration(const char* name, emu_kernel fn) { registry()[name] = fn; }

namespace {

const size_t kStack = 256 << 10;

// A thread is a persistent coroutine: it runs the current block's kernel,
// yields with done set, and runs it again when resumed for the next block.
// Switches are _setjmp/_longjmp (no signal-mask system call); makecontext
// only sets up each coroutine's stack once.
struct Thread {
	ucontext_t ctx;
	jmp_buf jb;
	char* stack = nullptr;
	bool started = false;
	bool done = false;
	long barriers = 0;
};

struct Block {
	jmp_buf sched;
	unsigned char* smem = nullptr;
	emu_kernel fn = nullptr;
	const Params* params = nullptr;
};

thread_local Block* g_block = nullptr;
thread_local std::vector<Thread*> g_pool;
thread_local Thread* g_cur = nullptr;

void yield_to_scheduler(Thread* t) {
	if (!_setjmp(t->jb)) _longjmp(g_block->sched, 1);
}

void thread_main(int idx) {
	Thread* t = g_pool[idx];
	for (;;) {
		g_block->fn(*g_block->params);
		t->done = true;
		yield_to_scheduler(t);
	}
}

// resume runs t until its next barrier or its end.
void resume(Thread* t) {
	g_cur = t;
	if (!_setjmp(g_block->sched)) {
		if (!t->started) {
			t->started = true;
			ucontext_t here;
			swapcontext(&here, &t->ctx);  // never returns here: the thread longjmps to sched
		} else {
			_longjmp(t->jb, 1);
		}
	}
}

}  // namespace

void emu_syncthreads() {
	Thread* t = g_cur;
	t->barriers++;
	yield_to_scheduler(t);
}

unsigned char* emu_shared_memory() { return g_block->smem; }

int emu_launch(const char* name, unsigned grid, unsigned block, unsigned shmem, const void* params, char* err, int errlen) {
	auto it = registry().find(name);
	if (it == registry().end()) {
		snprintf(err, errlen, "no kernel %s", name);
		return 1;
	}
	if (block == 0 || grid == 0 || block > 1024) {
		snprintf(err, errlen, "bad launch (grid %u, block %u)", grid, block);
		return 1;
	}
	Params p;
	memcpy(&p, params, sizeof p);
	Block b;
	b.fn = it->second;
	b.params = &p;
	while (g_pool.size() < block) {
		Thread* t = new Thread;
		t->stack = (char*)malloc(kStack);
		g_pool.push_back(t);
	}
	for (unsigned tx = 0; tx < block; tx++) {
		Thread* t = g_pool[tx];
		// Every launch starts its coroutines afresh (a failed launch may leave them mid-kernel).
		t->started = false;
		getcontext(&t->ctx);
		t->ctx.uc_stack.ss_sp = t->stack;
		t->ctx.uc_stack.ss_size = kStack;
		t->ctx.uc_link = nullptr;
		makecontext(&t->ctx, (void (*)())thread_main, 1, (int)tx);
	}
	std::vector<unsigned char> smem(shmem + 16);
	b.smem = (unsigned char*)(((uintptr_t)smem.data() + 15) & ~(uintptr_t)15);
	Block* saved = g_block;
	g_block = &b;
	emu_gridDim = {grid, 1, 1};
	emu_blockDim = {block, 1, 1};
	int rc = 0;
	for (unsigned bx = 0; bx < grid && rc == 0; bx++) {
		emu_blockIdx = {bx, 0, 0};
		memset(smem.data(), 0xA5, smem.size());  // stale data, never zeros
		for (unsigned tx = 0; tx < block; tx++) g_pool[tx]->done = false, g_pool[tx]->barriers = 0;
		for (bool running = true; running && rc == 0;) {
			running = false;
			long phase = -1;
			int ended = -1;
			for (unsigned tx = 0; tx < block; tx++) {
				Thread* t = g_pool[tx];
				if (!t->done) {
					emu_threadIdx = {tx, 0, 0};
					resume(t);
				}
				if (t->done) {
					ended = (int)tx;
					continue;
				}
				running = true;
				if (phase < 0) phase = t->barriers;
				if (t->barriers != phase) {
					snprintf(err, errlen, "block %u: thread %u reached barrier %ld while others are at %ld (divergent __syncthreads)", bx, tx, t->barriers, phase);
					rc = 2;
					break;
				}
			}
			if (running && ended >= 0 && rc == 0) {
				snprintf(err, errlen, "block %u: thread %d ended while others wait at barrier %ld (divergent __syncthreads)", bx, ended, phase);
				rc = 2;
			}
		}
	}
	g_block = saved;
	return rc;
}

int emu_kernel_count() { return (int)registry().size(); }
