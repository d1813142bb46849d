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
//   - Constants are loaded from a 64-byte aligned table inside the loop (the
//     loads fold into the arithmetic as memory operands): Go allocates only
//     15 vector registers, which the accumulators and temporaries need.
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
	Bias   int
	Magic  string   // 1.5·2^(mantissa bits): adding it rounds to an integer
	Lo     string   // exp2 argument floor (the result is exactly 0 there)
	Coefs  []string // AVX2: 2^r ≈ Σ Coefs[k] r^k on |r| ≤ 1/2; AVX-512: 2^f on 0 ≤ f < 1
	Scale  bool     // AVX-512: VREDUCE (f = x − ⌊x⌋) and VSCALEF (p·2^⌊x⌋)
	Size   int      // bytes per element
	Slack  int      // soft-min: terms up to 2^Slack are summed before the maximum is raised
	LogW   int
	MaxNeg string
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
			Shift: 23, Bias: 127, Magic: "12582912", Lo: "-100", Coefs: c, Scale: scale, Size: 4, Slack: 20,
			MaxNeg: "-math.MaxFloat32", NR: 1}
	}
	f64 := func(n, path, v, i, uv string, w, logw int, scale bool) Variant {
		c := strs(taylor2(12))
		if scale {
			c = strs(shiftHalf(taylor2(12)))
		}
		nr := 0
		if scale {
			nr = 2
		}
		return Variant{N: n, Path: path, E: "float64", U: "uint64", IE: "int64", V: v, I: i, UV: uv, W: w, LogW: logw,
			Shift: 52, Bias: 1023, Magic: "6755399441055744", Lo: "-1000", Coefs: c, Scale: scale, Size: 8, Slack: 60,
			MaxNeg: "-math.MaxFloat64", NR: nr}
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

// ld returns the expression loading constant c of the table kc.
func ld(v *Variant, c string) string {
	return fmt.Sprintf("archsimd.Load%s(&kc.%s)", v.V, c)
}

// expCode emits out = 2^in (in ≤ slack), or exactly 0 where in < Lo.
//
// AVX-512: t = max(in, Lo − 1) (no NaN from −∞, no denormal from 2^t), f = t − ⌊t⌋ (VREDUCE), p(f) by Horner's rule,
// out = p·2^⌊t⌋ (VSCALEF, which floors its exponent operand itself).
// AVX2: n = round(t) by the magic-number addition, r = t − n, p(r), and 2^n
// built in the exponent field.
func expCode(v *Variant, in, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%st := (%s).Max(%s)\n", out, in, ld(v, "floor"))
	deg := len(v.Coefs) - 1
	arg := out + "f"
	if v.Scale {
		fmt.Fprintf(&b, "%sf := %st.FloorScaledResidue(0)\n", out, out)
	} else {
		fmt.Fprintf(&b, "%sm := %st.Add(%s)\n", out, out, ld(v, "magic"))
		fmt.Fprintf(&b, "%sf := %st.Sub(%sm.Sub(%s))\n", out, out, out, ld(v, "magic"))
	}
	fmt.Fprintf(&b, "%s := %s.MulAdd(%s, %s)\n", out, arg, ld(v, fmt.Sprintf("c[%d]", deg)), ld(v, fmt.Sprintf("c[%d]", deg-1)))
	for k := deg - 2; k >= 0; k-- {
		fmt.Fprintf(&b, "%s = %s.MulAdd(%s, %s)\n", out, out, arg, ld(v, fmt.Sprintf("c[%d]", k)))
	}
	if v.Scale {
		fmt.Fprintf(&b, "%s = %s.Scale(%st)", out, out, out)
	} else {
		fmt.Fprintf(&b, "%s = %s.Mul(%sm.As%s().Add(archsimd.Load%s(&kc.bias)).ShiftAllLeft(%d).As%s())",
			out, out, out, v.I, v.I, v.Shift, v.V)
	}
	fmt.Fprintf(&b, ".Masked(%st.GreaterEqual(%s))\n", out, ld(v, "lo"))
	return b.String()
}

// rootCode emits, for q ≥ 1e-8, root = √q by VSQRT (exactly rounded, so a
// value never depends on whether its gradient is asked for) and, if inv,
// rinv = 1/√q: by the reciprocal square root estimate and v.NR Newton steps
// y ← y·(3/2 − q·y²/2) (it replaces a VDIV), or by a VDIV when v.NR is 0.
func rootCode(v *Variant, q, root, rinv string, inv bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s := %s.Sqrt()\n", root, q)
	if !inv {
		return b.String()
	}
	if v.NR == 0 {
		fmt.Fprintf(&b, "%s := %s.Div(%s)\n", rinv, ld(v, "one"), root)
		return b.String()
	}
	fmt.Fprintf(&b, "%s := %s.ReciprocalSqrt()\n", rinv, q)
	for k := 0; k < v.NR; k++ {
		fmt.Fprintf(&b, "%s = %s.Mul(%s.Mul(%s).Mul(%s).MulAdd(%s, %s))\n", rinv, rinv, q, rinv, rinv, ld(v, "nhalf"), ld(v, "threehalf"))
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
	magic                          [{{.W}}]{{.E}}
	bias                           [{{.W}}]{{.IE}}
	c                              [{{len .Coefs}}][{{.W}}]{{.E}}
	perm                           [{{.LogW}}][{{.W}}]{{.U}}
}

// kc{{.N}} is 64-byte aligned so that no constant load splits a cache line.
var kc{{.N}} = func() *consts{{.N}} {
	var z consts{{.N}}
	buf := make([]byte, unsafe.Sizeof(z)+64)
	off := (64 - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64) % 64
	k := (*consts{{.N}})(unsafe.Pointer(&buf[off]))
	coefs := []{{.E}}{ {{- range .Coefs}}{{.}}, {{end -}} }
	for i := 0; i < {{.W}}; i++ {
		k.lo[i], k.floor[i], k.slack[i], k.clamp[i], k.nlog2e[i] = {{.Lo}}, {{.Lo}}-1, {{.Slack}}, 1e-8, -math.Log2E
		k.magic[i], k.bias[i] = {{.Magic}}, {{.Bias}}
		k.one[i], k.nhalf[i], k.threehalf[i] = 1, -0.5, 1.5
		for j, c := range coefs {
			k.c[j][i] = c
		}
		for s, st := 0, {{.W}}/2; st >= 1; s, st = s+1, st/2 {
			k.perm[s][i] = {{.U}}(i ^ st)
		}
	}
	return k
}()

{{define "setup"}}
	kc := kc{{.N}}
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
		s := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(ps, j*{{.Size}})))
{{- if and .G .D}}
{{- range .Dims}}
		d{{.}} := x{{.}}.Sub(archsimd.Load{{$.V}}((*[{{$.W}}]{{$.E}})(unsafe.Add(py{{.}}, j*{{$.Size}}))))
{{- end}}
{{- end}}
{{- else if .D}}
{{- range .Dims}}
		d{{.}} := x{{.}}.Sub(archsimd.Load{{$.V}}((*[{{$.W}}]{{$.E}})(unsafe.Add(py{{.}}, j*{{$.Size}}))))
{{- end}}
		s := d0.Mul(d0)
{{- range .Dims}}{{if .}}
		s = d{{.}}.MulAdd(d{{.}}, s)
{{- end}}{{end}}
{{- else}}
		s := {{ld .Variant "zero"}}
		for k, py := range yp {
			t := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(pxb, k*{{.W}}*{{.Size}}))).Sub(archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(py, j*{{.Size}}))))
			s = t.MulAdd(t, s)
		}
{{- end}}
{{end}}

