// Package goldentest checks an engine against the golden values computed by
// GeomLoss 0.2.6 in float64 (../shared/testdata, schema in its README): every
// sample case's value or potentials and its four gradients, after applying
// the project's documented deviations from the reference. Core tests run it
// on the portable engine, package simd on every dispatch path.
package goldentest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	. "github.com/libgeomloss/libgeomloss/core"
)

// The golden file is computed by GeomLoss 0.2.6 in float64 (see
// ../shared/testdata/README.md). Tests read it in place; GEOMLOSS_GOLDEN
// overrides the path.

type goldenArray struct {
	Shape []int
	Data  []float64
}

func (a *goldenArray) UnmarshalJSON(b []byte) error {
	var raw struct {
		Shape []int
		Data  []any
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	a.Shape = raw.Shape
	a.Data = make([]float64, len(raw.Data))
	for i, v := range raw.Data {
		switch t := v.(type) {
		case float64:
			a.Data[i] = t
		case string:
			switch t {
			case "NaN":
				a.Data[i] = math.NaN()
			case "Infinity":
				a.Data[i] = math.Inf(1)
			case "-Infinity":
				a.Data[i] = math.Inf(-1)
			default:
				return fmt.Errorf("bad number %q", t)
			}
		default:
			return fmt.Errorf("bad element %v", v)
		}
	}
	return nil
}

type goldenResult struct {
	Status string
	Value  *goldenArray
	F, G   *goldenArray
	Grad   map[string]*goldenArray
}

type goldenCase struct {
	ID     string
	Group  string
	Tags   []string
	Params struct {
		Loss       string
		P          int
		Blur       float64
		Reach      *float64
		Scaling    float64
		Debias     bool
		Potentials bool
		Diameter   *float64
	}
	Batched      bool
	B            *int
	N, M, D      int
	WeightsGiven bool `json:"weights_given"`
	Inputs       struct{ X, Y, A, B goldenArray }
	Cotangent    map[string]goldenArray
	Results      map[string]goldenResult
}

var golden struct {
	once   sync.Once
	cases  []goldenCase
	images []ImageCase
	err    error
}

// Path is the golden file: $GEOMLOSS_GOLDEN, else ../shared/testdata/golden_public.json
// beside the repository.
func Path() string {
	if p := os.Getenv("GEOMLOSS_GOLDEN"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0) // <repo>/core/goldentest/goldentest.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "testdata", "golden_public.json")
}

// loadFile parses the golden file once: its sample and image cases.
func loadFile() {
	golden.once.Do(func() {
		raw, err := os.ReadFile(Path())
		if err != nil {
			golden.err = err
			return
		}
		var f struct {
			Samples []goldenCase
			Images  []ImageCase
		}
		golden.err = json.Unmarshal(raw, &f)
		golden.cases, golden.images = f.Samples, f.Images
	})
}

// loadGolden returns the golden sample cases; a missing file fails the test.
func loadGolden(t testing.TB) []goldenCase {
	loadFile()
	if golden.err != nil {
		t.Fatalf("golden data: %v (set GEOMLOSS_GOLDEN)", golden.err)
	}
	if len(golden.cases) == 0 {
		t.Fatal("golden data has no sample cases")
	}
	return golden.cases
}

func (c *goldenCase) params() Params {
	par := DefaultParams()
	var err error
	par.Loss, err = ParseLoss(c.Params.Loss)
	if err != nil {
		panic(err)
	}
	par.P, par.Blur, par.Scaling, par.Debias = c.Params.P, c.Params.Blur, c.Params.Scaling, c.Params.Debias
	if c.Params.Reach != nil {
		par.Reach = *c.Params.Reach
	}
	if c.Params.Diameter != nil {
		par.Diameter = *c.Params.Diameter
	}
	return par
}

func (c *goldenCase) batch() int {
	if c.B != nil {
		return *c.B
	}
	return 1
}

func convert[T Float](v []float64) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// Rules are the comparison rules and documented deviations of
// tests/golden/deviations.json, the one source the Go, Python and Julia
// golden suites read (its "about" fields state them).
type Rules struct {
	ReferenceBackend string `json:"reference_backend"`
	Comparison       struct {
		Tolerance map[string]float64
		NormFloor float64 `json:"norm_floor"`
	}
	SkipLosses map[string]string `json:"skip_losses"`
	MustFail   struct {
		ReferenceError      bool `json:"reference_error"`
		BalancedUnequalMass struct {
			Losses   []string
			Tags     []string
			MassRtol float64 `json:"mass_rtol"`
		} `json:"balanced_unequal_mass"`
	} `json:"must_fail"`
	Unbalanced struct {
		Losses           []string
		KappaEps         float64 `json:"kappa_eps"`
		Kappa2Eps        float64 `json:"kappa2_eps"`
		ValueMassProduct float64 `json:"value_mass_product"`
		ValueMassSum     float64 `json:"value_mass_sum"`
	}
}

var rules struct {
	once sync.Once
	r    Rules
	err  error
}

// RulesPath is tests/golden/deviations.json of this repository.
func RulesPath() string {
	_, file, _, _ := runtime.Caller(0) // <repo>/core/goldentest/goldentest.go
	return filepath.Join(filepath.Dir(file), "..", "..", "tests", "golden", "deviations.json")
}

// LoadRules returns the rules of RulesPath; an unreadable file fails the test.
func LoadRules(t testing.TB) *Rules {
	rules.once.Do(func() {
		raw, err := os.ReadFile(RulesPath())
		if err == nil {
			err = json.Unmarshal(raw, &rules.r)
		}
		if err == nil && (rules.r.ReferenceBackend == "" || len(rules.r.Comparison.Tolerance) == 0 || rules.r.Unbalanced.KappaEps == 0) {
			err = fmt.Errorf("%s lacks fields", RulesPath())
		}
		rules.err = err
	})
	if rules.err != nil {
		t.Fatalf("golden rules: %v", rules.err)
	}
	return &rules.r
}

// reference is the reference result of the case.
func (c *goldenCase) reference(r *Rules) goldenResult { return c.Results[r.ReferenceBackend] }

// masses returns the per-item total masses of the case's weights.
func (c *goldenCase) masses(b int) (ma, mb float64) {
	N, M := c.N, c.M
	for _, v := range c.Inputs.A.Data[b*N : (b+1)*N] {
		ma += v
	}
	for _, v := range c.Inputs.B.Data[b*M : (b+1)*M] {
		mb += v
	}
	return
}

// expectError reports whether this project must reject the case (the rules'
// must_fail): the reference's own errors, but for the skipped losses, which
// we implement; balanced transport with unequal masses (tagged, or measured).
func (c *goldenCase) expectError(r *Rules) bool {
	_, skipped := r.SkipLosses[c.Params.Loss]
	if c.reference(r).Status == "error" && r.MustFail.ReferenceError && !skipped {
		return true
	}
	u := r.MustFail.BalancedUnequalMass
	if !slices.Contains(u.Losses, c.Params.Loss) || c.Params.Reach != nil {
		return false
	}
	for _, tag := range u.Tags {
		if slices.Contains(c.Tags, tag) {
			return true
		}
	}
	for b := 0; b < c.batch(); b++ {
		ma, mb := c.masses(b)
		if math.Abs(ma-mb) > u.MassRtol*math.Max(math.Abs(ma), math.Abs(mb)) {
			return true
		}
	}
	return false
}

// expected applies the rules' deviations from GeomLoss to the reference
// result (unbalanced: κ' instead of κ in the gradients, and the true
// entropic OT value without debiasing; see deviations.json).
func (c *goldenCase) expected(r *Rules) (value, gx, gy, ga, gb []float64) {
	ref := c.reference(r)
	get := func(a *goldenArray) []float64 {
		if a == nil {
			return nil
		}
		return slices.Clone(a.Data)
	}
	if ref.Value != nil {
		value = get(ref.Value)
	}
	if ref.Grad != nil {
		gx, gy, ga, gb = get(ref.Grad["x"]), get(ref.Grad["y"]), get(ref.Grad["a"]), get(ref.Grad["b"])
	}
	u := r.Unbalanced
	if !slices.Contains(u.Losses, c.Params.Loss) || c.Params.Reach == nil || c.Params.Potentials {
		return
	}
	p := float64(c.Params.P)
	eps, rho := math.Pow(c.Params.Blur, p), math.Pow(*c.Params.Reach, p)
	kappa, kappaG := rho+u.KappaEps*eps, rho+u.Kappa2Eps*eps
	for _, g := range [][]float64{gx, gy} {
		for i := range g {
			g[i] *= kappaG / kappa
		}
	}
	if c.Params.Debias {
		for _, g := range [][]float64{ga, gb} {
			for i := range g {
				g[i] *= kappaG / kappa
			}
		}
		return
	}
	N, M := c.N, c.M
	for b := 0; b < c.batch(); b++ {
		ma, mb := c.masses(b)
		value[b] += eps * (u.ValueMassProduct*ma*mb + u.ValueMassSum*(ma+mb))
		if ga != nil {
			for i := b * N; i < (b+1)*N; i++ {
				ga[i] = rho + eps*mb - kappaG*(1-ga[i]/kappa)
			}
		}
		if gb != nil {
			for j := b * M; j < (b+1)*M; j++ {
				gb[j] = rho + eps*ma - kappaG*(1-gb[j]/kappa)
			}
		}
	}
	return
}

// relErr is ‖got − want‖₂ / max(‖want‖₂, floor).
func relErr[T Float](got []T, want []float64, floor float64) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}

