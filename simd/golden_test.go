package simd

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

// Every dispatch path reproduces the golden values with the online and the
// tensorized backends (both served by the engines: Pair and DensePair) in
// float64 and float32, and with the multiscale backend in float64.
func TestGolden(t *testing.T) {
	for _, name := range Paths() {
		e64, err := ForPath[float64](name, core.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		e32, err := ForPath[float32](name, core.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []core.Backend{core.Online, core.Tensorized} {
			t.Run(name+"/"+b.String()+"/float64", func(t *testing.T) { goldentest.Run(t, e64, b, 1e-6) })
			t.Run(name+"/"+b.String()+"/float32", func(t *testing.T) { goldentest.Run(t, e32, b, 2e-4) })
		}
		// Multiscale (block-sparse Pairs where the truncation pays): within
		// 1e-3 of the exact values and at least as close as GeomLoss's.
		t.Run(name+"/multiscale/float64", func(t *testing.T) { goldentest.RunMultiscale(t, e64, 1e-3) })
	}
}
