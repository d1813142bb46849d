package core_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
)

// The portable engine is the reference of the other engines; it must pass
// the same conformance table against the float64 definitions.
func TestPortableConformance(t *testing.T) {
	t.Run("float32", func(t *testing.T) { enginetest.Run[float32](t, core.Portable[float32]) })
	t.Run("float64", func(t *testing.T) { enginetest.Run[float64](t, core.Portable[float64]) })
}
