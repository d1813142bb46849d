// Package simd provides the fast CPU reduction engines (AVX-512, AVX2+FMA,
// portable Go) behind core's reduction interface, chosen at run time.
//
// # Code paths and dispatch
//
// For[T] returns the best path this CPU supports, detected with
// github.com/klauspost/cpuid/v2 (and confirmed with archsimd's own feature
// check): "avx512" (AVX-512 F+CD+BW+DQ+VL, 512-bit vectors), then "avx2"
// (AVX2 and FMA, 256-bit vectors), then "portable" (core.Portable, scalar Go).
// The environment variable GEOMLOSS_SIMD=avx512|avx2|portable forces a path;
// a value that is unknown or that this CPU (or this build) does not support
// is ignored: For falls back to the automatic choice and prints one warning
// on standard error. Paths lists what the machine supports, ForPath selects
// one by name (with an error if unsupported) — the tests run every path.
//
// # Implementation route: Go 1.26 simd/archsimd
//
// The vector kernels use simd/archsimd (GOEXPERIMENT=simd, set by
// build/env.sh), not Go assembly: the kernels stay ordinary Go (bounds
// checked slices, the race detector and vet work, register allocation and
// instruction scheduling are the compiler's), one generator template
// (simd/gen) emits all four variants (float32×16, float32×8, float64×8,
// float64×4) and every specialisation (D = 1, 2, 3 and generic; p = 1, 2;
// three kernels; with and without gradient), which would be several thousand
// lines of hand-written assembly to keep in sync. The files that need the
// experiment carry "//go:build goexperiment.simd && amd64"; without it
// the package builds with the portable path only.
//
// # Algorithm
//
// Y is stored transposed (one array per coordinate, padded to the vector
// width; padded log-weights are −∞, padded kernel weights 0). For each row i
// and each tile of 2048 columns, one sweep computes per vector of columns the
// squared distances s (from differences, not the expanded ‖x‖²+‖y‖²−2⟨x,y⟩),
// z = h − C/ε, and keeps a running maximum m shared by the lanes with the
// sums S = Σ e^{z−m} and V = Σ e^{z−m}∇₁C (rescaled by e^{m_old−m_new} on the
// rare vectors that exceed m by more than a slack; the exponent is formed as
// t = (h − m) − C/ε, so that h − m does not wait for the distance) — the soft-min, its
// soft-max weighted gradient and likewise the kernel sums with their
// gradients all come out of the same pass. The lanes of a tile are merged
// into a float64 running (max, sum, gradient) per row; a tile's lanes start
// from the row's running maximum, so a rescale only happens when a tile
// raises it. Costs and kernels use the clamps of core.Cost and core.Kernel.
// Online soft-min rows without gradient go by two through a two-row kernel
// on AVX2 (p = 2): each load of y and h serves both rows, each row's
// arithmetic is the one-row kernel's, so the results are the same bit for
// bit however rows are paired.
//
// # Fused Sinkhorn updates
//
// The online Pairs (D ≤ 3, p = 1, 2) implement core.DualPair and
// core.SelfPair (see fused.go and core/dualpair.go for the maths): one
// sweep computes E = hx_i + hy_j − C_ij/ε in base 2 per vector of columns,
// clamped to [Lo − 1, Hi] (2^−101 … 2^64 in float32, 2^−1001 … 2^512 in
// float64: Hi by a signed integer minimum of the bit patterns on AVX2
// float32), adds 2^E to the row's vector sum and, by one load-add-store, to
// the row chunk's column partial sums — no running maximum, so no raise
// check. Rows are cut into at most 64 fixed chunks of ≥ 32 rows (partials:
// chunks·M elements, ≤ 32 MiB, else the Pair declines), so results do not
// depend on the thread count. The self pass sweeps only the columns j ≥ the
// chunk's first row (its diagonal block into the row sums only). The
// kernel (sb…, simd/gen) is the soft-min's one-row loop: two column groups
// per iteration, software-pipelined costs. A two-row form (each load of y,
// h and of the column sums shared by two rows) measured 0.27 pairs/cycle,
// latency-bound (≈ 108 instructions per iteration in one chain), and was
// dropped. Measured (Zen 3, one thread, D = 3, p = 2, float32, best
// pairs/cycle, load average 2–3.5): bare kernel over 2048 cached columns
// 0.54 (the soft-min tile kernel 0.47 in the same run); one update of both
// directions, pairs counted once, 2048 × 4096: fused 0.48 against 0.23 for
// the two SoftMins (2.1×), 500 × 500: 0.32 against 0.20 (1.6×); the self
// update 2048²: 0.65 against 0.43, 500²: 0.48 against 0.37
// (BenchmarkSoftMinBoth, BenchmarkTileFused).
//
// # Tensorized backend (DensePair)
//
// The engines implement core.DenseEngine. DensePair stores the N×M matrix
// of squared distances (rows padded to the vector width), computed by the
// same vector arithmetic as the online sweep; its reductions run the same
// kernels with s loaded from the matrix instead of recomputed (the gradients
// still read the coordinates), over the same tiles, so dense and online
// results are identical bit for bit (TestDenseMatchesOnline). Each row of the
// matrix is streamed in one sequential run. Being memory-bound, it is about
// as fast as the online sweep while the matrix fits in cache (N = M = 1000)
// and 2–3× slower beyond (N = M = 5000: a 100 MB matrix per pair).
//
// # Accuracy
//
// The vector exp works in base 2 (log₂e is folded into the weights and the
// cost factor). AVX-512: x = ⌊x⌋ + f with f = x − ⌊x⌋ ∈ [0, 1) from one
// VREDUCE, 2^f by a polynomial (degree 6 in float32: a near-minimax fit on
// [−½, ½] re-expanded around 0 with √2 folded in; degree 12 in float64: the
// Taylor series at ½ likewise re-expanded; all coefficients positive), and
// 2^⌊x⌋·p by VSCALEF, which floors its exponent itself. AVX2: n = round(x)
// (VROUNDPS), r = x − n exactly, the polynomial in r on [−½, ½] (degree 6
// near-minimax in float32, degree 10 near-minimax in float64), and 2ⁿ added
// to the result's exponent field as an integer. The polynomials are
// evaluated as c₀ + r·q(r) with q by a tree of multiply-adds (simd/gen,
// polyCode): the closing step rounds like Horner's rule. Measured against
// math.Exp2 (see TestExp2Accuracy): ≤ 1 ulp in float32 and ≤ 4.7e-16
// relative in float64 on AVX2 (AVX-512: ≤ 1 ulp and ≤ 4e-16 on the machine
// where it was last measured, before the tree evaluation).
// Arguments below −100 (float32) / −1000 (float64), −∞ included, give
// exactly 0 (in the AVX2 soft-min kernels 2^−101 / 2^−1001 instead, one
// compare and one AND fewer per vector: next to the row's largest term 2⁰
// they vanish in the first rounding, and a tile with no finite term still
// reports a zero sum; see simd/gen, expSMCode): a flush far above the
// denormal range (whose microcode assists
// cost ~100 cycles each), irrelevant after the max shift since the largest
// term of every row is 2⁰ = 1. Within a tile, sums are accumulated per lane
// in the element type (≤ 128 terms per lane in float32), across tiles in
// float64.
//
// The squared distance is formed from differences, never as the expanded
// ‖x‖² + ‖y‖² − 2⟨x, y⟩ that would fuse into the exponent's multiply-adds
// (a lighter instruction mix): rounding the expanded form errs by about
// u·(‖x − c‖ + ‖y − c‖)²/ε in the exponent (c the best centre one could
// subtract first), where the difference form errs by u·C/ε — and the
// conformance bounds (core/enginetest) allow u·(1 + |h| + C/ε) per term. For
// tight neighbourhoods in a wide cloud (‖x − y‖ ≪ diameter) at small ε the
// expanded form exceeds that by the ratio diameter²/C, e.g. 10⁴ points in
// the unit cube at ε = 10⁻⁴: ~3·10⁴ u against the allowed ~5·10³ u.
//
// # Performance
//
// Three rules, each worth a factor on the machines we measured (see
// simd/gen): (1) no legacy-SSE instruction while the vector registers'
// upper halves are dirty — Go compiles scalar float code (and vector zero,
// via XORPS) to legacy SSE, and each such instruction after AVX-512 code
// cost ~450 cycles here, several times per tile call; so kernels do no
// scalar float arithmetic, take their scalars prepared, load zero from
// memory, take the horizontal maximum with vector permutes, and end with
// VZEROUPPER before their scalar horizontal sums (TestNoLegacySSE checks the
// compiled kernels); (2) constants are loaded from a 64-byte aligned table
// inside the loop rather than held in registers, since Go allocates only
// 16 vector registers (and never folds a load into an arithmetic
// instruction); (3) the AVX-512 exp costs one VREDUCE, six FMAs and one
// masked VSCALEF. Work is split in blocks of 32 rows taken from a shared
// counter by one goroutine per thread.
//
// On AVX2 (Zen 3) the loops are bound by latency, not by the two
// multiply/FMA pipes: each vector's chain — loads, distance, exponent,
// polynomial, sum, ~50 cycles — times ~45 instructions per vector fills the
// floating-point scheduler and queue (~100 µops) long before the pipes are
// busy: fewer than two loop iterations are in flight. So the kernels run
// two column groups per iteration (shared loop overhead and raise check),
// keep h − m off the chain, evaluate the polynomial as a tree (4 deep
// instead of 6 in float32, 5 instead of 10 in float64), reduce by VROUNDPS,
// clamp by an unsigned integer minimum and scale by an integer add (both
// off the multiply pipes); and (issue 12, second round) the soft-min loops
// are software-pipelined — each iteration computes the next one's costs
// before its own exponentials, so the out-of-order window holds less
// waiting work —, the raise check compares bit patterns as integers (any
// pipe) instead of VMAXPS/VCMPPS, the AVX2 soft-min exp drops its final
// mask (see Accuracy), the arrays are read through pointers advanced once
// per iteration (constant displacements instead of one or two LEAs per
// load), and the float64 polynomial has degree 10. Hot loop of the soft-min
// tile kernel (D = 3, p = 2, online, no raise), per 8 pairs, from the
// disassembly of the test binary (bench/simdloops.py prints these columns;
// the pipelined loop's counts include the next iteration's costs and one
// spilled x broadcast reloaded per iteration); "bound" is the Zen 3
// throughput limit of that instruction mix (the largest of: multiply-pipe
// µops / 2, add-pipe µops / 2, 256-bit loads / 2, instructions / 6
// dispatched per cycle), in pairs per cycle; "llvm-mca cycles" per 8 pairs
// by llvm-mca 14 -mcpu=znver3, whose simulation (FMA pipes plus its
// scheduler model) tracks the measurements; "tile" is BenchmarkTile's best
// sweep (max over eight rounds alternating the two test binaries),
// "engine" BenchmarkSoftMin's threads=1 median pairs/cycle (4096 × 8192
// pairs, three rounds); first round → this round, measured in the same run
// (AMD EPYC Zen 3 under KVM, 2 vCPUs at ~3.0 GHz shared with other work:
// load average 6–8, so the engine figures are depressed and noisy; the best
// sweep is the least disturbed):
//
//	kernel         instr    mul/FMA µops  bound      llvm-mca cycles  tile       engine
//	f32            50→48    13→11         0.97→1.00  12.9→12.0        0.56→0.62  0.39→0.45
//	f32, gradient  63→60    16→14         0.77→0.81  16.6→13.6        0.43→0.48  0.33→0.36
//	f64            122→115  40→34         0.39→0.42  38.5→33.8        0.22→0.25  0.17→0.17
//	f64, gradient  153→143  46→40         0.31→0.34  43.5→39.1        0.18→0.21  —
//
// (The first round, from the design before issue 12: f32 53→50
// instructions, tile 0.44→0.57; f64 130→122, tile 0.15→0.23.) float64
// stays near 0.4× float32 (not half): its polynomial has nearly twice the
// degree for half the lanes, so its loop carries ~2.4× the vector µops per
// pair, and its 256-bit loads and multiply-pipe µops (38 and 34 per 8
// pairs) come close to their limits too.
//
// Third round (issue 12; same machine, load average 4–9). Engine against
// tile: a CPU profile of BenchmarkSoftMin (f32, 4096 × 8192) puts 96% of the
// time in the tile kernel and ~2% in the per-tile closure and merge; the
// apparent gap (tile 0.62, engine 0.42) compared a best sweep with a mean
// under load — the tile benchmark's own mean is 0.43–0.53 — and the engine's
// fastest laps (256 × 8192, ~1.5 ms, timed by thread CPU time) reach
// 0.60–0.63, the tile's figure. BenchmarkSoftMin and BenchmarkSoftMinSmall
// now report best-pairs/cycle too. Pipes: a chain-free loop of ten
// independent FMA accumulators runs 2.03 FMAs per cycle here, so llvm-mca
// 14's znver3 model (one 256-bit FMA per cycle) is pessimistic, and the
// loops (f32: 11 multiply-pipe µops per 8 pairs, 5.5 cycles; 15 loads, 5
// at three per cycle) sit at twice their pipe bounds: the out-of-order
// window, filled by each vector's ~53-cycle chain, is the limit. Two rows in
// flight therefore gain little (per 8 pairs, sm…D3P2G0 one row → two rows):
//
//	kernel  instr     loads   mul/FMA µops  llvm-mca cycles
//	f32     48→45.3   15→15   11→11         11.95→11.5
//	f64     115→106.5 38→37   34→34         33.8→32.1
//
// (the loads of y and h saved are spent on spilled x broadcasts: 16 vector
// registers). Measured, the bare kernels over 512 columns from a row's first
// tile: best 0.45–0.57 → 0.50–0.61; over 2048 columns from the final
// maximum +1–6%; the engine at n = 500 (BenchmarkSoftMinSmall, f32): best
// 0.51–0.52 → 0.52–0.53, mean +3–10%; BenchmarkSoftMin (4096 × 8192) mean
// f32 0.35–0.41 → 0.37–0.45, f64 +3%; p = 1 measured slower (its roots'
// temporaries spill), so only p = 2 has two-row kernels. One-tile rows also
// take their logarithms after the block's sweeps (independent DIVSD
// chains, overlapped): n = 500 best 0.49 → 0.52, with gradient 0.37 → 0.39.
// What remains per small row is mostly the first tile's raise from
// −MaxFloat (a 500-column sweep from its final maximum runs ~8% faster),
// the call and the horizontal sums. float64 is unchanged at 0.40–0.45× of
// float32.
//
// Both paths on an AVX-512 machine (Intel Xeon, Sapphire Rapids class,
// under KVM, 2 vCPUs, clock estimated at 4.19 GHz in the same run, load
// average 1.5–1.9; one thread, D = 3, p = 2, per 8 pairs from
// bench/simdloops.py, llvm-mca 14 with -mcpu=skylake-avx512 for the
// 512-bit kernels and znver3 for the 256-bit ones; "bound" is the mix's
// throughput limit in pairs per cycle — for 512-bit code every vector µop
// issues on ports 0 and 5; "measured" is BenchmarkSoftMin's best
// pairs/cycle at threads=1, BenchmarkTileFused's for the fused kernels):
//
//	kernel                 instr  mul/FMA  add  loads  bound  llvm-mca cycles  measured
//	avx512 f32             17.5   7.0      2.5  2.2    1.68   6.79 (1.18/c)    1.17
//	avx512 f32, gradient   22.5   8.5      4.0  2.8    1.28   9.28 (0.86/c)    0.82
//	avx512 f64             47.5   21.0     5.0  9.0    0.62   18.8 (0.42/c)    0.42
//	avx512 fused f32 (sb)  17.2   7.0      3.0  2.2    1.60   8.24 (0.97/c)    1.09
//	avx512 fused f64 (sb)  46.5   21.0     6.0  8.5    0.59   23.1 (0.35/c)    0.40
//	avx2 f32               48.0   11.0     8.5  15.0   1.00   12.0 (0.67/c)    0.63
//	avx2 f32, gradient     59.5   14.0     11.5 18.5   0.81   13.6 (0.59/c)    0.51
//	avx2 f64               115    34.0     17.0 38.0   0.42   33.8 (0.24/c)    0.25
//	avx2 fused f32 (sb)    48.5   11.0     9.0  16.5   0.97   12.7 (0.63/c)    0.66
//	avx2 fused f64 (sb)    117    36.0     18.0 42.0   0.38   35.1 (0.23/c)    0.25
//
// Here llvm-mca's simulation tracks the measurements within ~10 % on both
// paths. float64 is 0.36× float32 on AVX-512 and 0.39× on AVX2: per pair
// it carries 2.4–3× the vector µops (a degree-10/12 polynomial for half the
// lanes), so half of float32 would need a float32 kernel slowed down or a
// float64 exponential of under ~18 vector operations, including its
// argument reduction; table-driven reductions (2^(k/16) from a register
// permute) trade the polynomial's terms for as many index and scaling
// operations, and do not get there. Kernel sums (float32, one thread):
// gaussian 1.17 / 0.59 pairs/cycle (AVX-512 / AVX2), with gradient
// 0.91 / 0.47; laplacian 0.84 / 0.47, 0.51 / 0.28; energy 1.22 / 1.24,
// 0.88 / 0.71.
package simd

