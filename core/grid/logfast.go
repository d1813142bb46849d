package grid

import "math"

// logFast returns ln x with an absolute error below 4e-16·(1 + |ln x|)
// (TestLogFast), by table-driven range reduction: for normal x > 0,
//
//	x = 2^e·m,  m ∈ [1, 2),  c_j = 1 + (j + ½)/256 with j the top 8 bits of m's fraction,
//	ln x = e·ln 2 + ln c_j + ln(1 + r),   r = m/c_j − 1,   |r| < 2⁻⁹,
//
// with ln c_j and 1/c_j from a table (math.Log, within 1 ulp), e·ln 2 split
// in two constants (the high part exact) and ln(1 + r) by its degree-6
// Taylor polynomial (truncation below r⁷/7 < 2e-20). Zero, subnormal,
// negative and non-finite x defer to math.Log.
func logFast(x float64) float64 {
	const (
		ln2hi = 6.93147180369123816490e-01 // 32 significant bits: e·ln2hi is exact
		ln2lo = 1.90821492927058770002e-10
	)
	bits := math.Float64bits(x)
	ex := int(bits>>52) - 1023
	if ex <= -1023 || ex >= 1024 || bits>>63 != 0 {
		return math.Log(x)
	}
	j := (bits >> 44) & (logN - 1)
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	r := m*logTab[j].inv - 1
	p := r * (1 - r*(1./2-r*(1./3-r*(1./4-r*(1./5-r*(1./6))))))
	fe := float64(ex)
	return fe*ln2hi + (logTab[j].log + (p + fe*ln2lo))
}

const logN = 256

// logTab[j] = {1/c_j, ln c_j}, c_j = 1 + (j + ½)/256.
var logTab = func() (t [logN]struct{ inv, log float64 }) {
	for j := range t {
		c := 1 + (float64(j)+0.5)/logN
		t[j].inv, t[j].log = 1/c, math.Log(c)
	}
	return t
}()
