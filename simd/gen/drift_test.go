package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The committed kernels (simd/kern_*.go) are exactly what the generator
// writes today: generating into a temporary directory must reproduce every
// file byte for byte, and no other kern_*.go may exist in simd. Editing a
// kernel by hand, or changing simd/gen without running `go generate ./simd`,
// fails here; for instance, after changing "j += 16" to "j += 8" in the
// first two-group loop of kern_f32x8.go:
//
//	--- FAIL: TestGeneratedKernelsUpToDate (4.48s)
//	    drift_test.go:64: ../kern_f32x8.go differs from simd/gen's output at line 101:
//	        	committed: 	for ; j+16 <= a.j1; j += 8 {
//	        	generated: 	for ; j+16 <= a.j1; j += 16 {
//	        	run `go generate ./simd` (simd/gen is the source of the kernels; never edit them by hand)
func TestGeneratedKernelsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	want := outputs()
	committed, err := filepath.Glob(filepath.Join("..", "kern_*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range committed {
		if !slices.Contains(want, filepath.Base(c)) {
			t.Errorf("%s is not written by simd/gen: remove it or add its variant", c)
		}
	}
	for _, name := range want {
		gen, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", name)
		have, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v: run `go generate ./simd`", err)
			continue
		}
		if bytes.Equal(have, gen) {
			continue
		}
		hl, gl := strings.Split(string(have), "\n"), strings.Split(string(gen), "\n")
		i := 0
		for i < len(hl) && i < len(gl) && hl[i] == gl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Errorf("%s differs from simd/gen's output at line %d:\n\tcommitted: %s\n\tgenerated: %s\n\t"+
			"run `go generate ./simd` (simd/gen is the source of the kernels; never edit them by hand)",
			path, i+1, line(hl), line(gl))
	}
}
