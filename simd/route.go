package simd

import (
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// portableBetter reports whether the portable engine reduces the pair (x, y)
// faster than this path's vector kernels, which is the case for generic-D
// kernels (D > 3) in two regimes (issue 11: a 1-point x with D = 10⁶ was
// ~100× slower on AVX2 than portable):
//
//   - few columns (M < 2·width): the kernels vectorise across columns, so
//     most lanes are padding, while every row still pays a broadcast copy of
//     x (D·width values) and every call a workspace of 2·D·width;
//   - a broadcast copy of x of 256 KiB or more (D ≥ 8192 for float32 AVX2):
//     it no longer stays in L2 and each row tile streams it from memory
//     (measured 1.5–2× slower than portable at N = M = 256, D = 8192).
//
// The choice depends on the shapes only, so results stay identical whatever
// the thread count. Engine.Name() still reports the path.
func (e engine[T]) portableBetter(x, y core.Cloud[T]) bool {
	if y.D <= 3 {
		return false
	}
	var z T
	return y.N < 2*e.k.width || y.D*e.k.width*int(unsafe.Sizeof(z)) >= 256<<10
}
