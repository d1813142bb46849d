// Package cluster builds the cluster hierarchies of the multiscale backend
// (ALGORITHMS.md §4.2, §4.3): a permutation that sorts a cloud so that every
// cluster of every level is a contiguous index range, with the levels nested
// (each cluster of level t+1 is a union of clusters of level t).
//
// Three constructions share one representation (Hierarchy):
//
//   - Voxel (any D, meant for D ≤ 3): an octree of cubic voxels. With the
//     cloud's own min corner o and the finest voxel side s, point x has the
//     exact integer key q_d = ⌊(x_d − o_d)/s⌋ (int64, never GeomLoss's
//     colliding packed int32 key); level t groups the points with equal
//     q >> t (voxels of side s·2^t). Points are sorted in Morton (Z-) order
//     of q, compared exactly by the most significant differing bit, so the
//     voxels of every level are contiguous.
//   - KD (any D): a k-d tree of median splits along the widest side of the
//     bounding box; level t groups the points of the nodes at depth
//     depth−t.
//   - Labels (any D): one level of user-given clusters, any integer values
//     (relabelled by rank, so they need not be compact or sorted).
package cluster

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Hierarchy is a nested clustering of n points.
//
//	Perm[k]   = input index of the k-th point in sorted order;
//	a cluster of level t starts at sorted position k iff k = 0 or Split[k] > t,
//
// for levels t = 0 (finest) … Levels−1 (coarsest).
type Hierarchy struct {
	Perm   []int
	Split  []uint8
	Levels int
	// Side is the voxel side of level 0 (Voxel only; 0 otherwise): level t
	// has side Side·2^t.
	Side float64
}

// Bounds returns the K+1 boundaries of level t's clusters in sorted order
// (Bounds[0] = 0, Bounds[K] = n), in a slice of exactly that length.
func (h *Hierarchy) Bounds(t int) []int {
	return h.AppendBounds(make([]int, 0, h.Count(t)+1), t)
}

// AppendBounds appends level t's boundaries (see Bounds) to dst and returns
// the extended slice: a caller sweeping the levels reuses one buffer.
func (h *Hierarchy) AppendBounds(dst []int, t int) []int {
	dst = append(dst, 0)
	for k := 1; k < len(h.Perm); k++ {
		if int(h.Split[k]) > t {
			dst = append(dst, k)
		}
	}
	return append(dst, len(h.Perm))
}

// Count returns the number of clusters of level t.
func (h *Hierarchy) Count(t int) int {
	c := 1
	for k := 1; k < len(h.Perm); k++ {
		if int(h.Split[k]) > t {
			c++
		}
	}
	return c
}

// Error is a bad-argument error of this package; core turns it into its
// coded error.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// maxKey bounds the voxel keys: 2^62 keeps q and its shifts exact in int64.
const maxKey = 1 << 62

// Voxel builds the octree of the n points pts (row-major, dimension d) with
// levels voxel sides side·2^t, t < levels (levels ≤ 63). The coarsest level
// (t = levels−1) is GeomLoss's voxel grid of side side·2^(levels−1).
func Voxel[T ~float32 | ~float64](pts []T, n, d int, side float64, levels int) (*Hierarchy, error) {
	if !(side > 0) || math.IsInf(side, 0) {
		return nil, &Error{fmt.Sprintf("cluster_scale: voxel side must be positive and finite, got %g", side)}
	}
	if levels < 1 || levels > 63 {
		return nil, &Error{fmt.Sprintf("cluster: levels must lie in [1, 63], got %d", levels)}
	}
	lo := make([]float64, d)
	for k := range lo {
		lo[k] = math.Inf(1)
	}
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			lo[k] = min(lo[k], float64(pts[i*d+k]))
		}
	}
	q := make([]int64, n*d)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			v := math.Floor((float64(pts[i*d+k]) - lo[k]) / side)
			if !(v >= 0 && v < maxKey) {
				return nil, &Error{fmt.Sprintf("cluster_scale: voxel side %g is too small for the extent of the cloud (key %g ≥ 2^62)", side, v)}
			}
			q[i*d+k] = int64(v)
		}
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	key := func(i int) []int64 { return q[i*d : (i+1)*d] }
	// Morton order: the dimension holding the most significant differing bit
	// decides (Chan's comparison, exact for any key size).
	slices.SortFunc(perm, func(a, b int) int {
		qa, qb := key(a), key(b)
		best, bx := 0, uint64(0)
		for k := 0; k < d; k++ {
			x := uint64(qa[k] ^ qb[k])
			if x > bx && bits.Len64(x) > bits.Len64(bx) {
				best, bx = k, x
			}
		}
		if bx == 0 {
			return cmp.Compare(a, b)
		}
		return cmp.Compare(qa[best], qb[best])
	})
	split := make([]uint8, n)
	for k := 1; k < n; k++ {
		qa, qb := key(perm[k-1]), key(perm[k])
		var x uint64
		for c := 0; c < d; c++ {
			x |= uint64(qa[c] ^ qb[c])
		}
		split[k] = uint8(min(bits.Len64(x), levels))
	}
	if n > 0 {
		split[0] = uint8(levels)
	}
	return &Hierarchy{Perm: perm, Split: split, Levels: levels, Side: side}, nil
}

