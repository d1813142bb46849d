package core_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

// TestGoldenMultiscale: on every golden case the multiscale backend is
// within 1e-3 (norm-wise relative, values and gradients) of the exact
// (tensorized) reference, and at least as close as GeomLoss's own
// multiscale result.
func TestGoldenMultiscale(t *testing.T) {
	goldentest.RunMultiscale(t, core.Portable[float64](core.Resources{}), 1e-3)
}

// TestGoldenMultiscaleTruncated: the same with the truncation forced at
// every ε, so that every golden case runs block-sparse reductions.
func TestGoldenMultiscaleTruncated(t *testing.T) {
	*core.MsAlwaysTruncate = true
	defer func() { *core.MsAlwaysTruncate = false }()
	goldentest.RunMultiscale(t, core.Portable[float64](core.Resources{}), 1e-3)
}
