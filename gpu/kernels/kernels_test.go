package kernels

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestPTXUpToDate fails when a kernel source changed without `make ptx`, or
// a PTX file was edited by hand: the hashes in ptx.sum must match.
func TestPTXUpToDate(t *testing.T) {
	sum, err := os.ReadFile("ptx.sum")
	if err != nil {
		t.Fatal(err)
	}
	hdrs, _ := filepath.Glob("*.cuh")
	sort.Strings(hdrs)
	cus, _ := filepath.Glob("*.cu")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(sum)), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			t.Fatalf("ptx.sum: bad line %q", line)
		}
		cu, srcHash, ptxName, ptxHash := f[0], f[1], f[2], f[3]
		seen[cu] = true
		var src bytes.Buffer
		for _, n := range append([]string{cu}, hdrs...) {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
		if got := hexSum(src.Bytes()); got != srcHash {
			t.Errorf("%s (or a .cuh) changed since its PTX was built: run `make ptx` (source hash %s, recorded %s)", cu, got[:12], srcHash[:12])
		}
		p, err := os.ReadFile(ptxName)
		if err != nil {
			t.Fatal(err)
		}
		if got := hexSum(p); got != ptxHash {
			t.Errorf("%s differs from the one `make ptx` built (hash %s, recorded %s)", ptxName, got[:12], ptxHash[:12])
		}
	}
	for _, cu := range cus {
		if !seen[cu] {
			t.Errorf("%s has no PTX in ptx.sum: run `make ptx`", cu)
		}
	}
}

func hexSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestEntryPoints checks that the embedded PTX targets compute_70 and
// defines every kernel the engine may ask for, each taking one Params of
// ParamsSize bytes.
func TestEntryPoints(t *testing.T) {
	names, images := Modules()
	entries := map[string]string{}
	re := regexp.MustCompile(`\.entry (\w+)\(\s*\n\s*\.param \.align \d+ \.b8 \w+\[(\d+)\]`)
	for k, img := range images {
		if !bytes.Contains(img, []byte(".target sm_70")) {
			t.Errorf("%s: not built for compute_70", names[k])
		}
		for _, m := range re.FindAllSubmatch(img, -1) {
			entries[string(m[1])] = string(m[2])
		}
	}
	var want []string
	for _, f64 := range []bool{false, true} {
		for _, d := range []int{1, 2, 3, 7} {
			for _, g := range []bool{false, true} {
				want = append(want, SoftMin(f64, 1, d, g), SoftMin(f64, 2, d, g))
				want = append(want, LSEAxis(f64))
				for _, k := range []string{"gaussian", "laplacian", "energy"} {
					want = append(want, KernelSum(f64, k, d, g))
				}
			}
		}
	}
	for _, n := range want {
		size, ok := entries[n]
		if !ok {
			t.Errorf("no kernel %s in the PTX", n)
		} else if size != "128" {
			t.Errorf("%s takes %s bytes of parameters, want %d", n, size, ParamsSize)
		}
	}
	if len(entries) != 82 {
		t.Errorf("%d kernels in the PTX, want 82", len(entries))
	}
}
