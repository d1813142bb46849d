package grid

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// centroid returns the mean pixel coordinate ((u + ½)/n) of a 2D density.
func centroid(w []float64, shape []int) [2]float64 {
	var c [2]float64
	m := 0.0
	for i, v := range w {
		u0, u1 := i/shape[1], i%shape[1]
		c[0] += v * (float64(u0) + .5) / float64(shape[0])
		c[1] += v * (float64(u1) + .5) / float64(shape[1])
		m += v
	}
	return [2]float64{c[0] / m, c[1] / m}
}

// TestBarycenterTranslates: for p = 2 the barycenter of a density and its
// translate by τ with weights (1 − s, s) is its translate by s·τ: the
// result's centroid lies within 0.1 pixel of the interpolated one, and,
// normalised, it is close to the exact translate by s·τ pixels (relative L1
// error ≤ 0.25, measured 0.18; the blur at one pixel smooths it). Its mass is not 1: the
// reference's iteration gives 0.805 here too (compactly supported measures;
// see TestBarycenterMatchesTorch). Swapping the two measures and their
// weights gives the same barycenter to rounding.
func TestBarycenterTranslates(t *testing.T) {
	shape := []int{32, 32}
	a, b := translatePair(shape, []int{8, -4}, 10)
	_, want := translatePair(shape, []int{4, -2}, 10)
	measures := append(append([]float64(nil), a...), b...)
	for _, s := range []float64{0.5, 0.25} {
		got, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 1, 2, shape, measures, []float64{1 - s, s})
		if err != nil {
			t.Fatal(err)
		}
		m := mass(got)
		ca, cb, cg := centroid(a, shape), centroid(b, shape), centroid(got, shape)
		for k := 0; k < 2; k++ {
			exp := (1-s)*ca[k] + s*cb[k]
			if d := math.Abs(cg[k]-exp) * float64(shape[k]); d > 0.1 {
				t.Errorf("s=%g: centroid axis %d at %.4f, want %.4f (%.3f pixel off)", s, k, cg[k], exp, d)
			}
		}
		if s == 0.5 {
			l1, tot := 0.0, 0.0
			for i := range got {
				l1 += math.Abs(got[i]/m - want[i])
				tot += want[i]
			}
			t.Logf("s=0.5: mass %.6f, centroid %v, L1 distance to the exact translate %.3g", m, cg, l1/tot)
			if l1/tot > 0.25 {
				t.Errorf("s=0.5: relative L1 distance to the translate %.3g > 0.25", l1/tot)
			}
		}
		swapped := append(append([]float64(nil), b...), a...)
		got2, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 1, 2, shape, swapped, []float64{s, 1 - s})
		if err != nil {
			t.Fatal(err)
		}
		if e := maxRel(got2, got, 1e-12); e > 1e-12 {
			t.Errorf("s=%g: swapping the measures changes the barycenter by %.3g", s, e)
		}
	}
}