// Run checks every golden sample case on eng with the given backend: values,
// potentials and gradients to a norm-wise relative error ≤ tol, and an error
// wherever the project must reject the case.
// It logs the worst error seen (go test -v shows it).
func Run[T Float](t *testing.T, eng Engine[T], backend Backend, tol float64) {
	r := LoadRules(t)
	dtype := "float64"
	if _, ok := any(T(0)).(float32); ok {
		dtype = "float32"
	}
	if want := r.Comparison.Tolerance[dtype]; tol > want {
		t.Fatalf("tolerance %g is looser than the rules' %g for %s (tests/golden/deviations.json)", tol, want, dtype)
	}
	var w worst
	for _, c := range loadGolden(t) {
		t.Run(c.ID, func(t *testing.T) {
			checkGoldenCase(t, c, eng, backend, tol, &w)
		})
	}
	t.Logf("worst relative error %.3g (%s, %s); tolerance %.3g", w.err, w.id, w.what, tol)
}

// worst records the largest error of a run and where it occurred.
type worst struct {
	err      float64
	id, what string
}

// RunMultiscale checks every golden case on the multiscale backend: within
// tol of the exact (tensorized) reference like Run, and, where GeomLoss's own
// multiscale result is recorded (status ok, in input order: not the kernel
// potentials, which it returns sorted), at least as close to the exact
// values as that result (up to 1e-9).
func RunMultiscale[T Float](t *testing.T, eng Engine[T], tol float64) {
	var w worst
	for _, c := range loadGolden(t) {
		t.Run(c.ID, func(t *testing.T) {
			checkGoldenCase(t, c, eng, Multiscale, tol, &w)
		})
	}
	t.Logf("worst relative error %.3g (%s, %s); tolerance %.3g", w.err, w.id, w.what, tol)
}