// KD builds a k-d tree hierarchy of the n points: each node with more than
// one point is split at its median along the widest side of its bounding
// box (ties by index, so the result is deterministic); the tree has
// depth = ⌈log₂ n⌉ levels of splits plus the leaves.
func KD[T ~float32 | ~float64](pts []T, n, d int) *Hierarchy {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	depth := 0
	for (1 << depth) < n {
		depth++
	}
	levels := depth + 1
	split := make([]uint8, n)
	if n > 0 {
		split[0] = uint8(levels)
	}
	var rec func(lo, hi, dep int)
	rec = func(lo, hi, dep int) {
		if hi-lo <= 1 {
			return
		}
		best, width := 0, -1.0
		for k := 0; k < d; k++ {
			a, b := math.Inf(1), math.Inf(-1)
			for _, i := range perm[lo:hi] {
				v := float64(pts[i*d+k])
				a, b = min(a, v), max(b, v)
			}
			if b-a > width {
				best, width = k, b-a
			}
		}
		seg := perm[lo:hi]
		slices.SortFunc(seg, func(a, b int) int {
			if c := cmp.Compare(pts[a*d+best], pts[b*d+best]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		mid := lo + (hi-lo)/2
		split[mid] = uint8(levels - 1 - dep)
		rec(lo, mid, dep+1)
		rec(mid, hi, dep+1)
	}
	rec(0, n, 0)
	return &Hierarchy{Perm: perm, Split: split, Levels: levels}
}

// Labels builds the one-level hierarchy of explicit cluster labels (any
// integers: equal labels form a cluster; clusters are sorted by label and a
// cluster's points keep their input order).
func Labels(labels []int64) *Hierarchy {
	n := len(labels)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(labels[a], labels[b]) })
	split := make([]uint8, n)
	for k := range split {
		if k == 0 || labels[perm[k]] != labels[perm[k-1]] {
			split[k] = 1
		}
	}
	return &Hierarchy{Perm: perm, Split: split, Levels: 1}
}

// Centroids returns the clusters of the sorted cloud whose boundaries are
// bounds: their masses m_k = Σ_{i∈k} w_i and centroids c_k = Σ w_i x_i / m_k,
// with the weights clamped below at 1e-9 (§4.3, so that every cluster has a
// positive mass and a finite centroid). pts and w are in input order; perm
// maps sorted positions to input indices.
func Centroids[T ~float32 | ~float64](pts, w []T, d int, perm, bounds []int) (cent, mass []T) {
	K := len(bounds) - 1
	cent, mass = make([]T, K*d), make([]T, K)
	acc := make([]float64, d)
	for c := 0; c < K; c++ {
		clear(acc)
		var m float64
		for _, i := range perm[bounds[c]:bounds[c+1]] {
			wi := max(float64(w[i]), 1e-9)
			m += wi
			for k := 0; k < d; k++ {
				acc[k] += wi * float64(pts[i*d+k])
			}
		}
		mass[c] = T(m)
		for k := 0; k < d; k++ {
			cent[c*d+k] = T(acc[k] / m)
		}
	}
	return cent, mass
}
