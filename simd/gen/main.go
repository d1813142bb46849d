// Command gen writes the vector kernels of package simd (kern_*.go), one file
// per (element type, vector width) from one template, so that the AVX-512 and
// AVX2 paths in float32 and float64 share a single source of truth.
//
// Run from simd/: go run ./gen   (or go generate ./simd).
//
// # Rules the generated kernels follow (see the package doc, "Performance")
//
//   - No scalar floating-point arithmetic between the first vector
//     instruction and the final ClearAVXUpperBits (VZEROUPPER): Go compiles
//     scalar float code to legacy-SSE instructions, and one of those while the
//     upper halves of the vector registers are dirty costs hundreds of cycles
//     on the machines we measured. Scalars are prepared by the caller, vector
//     zero comes from memory, the horizontal maximum of the rare rescale path
//     is a vector butterfly, and horizontal sums run after VZEROUPPER.
//   - Constants are loaded from a 64-byte aligned table inside the loop, one
//     load per use: Go allocates only 15 vector registers, which the
//     accumulators and temporaries need, and it never folds a load into the
//     arithmetic as a memory operand (each load is its own instruction).
//   - Two column groups (vectors) per loop iteration, then the odd one: the
//     loop overhead and the soft-min's raise check (one compare on the two
//     groups' maximum) are shared, and the second group's constants come
//     from an identical copy of the table (kc…b), so that the compiler does
//     not merge the two groups' loads into one value it would then keep live,
//     and spill, across both groups. For the same reason the gradient
//     kernels recompute x − y after the exponential (behind a store, which
//     keeps the compiler from merging it with the first computation) rather
//     than keep D differences per group live.
//   - The loops are latency-bound: on Zen 3 the multiply pipes would allow
//     ~1 pair per cycle in float32, but each vector's dependency chain (load,
//     distance, exponent, polynomial, sum: ~60 cycles) times ~50 instructions
//     per vector fills the out-of-order window. So every change shortens
//     the chain or the instruction count: the maximum's subtraction moved
//     off the chain (t = (h − m) + c·C), a tree polynomial, VROUNDPS for the
//     reduction, integer exponent scaling (see expCode).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

type Variant struct {
	N      string // suffix, e.g. F32x16
	Path   string // dispatch path name
	E      string // element type
	U      string // unsigned element type of the same size (permutation indices)
	V      string // archsimd vector type
	I      string // archsimd integer vector of the same width
	UV     string // archsimd unsigned vector of the same width
	IE     string // integer element type
	W      int
	Shift  int
	Magic  string   // 1.5·2^(mantissa bits): adding it rounds to an integer
	Lo     string   // exp2 argument floor (the result is exactly 0 there)
	Coefs  []string // AVX2: 2^r ≈ Σ Coefs[k] r^k on |r| ≤ 1/2; AVX-512: 2^f on 0 ≤ f < 1
	Scale  bool     // AVX-512: VREDUCE (f = x − ⌊x⌋) and VSCALEF (p·2^⌊x⌋)
	Size   int      // bytes per element
	Slack  int      // soft-min: terms up to 2^Slack are summed before the maximum is raised
	LogW   int
	MaxNeg string
	// Hi is the fused kernels' exponent ceiling (see sbHiCode): their
	// terms are at most 2^Hi, so a sum below 2^Hi had no term clamped.
	Hi string
	// NR is the number of Newton steps refining the hardware reciprocal
	// square root (VRSQRT14 / VRSQRTPS) to the element precision, which
	// replaces the slow VSQRT and VDIV of the Euclidean cost and of the
	// laplacian and energy kernels; 0 uses VSQRT and VDIV (float64 AVX2 has
	// no reciprocal square root).
	NR int
}

// taylor2 returns ln2^k/k! for k = 0..deg (Taylor series of 2^r at 0).
func taylor2(deg int) []float64 {
	c := make([]float64, deg+1)
	f := 1.0
	for k := 0; k <= deg; k++ {
		if k > 0 {
			f *= float64(k)
		}
		c[k] = math.Pow(math.Ln2, float64(k)) / f
	}
	return c
}

// shiftHalf turns an approximation Σ c_k r^k of 2^r on |r| ≤ 1/2 into one of
// 2^f = √2·2^(f−1/2) on 0 ≤ f < 1, expanded in powers of f (exact binomial
// expansion in 256-bit arithmetic, rounded once): the same relative error,
// and all coefficients positive, so Horner's rule on f ≥ 0 is well
// conditioned.
func shiftHalf(c []float64) []float64 {
	const prec = 256
	n := len(c)
	acc := make([]*big.Float, n)
	for k := range acc {
		acc[k] = new(big.Float).SetPrec(prec)
	}
	for j := 0; j < n; j++ {
		// (f − 1/2)^j = Σ_k C(j,k) f^k (−1/2)^(j−k)
		binom := new(big.Float).SetPrec(prec).SetInt64(1)
		for k := 0; k <= j; k++ {
			if k > 0 {
				binom.Mul(binom, new(big.Float).SetPrec(prec).SetInt64(int64(j-k+1)))
				binom.Quo(binom, new(big.Float).SetPrec(prec).SetInt64(int64(k)))
			}
			t := new(big.Float).SetPrec(prec).SetFloat64(c[j])
			t.Mul(t, binom)
			t.Mul(t, new(big.Float).SetPrec(prec).SetFloat64(math.Pow(-0.5, float64(j-k))))
			acc[k].Add(acc[k], t)
		}
	}
	sqrt2 := new(big.Float).SetPrec(prec).SetInt64(2)
	sqrt2.Sqrt(sqrt2)
	r := make([]float64, n)
	for k := range acc {
		acc[k].Mul(acc[k], sqrt2)
		r[k], _ = acc[k].Float64()
	}
	return r
}

func strs(c []float64) []string {
	r := make([]string, len(c))
	for i, v := range c {
		r[i] = fmt.Sprintf("%.17g", v)
	}
	return r
}

// minimax32 is a degree-6 near-minimax fit of 2^r on [−1/2, 1/2] (relative
// error 2e-9 with these coefficients rounded to float32, i.e. 0.03 ulp; fitted
// by Lawson-weighted least squares).
var minimax32 = []float64{1, 0.6931472028559803, 0.2402264791332577, 0.05550332469547442,
	0.009618437383711797, 0.0013398874929704653, 0.00015353356449033574}

// minimax64 is a degree-10 near-minimax fit of 2^r on [−1/2, 1/2] (relative
// error 2.2e-16 with these coefficients rounded to float64; Lawson-weighted
// least squares on 400 Chebyshev nodes in 50-digit arithmetic, mpmath). It
// replaces the degree-11 fit (3.4e-17) and before it the degree-12 Taylor
// series on AVX2 (each one multiply-add fewer on the two busy pipes per four
// pairs; TestExp2Accuracy's bound, 1e-15, holds); the AVX-512 path keeps the
// Taylor series re-expanded on [0, 1) (shiftHalf).
var minimax64 = []float64{1.0, 0.6931471805599492, 0.240226506959091, 0.055504108664481806,
	0.009618129107983113, 0.0013333558225802472, 0.00015403529994280986, 1.5252659426543829e-05,
	1.3215653575669628e-06, 1.0208323198767395e-07, 7.038183106253773e-09}

