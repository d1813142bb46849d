// C entry points of the kernel emulator (emu.cc), for cgo.
#ifdef __cplusplus
extern "C" {
#endif
// emu_launch runs the kernel name on grid blocks of block threads with shmem
// bytes of dynamic shared memory and the Params bytes params; 0 on success,
// else a message in err.
int emu_launch(const char* name, unsigned grid, unsigned block, unsigned shmem, const void* params, char* err, int errlen);
// emu_kernel_count returns the number of kernels compiled in.
int emu_kernel_count(void);
#ifdef __cplusplus
}
#endif