{{define "accum"}}
{{- if .D}}
{{- range .Dims}}
		G{{.}} = w.MulAdd(d{{.}}, G{{.}})
{{- end}}
{{- else}}
		for k, py := range yp {
			t := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(pxb, k*{{.W}}*{{.Size}}))).Sub(archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(py, j*{{.Size}}))))
			pg := (*[{{.W}}]{{.E}})(unsafe.Add(pscr, k*{{.W}}*{{.Size}}))
			w.MulAdd(t, archsimd.Load{{.V}}(pg)).Store(pg)
		}
{{- end}}
{{end}}

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

{{range .SMs}}
func sm{{.N}}{{.Kind}}D{{.D}}P{{.P}}G{{.Gi}}(a *smArgs[{{.E}}]) {
{{- template "setup" .}}
	// One maximum shared by all lanes, raised only when a value exceeds it
	// by more than the slack (terms up to 2^slack are summed as they are):
	// few, well-predicted branches per tile instead of one per record.
	m := archsimd.Broadcast{{.V}}(a.m)
	// The raise threshold and −c live in memory (compare and FMA operands):
	// registers are scarce (see simd/gen).
	// (Slots of a.acc, not local arrays: Go zeroes those with legacy SSE.)
	mT := (*[{{.W}}]{{.E}})(a.acc[5*{{.W}}:])
	ncb := (*[{{.W}}]{{.E}})(a.acc[6*{{.W}}:])
	m.Add({{ld .Variant "slack"}}).Store(mT)
	archsimd.Broadcast{{.V}}(a.nc).Store(ncb)
	ph := unsafe.Pointer(unsafe.SliceData(a.h[:a.j1]))
	for j := a.j0; j < a.j1; j += {{.W}} {
{{- template "dist" .}}
{{- if eq .P 2}}
		z := s.MulAdd(archsimd.Load{{.V}}(ncb), archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(ph, j*{{.Size}}))))
{{- else}}
		q := s.Max({{ld .Variant "clamp"}})
		{{root .Variant "q" "cs" "ics" .G}}
		z := cs.MulAdd(archsimd.Load{{.V}}(ncb), archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(ph, j*{{.Size}}))))
{{- end}}
		if z.Greater(archsimd.Load{{.V}}(mT)).ToBits() != 0 {
			nm := z
{{- if .Perm}}
{{- range $i, $st := .PermSteps}}
			nm = nm.Max(nm.Permute(archsimd.Load{{$.UV}}(&kc.perm[{{$i}}])))
{{- end}}
{{- else}}
			nm = nm.Max(nm.Select128FromPair(1, 0, nm))
			nm = nm.Max(nm.SelectFromPairGrouped(1, 0, nm))
{{- end}}
			{{exp .Variant "m.Sub(nm)" "r"}}
			S = S.Mul(r)
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
			m = nm
			nm.Add({{ld .Variant "slack"}}).Store(mT)
		}
		{{exp .Variant "z.Sub(m)" "e"}}
		S = S.Add(e)
{{- if .G}}
{{- if eq .P 2}}
		w := e
{{- else}}
		w := e.Mul(ics).Masked(s.GreaterEqual({{ld .Variant "clamp"}}))
{{- end}}
{{- template "accum" .}}
{{- end}}
	}
{{- template "finish" .}}
}
{{end}}

