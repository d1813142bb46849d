// Package kernels holds the GPU kernels: the CUDA sources (*.cu, *.cuh), the
// PTX that `make ptx` compiles from them for compute_70 (committed, embedded
// here, JIT-compiled by the driver for the device at run time: no compiler
// at install), and the names of their entry points.
//
// ptx.sum records, per .cu, the SHA-256 of its sources (the .cu and every
// .cuh) and of its PTX; TestPTXUpToDate fails when a source changed without
// `make ptx`.
package kernels

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
)

//go:embed softmin.ptx kernelsum.ptx lseaxis.ptx
var ptx embed.FS

// The CUDA sources, embedded too: the CPU emulator (package gpu/emu)
// compiles them by #include from its C++ file, which the go command does
// not track; its import of this package (whose build depends on these
// bytes) is what rebuilds the emulator when a kernel source changes.
//
//go:embed *.cu *.cuh
var sources embed.FS

// SourceHash is the SHA-256 of the kernel sources (every .cu and .cuh, by
// name), which package gpu/emu records to show which sources it runs.
func SourceHash() string {
	h := sha256.New()
	ents, _ := sources.ReadDir(".")
	for _, e := range ents { // sorted by name
		b, _ := sources.ReadFile(e.Name())
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Modules returns the PTX images, by file name, in load order.
func Modules() (names []string, images [][]byte) {
	for _, n := range []string{"softmin.ptx", "kernelsum.ptx", "lseaxis.ptx"} {
		b, err := ptx.ReadFile(n)
		if err != nil {
			panic("kernels: embedded " + n + " missing: " + err.Error())
		}
		names, images = append(names, n), append(images, b)
	}
	return names, images
}

// Block is the number of threads of a block (rows per block and columns per
// shared tile) of every kernel.
const Block = 128

// MaxD is the largest dimension the kernels handle (GL_MAXD).
const MaxD = 32

// ParamsSize is the size in bytes of the kernels' Params struct (common.cuh).
const ParamsSize = 16 * 8

// Flags of Params.flags.
const (
	First = 1 // start the rows' reductions afresh
	Last  = 2 // write the results (else the running state)
)

func suffix(d int, grad bool) string {
	g := 0
	if grad {
		g = 1
	}
	ds := "n"
	if d >= 1 && d <= 3 {
		ds = fmt.Sprint(d)
	}
	return fmt.Sprintf("g%d_d%s", g, ds)
}

func typ(f64 bool) string {
	if f64 {
		return "f64"
	}
	return "f32"
}

// SoftMin names the soft-min kernel for the element type, the cost exponent
// p (1 Euclidean, 2 half squared), the dimension and the gradient flag.
func SoftMin(f64 bool, p, d int, grad bool) string {
	return fmt.Sprintf("gl_softmin_%s_p%d_%s", typ(f64), p, suffix(d, grad))
}

// KernelSum names the kernel-sum kernel of kernel ("gaussian", "laplacian", "energy").
func KernelSum(f64 bool, kernel string, d int, grad bool) string {
	return fmt.Sprintf("gl_ksum_%s_%s_%s", typ(f64), kernel, suffix(d, grad))
}

// LSEAxis names the grid pass kernel (lseaxis.cu).
func LSEAxis(f64 bool) string { return "gl_lseaxis_" + typ(f64) }

// SharedBytes is the dynamic shared memory of a launch: a tile of Block
// points of d coordinates and their Block weights, of elem bytes each.
func SharedBytes(d, elem int) uint32 { return uint32(Block * (d + 1) * elem) }

// StateWords is the number of float64 words of the column-chunk state of n
// rows in dimension d (soft-min: max, sum, gradient; kernel sums use less).
func StateWords(n, d int) int { return n * (2 + d) }
