package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randPts(r *rand.Rand, n, d int, scale float64) []float64 {
	p := make([]float64, n*d)
	for i := range p {
		p[i] = r.NormFloat64() * scale
	}
	return p
}

// checkNested verifies that h is a permutation whose level-t clusters are
// contiguous, nested, and (through same) group exactly the points that
// same(i, j, t) says belong together.
func checkNested(t *testing.T, h *Hierarchy, n int, same func(i, j, lev int) bool) {
	t.Helper()
	seen := make([]bool, n)
	for _, i := range h.Perm {
		if i < 0 || i >= n || seen[i] {
			t.Fatalf("Perm is not a permutation of 0..%d", n-1)
		}
		seen[i] = true
	}
	for lev := 0; lev < h.Levels; lev++ {
		b := h.Bounds(lev)
		if len(b)-1 != h.Count(lev) {
			t.Fatalf("level %d: Count %d, Bounds has %d clusters", lev, h.Count(lev), len(b)-1)
		}
		if same == nil {
			continue
		}
		// Points of a cluster belong together; consecutive clusters do not,
		// and no two clusters share a key (contiguity).
		for c := 0; c+1 < len(b); c++ {
			for k := b[c] + 1; k < b[c+1]; k++ {
				if !same(h.Perm[b[c]], h.Perm[k], lev) {
					t.Fatalf("level %d cluster %d mixes points %d and %d", lev, c, h.Perm[b[c]], h.Perm[k])
				}
			}
		}
		for c := 0; c < len(b)-1; c++ {
			for e := c + 1; e < len(b)-1; e++ {
				if same(h.Perm[b[c]], h.Perm[b[e]], lev) {
					t.Fatalf("level %d: clusters %d and %d hold points of one voxel (not contiguous)", lev, c, e)
				}
			}
		}
	}
	// Nesting: a boundary of level t+1 is a boundary of level t.
	for lev := 0; lev+1 < h.Levels; lev++ {
		fine := map[int]bool{}
		for _, k := range h.Bounds(lev) {
			fine[k] = true
		}
		for _, k := range h.Bounds(lev + 1) {
			if !fine[k] {
				t.Fatalf("level %d boundary %d is not a level %d boundary", lev+1, k, lev)
			}
		}
	}
}

func TestVoxelExactKeysAndNesting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 2, 3} {
		for _, side := range []float64{0.3, 1e-3} { // 1e-3: voxel indices ≫ 1024 (GeomLoss's keys collide)
			n := 400
			pts := randPts(r, n, d, 1)
			levels := 6
			h, err := Voxel(pts, n, d, side, levels)
			if err != nil {
				t.Fatal(err)
			}
			lo := make([]float64, d)
			for k := range lo {
				lo[k] = math.Inf(1)
				for i := 0; i < n; i++ {
					lo[k] = min(lo[k], pts[i*d+k])
				}
			}
			key := func(i, lev int) string {
				s := ""
				for k := 0; k < d; k++ {
					s += fmt.Sprint(int64(math.Floor((pts[i*d+k]-lo[k])/side)) >> lev)
				}
				return s
			}
			same := func(i, j, lev int) bool {
				for k := 0; k < d; k++ {
					a := int64(math.Floor((pts[i*d+k]-lo[k])/side)) >> lev
					b := int64(math.Floor((pts[j*d+k]-lo[k])/side)) >> lev
					if a != b {
						return false
					}
				}
				return true
			}
			checkNested(t, h, n, same)
			for lev := 0; lev < levels; lev++ {
				distinct := map[string]bool{}
				for i := 0; i < n; i++ {
					distinct[key(i, lev)] = true
				}
				if h.Count(lev) != len(distinct) {
					t.Errorf("D=%d side=%g level %d: %d clusters, want %d distinct voxels", d, side, lev, h.Count(lev), len(distinct))
				}
			}
		}
	}
}

func TestVoxelRejectsBadSide(t *testing.T) {
	pts := []float64{0, 1e300}
	for _, side := range []float64{0, -1, math.Inf(1), 1e-300} {
		if _, err := Voxel(pts, 2, 1, side, 1); err == nil {
			t.Errorf("side %g: no error", side)
		}
	}
}

func TestKDHierarchy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, d := 300, 6
	pts := randPts(r, n, d, 1)
	h := KD(pts, n, d)
	checkNested(t, h, n, nil)
	if h.Count(h.Levels-1) != 1 || h.Count(0) != n {
		t.Fatalf("root %d clusters, leaves %d, want 1 and %d", h.Count(h.Levels-1), h.Count(0), n)
	}
	// Each level's clusters are balanced (median splits) and separated
	// along their split dimension: the boxes of two siblings overlap in at
	// most one coordinate value.
	for lev := 0; lev < h.Levels; lev++ {
		b := h.Bounds(lev)
		for c := 0; c+1 < len(b); c++ {
			sz := b[c+1] - b[c]
			want := float64(n) / float64(int(1)<<(h.Levels-1-lev))
			if float64(sz) > want+1 || float64(sz) < want/2-1 {
				t.Fatalf("level %d cluster %d has %d points, want about %.1f", lev, c, sz, want)
			}
		}
	}
}

func TestLabelsRelabelAndCentroids(t *testing.T) {
	labels := []int64{7, -3, 7, 100, -3, 7}
	pts := []float64{0, 1, 2, 3, 4, 5} // D=1
	w := []float64{1, 1, 1, 0, 2, 0}
	h := Labels(labels)
	b := h.Bounds(0)
	if len(b) != 4 {
		t.Fatalf("%d clusters, want 3", len(b)-1)
	}
	cent, mass := Centroids(pts, w, 1, h.Perm, b)
	// clusters sorted by label: −3 = {1, 4}, 7 = {0, 2, 5}, 100 = {3}
	wantM := []float64{3, 2 + 1e-9, 1e-9}
	wantC := []float64{(1 + 8) / 3.0, (0 + 2 + 5e-9) / (2 + 1e-9), 3}
	for c := range mass {
		if math.Abs(mass[c]-wantM[c]) > 1e-15 || math.Abs(cent[c]-wantC[c]) > 1e-12 {
			t.Errorf("cluster %d: mass %g centroid %g, want %g %g", c, mass[c], cent[c], wantM[c], wantC[c])
		}
	}
	checkNested(t, h, len(labels), func(i, j, _ int) bool { return labels[i] == labels[j] })
}
