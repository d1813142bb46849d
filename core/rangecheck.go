package core

import "math"

// checkDistanceRange refuses float32 clouds whose squared distances may
// overflow float32: every reduction computes |x_i − y_j|² in T, and an
// infinite one silently turns a gaussian or laplacian kernel value into 0
// (issue 11: coordinates ~4e19 gave a wrong, even negative, MMD with status
// OK; the other losses already failed with a non-finite output). The bound
// is on the clouds' bounding-box diagonal, which no pairwise distance
// exceeds: diameter ≤ √FLT_MAX ≈ 1.8e19. float64 needs no check here (its
// squared distances overflow only past 1.3e154, where the outputs' finite
// check catches the consequences).
func checkDistanceRange[T Float](pr Problem[T]) error {
	if unitRoundoff[T]() != 0x1p-24 {
		return nil
	}
	limit := math.Sqrt(math.MaxFloat32)
	if d := EstimateDiameter(pr.X, pr.Y, pr.D); d > limit {
		return errorf(ErrValue, "x, y: out of range for float32: the clouds' diameter %g (bounding-box diagonal) exceeds %.3g, beyond which squared distances overflow float32: use float64 or rescale the coordinates", d, limit)
	}
	return nil
}
