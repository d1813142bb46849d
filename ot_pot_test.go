package geomloss

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// potProblem is one problem of the POT comparison, as testdata/pot_oracle.py reads it.
type potProblem struct {
	name    string
	backend core.Backend
	N       int       `json:"-"`
	D       int       `json:"d"`
	X       []float64 `json:"x,omitempty"`
	Y       []float64 `json:"y,omitempty"`
	C       []float64 `json:"c,omitempty"`
	A       []float64 `json:"a"`
	B       []float64 `json:"b"`
	Cost    string    `json:"cost"`
	Reg     float64   `json:"reg"`
	Rho     *float64  `json:"rho,omitempty"`
	V       []float64 `json:"v"`
	U       []float64 `json:"u"`
	K       int       `json:"-"`
}

type potAnswer struct {
	Plan, PV, PTU, RA, RB, AB, BA []float64
	Linear, Value                 float64
}

func (a *potAnswer) UnmarshalJSON(b []byte) error {
	var m struct {
		Plan   []float64 `json:"plan"`
		PV     []float64 `json:"pv"`
		PTU    []float64 `json:"ptu"`
		RA     []float64 `json:"ra"`
		RB     []float64 `json:"rb"`
		AB     []float64 `json:"ab"`
		BA     []float64 `json:"ba"`
		Linear float64   `json:"linear"`
		Value  float64   `json:"value"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*a = potAnswer{m.Plan, m.PV, m.PTU, m.RA, m.RB, m.AB, m.BA, m.Linear, m.Value}
	return nil
}

// runPOT solves the problems with POT (Debian's python3-pot) through
// testdata/pot_oracle.py.
func runPOT(t *testing.T, pbs []potProblem) []potAnswer {
	t.Helper()
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3: the POT comparison needs python3-pot (make test installs it)")
	}
	in, _ := json.Marshal(pbs)
	cmd := exec.Command(py, "testdata/pot_oracle.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && strings.Contains(stderr.String(), "No module named 'ot'") {
		t.Skip("python3 has no POT (python3-pot): make test installs it")
	}
	if err != nil {
		t.Fatalf("pot_oracle.py: %v\n%s", err, stderr.String())
	}
	var ans []potAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("pot_oracle.py output: %v", err)
	}
	return ans
}

func potProblems() []potProblem {
	r := rand.New(rand.NewPCG(14, 3))
	unif := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64() * s
		}
		return v
	}
	weights := func(n int, mass float64) []float64 {
		w := unif(n, 1)
		s := 0.0
		for i := range w {
			w[i] += .2
			s += w[i]
		}
		for i := range w {
			w[i] *= mass / s
		}
		return w
	}
	half := 0.5
	mk := func(name, cost string, n, m, d, k int, reg float64, rho *float64, mb float64, backend core.Backend, matrix bool) potProblem {
		p := potProblem{name: name, backend: backend, N: n, D: d, A: weights(n, 1), B: weights(m, mb), Cost: cost, Reg: reg, Rho: rho, K: k}
		if matrix {
			p.C = unif(n*m, 1)
		} else {
			p.X, p.Y = unif(n*d, 1), unif(m*d, 1)
		}
		p.V, p.U = unif(m*k, 2), unif(n*k, 2)
		return p
	}
	// Unbalanced OT between two 1D Gaussian densities of masses 1 and 1.5
	// (N(0, 1) and N(1, 0.5²)) sampled on fine grids of [−4, 4] and
	// [−1, 3] (the unbalanced Gaussian oracle, as discretised
	// measures against POT's converged unbalanced Sinkhorn; the closed form
	// of Janati et al. 2020 is not implemented here).
	gauss := func(n int, lo, hi, mu, sigma, mass float64) (pts, w []float64) {
		s := 0.0
		for i := 0; i < n; i++ {
			t := lo + (hi-lo)*float64(i)/float64(n-1)
			pts = append(pts, t)
			w = append(w, math.Exp(-(t-mu)*(t-mu)/(2*sigma*sigma)))
			s += w[i]
		}
		for i := range w {
			w[i] *= mass / s
		}
		return pts, w
	}
	one := 1.0
	g := potProblem{name: "unbalanced/gaussians-1d", backend: core.Online, N: 161, D: 1, Cost: "sqeuclidean", Reg: .05, Rho: &one, K: 2}
	g.X, g.A = gauss(161, -4, 4, 0, 1, 1)
	g.Y, g.B = gauss(121, -1, 3, 1, .5, 1.5)
	g.V, g.U = unif(121*2, 2), unif(161*2, 2)
	return []potProblem{
		g,
		mk("sqeuclidean/online", "sqeuclidean", 13, 17, 2, 3, .05, nil, 1, core.Online, false),
		mk("sqeuclidean/tensorized", "sqeuclidean", 13, 17, 2, 3, .05, nil, 1, core.Tensorized, false),
		mk("euclidean/D3", "euclidean", 20, 11, 3, 2, .1, nil, 1, core.Online, false),
		mk("halfsqeuclidean/D1", "halfsqeuclidean", 30, 30, 1, 1, .02, nil, 1, core.Online, false),
		mk("sqeuclidean/D5", "sqeuclidean", 25, 19, 5, 2, .3, nil, 1, core.Online, false),
		mk("matrix", "", 9, 12, 0, 2, .1, nil, 1, core.Online, true),
		mk("unbalanced/sqeuclidean", "sqeuclidean", 15, 21, 2, 2, .1, &half, 1.7, core.Online, false),
		mk("unbalanced/matrix", "", 8, 10, 0, 1, .2, &half, .6, core.Online, true),
	}
}

// TestSolveAgainstPOT compares the OT solver at tol = 1e-11 (float64) with
// POT's converged log-domain Sinkhorn: the dense plan, the plan products
// πV and πᵀU, the marginals, the barycentric maps, ⟨π, C⟩ and the value,
// each within 1e-6 of POT's (relative to the largest entry); it logs the
// errors measured.
func TestSolveAgainstPOT(t *testing.T) {
	pbs := potProblems()
	ans := runPOT(t, pbs)
	for i, pb := range pbs {
		t.Run(pb.name, func(t *testing.T) {
			want := ans[i]
			par := OTParams{Reg: pb.Reg, Tol: 1e-11, MaxIter: 200000, Backend: pb.backend}
			if pb.Rho != nil {
				par.Unbalanced = *pb.Rho
			}
			var res *OTResult[float64]
			var err error
			n, m := len(pb.A), len(pb.B)
			if pb.C != nil {
				res, err = Solve(pb.C, n, m, pb.A, pb.B, par)
			} else {
				if par.Cost, err = core.ParseOTCost(pb.Cost); err != nil {
					t.Fatal(err)
				}
				res, err = SolveSample(pb.X, pb.Y, pb.D, pb.A, pb.B, par)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if res.Plan.N != n || res.Plan.M != m {
				t.Fatalf("plan is %d×%d, want %d×%d", res.Plan.N, res.Plan.M, n, m)
			}
			plan, err := res.Plan.Dense(0)
			if err != nil {
				t.Fatal(err)
			}
			pv, err := res.Plan.Times(pb.V, pb.K)
			if err != nil {
				t.Fatal(err)
			}
			ptu, err := res.Plan.TransposeTimes(pb.U, pb.K)
			if err != nil {
				t.Fatal(err)
			}
			cmp := func(what string, got, ref []float64) {
				if len(got) != len(ref) {
					t.Fatalf("%s: %d entries, want %d", what, len(got), len(ref))
				}
				scale, e := 0.0, 0.0
				for k := range ref {
					scale = math.Max(scale, math.Abs(ref[k]))
					e = math.Max(e, math.Abs(got[k]-ref[k]))
				}
				t.Logf("%-12s max |diff| %.2e (relative to max %.2e)", what, e, e/scale)
				if !(e <= 1e-6*scale) {
					t.Errorf("%s: max |diff| %.3g > 1e-6 × %.3g", what, e, scale)
				}
			}
			cmp("plan", plan, want.Plan)
			cmp("plan·V", pv, want.PV)
			cmp("planᵀ·U", ptu, want.PTU)
			cmp("marginal_a", res.MarginalA, want.RA)
			cmp("marginal_b", res.MarginalB, want.RB)
			cmp("value_linear", []float64{res.ValueLinear}, []float64{want.Linear})
			cmp("value", []float64{res.Value}, []float64{want.Value})
			if pb.C == nil {
				ab, err := res.Plan.BarycentricAB()
				if err != nil {
					t.Fatal(err)
				}
				ba, err := res.Plan.BarycentricBA()
				if err != nil {
					t.Fatal(err)
				}
				cmp("a_to_b", ab, want.AB)
				cmp("b_to_a", ba, want.BA)
			}
			if !(res.MarginalError < 1e-11) {
				t.Errorf("marginal error %g ≥ tol 1e-11", res.MarginalError)
			}
			t.Logf("iterations %d, marginal error %.2e; %s", res.Iterations, res.MarginalError, res.Note)
		})
	}
}