// TestBarycenterSingle: the barycenter of one measure (weight 1) is that
// measure, up to the entropic blur: relative L1 error ≤ 0.1 at blur = pixel;
// batches are independent; extra iterations change little; bad arguments
// are coded errors.
func TestBarycenterSingle(t *testing.T) {
	shape := []int{16, 20}
	a := blobs(41, 2, shape, false)
	got, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 2, 1, shape, a, []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	size := len(a) / 2
	for b := 0; b < 2; b++ {
		l1 := 0.0
		for i := 0; i < size; i++ {
			l1 += math.Abs(got[b*size+i] - a[b*size+i])
		}
		t.Logf("item %d: L1 distance to the measure %.3g", b, l1)
		if l1 > 0.1 {
			t.Errorf("item %d: barycenter of one measure is %.3g away from it (L1)", b, l1)
		}
		one, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 1, 1, shape, a[b*size:(b+1)*size], []float64{1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range one {
			if one[i] != got[b*size+i] {
				t.Fatalf("item %d: batched result differs at %d", b, i)
			}
		}
	}
	par := DefaultBarycenterParams()
	par.ExtraIterations = 5
	more, err := Barycenter(Config[float64]{}, par, 2, 1, shape, a, []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRel(more, got, 1e-12); e > 0.05 || e == 0 {
		t.Errorf("5 extra iterations change the barycenter by %.3g (want > 0, ≤ 0.05)", e)
	}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"weights length", func() error {
			_, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 2, 1, shape, a, []float64{1})
			return err
		}},
		{"negative measure", func() error {
			m := append([]float64(nil), a...)
			m[3] = -1
			_, err := Barycenter(Config[float64]{}, DefaultBarycenterParams(), 2, 1, shape, m, []float64{1, 1})
			return err
		}},
		{"scaling_N", func() error {
			p := DefaultBarycenterParams()
			p.ScalingN = 0
			_, err := Barycenter(Config[float64]{}, p, 2, 1, shape, a, []float64{1, 1})
			return err
		}},
	} {
		var ce *core.Error
		if err := c.run(); !errors.As(err, &ce) {
			t.Errorf("%s: got %v, want a *core.Error", c.name, err)
		}
	}
}

// TestBarycenterMatchesTorch compares Barycenter with a line-by-line PyTorch
// transcription of GeomLoss 0.2.6's ImagesBarycenter in which KeOps'
// separable soft-min is replaced by dense torch.logsumexp passes
// (testdata/barycenter_torch.py, run with /usr/bin/python3; the test fails
// if it cannot run). Two 32×32 measures with zero pixels and one 16×16
// problem at p = 1 with three measures, with and without the 5 backward
// iterations: barycenters within 1e-12 (measured 5e-15), and with them the
// gradient w.r.t. the weights against torch's autograd within 1e-10. (The
// reference gives no gradient w.r.t. the measures — see BarycenterGrad.)
func TestBarycenterMatchesTorch(t *testing.T) {
	type problem struct {
		N, K, P, Extra int
		Blur           float64
		Measures, W    []float64
		Out            []float64
		Cot, GradW     []float64
	}
	var probs []problem
	for _, extra := range []int{0, 5} {
		a, b := translatePair([]int{32, 32}, []int{6, -3}, 8)
		probs = append(probs, problem{N: 32, K: 2, P: 2, Extra: extra, Measures: append(a, b...), W: []float64{0.3, 0.7}})
		probs = append(probs, problem{N: 16, K: 3, P: 1, Extra: extra, Blur: 0.1, Measures: blobs(uint64(70+extra), 3, []int{16, 16}, true), W: []float64{0.2, 0.5, 0.3}})
	}
	for i := range probs {
		p := &probs[i]
		par := DefaultBarycenterParams()
		par.P, par.ExtraIterations, par.Blur = p.P, p.Extra, p.Blur
		if p.Extra > 0 { // the weights' gradient too, as autograd gives it
			p.Cot = blobs(uint64(90+i), 1, []int{p.N, p.N}, false)
			for j := range p.Cot {
				p.Cot[j] = p.Cot[j]*float64(p.N*p.N) - 1
			}
			out, _, gw, err := BarycenterGrad(Config[float64]{}, par, 1, p.K, []int{p.N, p.N}, p.Measures, p.W, p.Cot)
			if err != nil {
				t.Fatal(err)
			}
			p.Out, p.GradW = out, gw
			continue
		}
		out, err := Barycenter(Config[float64]{}, par, 1, p.K, []int{p.N, p.N}, p.Measures, p.W)
		if err != nil {
			t.Fatal(err)
		}
		p.Out = out
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	raw, _ := json.Marshal(probs)
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/barycenter_torch.py", in)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the torch transcription did not run (needs /usr/bin/python3 with torch): %v\n%s", err, res)
	}
	var errs [][2]float64
	if err := json.Unmarshal(res, &errs); err != nil || len(errs) != len(probs) {
		t.Fatalf("bad output %q: %v", res, err)
	}
	for i, e := range errs {
		t.Logf("problem %d (N=%d K=%d p=%d extra=%d): max relative difference %.3g, weight gradient %.3g", i, probs[i].N, probs[i].K, probs[i].P, probs[i].Extra, e[0], e[1])
		if !(e[0] <= 1e-12 && e[1] <= 1e-10) {
			t.Errorf("problem %d: differs from the torch transcription by %.3g (barycenter), %.3g (weight gradient)", i, e[0], e[1])
		}
	}
}