func variants() []Variant {
	f32 := func(n, path, v, i, uv string, w, logw int, scale bool) Variant {
		// Results below 2^-100 are flushed to 0 (masked), far from the
		// denormals whose microcode assists would cost ~100 cycles each —
		// also in products such as e·(x−y) — and negligible next to the
		// largest term (2^0) of every soft-min row.
		c := strs(minimax32)
		if scale {
			c = strs(shiftHalf(minimax32))
		}
		return Variant{N: n, Path: path, E: "float32", U: "uint32", IE: "int32", V: v, I: i, UV: uv, W: w, LogW: logw,
			Shift: 23, Magic: "12582912", Lo: "-100", Coefs: c, Scale: scale, Size: 4, Slack: 40,
			MaxNeg: "-math.MaxFloat32", NR: 1, Hi: "64"}
	}
	f64 := func(n, path, v, i, uv string, w, logw int, scale bool) Variant {
		c := strs(minimax64)
		if scale {
			c = strs(shiftHalf(taylor2(12)))
		}
		nr := 0
		if scale {
			nr = 2
		}
		return Variant{N: n, Path: path, E: "float64", U: "uint64", IE: "int64", V: v, I: i, UV: uv, W: w, LogW: logw,
			Shift: 52, Magic: "6755399441055744", Lo: "-1000", Coefs: c, Scale: scale, Size: 8, Slack: 60,
			MaxNeg: "-math.MaxFloat64", NR: nr, Hi: "512"}
	}
	return []Variant{
		f32("F32x16", "avx512", "Float32x16", "Int32x16", "Uint32x16", 16, 4, true),
		f32("F32x8", "avx2", "Float32x8", "Int32x8", "Uint32x8", 8, 3, false),
		f64("F64x8", "avx512", "Float64x8", "Int64x8", "Uint64x8", 8, 3, true),
		f64("F64x4", "avx2", "Float64x4", "Int64x4", "Uint64x4", 4, 2, false),
	}
}

// Perm reports whether the horizontal maximum uses full-width permutations
// (all but float64×4, whose AVX2 form has no variable permute).
func (v Variant) Perm() bool { return v.N != "F64x4" }

// PermSteps lists the butterfly strides W/2, W/4, ..., 1.
func (v Variant) PermSteps() []int {
	var r []int
	for s := v.W / 2; s >= 1; s /= 2 {
		r = append(r, s)
	}
	return r
}

// kernel is one generated function's parameters.
type kernel struct {
	*Variant
	Dense bool // reads squared distances from a stored row instead of computing them
	D     int  // 1, 2, 3, or 0 for generic D
	P     int  // soft-min cost exponent
	K     int  // kernel sum: 1 gaussian, 2 laplacian, 3 energy
	G     bool
	Dims  []int
	Soft  bool // a soft-min kernel
	Fused bool // a fused Sinkhorn kernel (see "sb"): also reads and writes the column sums col
}

// unroll is the number of column groups per loop iteration (1 or 2; see
// the package comment: 2 measured faster for every kernel kind, gradients
// included, on Zen 3).
const unroll = 2

// U is the number of column groups per loop iteration, Step its column step.
func (k kernel) U() int    { return unroll }
func (k kernel) Step() int { return unroll * k.W }

// group is one vector of columns in flight in a loop iteration: its
// variables carry the suffix Sfx, its columns start at j + O.
type group struct {
	kernel
	Sfx   string
	O     int
	KC    string // its constant table (see tab)
	Bump  bool   // inside the main loop, whose arrays are read through bumped pointers
	Piped bool   // its cost was computed in the previous iteration (see Pipe)
	Row   string // "" for the kernel's row a, "b" for the second row of a two-row kernel (see XV)
}

func (k kernel) Grp(sfx string, o int) group { return group{kernel: k, Sfx: sfx, O: o, KC: "kc"} }

// XV, MV and SV name the variables of the group's row: its broadcast
// coordinates (x<k> or xb<k>), maximum (m, mb) and sum (S, Sb).
func (g group) XV() string { return "x" + g.Row }
func (g group) MV() string { return "m" + g.Row }
func (g group) SV() string { return "S" + g.Row }

// Pipe reports whether the kernel's main loop is software-pipelined: each
// iteration computes the costs of the next iteration's groups (loads,
// differences, squares: the first ~20 cycles of each vector's chain) before
// its own exponentials, so that the out-of-order window holds less waiting
// work. Zen 3's floating-point scheduler and queue (~100 µops) bound these
// loops: a vector's chain is ~50 cycles long, and at ~75 vector µops per
// iteration fewer than two iterations fit. The soft-min kernels without
// gradient and with a fixed D pipeline (the gradient ones have no
// registers to spare).
//
// (The carried costs cost one spilled x broadcast per iteration on AVX2;
// reading all of x from memory instead measured slower.)
func (k kernel) Pipe() bool { return k.Soft && !k.Dense && k.D > 0 && (!k.G || k.P == 2) }

// Cost returns the variable holding the group's cost C (p = 2: s, the
// squared distance; p = 1: cs, its clamped root).
func (g group) Cost() string {
	if g.P == 2 {
		return "s" + g.Sfx
	}
	return "cs" + g.Sfx
}

// Bumps lists the array pointers that the main loop advances by one step
// per iteration (see At): the coordinates of fixed-D kernels, the stored
// distances of dense ones, the log-weights (soft-min) or weights (kernel
// sums).
func (k kernel) Bumps() []string {
	var r []string
	if k.NeedY() && k.D > 0 {
		for _, d := range k.Dims {
			r = append(r, fmt.Sprint("py", d))
		}
	}
	if k.Dense {
		r = append(r, "ps")
	}
	if k.Fused {
		return append(r, "ph", "pc")
	}
	if k.K == 0 {
		return append(r, "ph")
	}
	return append(r, "pw")
}

// At returns the address of the group's vector in the array at pointer p.
// In the main loop (Bump) the arrays of Bumps are read through pointers
// b<p> = p + j·size that the loop advances by one step per iteration, and
// the group's offset O is a constant displacement that the compiler folds
// into the load: indexed as p + (j+O)·size, every load would cost one or two
// LEAs of its own (about an eighth of the loop's instructions, in a loop
// bound by how many instructions fit in flight). The vector block's type has
// O/W + 1 vectors, so it never reaches past the columns read (checkptr).
func (g group) At(p string) string {
	if g.Bump {
		for _, b := range g.Bumps() {
			if b == p {
				return fmt.Sprintf("&(*[%d][%d]%s)(b%s)[%d]", g.O/g.W+1, g.W, g.E, p, g.O/g.W)
			}
		}
	}
	return fmt.Sprintf("(*[%d]%s)(unsafe.Add(%s, (%s+%d)*%d))", g.W, g.E, p, origin(p), g.O, g.Size)
}

// origin returns the index of column j in the array at pointer p: j, but
// j − j0 in the fused kernels' column partials col (col[0] is column j0, so
// that a caller can stage one tile's partials in a tile-sized buffer).
func origin(p string) string {
	if p == "pc" {
		return "(j-a.j0)"
	}
	return "j"
}

// body is one loop iteration's groups (Tmax, Zmax: the expressions of the
// maxima of their soft-min exponents t and z).
type body struct {
	kernel
	Groups     []group
	Tmax, Zmax string
}

// Body returns the iteration of n (1 or 2) column groups.
func (k kernel) Body(n int) body {
	if n == 1 {
		return body{k, []group{k.Grp("a", 0)}, "ta", "za"}
	}
	p := k.Pipe()
	return body{k, []group{{kernel: k, Sfx: "a", KC: "kc", Bump: true, Piped: p}, {kernel: k, Sfx: "b", O: k.W, KC: "kcb", Bump: true, Piped: p}},
		"ta.Max(tb)", "za.Max(zb)"}
}

// MV and SV name the maximum and sum of the body's row (see group.XV).
func (b body) MV() string { return b.Groups[0].MV() }
func (b body) SV() string { return b.Groups[0].SV() }

// twoRows is one iteration of a two-row soft-min kernel (see "sm2"): the
// column groups of row a (suffixes a, b; tables kc, kcb) and the same
// columns for row b (suffixes c, d; tables kcc, kcd).
type twoRows struct {
	kernel
	A, B body
}

