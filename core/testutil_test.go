package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randProblem returns a random float64 problem: x ~ U[0,1]^D, y ~ U[0,1]^D + shift,
// positive weights normalised to mass 1 (or nil for uniform weights).
func randProblem(rng *rand.Rand, B, N, M, D int, shift float64, weights bool) Problem[float64] {
	pr := Problem[float64]{B: B, N: N, M: M, D: D, X: make([]float64, B*N*D), Y: make([]float64, B*M*D)}
	for i := range pr.X {
		pr.X[i] = rng.Float64()
	}
	for i := range pr.Y {
		pr.Y[i] = rng.Float64() + shift
	}
	if weights {
		pr.A, pr.Bw = randWeights(rng, B, N), randWeights(rng, B, M)
	}
	return pr
}

func randWeights(rng *rand.Rand, B, n int) []float64 {
	w := make([]float64, B*n)
	for b := 0; b < B; b++ {
		s := 0.0
		for i := b * n; i < (b+1)*n; i++ {
			w[i] = 0.2 + rng.Float64()
			s += w[i]
		}
		for i := b * n; i < (b+1)*n; i++ {
			w[i] /= s
		}
	}
	return w
}

func mustEval[T Float](t testing.TB, par Params, pr Problem[T], req Request[T]) *Result[T] {
	t.Helper()
	res, err := Evaluate(Config[T]{}, par, pr, req)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return res
}

func convert[T Float](v []float64) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// relErr is ‖got − want‖₂ / max(‖want‖₂, floor).
func relErr[T Float](got []T, want []float64, floor float64) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}
