// The CPU emulator of the GPU kernels (see cuda_emu.h): the kernel sources
// compiled with the host compiler, a block scheduler over ucontext
// coroutines, and a launch entry point for Go (emu.go).
#define GEOMLOSS_EMU 1
#include "cuda_emu.h"

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
#include "../kernels/softmin.cu"

thread_local emu_dim3 emu_threadIdx, emu_blockIdx, emu_blockDim, emu_gridDim;

static std::map<std::string, emu_kernel>& registry() {
	static std::map<std::string, emu_kernel> r;
	return r;
}

emu_registration::emu_registration(const char* name, emu_kernel fn) { registry()[name] = fn; }

namespace {

const size_t kStack = 256 << 10;

struct Thread {
	ucontext_t ctx;
	char* stack = nullptr;
	bool done = false;
	long barriers = 0;
};

struct Block {
	ucontext_t sched;
	std::vector<Thread> threads;
	unsigned char* smem = nullptr;
	Thread* cur = nullptr;
	emu_kernel fn = nullptr;
	const Params* params = nullptr;
};

thread_local Block* g_block = nullptr;

void thread_main() {
	Block* b = g_block;
	b->fn(*b->params);
	b->cur->done = true;
	// returning resumes uc_link (the scheduler)
}

}  // namespace

void emu_syncthreads() {
	Block* b = g_block;
	Thread* t = b->cur;
	t->barriers++;
	swapcontext(&t->ctx, &b->sched);
}

unsigned char* emu_shared_memory() { return g_block->smem; }

int emu_launch(const char* name, unsigned grid, unsigned block, unsigned shmem, const void* params, char* err, int errlen) {
	auto it = registry().find(name);
	if (it == registry().end()) {
		snprintf(err, errlen, "no kernel %s", name);
		return 1;
	}
	if (block == 0 || grid == 0) {
		snprintf(err, errlen, "empty launch (grid %u, block %u)", grid, block);
		return 1;
	}
	Params p;
	memcpy(&p, params, sizeof p);
	Block b;
	b.fn = it->second;
	b.params = &p;
	b.threads.resize(block);
	// Thread stacks: one pool per OS thread, grown as needed, never zeroed.
	static thread_local std::vector<char*> pool;
	while (pool.size() < block) pool.push_back((char*)malloc(kStack));
	for (unsigned tx = 0; tx < block; tx++) b.threads[tx].stack = pool[tx];
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
		for (unsigned tx = 0; tx < block; tx++) {
			Thread& t = b.threads[tx];
			t.done = false;
			t.barriers = 0;
			getcontext(&t.ctx);
			t.ctx.uc_stack.ss_sp = t.stack;
			t.ctx.uc_stack.ss_size = kStack;
			t.ctx.uc_link = &b.sched;
			makecontext(&t.ctx, thread_main, 0);
		}
		for (bool running = true; running && rc == 0;) {
			running = false;
			long phase = -1;
			for (unsigned tx = 0; tx < block; tx++) {
				Thread& t = b.threads[tx];
				if (t.done) continue;
				b.cur = &t;
				emu_threadIdx = {tx, 0, 0};
				swapcontext(&b.sched, &t.ctx);
				if (t.done) continue;
				running = true;
				if (phase < 0) phase = t.barriers;
				if (t.barriers != phase) {
					snprintf(err, errlen, "block %u: thread %u reached barrier %ld while others are at %ld (divergent __syncthreads)", bx, tx, t.barriers, phase);
					rc = 2;
					break;
				}
			}
		}
	}
	g_block = saved;
	return rc;
}

int emu_kernel_count() { return (int)registry().size(); }