// Body2 returns the two-row iteration of n (1 or 2) column groups per row.
// Its groups are not pipelined: the second row takes the registers.
func (k kernel) Body2(n int) twoRows {
	mk := func(sfx, kc, row string, o int, bump bool) group {
		return group{kernel: k, Sfx: sfx, O: o, KC: kc, Bump: bump, Row: row}
	}
	if n == 1 {
		return twoRows{k, body{k, []group{mk("a", "kc", "", 0, false)}, "ta", "za"},
			body{k, []group{mk("c", "kcc", "b", 0, false)}, "tc", "zc"}}
	}
	return twoRows{k, body{k, []group{mk("a", "kc", "", 0, true), mk("b", "kcb", "", k.W, true)}, "ta.Max(tb)", "za.Max(zb)"},
		body{k, []group{mk("c", "kcc", "b", 0, true), mk("d", "kcd", "b", k.W, true)}, "tc.Max(td)", "zc.Max(zd)"}}
}

// Pairs returns the groups of rows a and b that cover the same columns.
func (t twoRows) Pairs() [][2]group {
	var r [][2]group
	for i := range t.A.Groups {
		r = append(r, [2]group{t.A.Groups[i], t.B.Groups[i]})
	}
	return r
}

// Two reports whether the variant has two-row soft-min kernels (p = 2):
// AVX2 only (the AVX-512 path is not measured: no such machine here).
func (v Variant) Two() bool { return !v.Scale }

// Pipe reports whether the iteration's groups are pipelined (see kernel.Pipe).
func (b body) Pipe() bool { return len(b.Groups) > 0 && b.Groups[0].Piped }

// Next returns the groups of the next iteration (their costs, computed by
// this one), with the suffix n<sfx>.
func (b body) Next() []group {
	var r []group
	for _, g := range b.Groups {
		r = append(r, group{kernel: g.kernel, Sfx: "n" + g.Sfx, O: g.O + b.Step(), KC: g.KC, Bump: true})
	}
	return r
}

// Carry returns the assignment "ns<a>, ns<b> = <next costs>" (op "=") or
// its declaration (op ":="), and Shift the assignment of the carried costs
// to the current ones.
func (b body) Carry(op string, from string) string {
	var l, r []string
	for _, g := range b.Groups {
		l = append(l, "n"+g.Cost())
		switch from {
		case "next":
			r = append(r, group{kernel: g.kernel, Sfx: "n" + g.Sfx}.Cost())
		default:
			r = append(r, g.Cost())
		}
	}
	if from == "shift" {
		return strings.Join(r, ", ") + " = " + strings.Join(l, ", ")
	}
	return strings.Join(l, ", ") + " " + op + " " + strings.Join(r, ", ")
}

// Limit2 is the bound j + 2·step ≤ j1 of an iteration that has a next one.
func (b body) Limit2() int { return 2 * b.Step() }

// Raise returns the soft-min's raise condition: some t > slack. AVX-512
// compares the groups' maximum (VMAXPS, VCMPPS into a mask register). AVX2
// compares each group's bit patterns as signed integers with those of the
// slack (> 0): for every non-NaN t, t > slack exactly when
// int(bits(t)) > int(bits(slack)), since the negative floats, −∞ included,
// have negative signed patterns and the non-negative ones are ordered like
// their patterns; the integer compares and their OR run on any of Zen 3's
// four vector pipes instead of two VMAXPS/VCMPPS on the two multiply pipes
// (t is never NaN: the inputs are validated finite).
func (b body) Raise() string {
	if b.Scale {
		return fmt.Sprintf("%s.Greater(%s)", b.Tmax, ld(b, "slack"))
	}
	var c []string
	for _, g := range b.Groups {
		c = append(c, fmt.Sprintf("t%s.As%s().Greater(archsimd.Load%s(&%s.slackbits))", g.Sfx, g.I, g.I, g.KC))
	}
	return strings.Join(c, ".Or(") + strings.Repeat(")", len(c)-1)
}

func (k kernel) Gi() int {
	if k.G {
		return 1
	}
	return 0
}

// Kind is the function-name infix of the online ("") or dense ("Dense") kernels.
func (k kernel) Kind() string {
	if k.Dense {
		return "Dense"
	}
	return ""
}

// NeedY reports whether the kernel reads the coordinates: always online, for
// the gradient only when dense.
func (k kernel) NeedY() bool { return !k.Dense || k.G }

// tab is a variant with the name of the constant table its code loads
// from: "kc", or "kcb" for the second column group of a loop iteration — an
// identical copy, so that the compiler does not merge the two groups'
// constant loads into one value that must then stay live (and spill) across
// both groups.
type tab struct {
	*Variant
	KC string
}

// asTab returns the table of a template value (a *Variant, kernel, group).
func asTab(x any) tab {
	switch x := x.(type) {
	case tab:
		return x
	case *Variant:
		return tab{x, "kc"}
	case group:
		return tab{x.Variant, x.KC}
	case body:
		return tab{x.Variant, "kc"}
	case kernel:
		return tab{x.Variant, "kc"}
	case smKernel:
		return tab{x.Variant, "kc"}
	}
	panic(fmt.Sprintf("asTab(%T)", x))
}

// ld returns the expression loading constant c of the table of x.
func ld(x any, c string) string {
	t := asTab(x)
	return fmt.Sprintf("archsimd.Load%s(&%s.%s)", t.V, t.KC, c)
}

// expCode emits out = 2^in (in ≤ slack), or exactly 0 where in < Lo.
//
// AVX-512: t = max(in, Lo − 1) (no NaN from −∞, no denormal from 2^t), f =
// t − ⌊t⌋ (VREDUCE), p(f), out = p·2^⌊t⌋ (VSCALEF, which floors its
// exponent operand itself).
//
// AVX2: t = max(in, Lo − 1); n = round(t) (VROUNDPS, nearest even) and
// r = t − n ∈ [−½, ½], exact; off the critical path, the magic-number sum
// t + 1.5·2^mant holds the same n in its low mantissa bits; p(r); out = p·2ⁿ
// by adding n << mant to p's bits (an integer add, exactly the product:
// p ∈ [2^−½, 2^½] and n ∈ [Lo − 1, slack] keep every result a normal
// number; no VMULPS on the busy multiply pipes); the lanes with t < Lo are
// then cleared. In float32 the clamp is an unsigned integer minimum of the
// bit patterns (VPMINUD, any of Zen 3's four vector pipes, instead of VMAXPS
// on the two multiply pipes): for every non-NaN t, bits(max(t, Lo − 1)) =
// min_unsigned(bits(t), bits(Lo − 1)), since the non-negative floats and
// the negative ones above Lo − 1 have smaller unsigned bit patterns (sign
// bit 0, or a smaller magnitude) and those below it, −∞ included, larger
// ones. AVX2 has no 64-bit unsigned minimum: float64 keeps VMAXPD.
//
// The polynomial's evaluation (polyCode) is a tree: the loops are bound by
// how many vectors fit in flight in the out-of-order window, i.e. by each
// vector's latency chain, more than by the multiply pipes (see the package
// doc, "Performance").
func expCode(x any, in, out string) string {
	t := asTab(x)
	v := t.Variant
	var b strings.Builder
	switch {
	case v.Scale:
		fmt.Fprintf(&b, "%st := (%s).Max(%s)\n", out, in, ld(t, "floor"))
		fmt.Fprintf(&b, "%sf := %st.FloorScaledResidue(0)\n", out, out)
	case v.Size == 4:
		fmt.Fprintf(&b, "%st := (%s).As%s().Min(archsimd.Load%s(&%s.floorbits)).As%s()\n", out, in, v.UV, v.UV, t.KC, v.V)
	default:
		fmt.Fprintf(&b, "%st := (%s).Max(%s)\n", out, in, ld(t, "floor"))
	}
	if !v.Scale {
		fmt.Fprintf(&b, "%sm := %st.Add(%s)\n", out, out, ld(t, "magic"))
		fmt.Fprintf(&b, "%sf := %st.Sub(%st.RoundToEven())\n", out, out, out)
	}
	b.WriteString(polyCode(t, out+"f", out+"p"))
	if v.Scale {
		fmt.Fprintf(&b, "%s := %sp.Scale(%st)", out, out, out)
	} else {
		fmt.Fprintf(&b, "%s := %sp.As%s().Add(%sm.As%s().ShiftAllLeft(%d)).As%s()", out, out, v.I, out, v.I, v.Shift, v.V)
	}
	fmt.Fprintf(&b, ".Masked(%st.GreaterEqual(%s))\n", out, ld(t, "lo"))
	return b.String()
}