func checkGoldenCase[T Float](t *testing.T, c goldenCase, eng Engine[T], backend Backend, tol float64, w *worst) {
	par := c.params()
	par.Backend = backend
	B := c.batch()
	pr := Problem[T]{B: B, N: c.N, M: c.M, D: c.D, X: convert[T](c.Inputs.X.Data), Y: convert[T](c.Inputs.Y.Data)}
	if c.WeightsGiven {
		pr.A, pr.Bw = convert[T](c.Inputs.A.Data), convert[T](c.Inputs.B.Data)
	}
	r := LoadRules(t)
	ref := c.reference(r)
	wantW := c.WeightsGiven && ref.Grad != nil && ref.Grad["a"] != nil
	req := Request[T]{GradX: true, GradY: true, GradA: wantW, GradB: wantW}
	if c.Params.Potentials {
		req.Potentials = true
		req.CotValue = make([]T, B) // the reference differentiates ⟨cF, F⟩ + ⟨cG, G⟩ only
		req.CotF, req.CotG = convert[T](c.Cotangent["F"].Data), convert[T](c.Cotangent["G"].Data)
	} else {
		req.CotValue = convert[T](c.Cotangent["value"].Data)
	}
	res, err := Evaluate(Config[T]{Engine: eng}, par, pr, req)
	if c.expectError(r) {
		if err == nil {
			t.Fatalf("expected an error, got value %v", res.Value)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if _, skipped := r.SkipLosses[c.Params.Loss]; skipped {
		return // no reference value: checked by finite differences and identities
	}
	value, gx, gy, ga, gb := c.expected(r)
	check := func(name string, got []T, want []float64) {
		t.Helper()
		if want == nil {
			return
		}
		if got == nil {
			t.Errorf("%s: not computed", name)
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, reference has %d", name, len(got), len(want))
		}
		// Values near zero (identical clouds) are compared with an absolute
		// floor (the rules' norm_floor) instead of their own norm.
		e := relErr(got, want, r.Comparison.NormFloor)
		if e > w.err {
			*w = worst{e, c.ID, name}
		}
		if e > tol || math.IsNaN(e) {
			t.Errorf("%s: relative error %.3g > %.3g (got %v, want %v)", name, e, tol, head(got), head(want))
		}
		if backend == Multiscale {
			if ms := c.refMultiscale(name); ms != nil && len(ms) == len(want) {
				if er := relErr(convert[float64](ms), want, r.Comparison.NormFloor); e > er+1e-9 {
					t.Errorf("%s: multiscale error %.3g, GeomLoss's multiscale %.3g (closer)", name, e, er)
				}
			}
		}
	}
	if c.Params.Potentials {
		check("F", res.F, ref.F.Data)
		check("G", res.G, ref.G.Data)
	} else {
		check("value", res.Value, value)
	}
	check("grad x", res.GradX, gx)
	check("grad y", res.GradY, gy)
	if req.GradA {
		check("grad a", res.GradA, ga)
		check("grad b", res.GradB, gb)
	}
}

// refMultiscale returns GeomLoss's multiscale result for one output (nil
// where it is not recorded, not comparable, or where the project deviates
// from the reference: unbalanced cases).
func (c *goldenCase) refMultiscale(name string) []float64 {
	r, ok := c.Results["multiscale"]
	if !ok || r.Status != "ok" || c.Params.Reach != nil {
		return nil
	}
	if c.Params.Loss != "sinkhorn" && c.Params.Potentials {
		return nil // returned in sorted order (§5.3)
	}
	get := func(a *goldenArray) []float64 {
		if a == nil {
			return nil
		}
		return a.Data
	}
	switch name {
	case "value":
		return get(r.Value)
	case "F":
		return get(r.F)
	case "G":
		return get(r.G)
	}
	if r.Grad == nil {
		return nil
	}
	switch name {
	case "grad x":
		return get(r.Grad["x"])
	case "grad y":
		return get(r.Grad["y"])
	case "grad a":
		return get(r.Grad["a"])
	case "grad b":
		return get(r.Grad["b"])
	}
	return nil
}

func head[T Float](v []T) []T {
	return v[:min(len(v), 4)]
}
