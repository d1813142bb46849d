package abi

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// otKeys are the buffers each OT entry point reads or writes (B = 1);
// every other key set is refused, naming it.
var (
	otSampleKeys = []int{BufX, BufY, BufA, BufB, BufV, BufU,
		BufValue, BufValueLinear, BufF, BufG, BufFAa, BufGBb, BufMarginalA, BufMarginalB,
		BufAToB, BufBToA, BufPlanV, BufPlanTU, BufPlan, BufNIter, BufMarginalError, BufValueGradX, BufValueGradY}
	otMatrixKeys = []int{BufC, BufA, BufB, BufV, BufU,
		BufValue, BufValueLinear, BufF, BufG, BufMarginalA, BufMarginalB,
		BufPlanV, BufPlanTU, BufPlan, BufNIter, BufMarginalError}
)

// OTRun is geomloss_ot_solve_sample (matrix false: points x, y in dimension
// D) and geomloss_ot_solve (matrix true: the cost matrix c; D is ignored)
// after the options are read: it checks the sizes and buffers, solves with
// geomloss.SolveSample / Solve, and only on success writes the outputs
// whose buffers are set. K and L, the columns of v and u, are read from
// their counts. It never panics.
func OTRun[T core.Float](o *Options, matrix bool, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool)) (rep Report, err error) {
	rep, _, err = otRun[T](o, matrix, 1, N, M, D, get, progress, false)
	return rep, err
}

// OTRunBatch is geomloss_ot_solve_sample_batch / geomloss_ot_solve_batch:
// B problems of the same sizes, every buffer with a leading [B] axis; item
// b is solved exactly as OTRun solves it alone (the same code on the b-th
// slices), so its outputs equal the single call's bit for bit. The outputs
// are written only when every item succeeded; the report is the last
// item's.
func OTRunBatch[T core.Float](o *Options, matrix bool, B, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool)) (rep Report, err error) {
	rep, _, err = otRun[T](o, matrix, B, N, M, D, get, progress, false)
	return rep, err
}

// OTRunPlan is geomloss_ot_solve_sample_plan / geomloss_ot_solve_plan: OTRun,
// then the solved plan is kept in the handle table (see PlanEval) instead of
// being released; it returns its handle (0 on error). The points are copied
// first, so that the plan holds no memory of the caller's.
func OTRunPlan[T core.Float](o *Options, matrix bool, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool)) (Report, uint64, error) {
	rep, hs, err := otRun[T](o, matrix, 1, N, M, D, get, progress, true)
	if err != nil {
		return rep, 0, err
	}
	return rep, hs[0], nil
}

// OTRunBatchPlan is geomloss_ot_solve_sample_batch_plan /
// geomloss_ot_solve_batch_plan: OTRunBatch, then every item's plan is kept
// (as OTRunPlan keeps item b's alone: the same code on the b-th slices) and
// its handle returned, in item order. On an error no plan is kept.
func OTRunBatchPlan[T core.Float](o *Options, matrix bool, B, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool)) (Report, []uint64, error) {
	return otRun[T](o, matrix, B, N, M, D, get, progress, true)
}

func otRun[T core.Float](o *Options, matrix bool, B, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool), keep bool) (rep Report, handles []uint64, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, handles, err = Report{}, nil, PanicError(v)
		}
	}()
	rep, kept, d, err := otSolveAll[T](o, matrix, B, N, M, D, get, progress, keep)
	if err != nil || !keep {
		return rep, nil, err
	}
	handles = make([]uint64, len(kept))
	for b, r := range kept {
		handles[b] = plans.add(r, d, matrix)
	}
	return rep, handles, nil
}

