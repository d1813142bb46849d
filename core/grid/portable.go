package grid

import (
	"fmt"
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// Portable returns the Go implementation of AxisEngine: the reference the
// other engines are checked against. Lines are processed in groups of up to
// 8 neighbours along the array's fastest varying index (so a pass over a
// strided axis reads 8 contiguous values per pixel), gathered into float64,
// reduced one by one by lineScratch.lse and scattered back in T. Groups are
// split among goroutines by core.ParallelRows; every line is reduced the same
// way whatever the split, so results are identical bit for bit for any
// thread count.
func Portable[T core.Float]() AxisEngine[T] { return portable[T]{} }

type portable[T core.Float] struct{}

func (portable[T]) Name() string { return "portable" }

const lineGroup = 8

func (portable[T]) LSEAxis(k *AxisKernel, shape []int, axis int, in, out []T, threads int) error {
	if err := CheckPass(k, shape, axis, len(in), len(out)); err != nil {
		return err
	}
	n := shape[axis]
	outer, stride := AxisSplit(shape, axis)
	gpo := (stride + lineGroup - 1) / lineGroup // groups per outer index
	minGroups := max(1, 4096/(lineGroup*n))
	ksym := make([]float64, 2*n-1) // e^(−κ(|Δ|)) at n−1+Δ, see lineScratch.lse
	for d, c := range k.Cost {
		ksym[n-1+d] = math.Exp(-c)
		ksym[n-1-d] = ksym[n-1+d]
	}
	core.ParallelRows(outer*gpo, threads, minGroups, func(lo, hi int) {
		sc := newLineScratch(n)
		z, o := make([]float64, lineGroup*n), make([]float64, lineGroup*n)
		for gi := lo; gi < hi; gi++ {
			i0 := (gi % gpo) * lineGroup
			w := min(lineGroup, stride-i0)
			base := (gi/gpo)*n*stride + i0
			for v := 0; v < n; v++ {
				row := in[base+v*stride : base+v*stride+w]
				for g, x := range row {
					z[g*n+v] = float64(x)
				}
			}
			for g := 0; g < w; g++ {
				sc.lse(k, ksym, z[g*n:(g+1)*n], o[g*n:(g+1)*n])
			}
			for v := 0; v < n; v++ {
				row := out[base+v*stride : base+v*stride+w]
				for g := range row {
					row[g] = T(o[g*n+v])
				}
			}
		}
	})
	return nil
}

// AxisSplit returns, for axis ax of a row-major array of the given shape,
// the number of lines before it (outer: the product of the sides before
// ax) and the distance between consecutive entries along it (stride: the
// product of the sides after ax).
func AxisSplit(shape []int, ax int) (outer, stride int) {
	outer, stride = 1, 1
	for _, s := range shape[ax+1:] {
		stride *= s
	}
	for _, s := range shape[:ax] {
		outer *= s
	}
	return outer, stride
}

// CheckPass validates the arguments of AxisEngine.LSEAxis (shared by every
// engine): axis in range, in and out of the shape's size, a kernel for that
// axis.
func CheckPass(k *AxisKernel, shape []int, axis, nin, nout int) error {
	if axis < 0 || axis >= len(shape) {
		return &core.Error{Code: core.ErrInvalidArgument, Msg: fmt.Sprintf("axis: %d is not an axis of a %d-dimensional grid", axis, len(shape))}
	}
	size := 1
	for _, s := range shape {
		size *= s
	}
	if nin != size || nout != size {
		return &core.Error{Code: core.ErrShape, Msg: fmt.Sprintf("in/out: %d and %d elements for a grid of %d", nin, nout, size)}
	}
	if k == nil || k.N != shape[axis] || len(k.Cost) != k.N {
		return &core.Error{Code: core.ErrShape, Msg: fmt.Sprintf("kernel: does not match axis %d of %d pixels", axis, shape[axis])}
	}
	return nil
}
