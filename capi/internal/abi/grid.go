package abi

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// Grids (geomloss_eval_grid, geomloss_images_barycenter): GeomLoss's
// sinkhorn_divergence between densities on 1D, 2D and 3D grids and
// ImagesBarycenter, over the keyed buffers of geomloss_eval (a, b, cot_value,
// cot_F, cot_G in; value, F, G, grad_a, grad_b out), with Π shape pixels in place of N and M.

// GridDims are validated grid sizes: B items on a grid of Shape (1–3 sides),
// Size = Π Shape pixels, every array length at most MaxElems.
type GridDims struct {
	B     int
	Shape []int
	Size  int
}

// CheckGrid validates B and the shape: B ≥ 1, 1 ≤ ndim ≤ 3, every side ≥ 1,
// B·Π shape ≤ MaxElems.
func CheckGrid(B int64, shape []int64) (GridDims, error) {
	if B < 1 {
		return GridDims{}, errf(ErrSize, "B must be >= 1, got %d", B)
	}
	if len(shape) < 1 || len(shape) > 3 {
		return GridDims{}, errf(ErrSize, "ndim must be 1, 2 or 3 (grid axes), got %d", len(shape))
	}
	g := GridDims{B: int(B), Size: 1}
	total := B
	for k, n := range shape {
		if n < 1 {
			return GridDims{}, errf(ErrSize, "shape[%d] must be >= 1, got %d", k, n)
		}
		var ok bool
		if total, ok = mul(total, n); !ok {
			return GridDims{}, errf(ErrSize, "B×Π shape: B=%d, shape %v make more than 2^40 elements", B, shape)
		}
		g.Size *= int(n)
		g.Shape = append(g.Shape, int(n))
	}
	return g, nil
}

// label writes "B×Π shape = 2×16×16".
func (g GridDims) label(perItem bool) string {
	parts := []string{}
	if perItem {
		parts = append(parts, fmt.Sprint(g.B))
	}
	for _, n := range g.Shape {
		parts = append(parts, fmt.Sprint(n))
	}
	if perItem {
		return "B×Π shape = " + strings.Join(parts, "×")
	}
	return "B = " + fmt.Sprint(g.B)
}

// gridBuffers are the buffer keys of geomloss_eval_grid: whether each is
// required and whether it holds one number per item (B) or per pixel (B×Π).
var gridBuffers = []struct {
	key      int
	required bool
	perPixel bool
}{
	{BufA, true, true}, {BufB, true, true}, {BufCotValue, false, false},
	{BufCotF, false, true}, {BufCotG, false, true},
	{BufValue, true, false}, {BufF, false, true}, {BufG, false, true},
	{BufGradA, false, true}, {BufGradB, false, true},
}

// BindGrid checks the buffers of a grid evaluation — a, b and value set, no
// point-cloud key (x, y, grad_x, grad_y) set, each set one of
// exactly its length — and returns them as typed slices over the caller's memory.
func BindGrid[T core.Float](g GridDims, get Getter) (Inputs[T], Outputs[T], error) {
	views := map[int][]T{}
	used := map[int]bool{}
	for _, gb := range gridBuffers {
		used[gb.key] = true
		s, _ := bufSpec(gb.key)
		need := g.B
		if gb.perPixel {
			need = g.B * g.Size
		}
		b := get(gb.key, need)
		if b.Ptr == nil {
			if gb.required {
				return Inputs[T]{}, Outputs[T]{}, errf(ErrNullPointer, "%s is NULL (%s: the %s, required for a grid)", s.Name, s.Const, gridWhat(s))
			}
			continue
		}
		if b.Count != int64(need) {
			return Inputs[T]{}, Outputs[T]{}, errf(ErrShape, "%s has %d elements, needs %d (%s)", s.Name, b.Count, need, g.label(gb.perPixel))
		}
		views[gb.key] = unsafe.Slice((*T)(b.Ptr), b.Count)
	}
	for _, s := range bufSpecs {
		if !used[s.Key] && get(s.Key, 0).Ptr != nil {
			return Inputs[T]{}, Outputs[T]{}, errf(ErrInvalidArgument, "%s is set, but grids have no %s (%s is for point clouds: remove it)", s.Name, s.What, s.Const)
		}
	}
	in := Inputs[T]{A: views[BufA], Bw: views[BufB], CotValue: views[BufCotValue], CotF: views[BufCotF], CotG: views[BufCotG]}
	out := Outputs[T]{Value: views[BufValue], F: views[BufF], G: views[BufG], GradA: views[BufGradA], GradB: views[BufGradB]}
	return in, out, nil
}

