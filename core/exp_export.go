package core

// ExpShifted overwrites z_j with e^(z_j − m) and returns their sum,
// accumulated in increasing j: the portable engine's exponential (expFast,
// relative error below 1e-15, flushed to 0 below e^−707), exported for the
// other backends built on core (the grid passes of core/grid).
func ExpShifted(z []float64, m float64) float64 { return expShifted(z, m) }
