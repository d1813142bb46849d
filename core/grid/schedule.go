package grid

import "math"

// jumps returns the iterations t ≥ 1 of the ε-schedule after which the loop
// moves to the next finer level (§6.4): with s the current level's scale
// (level.scale), a jump happens when s^p > ε_t, while a finer level exists.
// On the reference's grids this is its rule exactly. Where it yields fewer
// jumps than levels − 1 (blur larger than the second-finest pixel, where the
// reference asserts) the solver finishes the remaining levels after the loop;
// where it would jump past the finest (blur below the finest pixel, where the
// reference fails) the remaining iterations run at full resolution.
func jumps(scales []float64, eps []float64, p int) []int {
	var js []int
	cur := 0
	for t := 1; t < len(eps); t++ {
		if cur < len(scales)-1 && math.Pow(scales[cur], float64(p)) > eps[t] {
			js = append(js, t)
			cur++
		}
	}
	return js
}