// otSolveAll checks the sizes, buffers and options, solves the B items and,
// once all succeeded, writes the outputs; with keep it returns every item's
// result open, in item order (else closed, and nil), and an item's sizes.
// On an error (or a panic, returned as an error) it closes whatever it
// had kept.
func otSolveAll[T core.Float](o *Options, matrix bool, B, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool), keep bool) (rep Report, kept []*core.OTResult[T], dims Dims, err error) {
	var open []*core.OTResult[T]
	defer func() {
		if v := recover(); v != nil {
			rep, kept, dims, err = Report{}, nil, Dims{}, PanicError(v)
		}
		if err != nil {
			for _, r := range open {
				r.Close()
			}
		}
	}()
	entry, keys := "geomloss_ot_solve_sample", otSampleKeys
	if matrix {
		entry, keys, D = "geomloss_ot_solve", otMatrixKeys, 1
	}
	if B != 1 {
		entry += "_batch"
	}
	d, err := CheckSizes(B, N, M, D)
	if err != nil {
		return Report{}, nil, Dims{}, err
	}
	if bnm, ok := mul(B, N); !ok || func() bool { _, ok := mul(bnm, M); return !ok }() {
		return Report{}, nil, Dims{}, errf(ErrSize, "B×N×M: B=%d N=%d M=%d make more than 2^40 elements", B, N, M)
	}
	views, err := bindOT[T](&d, entry, keys, get)
	if err != nil {
		return Report{}, nil, Dims{}, err
	}
	if err := o.validateOT(); err != nil {
		return Report{}, nil, Dims{}, err
	}
	par := core.OTParams{Cost: core.OTCost(o.OT.Cost), Q: o.OT.Q, Reg: o.OT.Reg, Unbalanced: o.OT.Unbalanced,
		Scaling: o.Params.Scaling, Tol: o.Params.Tol, MaxIter: o.Params.MaxIter, Backend: o.Params.Backend, Progress: progress}
	if !matrix {
		par.Blur, par.Reach, par.Debias, par.Diameter = o.Params.Blur, o.Params.Reach, o.Params.Debias, o.Params.Diameter
	}
	gopt := geomloss.Options{Threads: int(o.Threads), Device: core.Device(o.Device)}
	item := d
	item.B = 1
	all := make([]map[int][]T, d.B) // each item's outputs, written at the end
	for b := 0; b < d.B; b++ {
		iv := map[int][]T{} // item b's slices of every buffer (all have a leading [B])
		for key, v := range views {
			per := len(v) / d.B
			iv[key] = v[b*per : (b+1)*per : (b+1)*per]
		}
		var res *core.OTResult[T]
		x, y := iv[BufX], iv[BufY]
		if keep { // the plan outlives the call: it must not read the caller's points
			x, y = append([]T(nil), x...), append([]T(nil), y...)
		}
		if matrix {
			res, err = geomloss.Solve(iv[BufC], d.N, d.M, iv[BufA], iv[BufB], par, gopt)
		} else {
			res, err = geomloss.SolveSample(x, y, d.D, iv[BufA], iv[BufB], par, gopt)
		}
		if err != nil {
			if d.B > 1 {
				err = itemError(err, b)
			}
			return Report{}, nil, Dims{}, err
		}
		outs, err := otOutputs(res, iv, item)
		if err == nil {
			for key, v := range outs {
				if len(iv[key]) != len(v) {
					err = errf(ErrInternal, "internal error: %d elements computed for %s, want %d", len(v), keyNameOf(key), len(iv[key]))
				}
			}
		}
		if err != nil {
			res.Close()
			return Report{}, nil, Dims{}, err
		}
		all[b] = outs
		dev := DeviceCPU
		if res.Device != "" && !strings.HasPrefix(res.Device, "cpu") {
			dev = DeviceGPU
		}
		rep = Report{Backend: int(res.Backend), Device: dev, Engine: res.Engine, Note: res.Note}
		if keep {
			open = append(open, res)
		} else {
			res.Close()
		}
	}
	for b, outs := range all {
		for key, v := range outs {
			per := len(views[key]) / d.B
			copy(views[key][b*per:(b+1)*per], v)
		}
	}
	return rep, open, item, nil
}

// itemError prefixes the message of err with the batch item it concerns.
func itemError(err error, b int) error {
	st, msg := StatusOf(err)
	return errf(st, "item %d: %s", b, msg)
}

// otOutputs computes every output whose buffer is set, into new arrays.
func otOutputs[T core.Float](res *core.OTResult[T], views map[int][]T, d Dims) (map[int][]T, error) {
	out := map[int][]T{}
	want := func(key int) bool { return views[key] != nil }
	scalar := func(key int, v float64) {
		if want(key) {
			out[key] = []T{T(v)}
		}
	}
	scalar(BufValue, res.Value)
	scalar(BufNIter, float64(res.Iterations))
	scalar(BufMarginalError, res.MarginalError)
	if want(BufValueLinear) {
		lin := res.ValueLinear
		if math.IsNaN(lin) { // not computed eagerly over LinearCostCap: asked for
			var err error
			if lin, err = res.Plan.LinearCost(); err != nil {
				return nil, err
			}
		}
		out[BufValueLinear] = []T{T(lin)}
	}
	for _, v := range []struct {
		key int
		src []T
	}{{BufF, res.PotentialA}, {BufG, res.PotentialB}, {BufFAa, res.PotentialAA}, {BufGBb, res.PotentialBB},
		{BufMarginalA, res.MarginalA}, {BufMarginalB, res.MarginalB}} {
		if !want(v.key) {
			continue
		}
		if v.src == nil {
			return nil, errf(ErrInvalidArgument, "%s: not computed (the self potentials need debias = 1)", keyNameOf(v.key))
		}
		out[v.key] = v.src
	}
	var err error
	if want(BufAToB) {
		if out[BufAToB], err = res.Plan.BarycentricAB(); err != nil {
			return nil, err
		}
	}
	if want(BufBToA) {
		if out[BufBToA], err = res.Plan.BarycentricBA(); err != nil {
			return nil, err
		}
	}
	if want(BufPlanV) {
		if out[BufPlanV], err = res.Plan.Times(views[BufV], d.K); err != nil {
			return nil, err
		}
	}
	if want(BufPlanTU) {
		if out[BufPlanTU], err = res.Plan.TransposeTimes(views[BufU], d.L); err != nil {
			return nil, err
		}
	}
	if want(BufPlan) {
		if out[BufPlan], err = res.Plan.Dense(0); err != nil {
			return nil, err
		}
	}
	if want(BufValueGradX) || want(BufValueGradY) {
		name := keyNameOf(BufValueGradX)
		if !want(BufValueGradX) {
			name = keyNameOf(BufValueGradY)
		}
		if res.PotentialAA != nil {
			return nil, errf(ErrUnsupported, "%s: the gradient of a debiased value (debias = 1) is not computed; set debias = 0", name)
		}
		gx, gy, err := res.Plan.CostGradients()
		if err != nil {
			return nil, err
		}
		if want(BufValueGradX) {
			out[BufValueGradX] = gx
		}
		if want(BufValueGradY) {
			out[BufValueGradY] = gy
		}
	}
	return out, nil
}