// expSMCode is expCode for the soft-min's terms and rescale factors: on
// AVX2 without the final mask, so that arguments below Lo − 1 give 2^(Lo−1)
// (2^−101 in float32, 2^−1001 in float64: normal numbers) instead of 0 — one
// compare on a multiply pipe and one AND fewer per vector. Relative to the
// running maximum those terms are below the flush level, ~2^−(Lo+slack)
// of a row's sum, which every tile that raised its maximum holds ≥ 1: they
// are absorbed by the first rounding; a tile that never raised (its input
// reference still −MaxFloat: every term −∞) reports s = 0 exactly (see
// "finish"). AVX-512 keeps the masked form.
func expSMCode(x any, in, out string) string {
	c := expCode(x, in, out)
	if asTab(x).Scale {
		return c
	}
	i := strings.LastIndex(c, ".Masked(")
	return c[:i] + "\n"
}

// polyCode emits out = Σ_k c_k f^k as c_0 + f·q(f): q's coefficients are
// taken in pairs c_{2i+1} + c_{2i+2}·f, pairs of pairs are combined with f²
// while more than three terms remain (Estrin's scheme), the last terms by
// Horner's rule in the top power, and c_0 + f·q closes in one multiply-add.
// Degree 6 (float32): 7 multiply-adds and one square, 4 deep instead of
// Horner's 6; degree 12 (float64): 12 multiply-adds and two powers, 5 deep
// instead of 12. The closing step keeps the rounding of Horner's rule: with
// |f·q| ≤ 0.42·c_0 on |f| ≤ ½, q's own rounding errors (a few units of q's
// last place) reach the result scaled down by that factor, and the result
// rounds once more — about one ulp in all (Estrin's scheme all the way to the
// top would round three times at the full magnitude: 2 ulp measured). Each
// constant is loaded where it is consumed (the loaded register is the one
// the multiply-add overwrites, so f is never copied).
func polyCode(t tab, f, out string) string {
	var b strings.Builder
	c := func(k int) string { return ld(t, fmt.Sprintf("c[%d]", k)) }
	n := len(t.Coefs)
	var terms []string
	for i := 1; i < n; i += 2 {
		if i+1 == n {
			terms = append(terms, c(i))
			break
		}
		name := fmt.Sprintf("%s0_%d", out, i/2)
		fmt.Fprintf(&b, "%s := %s.MulAdd(%s, %s)\n", name, c(i+1), f, c(i))
		terms = append(terms, name)
	}
	pw := f
	level := 1
	for ; ; level++ {
		npw := fmt.Sprintf("%sw%d", out, level)
		fmt.Fprintf(&b, "%s := %s.Mul(%s)\n", npw, pw, pw)
		pw = npw
		if len(terms) <= 3 {
			break
		}
		var next []string
		for i := 0; i < len(terms); i += 2 {
			if i+1 == len(terms) {
				next = append(next, terms[i])
				break
			}
			name := fmt.Sprintf("%s%d_%d", out, level, i/2)
			fmt.Fprintf(&b, "%s := %s.MulAdd(%s, %s)\n", name, terms[i+1], pw, terms[i])
			next = append(next, name)
		}
		terms = next
	}
	// Horner in pw over the remaining terms, highest first.
	q := terms[len(terms)-1]
	for i := len(terms) - 2; i >= 0; i-- {
		name := fmt.Sprintf("%sh%d", out, i)
		fmt.Fprintf(&b, "%s := %s.MulAdd(%s, %s)\n", name, q, pw, terms[i])
		q = name
	}
	fmt.Fprintf(&b, "%s := %s.MulAdd(%s, %s)\n", out, q, f, c(0))
	return b.String()
}

// rootCode emits, for q ≥ 1e-8, root = √q by VSQRT (exactly rounded, so a
// value never depends on whether its gradient is asked for) and, if inv,
// rinv = 1/√q: by the reciprocal square root estimate and v.NR Newton steps
// y ← y·(3/2 − q·y²/2) (it replaces a VDIV), or by a VDIV when v.NR is 0.
func rootCode(x any, q, root, rinv string, inv bool) string {
	t := asTab(x)
	v := t.Variant
	var b strings.Builder
	fmt.Fprintf(&b, "%s := %s.Sqrt()\n", root, q)
	if !inv {
		return b.String()
	}
	if v.NR == 0 {
		fmt.Fprintf(&b, "%s := %s.Div(%s)\n", rinv, ld(t, "one"), root)
		return b.String()
	}
	fmt.Fprintf(&b, "%s := %s.ReciprocalSqrt()\n", rinv, q)
	for k := 0; k < v.NR; k++ {
		fmt.Fprintf(&b, "%s = %s.Mul(%s.Mul(%s).Mul(%s).MulAdd(%s, %s))\n", rinv, rinv, q, rinv, rinv, ld(t, "nhalf"), ld(t, "threehalf"))
	}
	return b.String()
}