// TestBarycenterGradient checks BarycenterGrad against central finite
// differences of S = Σ cot·bar through the differentiated iterations (the
// earlier ones frozen, as the reference detaches them), along random
// directions of the measures (positive pixels) and of the weights: p = 2
// and p = 1, 1 and 3 backward iterations, relative error ≤ 1e-6.
func TestBarycenterGradient(t *testing.T) {
	shape := []int{8, 8}
	const B, K = 2, 3
	m := blobs(51, B*K, shape, true)
	w := []float64{0.2, 0.5, 0.3, 0.6, 0.1, 0.3}
	size := 64
	r := rand.New(rand.NewPCG(3, 4))
	cot := make([]float64, B*size)
	for i := range cot {
		cot[i] = r.NormFloat64()
	}
	for _, c := range []struct{ p, extra int }{{2, 1}, {2, 3}, {1, 2}} {
		par := DefaultBarycenterParams()
		par.P, par.ExtraIterations, par.ScalingN = c.p, c.extra, 3
		_, gm, gw, err := BarycenterGrad(Config[float64]{}, par, B, K, shape, m, w, cot)
		if err != nil {
			t.Fatal(err)
		}
		S := func(mm, ww []float64) float64 {
			out, _, _, err := barycenter(Config[float64]{}, par, B, K, shape, mm, ww, nil, &warmInputs[float64]{m, w})
			if err != nil {
				t.Fatal(err)
			}
			s := 0.0
			for i := range out {
				s += cot[i] * out[i]
			}
			return s
		}
		dm, dw := make([]float64, len(m)), make([]float64, len(w))
		for i := range dm {
			if m[i] > 0 {
				dm[i] = r.NormFloat64() * m[i]
			}
		}
		for i := range dw {
			dw[i] = r.NormFloat64()
		}
		for _, which := range []string{"measures", "weights"} {
			const h = 1e-5
			mp, mn, wp, wn := append([]float64(nil), m...), append([]float64(nil), m...), append([]float64(nil), w...), append([]float64(nil), w...)
			want := 0.0
			if which == "measures" {
				for i := range m {
					mp[i], mn[i] = m[i]+h*dm[i], m[i]-h*dm[i]
					want += gm[i] * dm[i]
				}
			} else {
				for i := range w {
					wp[i], wn[i] = w[i]+h*dw[i], w[i]-h*dw[i]
					want += gw[i] * dw[i]
				}
			}
			fd := (S(mp, wp) - S(mn, wn)) / (2 * h)
			e := math.Abs(fd-want) / math.Abs(want)
			t.Logf("p=%d, %d backward iterations, %s: ⟨∇, δ⟩ = %.10g, finite difference %.10g, rel %.2g", c.p, c.extra, which, want, fd, e)
			if e > 1e-6 {
				t.Errorf("p=%d extra=%d %s: gradient %.10g vs finite difference %.10g (rel %.3g)", c.p, c.extra, which, want, fd, e)
			}
		}
	}
	par := DefaultBarycenterParams()
	if _, _, _, err := BarycenterGrad(Config[float64]{}, par, B, K, shape, m, w, cot); err == nil {
		t.Error("gradients with 0 backward iterations: want an error")
	}
}
