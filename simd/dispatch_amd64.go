//go:build goexperiment.simd && amd64

package simd

import (
	"simd/archsimd"

	"github.com/klauspost/cpuid/v2"
)

func hasAVX512() bool {
	return cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512CD, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL) &&
		archsimd.X86.AVX512()
}

func hasAVX2() bool {
	return cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) && archsimd.X86.AVX2() && archsimd.X86.FMA()
}

func init() {
	registry = append(registry,
		path{name: "avx512", supported: hasAVX512, k32: kernF32x16, k64: kernF64x8},
		path{name: "avx2", supported: hasAVX2, k32: kernF32x8, k64: kernF64x4},
	)
}