// gridWhat names a buffer's role on grids ("a": "densities of the first grids").
func gridWhat(s BufSpec) string {
	switch s.Key {
	case BufA:
		return "B×Π shape densities of the first grids"
	case BufB:
		return "B×Π shape densities of the second grids"
	}
	return dimsLabel(s) + " " + s.What
}

// gridSpacing converts the caller's spacing (nil: 1/n per axis) to the
// grid's, checked: every width positive and finite.
func gridSpacing(spacing []float64) ([]float64, error) {
	if spacing == nil {
		return nil, nil
	}
	for k, h := range spacing {
		if !(h > 0) || math.IsInf(h, 0) {
			return nil, errf(ErrInvalidArgument, "spacing[%d]: pixel widths must be positive and finite, got %g", k, h)
		}
	}
	return append([]float64(nil), spacing...), nil
}

// gridOptions checks the options for the grid entries: sinkhorn only, no
// tol (the backend, truncate, cluster_scale and max_iter options do not
// apply and are ignored).
func gridOptions(o *Options) error {
	if o == nil {
		return errf(ErrNullPointer, "opts is NULL")
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Params.Loss != core.Sinkhorn {
		name, _ := ValueName(KeyLoss, int64(o.Params.Loss))
		return errf(ErrInvalidOption, "loss: grids (images, volumes) support sinkhorn only, got %s", name)
	}
	if o.Params.Tol > 0 {
		return errf(ErrInvalidOption, "tol: grids have no tolerance-based stopping (they run GeomLoss's fixed schedule): set it to 0 (GEOMLOSS_OPT_GRID_TOL sets the passes' error bound)")
	}
	return nil
}

func gridOpts(o *Options) geomloss.Options {
	return geomloss.Options{Threads: int(o.Threads), Device: core.Device(o.Device)}
}

// blurOf is the grid blur of the options: the one set, else 0 (the pixel width).
func blurOf(o *Options) float64 {
	if o.BlurSet {
		return o.Params.Blur
	}
	return 0
}

// RunGrid is geomloss_eval_grid after the options are read: sizes, buffers,
// evaluation; outputs are written only on success. It never panics.
func RunGrid[T core.Float](o *Options, B int64, shape []int64, spacing []float64, get Getter, progress func(stage string, iter, total int) (stop bool)) (rep Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = Report{}, PanicError(v)
		}
	}()
	if err := gridOptions(o); err != nil {
		return Report{}, err
	}
	g, err := CheckGrid(B, shape)
	if err != nil {
		return Report{}, err
	}
	if spacing, err = gridSpacing(spacing); err != nil {
		return Report{}, err
	}
	in, out, err := BindGrid[T](g, get)
	if err != nil {
		return Report{}, err
	}
	par := geomloss.DefaultImageParams()
	par.P, par.Blur, par.Reach, par.Scaling, par.Debias, par.Diameter, par.Spacing =
		o.Params.P, blurOf(o), o.Params.Reach, o.Params.Scaling, o.Params.Debias, o.Params.Diameter, spacing
	par.SingleScale, par.Tolerance = o.Grid.SingleScale, o.Grid.Tol
	pr := geomloss.ImageProblem[T]{B: g.B, Shape: g.Shape, A: in.A, Bw: in.Bw}
	req := geomloss.ImageRequest[T]{GradA: out.GradA != nil, GradB: out.GradB != nil,
		Potentials: out.F != nil || out.G != nil, CotValue: in.CotValue, CotF: in.CotF, CotG: in.CotG, Progress: progress}
	res, err := geomloss.EvaluateImages(par, pr, req, gridOpts(o))
	if err != nil {
		return Report{}, err
	}
	pairs := []struct {
		name     string
		dst, src []T
	}{{"value", out.Value, res.Value}, {"F", out.F, res.F}, {"G", out.G, res.G},
		{"grad_a", out.GradA, res.GradA}, {"grad_b", out.GradB, res.GradB}}
	if err := copyOut(pairs); err != nil {
		return Report{}, err
	}
	return Report{Backend: BackendAuto, Device: DeviceCPU, Engine: res.Engine, Note: "grid solver (separable passes on the " + res.Engine + " engine)"}, nil
}