// bindOT checks the buffers of an OT entry: only keys (of entry) may be
// set; v and u give K and L (their counts are multiples of M and N); each
// set buffer's count is its shape's; the products need their factors.
func bindOT[T core.Float](d *Dims, entry string, keys []int, get Getter) (map[int][]T, error) {
	allowed := map[int]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	for _, s := range bufSpecs {
		if !allowed[s.Key] && get(s.Key, 0).Ptr != nil {
			return nil, errf(ErrInvalidArgument, "%s (%s) is not an argument of %s: unset it", s.Name, s.Const, entry)
		}
	}
	cols := func(key, rows int, label string) (int, error) {
		b := get(key, 0)
		if b.Ptr == nil {
			return 0, nil
		}
		if b.Count <= 0 || b.Count%int64(rows) != 0 {
			return 0, errf(ErrShape, "%s has %d elements, not a positive multiple of %s = %d (it is %s×%s)", keyNameOf(key), b.Count, label, rows, label, map[int]string{BufV: "K", BufU: "L"}[key])
		}
		return int(b.Count / int64(rows)), nil
	}
	var err error
	mLabel, nLabel := "M", "N"
	if d.B > 1 {
		mLabel, nLabel = "B×M", "B×N"
	}
	if d.K, err = cols(BufV, d.B*d.M, mLabel); err != nil {
		return nil, err
	}
	if d.L, err = cols(BufU, d.B*d.N, nLabel); err != nil {
		return nil, err
	}
	for _, p := range [][2]int{{BufPlanV, BufV}, {BufPlanTU, BufU}} {
		out, in := get(p[0], 0).Ptr != nil, get(p[1], 0).Ptr != nil
		if out && !in {
			return nil, errf(ErrNullPointer, "%s is NULL (%s, the matrix that %s multiplies)", keyNameOf(p[1]), constOf(p[1]), keyNameOf(p[0]))
		}
		if in && !out {
			return nil, errf(ErrInvalidArgument, "%s is set but %s (%s), its product, is not", keyNameOf(p[1]), keyNameOf(p[0]), constOf(p[0]))
		}
	}
	required := BufX
	switch entry {
	case "geomloss_ot_solve", "geomloss_ot_solve_batch":
		required = BufC
	case "geomloss_plan_eval":
		required = -1 // no input is required
	}
	views := map[int][]T{}
	for _, k := range keys {
		s, _ := bufSpec(k)
		b := get(k, d.Need(s))
		if b.Ptr == nil {
			if k == required || k == BufY && required == BufX {
				return nil, errf(ErrNullPointer, "%s is NULL (%s: the %s %s, required)", s.Name, s.Const, dimsLabel(s), s.What)
			}
			continue
		}
		if need := d.Need(s); b.Count != int64(need) {
			return nil, errf(ErrShape, "%s has %d elements, needs %d (%s)", s.Name, b.Count, need, d.shape(s))
		}
		views[k] = unsafe.Slice((*T)(b.Ptr), b.Count)
	}
	return views, nil
}

// validateOT checks the options the OT solver reads beyond core.OTParams
// (which the core validates): device, threads and cost.
func (o *Options) validateOT() error {
	if _, ok := ValueName(KeyDevice, int64(o.Device)); !ok {
		return errf(ErrInvalidOption, "device: unknown value %d (want %s)", o.Device, enumChoices(KeyDevice))
	}
	if o.Threads < 0 || o.Threads > MaxThreads {
		return errf(ErrInvalidOption, "threads: must lie in [0, %d] (0 = all cores), got %d", MaxThreads, o.Threads)
	}
	if _, ok := ValueName(KeyCost, int64(o.OT.Cost)); !ok {
		return errf(ErrInvalidOption, "cost: unknown value %d (want %s)", o.OT.Cost, enumChoices(KeyCost))
	}
	return nil
}

func keyNameOf(key int) string {
	if s, ok := bufSpec(key); ok {
		return s.Name
	}
	return fmt.Sprintf("buffer %d", key)
}

func constOf(key int) string {
	s, _ := bufSpec(key)
	return s.Const
}
