// Package geomloss computes geometric losses between weighted point clouds —
// Sinkhorn divergences, Hausdorff divergences and kernel norms (MMDs) — with
// their gradients, as GeomLoss's SamplesLoss does.
//
//	par := geomloss.DefaultParams()          // sinkhorn, p=2, blur=0.05, debias
//	res, err := geomloss.Evaluate(par, geomloss.Problem[float64]{
//		B: 1, N: n, M: m, D: 3, X: x, Y: y, // row-major N×3 and M×3, uniform weights
//	}, geomloss.Request[float64]{GradX: true})
//	// res.Value[0] is the loss, res.GradX its gradient w.r.t. x.
//
// The maths is in package core; this package picks the fastest reduction
// engine: the CUDA engine (package gpu) when a usable GPU is present, else
// the SIMD CPU engine (package simd).
package geomloss

import (
	"github.com/libgeomloss/libgeomloss/core"
	_ "github.com/libgeomloss/libgeomloss/gpu" // registers the "cuda" engine
	"github.com/libgeomloss/libgeomloss/simd"
)

type (
	Params                = core.Params
	Loss                  = core.Loss
	Backend               = core.Backend
	Error                 = core.Error
	Code                  = core.Code
	Problem[T core.Float] = core.Problem[T]
	Request[T core.Float] = core.Request[T]
	Result[T core.Float]  = core.Result[T]
)

// Losses and backends, re-exported from core.
const (
	Sinkhorn   = core.Sinkhorn
	Hausdorff  = core.Hausdorff
	Energy     = core.Energy
	Gaussian   = core.Gaussian
	Laplacian  = core.Laplacian
	Auto       = core.Auto
	Tensorized = core.Tensorized
	Online     = core.Online
	Multiscale = core.Multiscale
)

// DefaultParams returns GeomLoss's SamplesLoss defaults.
func DefaultParams() Params { return core.DefaultParams() }

// Options tune an evaluation without changing its result.
type Options struct {
	// Threads bounds the CPU threads used; ≤ 0 means all cores.
	Threads int
	// Device selects the hardware (auto: a usable GPU engine, else the CPU).
	Device core.Device
}

// Evaluate computes the loss and the outputs req asks for, on the best
// engine of the registry for the device (the SIMD CPU engine unless a GPU
// engine is registered and usable). Errors are *Error values naming the bad
// argument.
func Evaluate[T core.Float](par Params, pr Problem[T], req Request[T], opts ...Options) (*Result[T], error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return core.Evaluate(core.Config[T]{Device: o.Device, Threads: o.Threads}, par, pr, req)
}

// The SIMD engine registers itself with core's engine registry.
var _ = simd.Selected
