package simd

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

// Every dispatch path reproduces the golden values with the online backend
// (the one the engines serve) in float64 and float32.
func TestGolden(t *testing.T) {
	for _, name := range Paths() {
		e64, err := ForPath[float64](name)
		if err != nil {
			t.Fatal(err)
		}
		e32, err := ForPath[float32](name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name+"/float64", func(t *testing.T) { goldentest.Run(t, e64, core.Online, 1e-6) })
		t.Run(name+"/float32", func(t *testing.T) { goldentest.Run(t, e32, core.Online, 2e-4) })
	}
}