{{range .KSs}}
func ks{{.N}}{{.Kind}}K{{.K}}D{{.D}}G{{.Gi}}(a *ksArgs[{{.E}}]) {
{{- template "setup" .}}
	kv := archsimd.Broadcast{{.V}}(a.c)
	_ = kv
	pw := unsafe.Pointer(unsafe.SliceData(a.w[:a.j1]))
	for j := a.j0; j < a.j1; j += {{.W}} {
{{- template "dist" .}}
		wv := archsimd.Load{{.V}}((*[{{.W}}]{{.E}})(unsafe.Add(pw, j*{{.Size}})))
{{- if eq .K 1}}
		{{exp .Variant "s.Mul(kv)" "k"}}
		wk := wv.Mul(k)
		S = S.Add(wk)
{{- if .G}}
		w := wk
{{- end}}
{{- else if eq .K 2}}
		q := s.Mul(kv)
		qc := q.Max({{ld .Variant "clamp"}})
		{{root .Variant "qc" "r" "ir" .G}}
		{{exp .Variant (print "r.Mul(" (ld .Variant "nlog2e") ")") "k"}}
		wk := wv.Mul(k)
		S = S.Add(wk)
{{- if .G}}
		w := wk.Mul(ir).Masked(q.GreaterEqual({{ld .Variant "clamp"}}))
{{- end}}
{{- else}}
		sc := s.Max({{ld .Variant "clamp"}})
		{{root .Variant "sc" "r" "ir" .G}}
		S = r.MulAdd(wv, S)
{{- if .G}}
		w := wv.Mul(ir).Masked(s.GreaterEqual({{ld .Variant "clamp"}}))
{{- end}}
{{- end}}
{{- if .G}}
{{- template "accum" .}}
{{- end}}
	}
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
{{- template "dist" .}}
		s.Store((*[{{$.W}}]{{$.E}})(unsafe.Add(po, j*{{$.Size}})))
	}
	archsimd.ClearAVXUpperBits()
}
{{end}}

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
	exp2: func(x []{{.E}}) {
		for i := 0; i+{{.W}} <= len(x); i += {{.W}} {
			p := (*[{{.W}}]{{.E}})(x[i:])
			exp2{{.N}}(archsimd.Load{{.V}}(p)).Store(p)
		}
		archsimd.ClearAVXUpperBits()
	},
}
`

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
		"exp":  expCode,
		"ld":   ld,
		"root": rootCode,
	}).Parse(tmpl))
	for _, v := range variants() {
		v := v
		var sm []smKernel
		var ks []smKernel
		var sq []kernel
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
						sm = append(sm, smKernel{kernel{Variant: &v, Dense: dense, D: d, P: p, G: g, Dims: dims(d)}, true})
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
		data := struct {
			Variant
			VP                  *Variant
			SMs, KSs            []smKernel
			Dims                []kernel
			DList, PList, KList []int
		}{v, &v, sm, ks, sq, []int{0, 1, 2, 3}, []int{1, 2}, []int{1, 2, 3}}
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
