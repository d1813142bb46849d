// Package grid computes Sinkhorn divergences between densities on regular
// 1D, 2D and 3D grids (GeomLoss's sinkhorn_divergence for images and
// volumes, ALGORITHMS.md §6, §7.5): the symmetric ε-scaling loop of §3 on a
// coarse-to-fine pyramid of sum-pooled densities, whose soft-min
//
//	smin_ε(h)_u = −ε LSE_v( h_v − C(u, v)/ε ),   C(u, v) = Σ_k c(|u_k − v_k|·h_k)
//
// (c(t) = t²/2 for p = 2, c(t) = t for p = 1: the L1 cost of the reference)
// factorises over the axes and is computed as one 1D log-sum-exp pass per
// axis, last axis first (§6.3). A pass is the AxisEngine interface: the
// portable Go implementation lives here, faster engines implement the same
// interface and pass the same conformance suite (gridtest): the AVX2 one is
// simd.GridEngine (simd.GridFor picks it; the root package's image
// functions, hence the C ABI and the bindings, use it by default).
//
// Beyond the reference: any side length (not only powers of two),
// rectangular grids, anisotropic pixel widths (Params.Spacing, GeomLoss's
// axes), blurs larger than the second-finest pixel or smaller than the
// finest, scaling below 0.5, a single-scale mode (Params.SingleScale) in
// which every iteration runs at full resolution, and truncated passes that
// cost O(n) per line instead of O(n²) (AxisKernel.Tau).
package grid