//go:generate go run ./gen

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/libgeomloss/libgeomloss/core"
)

// EnvVar names the environment variable that forces a code path.
const EnvVar = "GEOMLOSS_SIMD"

// path is one vector code path, registered by the files built with
// GOEXPERIMENT=simd on amd64.
type path struct {
	name      string
	supported func() bool
	k32       *kernels[float32]
	k64       *kernels[float64]
}

// registry lists the vector paths compiled in, best first.
var registry []path

// Paths returns the names of the code paths this machine supports, best
// first; "portable" is always last.
func Paths() []string {
	var r []string
	for _, p := range registry {
		if p.supported() {
			r = append(r, p.name)
		}
	}
	return append(r, "portable")
}

// ForPath returns the engine of the named path, or an error if the name is
// unknown or the path is not supported by this CPU or build.
func ForPath[T core.Float](name string, res core.Resources) (core.Engine[T], error) {
	if name == "portable" {
		return core.Portable[T](res), nil
	}
	for _, p := range registry {
		if p.name != name {
			continue
		}
		if !p.supported() {
			return nil, fmt.Errorf("simd: path %q is not supported by this CPU", name)
		}
		var z T
		switch any(z).(type) {
		case float32:
			return any(engine[float32]{name: p.name, k: p.k32, res: res}).(core.Engine[T]), nil
		default:
			return any(engine[float64]{name: p.name, k: p.k64, res: res}).(core.Engine[T]), nil
		}
	}
	if name == "avx512" || name == "avx2" {
		return nil, fmt.Errorf("simd: path %q is not compiled in (build with GOEXPERIMENT=simd on amd64)", name)
	}
	return nil, fmt.Errorf("simd: unknown path %q (want avx512, avx2 or portable)", name)
}

