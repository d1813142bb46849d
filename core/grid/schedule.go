package grid

import "math"

// plan returns the first pyramid level the loop runs on and the iterations
// t ≥ 1 of the ε-schedule after which it moves one level finer (§6.4). From
// level k a jump happens after iteration t when s_k^p > ε_t (s_k the level's
// scale, level.scale) while a finer level exists: on the reference's grids,
// starting from the coarsest level, this is its rule exactly. Beyond it:
//   - the rule never jumps past the finest level (blur below the finest
//     pixel, where the reference fails with an IndexError): the remaining
//     iterations run at full resolution;
//   - where the rule cannot reach the finest level before the schedule ends
//     (blur above the second-finest pixel, where the reference asserts), the
//     loop starts on the coarsest level from which it does; at worst the
//     finest, i.e. single scale. Coarse levels are only worth visiting while
//     they resolve the kernel, and this keeps every iteration the rule allows
//     on the finer ones.
func plan(scales []float64, eps []float64, p int) (start int, js []int) {
	last := len(scales) - 1
	for start = 0; start < last; start++ {
		js = js[:0]
		cur := start
		for t := 1; t < len(eps); t++ {
			if cur < last && math.Pow(scales[cur], float64(p)) > eps[t] {
				js = append(js, t)
				cur++
			}
		}
		if cur == last {
			return start, js
		}
	}
	return last, nil
}
