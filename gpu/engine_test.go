//go:build cgo

package gpu

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

type problem[T core.Float] struct {
	x, y core.Cloud[T]
	h, w []T
}

func randomProblem[T core.Float](n, m, d int, seed uint64) problem[T] {
	r := rand.New(rand.NewPCG(seed, 1))
	pts := func(k int) []T {
		p := make([]T, k*d)
		for i := range p {
			p[i] = T(r.Float64())
		}
		return p
	}
	pr := problem[T]{x: core.Cloud[T]{Pts: pts(n), N: n, D: d}, y: core.Cloud[T]{Pts: pts(m), N: m, D: d}}
	pr.h, pr.w = make([]T, m), make([]T, m)
	for j := range pr.h {
		pr.h[j] = T(math.Log(1/float64(m)) + r.Float64() - .5)
		pr.w[j] = T((r.Float64() - .4) / float64(m))
	}
	return pr
}

// outputs runs the soft-min (both costs) and the three kernel sums, with
// gradients, on pair builder mk, and returns every output concatenated.
func outputs[T core.Float](t *testing.T, e core.Engine[T], pr problem[T]) []T {
	t.Helper()
	var all []T
	n, d := pr.x.N, pr.x.D
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		p, err := e.Pair(pr.x, pr.y, cost)
		if err != nil {
			t.Fatalf("Pair: %v", err)
		}
		out, grad := make([]T, n), make([]T, n*d)
		if err := p.SoftMin(.05, pr.h, out, grad); err != nil {
			t.Fatalf("SoftMin: %v", err)
		}
		all = append(append(all, out...), grad...)
		for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
			if err := p.KernelSum(k, .2, pr.w, out, grad); err != nil {
				t.Fatalf("KernelSum: %v", err)
			}
			all = append(append(all, out...), grad...)
		}
		if err := p.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	return all
}

func sameBits[T core.Float](a, b []T) int {
	bad := 0
	for i := range a {
		if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
			bad++
		}
	}
	return bad
}

// TestChunksBitIdentical checks that a problem cut into row and column
// chunks (chunk boundaries on tile boundaries, the running state carried
// exactly in float64) gives the same bits as in one piece, with the chunk
// count the plan says, within the memory budget.
func TestChunksBitIdentical(t *testing.T) {
	t.Run("float32", func(t *testing.T) { chunksBitIdentical[float32](t) })
	t.Run("float64", func(t *testing.T) { chunksBitIdentical[float64](t) })
}

func chunksBitIdentical[T core.Float](t *testing.T) {
	const n, m, d = 700, 1000, 3
	pr := randomProblem[T](n, m, d, 3)
	whole := outputs[T](t, New[T](openFake(t, newFake(), Options{}), core.Resources{}), pr)
	es := elemSize[T]()
	budget := uint64(5000 * es) // 128 rows × 512 columns per chunk
	drv := newFake()
	dev := openFake(t, drv, Options{MemoryBudget: budget})
	pl, err := makePlan(n, m, d, es, budget, 0, false)
	if err != nil || pl.rows != 128 || pl.cols != 512 {
		t.Fatalf("plan = %+v, %v; want 128 rows × 512 columns", pl, err)
	}
	before := drv.Calls("cuLaunchKernel")
	chunked := outputs[T](t, New[T](dev, core.Resources{}), pr)
	if bad := sameBits(whole, chunked); bad != 0 {
		t.Errorf("%d of %d outputs differ between one piece and chunks", bad, len(whole))
	}
	// 2 costs × 4 reductions × ⌈700/128⌉ row chunks × ⌈1000/512⌉ column chunks.
	if got, want := drv.Calls("cuLaunchKernel")-before, 2*4*6*2; got != want {
		t.Errorf("%d launches, want %d", got, want)
	}
	if _, _, peak := drv.Live(); peak > budget {
		t.Errorf("peak device memory %d > budget %d", peak, budget)
	}
	if nl, _, _ := drv.Live(); nl != 0 {
		t.Errorf("%d allocations left after Close", nl)
	}
}