const tmpl = `// Code generated by simd/gen; DO NOT EDIT.

//go:build goexperiment.simd && amd64

package simd

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

var _ = math.MaxFloat32

// consts{{.N}} holds the broadcast constants of the {{.N}} kernels; kernels
// load them from memory inside their loops (see simd/gen).
type consts{{.N}} struct {
	zero, lo, floor, slack, clamp  [{{.W}}]{{.E}}
	nlog2e, one, nhalf, threehalf  [{{.W}}]{{.E}}
	magic, hi                      [{{.W}}]{{.E}}
	floorbits                      [{{.W}}]{{.U}}
	slackbits, hibits              [{{.W}}]{{.IE}}
	c                              [{{len .Coefs}}][{{.W}}]{{.E}}
	perm                           [{{.LogW}}][{{.W}}]{{.U}}
}

// kc{{.N}} is 64-byte aligned so that no constant load splits a cache line.
// kc{{.N}}b is an identical copy for the second column group (see simd/gen).
var kc{{.N}}, kc{{.N}}b = newConsts{{.N}}(), newConsts{{.N}}()
{{- if .Two}}

// kc{{.N}}c and kc{{.N}}d are the tables of the second row's groups in the
// two-row kernels.
var kc{{.N}}c, kc{{.N}}d = newConsts{{.N}}(), newConsts{{.N}}()
{{- end}}

func newConsts{{.N}}() *consts{{.N}} {
	var z consts{{.N}}
	buf := make([]byte, unsafe.Sizeof(z)+64)
	off := (64 - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64) % 64
	k := (*consts{{.N}})(unsafe.Pointer(&buf[off]))
	coefs := []{{.E}}{ {{- range .Coefs}}{{.}}, {{end -}} }
	for i := 0; i < {{.W}}; i++ {
		k.lo[i], k.floor[i], k.slack[i], k.clamp[i], k.nlog2e[i] = {{.Lo}}, {{.Lo}}-1, {{.Slack}}, 1e-8, -math.Log2E
		k.magic[i] = {{.Magic}}
		k.floorbits[i] = {{if eq .Size 4}}math.Float32bits{{else}}math.Float64bits{{end}}({{.Lo}}-1)
		k.slackbits[i] = {{.IE}}({{if eq .Size 4}}math.Float32bits{{else}}math.Float64bits{{end}}({{.Slack}}))
		k.hi[i] = {{.Hi}}
		k.hibits[i] = {{.IE}}({{if eq .Size 4}}math.Float32bits{{else}}math.Float64bits{{end}}({{.Hi}}))
		k.one[i], k.nhalf[i], k.threehalf[i] = 1, -0.5, 1.5
		for j, c := range coefs {
			k.c[j][i] = c
		}
		for s, st := 0, {{.W}}/2; st >= 1; s, st = s+1, st/2 {
			k.perm[s][i] = {{.U}}(i ^ st)
		}
	}
	return k
}

{{define "setup"}}
	kc := kc{{.N}}
	kcb := kc{{.N}}b
	_ = kcb
{{- if .NeedY}}
{{- if .D}}
{{- range .Dims}}
	x{{.}} := archsimd.Broadcast{{$.V}}(a.x[{{.}}])
	py{{.}} := unsafe.Pointer(unsafe.SliceData(a.y[{{.}}][:a.j1]))
{{- end}}
{{- else}}
	d := len(a.x)
	yp := a.yp[:d]
	pxb := unsafe.Pointer(unsafe.SliceData(a.xb[:d*{{.W}}]))
	for k := 0; k < d; k++ {
		archsimd.Broadcast{{.V}}(a.x[k]).Store((*[{{.W}}]{{.E}})(unsafe.Add(pxb, k*{{.W}}*{{.Size}})))
	}
{{- end}}
{{- end}}
{{- if .Dense}}
	ps := unsafe.Pointer(unsafe.SliceData(a.srow[:a.j1]))
{{- end}}
	S := {{ld .Variant "zero"}}
{{- if .G}}
{{- if .D}}
{{- range .Dims}}
	G{{.}} := S
{{- end}}
{{- else}}
	scr := a.scr[:d*{{.W}}]
	pscr := unsafe.Pointer(unsafe.SliceData(scr))
	for k := 0; k < d; k++ {
		S.Store((*[{{.W}}]{{.E}})(scr[k*{{.W}}:]))
	}
{{- end}}
{{- end}}
{{end}}

{{define "dist"}}
{{- if .Dense}}
		s{{.Sfx}} := archsimd.Load{{.V}}({{.At "ps"}})
{{- else if .D}}
{{- range .Dims}}
		d{{.}}{{$.Sfx}} := {{$.XV}}{{.}}.Sub(archsimd.Load{{$.V}}({{$.At (print "py" .)}}))
{{- end}}
		s{{.Sfx}} := d0{{.Sfx}}.Mul(d0{{.Sfx}})
{{- range .Dims}}{{if .}}
		s{{$.Sfx}} = d{{.}}{{$.Sfx}}.MulAdd(d{{.}}{{$.Sfx}}, s{{$.Sfx}})
{{- end}}{{end}}
{{- else}}
		s{{.Sfx}} := {{ld . "zero"}}
		for k, py := range yp {
			t := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(pxb, k*{{.W}}*{{.Size}}))).Sub(archsimd.Load{{.V}}({{.At "py"}}))
			s{{.Sfx}} = t.MulAdd(t, s{{.Sfx}})
		}
{{- end}}
{{end}}

{{/* accum: G += w·(x − y) for one group; the differences are recomputed
   (the same rounding as the distance's) rather than kept live across the
   exponential: registers are scarce (see simd/gen). The soft-min stores w
   to a scratch slot first: a store between the two loads of y keeps the
   compiler from merging them back into one long-lived value. */}}
{{define "accum"}}
{{- if .D}}
{{- range .Dims}}
		G{{.}} = {{$.XV}}{{.}}.Sub(archsimd.Load{{$.V}}({{$.At (print "py" .)}})).MulAdd(w{{$.Sfx}}, G{{.}})
{{- end}}
{{- else}}
		for k, py := range yp {
			t := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(pxb, k*{{.W}}*{{.Size}}))).Sub(archsimd.Load{{.V}}({{.At "py"}}))
			pg := (*[{{.W}}]{{.E}})(unsafe.Add(pscr, k*{{.W}}*{{.Size}}))
			t.MulAdd(w{{.Sfx}}, archsimd.Load{{.V}}(pg)).Store(pg)
		}
{{- end}}
{{end}}

{{/* bumpinit, bumpstep: the main loop's pointers b<p> = p + j·size (see
   At), advanced only when another iteration follows, so that they never
   point past the arrays (Go's unsafe.Add rules, checkptr). */}}
{{define "bumpinit"}}
{{- range .Bumps}}
		b{{.}} := unsafe.Add({{.}}, {{origin .}}*{{$.Size}})
{{- end}}
{{- end}}
{{define "bumpstep"}}
			j += {{.Step}}
			if j+{{.Step}} > a.j1 {
				break
			}
{{- range .Bumps}}
			b{{.}} = unsafe.Add(b{{.}}, {{$.Step}}*{{$.Size}})
{{- end}}
{{- end}}

{{define "finish"}}
	// Vector results to memory, then VZEROUPPER, then scalar code.
	acc := a.acc[:{{.W}}*5]
	S.Store((*[{{.W}}]{{.E}})(acc))
{{- if .SM}}
	m.Store((*[{{.W}}]{{.E}})(acc[{{.W}}:]))
{{- end}}
{{- if and .G .D}}
{{- range .Dims}}
	G{{.}}.Store((*[{{$.W}}]{{$.E}})(acc[({{.}}+2)*{{$.W}}:]))
{{- end}}
{{- end}}
	archsimd.ClearAVXUpperBits()
{{- if .SM}}
	a.m = acc[{{.W}}]
{{- if not .Scale}}
	if a.m == {{.MaxNeg}} { // no term above −∞ (see expSMCode)
		a.s = 0
{{- if .G}}
		clear(a.g)
{{- end}}
		return
	}
{{- end}}
{{- end}}
	a.s = hsum{{.N}}((*[{{.W}}]{{.E}})(acc))
{{- if .G}}
{{- if .D}}
{{- range .Dims}}
	a.g[{{.}}] = hsum{{$.N}}((*[{{$.W}}]{{$.E}})(acc[({{.}}+2)*{{$.W}}:]))
{{- end}}
{{- else}}
	for k := 0; k < d; k++ {
		a.g[k] = hsum{{.N}}((*[{{.W}}]{{.E}})(scr[k*{{.W}}:]))
	}
{{- end}}
{{- end}}
{{end}}

func hsum{{.N}}(b *[{{.W}}]{{.E}}) {{.E}} {
	var s {{.E}}
	for _, v := range b {
		s += v
	}
	return s
}

// exp2{{.N}} is the vector 2^x for x ≤ {{.Slack}} (see package doc for its
// accuracy); arguments below {{.Lo}} give exactly 0, −∞ included.
func exp2{{.N}}(x archsimd.{{.V}}) archsimd.{{.V}} {
	kc := kc{{.N}}
{{exp .VP "x" "y"}}
	return y
}

{{/* smz: one column group's squared distance and exponent relative to
   the maximum, t = (h − m) + nc·C: h − m does not wait for the distance, and
   the raise check compares t with the slack. */}}
{{define "smcost"}}
{{- template "dist" .}}
{{- if eq .P 1}}
		q{{.Sfx}} := s{{.Sfx}}.Max({{ld . "clamp"}})
		{{root . (print "q" .Sfx) (print "cs" .Sfx) (print "ics" .Sfx) .G}}
{{- end}}
{{- end}}
{{define "smz"}}
{{- if not .Piped}}{{template "smcost" .}}{{end}}
		t{{.Sfx}} := {{.Cost}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}).Sub({{.MV}}))
{{end}}

{{/* smzabs: the group's z = h + nc·C (raise path: the new maximum), then t
   again relative to it. */}}
{{define "smzabs"}}
{{- if eq .P 2}}
			z{{.Sfx}} := s{{.Sfx}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}))
{{- else}}
			z{{.Sfx}} := cs{{.Sfx}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}))
{{- end}}
{{- end}}
{{define "smtnew"}}
{{- if eq .P 2}}
			t{{.Sfx}} = s{{.Sfx}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}).Sub({{.MV}}))
{{- else}}
			t{{.Sfx}} = cs{{.Sfx}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}).Sub({{.MV}}))
{{- end}}
{{- end}}

{{/* smexp: one column group's term 2^t, added to S (and to G). */}}
{{define "smexp"}}
		{{expsm . (print "t" .Sfx) (print "e" .Sfx)}}
		{{.SV}} = {{.SV}}.Add(e{{.Sfx}})
{{- if .G}}
{{- if eq .P 2}}
		w{{.Sfx}} := e{{.Sfx}}
{{- else}}
		w{{.Sfx}} := e{{.Sfx}}.Mul(ics{{.Sfx}}).Masked(s{{.Sfx}}.GreaterEqual({{ld . "clamp"}}))
{{- end}}
{{- if .D}}
		w{{.Sfx}}.Store(wst) // see "accum"
{{- end}}
{{- template "accum" .}}
{{- end}}
{{end}}

{{/* smbody: the groups' exponents, one raise check on their maximum, then
   their terms. */}}
{{define "smbody"}}
		nc := archsimd.Load{{.V}}(ncb)
{{- if .Pipe}}
		if j+{{.Limit2}} <= a.j1 { // the next iteration's costs
{{- range .Next}}{{template "smcost" .}}{{end}}
			{{.Carry "=" "next"}}
		}
{{- end}}
{{- range .Groups}}{{template "smz" .}}{{end}}
{{- template "smraise" .}}
{{- range .Groups}}{{template "smexp" .}}{{end}}
{{- if .Pipe}}
		{{.Carry "" "shift"}}
{{- end}}
{{end}}

{{/* smraise: the raise check of one row's groups (body), and the raise. */}}
{{define "smraise"}}
		if {{.Raise}}.ToBits() != 0 {
			// Raise m to the groups' maximum of z = h + nc·C.
{{- range .Groups}}{{template "smzabs" .}}{{end}}
			nm := {{.Zmax}}
{{- if .Perm}}
{{- range $i, $st := .PermSteps}}
			nm = nm.Max(nm.Permute(archsimd.Load{{$.UV}}(&kc.perm[{{$i}}])))
{{- end}}
{{- else}}
			nm = nm.Max(nm.Select128FromPair(1, 0, nm))
			nm = nm.Max(nm.SelectFromPairGrouped(1, 0, nm))
{{- end}}
			{{expsm . (print .MV ".Sub(nm)") "r"}}
			{{.SV}} = {{.SV}}.Mul(r)
{{- if .G}}
{{- if .D}}
{{- range .Dims}}
			G{{.}} = G{{.}}.Mul(r)
{{- end}}
{{- else}}
			for k := 0; k < d; k++ {
				pg := (*[{{.W}}]{{.E}})(scr[k*{{.W}}:])
				archsimd.Load{{.V}}(pg).Mul(r).Store(pg)
			}
{{- end}}
{{- end}}
			{{.MV}} = nm
{{- range .Groups}}{{template "smtnew" .}}{{end}}
		}
{{- end}}

{{range .SMs}}
func sm{{.N}}{{.Kind}}D{{.D}}P{{.P}}G{{.Gi}}(a *smArgs[{{.E}}]) {
{{- template "setup" .}}
	// One maximum m shared by all lanes, raised only when a term exceeds
	// 2^slack (terms up to 2^slack are summed as they are): few,
	// well-predicted branches per tile instead of one per record.
	m := archsimd.Broadcast{{.V}}(a.m)
	// −c lives in memory (an FMA operand): registers are scarce (see
	// simd/gen). (A slot of a.acc, not a local array: Go zeroes those with
	// legacy SSE.)
	ncb := (*[{{.W}}]{{.E}})(a.acc[6*{{.W}}:])
{{- if and .G .D}}
	wst := (*[{{.W}}]{{.E}})(a.acc[5*{{.W}}:])
{{- end}}
	archsimd.Broadcast{{.V}}(a.nc).Store(ncb)
	ph := unsafe.Pointer(unsafe.SliceData(a.h[:a.j1]))
	j := a.j0
	if j+{{.Step}} <= a.j1 {
{{- template "bumpinit" .}}
{{- with .Body .U}}{{if .Pipe}}
{{- range .Groups}}{{template "smcost" .}}{{end}}
		{{.Carry ":=" "cur"}}
{{- end}}{{end}}
		for {
{{- template "smbody" (.Body .U)}}
{{- template "bumpstep" .}}
		}
	}
{{- if gt .U 1}}
	if j < a.j1 {
{{- template "smbody" (.Body 1)}}
	}
{{- end}}
{{- template "finish" .}}
}
{{end}}

{{/* ksterm: one column group's kernel values, added to S (and to G). */}}
{{define "ksterm"}}
{{- template "dist" .}}
		wv{{.Sfx}} := archsimd.Load{{.V}}({{.At "pw"}})
{{- if eq .K 1}}
		{{exp . (print "s" .Sfx ".Mul(kv)") (print "k" .Sfx)}}
		wk{{.Sfx}} := wv{{.Sfx}}.Mul(k{{.Sfx}})
		S = S.Add(wk{{.Sfx}})
{{- if .G}}
		w{{.Sfx}} := wk{{.Sfx}}
{{- end}}
{{- else if eq .K 2}}
		q{{.Sfx}} := s{{.Sfx}}.Mul(kv)
		qc{{.Sfx}} := q{{.Sfx}}.Max({{ld . "clamp"}})
		{{root . (print "qc" .Sfx) (print "r" .Sfx) (print "ir" .Sfx) .G}}
		{{exp . (print "r" .Sfx ".Mul(" (ld . "nlog2e") ")") (print "k" .Sfx)}}
		wk{{.Sfx}} := wv{{.Sfx}}.Mul(k{{.Sfx}})
		S = S.Add(wk{{.Sfx}})
{{- if .G}}
		w{{.Sfx}} := wk{{.Sfx}}.Mul(ir{{.Sfx}}).Masked(q{{.Sfx}}.GreaterEqual({{ld . "clamp"}}))
{{- end}}
{{- else}}
		sc{{.Sfx}} := s{{.Sfx}}.Max({{ld . "clamp"}})
		{{root . (print "sc" .Sfx) (print "r" .Sfx) (print "ir" .Sfx) .G}}
		S = r{{.Sfx}}.MulAdd(wv{{.Sfx}}, S)
{{- if .G}}
		w{{.Sfx}} := wv{{.Sfx}}.Mul(ir{{.Sfx}}).Masked(s{{.Sfx}}.GreaterEqual({{ld . "clamp"}}))
{{- end}}
{{- end}}
{{- if .G}}
{{- if .D}}
		w{{.Sfx}}.Store(wst) // see "accum"
{{- end}}
{{- template "accum" .}}
{{- end}}
{{end}}

{{/* sm2: the two-row soft-min kernels (online, fixed D, p = 2, no gradient;
   AVX2; p = 1, whose roots need more registers, measured slower).
   Rows a and b sweep a's columns together: each load of y and h serves
   both, and the loop overhead is shared, while each row's arithmetic —
   its costs, raise checks, terms and the order of its sums — is that of
   the one-row kernel without pipelining, so the results are the same bit
   for bit (TestTwoRowKernels). */}}
{{range .SM2s}}
// sm{{.N}}D{{.D}}P{{.P}}G0R2 is sm{{.N}}D{{.D}}P{{.P}}G0 for rows a and b
// (b.x, b.m; b's columns, h and scratch are a's).
func sm{{.N}}D{{.D}}P{{.P}}G0R2(a, b *smArgs[{{.E}}]) {
	kc := kc{{.N}}
	kcb := kc{{.N}}b
	kcc := kc{{.N}}c
	kcd := kc{{.N}}d
{{- range .Dims}}
	x{{.}} := archsimd.Broadcast{{$.V}}(a.x[{{.}}])
	xb{{.}} := archsimd.Broadcast{{$.V}}(b.x[{{.}}])
	py{{.}} := unsafe.Pointer(unsafe.SliceData(a.y[{{.}}][:a.j1]))
{{- end}}
	S := {{ld .Variant "zero"}}
	Sb := S
	m := archsimd.Broadcast{{.V}}(a.m)
	mb := archsimd.Broadcast{{.V}}(b.m)
	ncb := (*[{{.W}}]{{.E}})(a.acc[6*{{.W}}:])
	archsimd.Broadcast{{.V}}(a.nc).Store(ncb)
	ph := unsafe.Pointer(unsafe.SliceData(a.h[:a.j1]))
	j := a.j0
	if j+{{.Step}} <= a.j1 {
{{- template "bumpinit" .}}
		for {
{{- template "sm2body" (.Body2 .U)}}
{{- template "bumpstep" .}}
		}
	}
	if j < a.j1 {
{{- template "sm2body" (.Body2 1)}}
	}
	acc := a.acc[:{{.W}}*4]
	S.Store((*[{{.W}}]{{.E}})(acc))
	m.Store((*[{{.W}}]{{.E}})(acc[{{.W}}:]))
	Sb.Store((*[{{.W}}]{{.E}})(acc[2*{{.W}}:]))
	mb.Store((*[{{.W}}]{{.E}})(acc[3*{{.W}}:]))
	archsimd.ClearAVXUpperBits()
	a.m, b.m, a.s, b.s = acc[{{.W}}], acc[3*{{.W}}], 0, 0
	if a.m != {{.MaxNeg}} { // else no term above −∞ (see expSMCode)
		a.s = hsum{{.N}}((*[{{.W}}]{{.E}})(acc))
	}
	if b.m != {{.MaxNeg}} {
		b.s = hsum{{.N}}((*[{{.W}}]{{.E}})(acc[2*{{.W}}:]))
	}
}
{{end}}

{{define "sm2body"}}
		nc := archsimd.Load{{.V}}(ncb)
{{- range .A.Groups}}{{template "smz" .}}{{end}}
{{- range .B.Groups}}{{template "smz" .}}{{end}}
{{- template "smraise" .A}}
{{- template "smraise" .B}}
{{- range .Pairs}}{{template "smexp" (index . 0)}}{{template "smexp" (index . 1)}}{{end}}
{{end}}

{{range .KSs}}
func ks{{.N}}{{.Kind}}K{{.K}}D{{.D}}G{{.Gi}}(a *ksArgs[{{.E}}]) {
{{- template "setup" .}}
	kv := archsimd.Broadcast{{.V}}(a.c)
	_ = kv
{{- if and .G .D}}
	wst := (*[{{.W}}]{{.E}})(a.acc[5*{{.W}}:])
{{- end}}
	pw := unsafe.Pointer(unsafe.SliceData(a.w[:a.j1]))
	j := a.j0
	if j+{{.Step}} <= a.j1 {
{{- template "bumpinit" .}}
		for {
{{- range (.Body .U).Groups}}{{template "ksterm" .}}{{end}}
{{- template "bumpstep" .}}
		}
	}
{{- if gt .U 1}}
	if j < a.j1 {
{{- range (.Body 1).Groups}}{{template "ksterm" .}}{{end}}
	}
{{- end}}
{{- template "finish" .}}
}
{{end}}

{{range .Dims}}
func sq{{$.N}}D{{.D}}(a *sqArgs[{{$.E}}]) {
{{- if .D}}
{{- range .Dims}}
	x{{.}} := archsimd.Broadcast{{$.V}}(a.x[{{.}}])
	py{{.}} := unsafe.Pointer(unsafe.SliceData(a.y[{{.}}][:len(a.out)]))
{{- end}}
{{- else}}
	kc := kc{{$.N}}
	d := len(a.x)
	yp := a.yp[:d]
	pxb := unsafe.Pointer(unsafe.SliceData(a.xb[:d*{{$.W}}]))
	for k := 0; k < d; k++ {
		archsimd.Broadcast{{$.V}}(a.x[k]).Store((*[{{$.W}}]{{$.E}})(unsafe.Add(pxb, k*{{$.W}}*{{$.Size}})))
	}
{{- end}}
	po := unsafe.Pointer(unsafe.SliceData(a.out))
	for j := 0; j+{{$.W}} <= len(a.out); j += {{$.W}} {
{{- template "dist" (.Grp "" 0)}}
		s.Store((*[{{$.W}}]{{$.E}})(unsafe.Add(po, j*{{$.Size}})))
	}
	archsimd.ClearAVXUpperBits()
}
{{end}}

{{/* sb: the fused Sinkhorn kernels (core.DualPair, core.SelfPair).
   Row a against the columns [j0, j1): per vector of columns, E = (h + hx)
   + nc·C in base 2 (h = hy·log₂e, hx the row's hx·log₂e, in memory:
   registers are scarce), clamped to [Lo − 1, Hi], the term 2^E added to
   the row's vector sum and to the columns' partial sums col[j] (one
   load-add-store per vector). No maximum, no raise: the caller checks the
   sums' range (core.DualSumValid). Two column groups per iteration,
   software-pipelined like the soft-min (the next iteration's costs first). */}}
{{range .SBs}}{{template "sbkern" .}}{{end}}

{{define "sbkern"}}
// sb{{.N}}D{{.D}}P{{.P}} is the fused kernel for D = {{.D}}, p = {{.P}}.
func sb{{.N}}D{{.D}}P{{.P}}(a *sbArgs[{{.E}}]) {
{{- template "setup" .}}
	hxb := (*[{{.W}}]{{.E}})(a.acc[5*{{.W}}:])
	archsimd.Broadcast{{.V}}(a.hx).Store(hxb)
	ncb := (*[{{.W}}]{{.E}})(a.acc[6*{{.W}}:])
	archsimd.Broadcast{{.V}}(a.nc).Store(ncb)
	ph := unsafe.Pointer(unsafe.SliceData(a.h[:a.j1]))
	pc := unsafe.Pointer(unsafe.SliceData(a.col[:a.j1-a.j0]))
	j := a.j0
	if j+{{.Step}} <= a.j1 {
{{- template "bumpinit" .}}
{{- with .Body .U}}{{if .Pipe}}
{{- range .Groups}}{{template "smcost" .}}{{end}}
		{{.Carry ":=" "cur"}}
{{- end}}{{end}}
		for {
{{- template "sbbody" (.Body .U)}}
{{- template "bumpstep" .}}
		}
	}
	if j < a.j1 {
{{- template "sbbody" (.Body 1)}}
	}
	acc := a.acc[:{{.W}}]
	S.Store((*[{{.W}}]{{.E}})(acc))
	archsimd.ClearAVXUpperBits()
	a.s = hsum{{.N}}((*[{{.W}}]{{.E}})(acc))
}
{{end}}

{{define "sbbody"}}
		nc := archsimd.Load{{.V}}(ncb)
{{- if .Pipe}}
		if j+{{.Limit2}} <= a.j1 { // the next iteration's costs
{{- range .Next}}{{template "smcost" .}}{{end}}
			{{.Carry "=" "next"}}
		}
{{- end}}
{{- range .Groups}}{{template "sbterm" .}}{{end}}
{{- if .Pipe}}
		{{.Carry "" "shift"}}
{{- end}}
{{end}}

{{define "sbterm"}}
{{- if not .Piped}}{{template "smcost" .}}{{end}}
		z{{.Sfx}} := {{.Cost}}.MulAdd(nc, archsimd.Load{{.V}}({{.At "ph"}}).Add(archsimd.Load{{.V}}(hxb)))
		{{expsm . (sbhi . (print "z" .Sfx)) (print "e" .Sfx)}}
		S = S.Add(e{{.Sfx}})
		pc{{.Sfx}} := {{.At "pc"}}
		archsimd.Load{{.V}}(pc{{.Sfx}}).Add(e{{.Sfx}}).Store(pc{{.Sfx}})
{{- end}}

// kern{{.N}} is the {{.Path}} kernel set for {{.E}}.
var kern{{.N}} = &kernels[{{.E}}]{
	width: {{.W}},
	sm: [4][2][2]func(*smArgs[{{.E}}]){
{{- range $d := .DList}}
		{ {{- range $p := $.PList}}{sm{{$.N}}D{{$d}}P{{$p}}G0, sm{{$.N}}D{{$d}}P{{$p}}G1},{{end -}} },
{{- end}}
	},
	ks: [3][4][2]func(*ksArgs[{{.E}}]){
{{- range $k := $.KList}}
		{ {{- range $d := $.DList}}{ks{{$.N}}K{{$k}}D{{$d}}G0, ks{{$.N}}K{{$k}}D{{$d}}G1},{{end -}} },
{{- end}}
	},
	dsm: [4][2][2]func(*smArgs[{{.E}}]){
{{- range $d := .DList}}
		{ {{- range $p := $.PList}}{sm{{$.N}}DenseD{{$d}}P{{$p}}G0, sm{{$.N}}DenseD{{$d}}P{{$p}}G1},{{end -}} },
{{- end}}
	},
	dks: [3][4][2]func(*ksArgs[{{.E}}]){
{{- range $k := $.KList}}
		{ {{- range $d := $.DList}}{ks{{$.N}}DenseK{{$k}}D{{$d}}G0, ks{{$.N}}DenseK{{$k}}D{{$d}}G1},{{end -}} },
{{- end}}
	},
	sq: [4]func(*sqArgs[{{.E}}]){ {{- range $d := .DList}}sq{{$.N}}D{{$d}}, {{end -}} },
{{- if .Two}}
	sm2: [4][2]func(a, b *smArgs[{{.E}}]){
		{},
{{- range $d := .DList}}{{if $d}}
		{nil, sm{{$.N}}D{{$d}}P2G0R2},
{{- end}}{{end}}
	},
{{- end}}
	sb: [4][2]func(*sbArgs[{{.E}}]){
		{},
{{- range $d := .DList}}{{if $d}}
		{ {{- range $p := $.PList}}sb{{$.N}}D{{$d}}P{{$p}}, {{end -}} },
{{- end}}{{end}}
	},
	exp2: func(x []{{.E}}) {
		for i := 0; i+{{.W}} <= len(x); i += {{.W}} {
			p := (*[{{.W}}]{{.E}})(x[i:])
			exp2{{.N}}(archsimd.Load{{.V}}(p)).Store(p)
		}
		archsimd.ClearAVXUpperBits()
	},
}
`

