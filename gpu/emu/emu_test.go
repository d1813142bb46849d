package emu

import (
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"
)

func params(out unsafe.Pointer) []byte {
	b := make([]byte, 128)
	binary.LittleEndian.PutUint64(b[24:], uint64(uintptr(out))) // Params.out
	return b
}

// TestBarrier checks the emulator's __syncthreads: a block-wide exchange
// through shared memory sees every thread's write, over several blocks.
func TestBarrier(t *testing.T) {
	const blocks, threads = 3, 64
	out := make([]int32, blocks*threads)
	if err := Exec("emu_selftest_reverse", [3]uint32{blocks, 1, 1}, [3]uint32{threads, 1, 1}, 4*threads, params(unsafe.Pointer(&out[0]))); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < blocks; b++ {
		for i := 0; i < threads; i++ {
			// thread i read 2·(value of thread B−1−i), whose value was b·B + i.
			if want := int32(2 * (b*threads + i)); out[b*threads+i] != want {
				t.Fatalf("block %d thread %d: %d, want %d", b, i, out[b*threads+i], want)
			}
		}
	}
}

// TestDivergentBarrier checks that a barrier reached by only some threads
// is reported, and that the emulator works again afterwards.
func TestDivergentBarrier(t *testing.T) {
	out := make([]int32, 8)
	err := Exec("emu_selftest_divergent", [3]uint32{1, 1, 1}, [3]uint32{8, 1, 1}, 0, params(unsafe.Pointer(&out[0])))
	if err == nil || !strings.Contains(err.Error(), "divergent __syncthreads") {
		t.Fatalf("divergent barrier: %v, want it reported", err)
	}
	if err := Exec("emu_selftest_reverse", [3]uint32{1, 1, 1}, [3]uint32{8, 1, 1}, 32, params(unsafe.Pointer(&out[0]))); err != nil || out[0] != 2*0 || out[7] != 2*7 {
		t.Fatalf("after the error: %v, %v", err, out)
	}
	if err := Exec("no_such_kernel", [3]uint32{1, 1, 1}, [3]uint32{8, 1, 1}, 0, params(nil)); err == nil {
		t.Error("unknown kernel launched")
	}
	if n := Kernels(); n != 84 {
		t.Errorf("%d kernels compiled in, want 82 + 2 self-tests", n)
	}
}