// TestMemoryReused checks that a Pair allocates and uploads its clouds once
// over a sequence of reductions (as Sinkhorn iterations make), and that
// Close releases everything, twice without harm.
func TestMemoryReused(t *testing.T) {
	drv := newFake()
	e := New[float32](openFake(t, drv, Options{}), core.Resources{})
	pr := randomProblem[float32](300, 400, 3, 4)
	p, err := e.Pair(pr.x, pr.y, core.CostHalfSquared)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 300)
	if err := p.SoftMin(.1, pr.h, out, nil); err != nil {
		t.Fatal(err)
	}
	allocs, copies := drv.Calls("cuMemAlloc"), drv.Calls("cuMemcpyHtoD")
	if copies != 3 { // x, y, h
		t.Errorf("first reduction: %d host-to-device copies, want 3 (x, y, h)", copies)
	}
	for it := 0; it < 5; it++ {
		if err := p.SoftMin(.1, pr.h, out, nil); err != nil {
			t.Fatal(err)
		}
	}
	if a := drv.Calls("cuMemAlloc"); a != allocs {
		t.Errorf("%d allocations after 5 more reductions, want %d (buffers reused)", a, allocs)
	}
	if c := drv.Calls("cuMemcpyHtoD") - copies; c != 5 {
		t.Errorf("%d uploads in 5 reductions, want 5 (h only)", c)
	}
	for k := 0; k < 2; k++ {
		if err := p.Close(); err != nil {
			t.Errorf("Close #%d: %v", k+1, err)
		}
	}
	if nl, b, _ := drv.Live(); nl != 0 {
		t.Errorf("%d allocations (%d bytes) left after Close", nl, b)
	}
	var ce *core.Error
	if err := p.SoftMin(.1, pr.h, out, nil); !errors.As(err, &ce) {
		t.Errorf("reduction on a closed Pair: %v, want an error", err)
	}
}

func wantCode(t *testing.T, what string, err error, code core.Code, parts ...string) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Errorf("%s: %v, want a core.Error with code %d", what, err, code)
		return
	}
	for _, s := range parts {
		if !strings.Contains(ce.Msg, s) {
			t.Errorf("%s: %q does not mention %q", what, ce.Msg, s)
		}
	}
}

// TestInjectedErrors injects a failure into each driver call a reduction
// makes: the reduction returns ErrDevice (ErrMemory for an allocation)
// naming the call and the CUDA code, its device memory is released, and the
// next reduction succeeds with the same results as before.
func TestInjectedErrors(t *testing.T) {
	pr := randomProblem[float64](200, 300, 2, 5)
	for _, tc := range []struct {
		call string
		r    cuda.Result
		code core.Code
		msg  string
	}{
		{"cuLaunchKernel", cuda.ErrLaunchFailed, core.ErrDevice, "cuLaunchKernel(grid 2, block 128): CUDA_ERROR_LAUNCH_FAILED"},
		{"cuMemAlloc", cuda.ErrOutOfMemory, core.ErrMemory, "CUDA_ERROR_OUT_OF_MEMORY"},
		{"cuMemcpyHtoD", cuda.ErrInvalidValue, core.ErrDevice, "cuMemcpyHtoDAsync("},
		{"cuMemcpyDtoH", cuda.ErrLaunchFailed, core.ErrDevice, "cuMemcpyDtoHAsync(1.6 kB): CUDA_ERROR_LAUNCH_FAILED"},
		{"cuStreamSynchronize", cuda.ErrLaunchFailed, core.ErrDevice, "cuStreamSynchronize"},
		{"cuCtxSetCurrent", cuda.ErrInvalidContext, core.ErrDevice, "cuCtxSetCurrent: CUDA_ERROR_INVALID_CONTEXT"},
	} {
		t.Run(tc.call, func(t *testing.T) {
			drv := newFake()
			e := New[float64](openFake(t, drv, Options{}), core.Resources{})
			p, err := e.Pair(pr.x, pr.y, core.CostEuclidean)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			want, got := make([]float64, 200), make([]float64, 200)
			grad := make([]float64, 400)
			if err := p.SoftMin(.1, pr.h, want, grad); err != nil {
				t.Fatal(err)
			}
			if tc.call == "cuMemAlloc" {
				p.Close() // a fresh Pair allocates again
				if p, err = e.Pair(pr.x, pr.y, core.CostEuclidean); err != nil {
					t.Fatal(err)
				}
			}
			drv.FailAt(tc.call, 1, tc.r)
			wantCode(t, "reduction with a failing "+tc.call, p.SoftMin(.1, pr.h, got, grad), tc.code, tc.msg)
			// Without its context the memory cannot be freed: Close does it.
			if nl, _, _ := drv.Live(); nl != 0 && tc.call != "cuCtxSetCurrent" {
				t.Errorf("%d allocations left after the error", nl)
			}
			if err := p.SoftMin(.1, pr.h, got, grad); err != nil {
				t.Fatalf("reduction after the error: %v", err)
			}
			if bad := sameBits(want, got); bad != 0 {
				t.Errorf("%d results differ after recovering", bad)
			}
			p.Close()
			if nl, _, _ := drv.Live(); nl != 0 {
				t.Errorf("%d allocations left after Close", nl)
			}
		})
	}
}