var (
	chosenOnce sync.Once
	chosen     string
)

// Selected returns the name of the path For uses: GEOMLOSS_SIMD if set to a
// supported path, else the best supported one.
func Selected() string {
	chosenOnce.Do(func() {
		chosen = Paths()[0]
		env := strings.TrimSpace(strings.ToLower(os.Getenv(EnvVar)))
		if env == "" {
			return
		}
		if _, err := ForPath[float32](env, core.Resources{}); err != nil {
			fmt.Fprintf(os.Stderr, "geomloss: %s=%q ignored (%v); using %q\n", EnvVar, env, err, chosen)
			return
		}
		chosen = env
	})
	return chosen
}

// For returns the fastest engine this CPU supports for element type T (or
// the one GEOMLOSS_SIMD forces; see the package doc), built with res.
func For[T core.Float](res core.Resources) core.Engine[T] {
	e, err := ForPath[T](Selected(), res)
	if err != nil { // cannot happen: Selected only returns supported paths
		return core.Portable[T](res)
	}
	return e
}

// The SIMD engine is the registry's preferred CPU engine (importing this
// package registers it).
func init() {
	core.RegisterEngine(core.EngineSpec{Name: "simd", Priority: 10,
		New32: func(r core.Resources) (core.Engine[float32], error) { return For[float32](r), nil },
		New64: func(r core.Resources) (core.Engine[float64], error) { return For[float64](r), nil },
	})
}
