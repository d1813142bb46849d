package core_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

func TestGoldenFloat64(t *testing.T) {
	for _, b := range []core.Backend{core.Tensorized, core.Online} {
		t.Run(b.String(), func(t *testing.T) { goldentest.Run(t, core.Portable[float64](core.Resources{}), b, 1e-6) })
	}
}

func TestGoldenFloat32(t *testing.T) {
	for _, b := range []core.Backend{core.Tensorized, core.Online} {
		t.Run(b.String(), func(t *testing.T) { goldentest.Run(t, core.Portable[float32](core.Resources{}), b, 2e-4) })
	}
}