// TestTooLittleMemory checks the error of a budget below one chunk.
func TestTooLittleMemory(t *testing.T) {
	e := New[float32](openFake(t, newFake(), Options{MemoryBudget: 10 << 10}), core.Resources{})
	pr := randomProblem[float32](1000, 1000, 8, 6)
	_, err := e.Pair(pr.x, pr.y, core.CostHalfSquared)
	wantCode(t, "Pair within 10 kB", err, core.ErrMemory, "10.2 kB of device memory available", "D = 8", "1000×1000 points")
	pr = randomProblem[float32](300, 300, 3, 6)
	_, err = e.BlockSparsePair(pr.x, pr.y, core.CostHalfSquared, denseRanges(300, 300))
	wantCode(t, "block-sparse Pair within 10 kB", err, core.ErrMemory, "block-sparse", "device memory")
}

func denseRanges(n, m int) *core.Ranges {
	return &core.Ranges{RowStart: []int{0, n}, ColStart: []int{0, m}, Offsets: []int{0, 1}, Cols: []int32{0}}
}

// TestBadArguments checks the engine's argument errors.
func TestBadArguments(t *testing.T) {
	e := New[float64](openFake(t, newFake(), Options{}), core.Resources{})
	pr := randomProblem[float64](10, 20, 3, 7)
	_, err := e.Pair(pr.x, core.Cloud[float64]{Pts: make([]float64, 40), N: 20, D: 2}, core.CostHalfSquared)
	wantCode(t, "mismatched D", err, core.ErrShape, "x has 3 columns, y has 2")
	_, err = e.Pair(pr.x, pr.y, core.Cost(7))
	wantCode(t, "unknown cost", err, core.ErrInvalidArgument, "cost 7")
	p, _ := e.Pair(pr.x, pr.y, core.CostHalfSquared)
	defer p.Close()
	wantCode(t, "short h", p.SoftMin(.1, pr.h[:5], make([]float64, 10), nil), core.ErrShape, "h has 5 entries")
	wantCode(t, "short grad", p.SoftMin(.1, pr.h, make([]float64, 10), make([]float64, 3)), core.ErrShape, "grad")
	wantCode(t, "unknown kernel", p.KernelSum(9, .1, pr.w, make([]float64, 10), nil), core.ErrInvalidArgument, "kernel 9")
	_, err = e.BlockSparsePair(pr.x, pr.y, core.CostHalfSquared, &core.Ranges{RowStart: []int{0, 5}, ColStart: []int{0, 20}, Offsets: []int{0, 0}})
	wantCode(t, "bad ranges", err, core.ErrInvalidArgument, "ranges")
}

// TestCancelBetweenChunks sets the Stop flag from the kernel executor after
// the first launch of a chunked reduction: the next chunk is not launched
// and the reduction returns ErrCancelled.
func TestCancelBetweenChunks(t *testing.T) {
	drv := newFake()
	stop := new(core.Stop)
	exec := drv.Exec
	drv.Exec = func(name string, g, b [3]uint32, sh uint32, params []byte) error {
		stop.Set()
		return exec(name, g, b, sh, params)
	}
	budget := colBytes(1, 3, 4)*128*2 + rowBytes(1, 3, 4, true)*128*2
	e := New[float32](openFake(t, drv, Options{MemoryBudget: budget}), core.Resources{Stop: stop})
	pr := randomProblem[float32](500, 500, 3, 8)
	p, err := e.Pair(pr.x, pr.y, core.CostHalfSquared)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	wantCode(t, "cancelled chunked reduction", p.SoftMin(.1, pr.h, make([]float32, 500), nil), core.ErrCancelled)
	if l := drv.Calls("cuLaunchKernel"); l != 1 {
		t.Errorf("%d launches, want 1 (cancelled before the second chunk)", l)
	}
}

// TestHighDimension checks that D > kernels.MaxD runs on the CPU engine.
func TestHighDimension(t *testing.T) {
	drv := newFake()
	e := New[float64](openFake(t, drv, Options{}), core.Resources{})
	pr := randomProblem[float64](20, 30, kernels.MaxD+3, 9)
	got := outputs[float64](t, e, pr)
	want := outputs[float64](t, core.Portable[float64](core.Resources{}), pr)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("output %d = %g, want %g", i, got[i], want[i])
		}
	}
	if drv.Calls("cuLaunchKernel") != 0 {
		t.Errorf("D = %d launched kernels", kernels.MaxD+3)
	}
}