// copyOut checks every result's length against its destination, then copies
// (all or nothing).
func copyOut[T core.Float](pairs []struct {
	name     string
	dst, src []T
}) error {
	for _, r := range pairs {
		if r.dst != nil && len(r.src) != len(r.dst) {
			return errf(ErrInternal, "internal error: the grid solver returned %d elements for %s, want %d", len(r.src), r.name, len(r.dst))
		}
	}
	for _, r := range pairs {
		copy(r.dst, r.src)
	}
	return nil
}

// BarycenterPtrs are the caller's pointers of geomloss_images_barycenter.
type BarycenterPtrs struct {
	Measures, Weights, Cot, Bar, GradMeasures, GradWeights unsafe.Pointer
}

// RunBarycenter is geomloss_images_barycenter after the options are read:
// it checks the sizes and pointers (bar, measures and weights required; cot
// with the gradients, which need extra ≥ 1), computes the barycenters (and
// the gradients of Σ cot·bar w.r.t. the measures and weights) and writes
// the outputs only on success. It never panics.
func RunBarycenter[T core.Float](o *Options, B, K int64, shape []int64, spacing []float64, scalingN, extra int64, p BarycenterPtrs) (rep Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = Report{}, PanicError(v)
		}
	}()
	if err := gridOptions(o); err != nil {
		return Report{}, err
	}
	if K < 1 {
		return Report{}, errf(ErrSize, "K must be >= 1 (measures per barycenter), got %d", K)
	}
	g, err := CheckGrid(B, shape)
	if err != nil {
		return Report{}, err
	}
	if _, ok := mul(int64(g.B*g.Size), K); !ok {
		return Report{}, errf(ErrSize, "measures: B×K×Π shape makes more than 2^40 elements")
	}
	if scalingN < 1 || scalingN > 1<<20 {
		return Report{}, errf(ErrInvalidArgument, "scaling_n must lie in [1, 2^20] (iterations per pyramid level), got %d", scalingN)
	}
	if extra < 0 || extra > 1<<20 {
		return Report{}, errf(ErrInvalidArgument, "extra_iterations must lie in [0, 2^20], got %d", extra)
	}
	if spacing, err = gridSpacing(spacing); err != nil {
		return Report{}, err
	}
	for _, r := range []struct {
		name string
		ptr  unsafe.Pointer
	}{{"measures", p.Measures}, {"weights", p.Weights}, {"bar", p.Bar}} {
		if r.ptr == nil {
			return Report{}, errf(ErrNullPointer, "%s is NULL (required)", r.name)
		}
	}
	grads := p.GradMeasures != nil || p.GradWeights != nil
	if grads && p.Cot == nil {
		return Report{}, errf(ErrNullPointer, "cot is NULL: the gradients need the cotangent of bar (B×Π shape)")
	}
	if grads && extra < 1 {
		return Report{}, errf(ErrInvalidArgument, "extra_iterations must be >= 1 for gradients (they run through those iterations), got %d", extra)
	}
	nK, nBar := g.B*int(K)*g.Size, g.B*g.Size
	view := func(ptr unsafe.Pointer, n int) []T {
		if ptr == nil {
			return nil
		}
		return unsafe.Slice((*T)(ptr), n)
	}
	par := geomloss.DefaultBarycenterParams()
	par.P, par.Blur, par.ScalingN, par.ExtraIterations, par.Spacing = o.Params.P, blurOf(o), int(scalingN), int(extra), spacing
	measures, weights := view(p.Measures, nK), view(p.Weights, g.B*int(K))
	var bar, gm, gw []T
	if grads {
		bar, gm, gw, err = geomloss.ImagesBarycenterGrad(par, g.B, int(K), g.Shape, measures, weights, view(p.Cot, nBar), gridOpts(o))
	} else {
		bar, err = geomloss.ImagesBarycenter(par, g.B, int(K), g.Shape, measures, weights, gridOpts(o))
	}
	if err != nil {
		return Report{}, err
	}
	pairs := []struct {
		name     string
		dst, src []T
	}{{"bar", view(p.Bar, nBar), bar}, {"grad_measures", view(p.GradMeasures, nK), gm}, {"grad_weights", view(p.GradWeights, g.B*int(K)), gw}}
	if err := copyOut(pairs); err != nil {
		return Report{}, err
	}
	return Report{Backend: BackendAuto, Device: DeviceCPU, Engine: geomloss.ImagesEngine[T](), Note: "grid solver (images barycenter)"}, nil
}
