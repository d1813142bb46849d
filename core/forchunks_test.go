package core

import (
	"sync/atomic"
	"testing"
)

// TestForChunksScratch: every chunk runs exactly once whatever the thread
// count, each goroutine makes one scratch (so at most threads of them), and
// no chunk starts once quit holds.
func TestForChunksScratch(t *testing.T) {
	for _, chunks := range []int{0, 1, 2, 7, 100} {
		for _, threads := range []int{-1, 0, 1, 2, 3, 200} {
			runs := make([]atomic.Int32, chunks)
			var made atomic.Int32
			ForChunksScratch(chunks, threads, nil, func() *int { made.Add(1); return new(int) }, func(c int, s *int) {
				*s++ // scratch is the goroutine's own: no race
				runs[c].Add(1)
			})
			for c := range runs {
				if n := runs[c].Load(); n != 1 {
					t.Errorf("chunks %d, threads %d: chunk %d ran %d times", chunks, threads, c, n)
				}
			}
			if limit := max(threads, 1); threads > 0 && int(made.Load()) > limit {
				t.Errorf("chunks %d, threads %d: %d scratches", chunks, threads, made.Load())
			}
		}
	}
	var stop Stop
	var ran atomic.Int32
	ForChunks(50, 2, &stop, func(c int) {
		if ran.Add(1) == 3 {
			stop.Set()
		}
	})
	if n := ran.Load(); n < 3 || n > 4 {
		t.Errorf("after Stop: %d chunks ran, want 3 or 4 (one per goroutine at most after the third)", n)
	}
	ran.Store(0)
	ForChunks(5, 1, nil, func(int) { ran.Add(1) })
	if ran.Load() != 5 {
		t.Errorf("nil Stop: %d of 5 chunks ran", ran.Load())
	}
}
