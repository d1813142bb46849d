package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root (this package is capi/internal/abigen).
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// drift compares the generated files with the committed ones (read by
// read) and describes each difference: the file and its first differing
// line.
func drift(want map[string][]byte, read func(path string) ([]byte, error)) []string {
	var out []string
	for _, path := range sortedKeys(want) {
		got, err := read(path)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		if bytes.Equal(got, want[path]) {
			continue
		}
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want[path]), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				out = append(out, fmt.Sprintf("%s:%d: committed %q, the header says %q", path, i+1, g, w))
				break
			}
		}
	}
	return out
}

// TestNoDrift regenerates every copy of the ABI's facts from
// include/geomloss.h and fails when a committed copy differs. For instance,
// changing `ERR_SIZE = 9` to `ERR_SIZE = 19` in
// bindings/python/geomloss/_abi.py alone (or GEOMLOSS_ERR_SIZE in the header
// alone, or the version line of bindings/julia/GeomLoss/Project.toml) fails
// it with
//
//	bindings/python/geomloss/_abi.py:17: committed "ERR_SIZE = 19", the header says "ERR_SIZE = 9"
//
// TestDriftIsDetected makes exactly that change and checks this test's
// comparison reports it. Fix: `go generate ./capi` (after changing the header).
func TestNoDrift(t *testing.T) {
	r := root(t)
	want, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift(want, func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(r, p)) }) {
		t.Errorf("%s (run: go generate ./capi)", d)
	}
}

// TestDriftIsDetected changes one constant in one copy only — in memory —
// and checks that the comparison of TestNoDrift names that file and line.
func TestDriftIsDetected(t *testing.T) {
	r := root(t)
	want, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, from, to string }{
		{pyFile, "ERR_SIZE = 9\n", "ERR_SIZE = 19\n"},
		{jlFile, "const OPT_BLUR = Cint(3)", "const OPT_BLUR = Cint(4)"},
		{goFile, `ErrCancelled:       "cancelled"`, `ErrCancelled:       "canceled"`},
		{cFile, `"tensorized"`, `"tensorised"`},
		{juliaProj, `version = "`, `version = "9`},
	} {
		if !bytes.Contains(want[c.path], []byte(c.from)) {
			t.Fatalf("%s has no %q", c.path, c.from)
		}
		edited := bytes.Replace(want[c.path], []byte(c.from), []byte(c.to), 1)
		got := drift(want, func(p string) ([]byte, error) {
			if p == c.path {
				return edited, nil
			}
			return want[p], nil
		})
		if len(got) != 1 || !strings.HasPrefix(got[0], c.path+":") {
			t.Errorf("changing %q in %s: drift reports %q", c.from, c.path, got)
		}
	}
	// and a change in the header changes every copy
	src, err := os.ReadFile(filepath.Join(r, headerFile))
	if err != nil {
		t.Fatal(err)
	}
	h, err := Parse(strings.Replace(string(src), "GEOMLOSS_ERR_SIZE = 9", "GEOMLOSS_ERR_SIZE = 19", 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, gen := range map[string]func(*Header) ([]byte, error){goFile: genGo, pyFile: genPython, jlFile: genJulia} {
		b, err := gen(h)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(b, want[name]) || !bytes.Contains(b, []byte("19")) {
			t.Errorf("%s does not follow the header's GEOMLOSS_ERR_SIZE", name)
		}
	}
}

// TestParse checks the parser on the header's shapes of comments.
func TestParse(t *testing.T) {
	h, err := Parse(`#define GEOMLOSS_VERSION_MAJOR 1
#define GEOMLOSS_VERSION_MINOR 2
#define GEOMLOSS_VERSION_PATCH 3
#define GEOMLOSS_VERSION_STRING "1.2.3"
typedef enum geomloss_status {
  /* "ok" */
  GEOMLOSS_OK = 0,
  /* "bad": two
   * lines. */
  GEOMLOSS_ERR_BAD = 4
} geomloss_status;
typedef enum geomloss_loss {
  GEOMLOSS_LOSS_A = 1, /* trailing a */
  GEOMLOSS_LOSS_B = 2  /* trailing b */
} geomloss_loss;
`)
	if err == nil || !strings.Contains(err.Error(), "no enum geomloss_option") {
		t.Fatalf("a header without options: %v", err)
	}
	_ = h
	src, _ := os.ReadFile(filepath.Join(root(t), headerFile))
	h, err = Parse(string(src))
	if err != nil {
		t.Fatal(err)
	}
	st := h.Enums["geomloss_status"]
	if st[0].Quoted != "ok" || st[3].Name != "GEOMLOSS_ERR_SHAPE" || st[3].Quoted != "shape mismatch" || !strings.Contains(st[3].Doc, "grad_x has 599") {
		t.Errorf("statuses %+v", st[:4])
	}
	loss := h.Enums["geomloss_loss"]
	if loss[0].Name != "GEOMLOSS_LOSS_SINKHORN" || loss[0].Doc != "(debiased) entropic optimal transport" || !strings.HasPrefix(loss[1].Doc, "entropic Hausdorff") {
		t.Errorf("trailing comments %+v", loss[:2])
	}
	bufs, err := h.Buffers()
	if err != nil || bufs[0].Dims != "BND" || !bufs[0].Required {
		t.Errorf("buffers %+v %v", bufs, err)
	}
	byName := map[string]Buffer{}
	for _, b := range bufs {
		byName[b.Name] = b
	}
	if b := byName["GEOMLOSS_BUF_GRAD_B"]; !b.Output || b.Dims != "BM" {
		t.Errorf("grad_b %+v", b)
	}
	if b := byName["GEOMLOSS_BUF_PLAN_V"]; !b.Output || b.Dims != "BNK" || b.Quoted != "plan_v" {
		t.Errorf("plan_v (an OT output, K columns) %+v", b)
	}
	if b := byName["GEOMLOSS_BUF_C"]; b.Output || b.Dims != "BNM" {
		t.Errorf("c (an OT input) %+v", b)
	}
	seen := map[string]string{}
	for _, b := range bufs {
		if o, dup := seen[b.What]; dup {
			t.Errorf("%s and %s both read %q", o, b.Name, b.What)
		}
		seen[b.What] = b.Name
	}
	for name, what := range map[string]string{
		"GEOMLOSS_BUF_X":            "points of the first clouds",              // less "(required)"
		"GEOMLOSS_BUF_A":            "weights of x",                            // less "; not set: …"
		"GEOMLOSS_BUF_LABELS_X":     "cluster labels of x",                     // a remark with a ';' inside
		"GEOMLOSS_BUF_A_TO_B":       "the barycentric map (pi y)_i / (pi 1)_i", // parentheses of a formula
		"GEOMLOSS_BUF_B_TO_A":       "the barycentric map (pi^T x)_j / (pi^T 1)_j",
		"GEOMLOSS_BUF_VALUE_GRAD_X": "the gradient of value w.r.t. x at fixed weights, sum_j pi_ij grad_1 C(x_i, y_j)",
	} {
		if got := byName[name].What; got != what {
			t.Errorf("%s: What %q, want %q", name, got, what)
		}
	}
	if camel("GEOMLOSS_ERR_NULL_POINTER") != "ErrNullPointer" || camel("GEOMLOSS_OPT_CLUSTER_SCALE") != "KeyClusterScale" || camel("GEOMLOSS_DEVICE_GPU") != "DeviceGPU" {
		t.Error("camel")
	}
}