// sbHiCode clamps the fused kernels' exponent from above at Hi, so that
// 2^E stays a normal number however far the duals are from feasibility
// (the AVX2 exponent scaling is an integer add, which would wrap): AVX2
// float32 by a signed integer minimum of the bit patterns (for every
// non-NaN E, int(bits(min(E, Hi))) = min(int(bits(E)), int(bits(Hi))):
// the negative floats have negative patterns, the others are ordered like
// them; NaN's pattern exceeds Hi's, so NaN gives 2^Hi and its sum is
// rejected), the others by a vector minimum.
func sbHiCode(x any, in string) string {
	t := asTab(x)
	if t.Size == 4 && !t.Scale {
		return fmt.Sprintf("%s.As%s().Min(archsimd.Load%s(&%s.hibits)).As%s()", in, t.I, t.I, t.KC, t.V)
	}
	return fmt.Sprintf("%s.Min(%s)", in, ld(t, "hi"))
}

// smKernel marks soft-min kernels for the shared "finish" template.
type smKernel struct {
	kernel
	SM bool
}

func main() {
	if err := generate("."); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// outputs lists the files generate writes, in order.
func outputs() []string {
	var r []string
	for _, v := range variants() {
		r = append(r, "kern_"+strings.ToLower(v.N)+".go")
	}
	return r
}

// generate writes the kernel files (see outputs) into dir.
func generate(dir string) error {
	t := template.Must(template.New("k").Funcs(template.FuncMap{
		"exp":    expCode,
		"expsm":  expSMCode,
		"sbhi":   sbHiCode,
		"ld":     ld,
		"root":   rootCode,
		"origin": origin,
	}).Parse(tmpl))
	for _, v := range variants() {
		v := v
		var sm, sm2 []smKernel
		var ks []smKernel
		var sq []kernel
		var sb []kernel
		dims := func(d int) []int {
			r := []int{}
			for k := 0; k < d; k++ {
				r = append(r, k)
			}
			return r
		}
		for _, dense := range []bool{false, true} {
			for _, d := range []int{0, 1, 2, 3} {
				for _, g := range []bool{false, true} {
					for _, p := range []int{1, 2} {
						sm = append(sm, smKernel{kernel{Variant: &v, Dense: dense, D: d, P: p, G: g, Dims: dims(d), Soft: true}, true})
						if v.Two() && !dense && d > 0 && !g && p == 2 {
							sm2 = append(sm2, smKernel{kernel{Variant: &v, D: d, P: p, Dims: dims(d), Soft: true}, true})
						}
					}
					for _, k := range []int{1, 2, 3} {
						ks = append(ks, smKernel{kernel{Variant: &v, Dense: dense, D: d, K: k, G: g, Dims: dims(d)}, false})
					}
				}
			}
		}
		for _, d := range []int{0, 1, 2, 3} {
			sq = append(sq, kernel{Variant: &v, D: d, Dims: dims(d)})
		}
		for _, d := range []int{1, 2, 3} {
			for _, p := range []int{1, 2} {
				sb = append(sb, kernel{Variant: &v, D: d, P: p, Dims: dims(d), Soft: true, Fused: true})
			}
		}
		data := struct {
			Variant
			VP                  *Variant
			SMs, SM2s, KSs      []smKernel
			SBs                 []kernel
			Dims                []kernel
			DList, PList, KList []int
		}{v, &v, sm, sm2, ks, sb, sq, []int{0, 1, 2, 3}, []int{1, 2}, []int{1, 2, 3}}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return err
		}
		name := filepath.Join(dir, "kern_"+strings.ToLower(v.N)+".go")
		src, err := format.Source(buf.Bytes())
		if err != nil {
			os.WriteFile(name+".bad", buf.Bytes(), 0o644)
			return fmt.Errorf("%s: %v (unformatted source in %s.bad)", name, err, name)
		}
		if err := os.WriteFile(name, src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
