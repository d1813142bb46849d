package grid

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogFast: |logFast(x) − ln x| ≤ 4e-16·(1 + |ln x|) against math.Log
// (itself within 1 ulp) on random x over the whole normal range, near 1 and
// at the special values.
func TestLogFast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	check := func(x float64) {
		got, want := logFast(x), math.Log(x)
		if math.IsNaN(want) || math.IsInf(want, 0) {
			if !(got == want || (math.IsNaN(got) && math.IsNaN(want))) {
				t.Fatalf("logFast(%g) = %g, want %g", x, got, want)
			}
			return
		}
		e := math.Abs(got-want) / (1 + math.Abs(want))
		worst = max(worst, e)
		if e > 4e-16 {
			t.Fatalf("logFast(%.17g) = %.17g, want %.17g (error %.3g)", x, got, want, e)
		}
	}
	for i := 0; i < 1_000_000; i++ {
		check(math.Exp(r.Float64()*1400 - 700))
		check(1 + (r.Float64()-0.5)*1e-3)
	}
	for _, x := range []float64{0, -1, 1, 2, 0.5, math.Inf(1), math.NaN(), 5e-324, 2.2250738585072014e-308, math.MaxFloat64, math.Nextafter(1, 0), math.Nextafter(1, 2)} {
		check(x)
	}
	t.Logf("worst error %.3g·(1 + |ln x|)", worst)
}
