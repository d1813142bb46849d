package abi

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// BufSpec describes a buffer key of geomloss_eval (the generated bufSpecs,
// from the header's geomloss_buffer_key).
type BufSpec struct {
	Key      int
	Name     string // as in messages: "grad_x"
	Const    string // "GEOMLOSS_BUF_GRAD_X"
	Dims     string // the sizes whose product is its element count: "BND"
	What     string // "gradient of S w.r.t. x"
	Required bool
	Output   bool
	// Int64 marks an int64_t array whatever the dtype (the cluster labels).
	Int64 bool
}

// BufSpecs returns the buffer keys this version defines, in key order.
func BufSpecs() []BufSpec { return append([]BufSpec(nil), bufSpecs...) }

// bufSpec returns the spec of key, or false.
func bufSpec(key int) (BufSpec, bool) {
	for _, s := range bufSpecs {
		if s.Key == key {
			return s, true
		}
	}
	return BufSpec{}, false
}

// CheckBuffer is geomloss_buffers_set's check of a key and count: a key ≤ 0
// is invalid; a positive key this version does not define belongs to a
// later one (unsupported); a count is ≥ 0 (it is checked against the sizes
// at evaluation).
func CheckBuffer(key int, count int64) error {
	if key <= 0 {
		return errf(ErrInvalidArgument, "buffer key %d is unknown (want a GEOMLOSS_BUF_* key)", key)
	}
	s, ok := bufSpec(key)
	if !ok {
		return errf(ErrUnsupported, "buffer key %d is not supported by libgeomloss %s (a key of a later version?)", key, VersionString)
	}
	if count < 0 {
		return errf(ErrSize, "%s: count must be >= 0 elements, got %d", s.Name, count)
	}
	return nil
}

// Buffer is one array given to an evaluation: its address and its length in
// elements. Ptr nil means not set.
type Buffer struct {
	Ptr   unsafe.Pointer
	Count int64
}

// Need returns the element count a buffer must have for d.
func (d Dims) Need(s BufSpec) int {
	n := 1
	for _, c := range s.Dims {
		n *= d.size(c)
	}
	return n
}

func (d Dims) size(c rune) int {
	switch c {
	case 'B':
		return d.B
	case 'N':
		return d.N
	case 'M':
		return d.M
	case 'K':
		return d.K
	case 'L':
		return d.L
	}
	return d.D
}

// OTOnly reports whether key is in the OT solver's own ranges (inputs
// 20..39, outputs 120..149: see geomloss_buffer_key).
func OTOnly(key int) bool { return key >= 20 && key < 40 || key >= 120 && key < 150 }

// dimsLabel writes a buffer's shape symbolically: "B×N×D".
func dimsLabel(s BufSpec) string { return strings.Join(strings.Split(s.Dims, ""), "×") }

// shape writes a buffer's shape for messages: "B×N×D = 2×7×3".
func (d Dims) shape(s BufSpec) string {
	vals := make([]string, 0, len(s.Dims))
	for _, c := range s.Dims {
		vals = append(vals, fmt.Sprint(d.size(c)))
	}
	return dimsLabel(s) + " = " + strings.Join(vals, "×")
}

// Getter returns the buffer of key; need is the count it must have (the
// positional geomloss_eval_f32/_f64 pass their pointers with that count).
type Getter func(key, need int) Buffer

// Bind checks the buffers of an evaluation of sizes d, as get returns them
// — every required one set, each set one's count exactly its shape's — and
// returns them as typed slices over the caller's memory (unset ones nil;
// the Int64 ones, the labels, as []int64 whatever T).
// This is the ABI's only check of arrays: shapes between arrays and values
// are the core's (Problem.validate).
func Bind[T core.Float](d Dims, get Getter) (Inputs[T], Outputs[T], error) {
	views := map[int][]T{}
	labels := map[int][]int64{}
	for _, s := range bufSpecs {
		if OTOnly(s.Key) {
			if get(s.Key, 0).Ptr != nil {
				return Inputs[T]{}, Outputs[T]{}, errf(ErrInvalidArgument, "%s (%s) is a buffer of the OT solver (geomloss_ot_solve_sample), not of this evaluation: unset it", s.Name, s.Const)
			}
			continue
		}
		b := get(s.Key, d.Need(s))
		if b.Ptr == nil {
			if s.Required {
				return Inputs[T]{}, Outputs[T]{}, errf(ErrNullPointer, "%s is NULL (%s: the %s %s, required)", s.Name, s.Const, dimsLabel(s), s.What)
			}
			continue
		}
		if need := d.Need(s); b.Count != int64(need) {
			return Inputs[T]{}, Outputs[T]{}, errf(ErrShape, "%s has %d elements, needs %d (%s)", s.Name, b.Count, need, d.shape(s))
		}
		if s.Int64 {
			labels[s.Key] = unsafe.Slice((*int64)(b.Ptr), b.Count)
			continue
		}
		views[s.Key] = unsafe.Slice((*T)(b.Ptr), b.Count)
	}
	in := Inputs[T]{X: views[BufX], Y: views[BufY], A: views[BufA], Bw: views[BufB],
		CotValue: views[BufCotValue], CotF: views[BufCotF], CotG: views[BufCotG],
		LabelsX: labels[BufLabelsX], LabelsY: labels[BufLabelsY]}
	out := Outputs[T]{Value: views[BufValue], F: views[BufF], G: views[BufG],
		GradX: views[BufGradX], GradY: views[BufGradY], GradA: views[BufGradA], GradB: views[BufGradB]}
	return in, out, nil
}
