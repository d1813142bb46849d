//go:build goexperiment.simd && amd64

package simd

func init() {
	gridRegistry = append(gridRegistry, gridPath{name: "avx2", supported: hasAVX2, w32: 8, w64: 4, k32: gridKernF32x8, k64: gridKernF64x4})
}
