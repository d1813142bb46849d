//go:build cgo

// Package emu runs the GPU kernels of gpu/kernels on the CPU: their CUDA
// sources compiled by the host C++ compiler through cuda_emu.h (every thread
// of a block a coroutine, switched at __syncthreads), for the tests of the
// kernels' logic on machines without a GPU. Exec plugs into the fake driver
// (gpu/cuda/fake), so the engine's code runs unchanged over them.
package emu

/*
#cgo CXXFLAGS: -std=c++17 -O2 -Wall -Wno-unused-function
#include <stdlib.h>
#include "emu.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// Sources is the hash of the kernel sources this emulator was compiled from
// (kernels.SourceHash at build time). Importing package kernels makes the go
// command rebuild the emulator whenever a kernel source changes: the
// #include of emu.cc alone is not tracked.
var Sources = kernels.SourceHash()

// Kernels returns the number of kernels compiled in.
func Kernels() int { return int(C.emu_kernel_count()) }

// Exec runs the kernel name (one-dimensional grid and block) with the
// bytes of its Params argument, whose pointers are host addresses.
func Exec(name string, grid, block [3]uint32, sharedMem uint32, params []byte) error {
	if grid[1]*grid[2] != 1 || block[1]*block[2] != 1 {
		return fmt.Errorf("emu: %s: only one-dimensional launches are emulated", name)
	}
	if len(params) == 0 {
		return errors.New("emu: no parameters")
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var msg [256]C.char
	if rc := C.emu_launch(cname, C.uint(grid[0]), C.uint(block[0]), C.uint(sharedMem), unsafe.Pointer(&params[0]), &msg[0], C.int(len(msg))); rc != 0 {
		return fmt.Errorf("emu: %s: %s", name, C.GoString(&msg[0]))
	}
	return nil
}
