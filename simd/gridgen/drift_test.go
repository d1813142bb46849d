package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed grid kernels (simd/gridkern_*.go) are exactly what this
// generator writes: editing one by hand, or changing the template without
// running `go generate ./simd`, fails here.
func TestGridKernelsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob(filepath.Join("..", "gridkern_*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != len(outputs()) {
		t.Errorf("simd has %d gridkern_*.go files, the generator writes %v", len(committed), outputs())
	}
	for _, name := range outputs() {
		gen, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		have, err := os.ReadFile(filepath.Join("..", name))
		if err != nil || !bytes.Equal(have, gen) {
			t.Errorf("%s differs from simd/gridgen's output (or is missing: %v): run `go generate ./simd`", name, err)
		}
	}
}
