package abi

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// The fuzz tests drive the validation layer of the C ABI with arbitrary
// sizes, values and options: it must never panic and always return a status
// in range, with a message for every error, and never write outputs on
// error. `go test` runs the seeds; build/test-c.sh fuzzes each for a short
// time; by hand: go test ./capi/internal/abi -run '^$' -fuzz FuzzEval -fuzztime 10m

func checkStatus(t *testing.T, err error) int {
	t.Helper()
	st, msg := StatusOf(err)
	if st < 0 || st >= NumStatus {
		t.Fatalf("status %d out of range (%q)", st, msg)
	}
	if (st == OK) != (msg == "") {
		t.Fatalf("status %d with message %q", st, msg)
	}
	return st
}

// FuzzOptions applies a sequence of option operations decoded from data.
func FuzzOptions(f *testing.F) {
	f.Add([]byte{0, 3, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Add([]byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 2, 99, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{3, 1, 's', 'i', 'n', 'k', 'h', 'o', 'r', 'n', 0, 4, 0, 0xff, 0xff})
	f.Add([]byte{0, 4, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		o := Defaults()
		for len(data) >= 2 {
			op, key := data[0]%6, int(int8(data[1]))
			data = data[2:]
			var raw uint64
			if len(data) >= 8 {
				raw = binary.LittleEndian.Uint64(data)
				data = data[8:]
			}
			before := o
			var err error
			switch op {
			case 0:
				v := math.Float64frombits(raw)
				if err = o.SetDouble(key, v); err == nil {
					if got, e := o.GetDouble(key); e != nil || (got != v && !(math.IsNaN(got) && math.IsNaN(v))) {
						t.Fatalf("set %d = %g, read back %g (%v)", key, v, got, e)
					}
				}
			case 1:
				v := int64(raw)
				if err = o.SetInt(key, v); err == nil {
					if got, e := o.GetInt(key); e != nil || got != v {
						t.Fatalf("set %d = %d, read back %d (%v)", key, v, got, e)
					}
				}
			case 2:
				_, err = o.GetInt(key)
			case 3:
				n := int(raw % 16)
				if n > len(data) {
					n = len(data)
				}
				err = o.SetString(key, string(data[:n]))
				data = data[n:]
			case 4:
				err = o.Reset(key)
			case 5:
				err = o.Validate()
			}
			if checkStatus(t, err) != OK && o != before {
				t.Fatalf("a failed operation %d on key %d changed the options", op, key)
			}
		}
		// whatever the setters accepted is valid, except the cross-option rule
		if err := o.Validate(); err != nil {
			if !(o.Params.Loss == 2 && !o.Params.Balanced()) {
				t.Fatalf("setters produced invalid options %+v: %v", o, err)
			}
		}
	})
}

// FuzzCheckSizes: never a panic; accepted sizes have every length within MaxElems.
func FuzzCheckSizes(f *testing.F) {
	f.Add(int64(1), int64(1), int64(1), int64(1))
	f.Add(int64(0), int64(5), int64(5), int64(3))
	f.Add(int64(math.MaxInt64), int64(2), int64(2), int64(2))
	f.Add(int64(1<<20), int64(1<<20), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, B, N, M, D int64) {
		d, err := CheckSizes(B, N, M, D)
		if checkStatus(t, err) != OK {
			return
		}
		for _, n := range []int{d.LenX(), d.LenY(), d.LenA(), d.LenB()} {
			if n <= 0 || n > MaxElems {
				t.Fatalf("accepted %d %d %d %d with length %d", B, N, M, D, n)
			}
		}
	})
}

// FuzzEval evaluates small problems whose coordinates, weights, cotangents,
// option values and present/absent arrays come from the fuzzer.
func FuzzEval(f *testing.F) {
	f.Add(uint8(1), uint8(4), uint8(3), uint8(2), uint8(0), uint16(0), []byte("seed values"))
	f.Add(uint8(2), uint8(5), uint8(5), uint8(3), uint8(1), uint16(0xffff), []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	f.Add(uint8(1), uint8(3), uint8(6), uint8(1), uint8(4), uint16(0x0f0f), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(uint8(3), uint8(2), uint8(2), uint8(4), uint8(7), uint16(0x1234), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f})
	f.Add(uint8(0), uint8(1), uint8(1), uint8(1), uint8(2), uint16(1), []byte{})
	f.Fuzz(func(t *testing.T, b, n, m, dd, cfg uint8, present uint16, data []byte) {
		B, N, M, D := int(b%4), int(n%10), int(m%10), int(dd%5) // 0 is an invalid size
		o := Defaults()
		_ = o.SetInt(KeyLoss, int64(cfg%5)+1)
		_ = o.SetInt(KeyP, int64(cfg>>3%2)+1)
		_ = o.SetInt(KeyBackend, int64(cfg>>4%4))
		_ = o.SetInt(KeyDebias, int64(cfg>>6%2))
		if cfg&0x80 != 0 {
			_ = o.SetDouble(KeyReach, 0.5)
		}
		next := func() float64 { // values from data: raw doubles, then a ramp
			if len(data) >= 8 {
				v := math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
				return v
			}
			if len(data) > 0 {
				v := float64(int8(data[0])) / 16
				data = data[1:]
				return v
			}
			return 0.25
		}
		if len(data) > 0 {
			if v := next(); v >= 1e-3 && v <= 10 {
				_ = o.SetDouble(KeyBlur, v)
			}
		}
		arr := func(bit uint, length int, w bool) []float64 {
			if present&(1<<bit) == 0 || length <= 0 {
				return nil
			}
			v := make([]float64, length)
			for i := range v {
				v[i] = next()
				if w && present&(1<<15) == 0 {
					v[i] = math.Abs(v[i]) // mostly valid weights
				}
			}
			return v
		}
		x, y := make([]float64, B*N*D), make([]float64, B*M*D)
		for i := range x {
			x[i] = next()
		}
		for i := range y {
			y[i] = next()
		}
		in := Inputs[float64]{X: x, Y: y, A: arr(0, B*N, true), Bw: arr(1, B*M, true),
			CotValue: arr(2, B, false), CotF: arr(3, B*N, false), CotG: arr(4, B*M, false)}
		if present&(1<<14) != 0 {
			in.X = nil
		}
		out := func(bit uint, length int) []float64 {
			if present&(1<<bit) == 0 {
				return nil
			}
			v := make([]float64, length)
			for i := range v {
				v[i] = 42
			}
			return v
		}
		outs := Outputs[float64]{Value: out(13, B), F: out(5, B*N), G: out(6, B*M), GradX: out(7, B*N*D),
			GradY: out(8, B*M*D), GradA: out(9, B*N), GradB: out(10, B*M)}
		if outs.Value == nil && present&(1<<12) != 0 {
			outs.Value = out(12, B)
		}
		// every array goes through Bind as a buffer; a count that does not
		// fit (one element short or long, chosen by cfg) must be refused
		bufs := map[int][]float64{BufX: in.X, BufY: in.Y, BufA: in.A, BufB: in.Bw, BufCotValue: in.CotValue, BufCotF: in.CotF, BufCotG: in.CotG,
			BufValue: outs.Value, BufF: outs.F, BufG: outs.G, BufGradX: outs.GradX, BufGradY: outs.GradY, BufGradA: outs.GradA, BufGradB: outs.GradB}
		for k, v := range bufs {
			if v == nil {
				delete(bufs, k)
			}
		}
		if present&(1<<11) != 0 && outs.GradX != nil && len(outs.GradX) > 1 {
			bufs[BufGradX] = outs.GradX[:len(outs.GradX)-1-int(cfg%2)]
		}
		_, err := Run[float64](&o, int64(B), int64(N), int64(M), int64(D), getter(bufs), func(string, int, int) bool { return false })
		checkEvalOutcome(t, err, outs)
	})
}

// checkEvalOutcome: a status in range, never ERR_INTERNAL (a panic or a
// bug); on success every requested output is finite, on error none was
// written (they were filled with 42).
func checkEvalOutcome[T core.Float](t *testing.T, err error, outs Outputs[T]) {
	t.Helper()
	st := checkStatus(t, err)
	if st == ErrInternal {
		t.Fatalf("ERR_INTERNAL: %v", err)
	}
	all := [][]T{outs.Value, outs.F, outs.G, outs.GradX, outs.GradY, outs.GradA, outs.GradB}
	for k, s := range all {
		for i, v := range s {
			if st == OK && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
				t.Fatalf("OK with a non-finite output %d [%d] = %v", k, i, v)
			}
			if st != OK && v != 42 {
				t.Fatalf("output %d written on error %v", k, err)
			}
		}
	}
}

// FuzzEvalHostile evaluates small problems with option values straight from
// the fuzzer (raw doubles for blur, reach, diameter and scaling, integers for
// p and threads; issue 11's hostile inputs: scaling next to 1, huge reach,
// blur far from the clouds' size, tiny blur, huge coordinates or weights),
// in float32 or float64, through the engine the library would pick (AVX2 /
// AVX-512 / portable): a coded error, or finite outputs.
func FuzzEvalHostile(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(2), uint16(0x2ff), 0.05, 0.0, 0.0, 0.5, []byte("seed"))
	f.Add(uint8(0x0a), uint8(5), uint8(3), uint16(0x0ff), 0.05, 0.0, 0.0, 0.9999999999, []byte{1, 2, 3})              // bug 1
	f.Add(uint8(0x0a), uint8(40), uint8(2), uint16(0x0ff), 0.1, 3e7, 0.0, 0.5, []byte{5, 9, 17, 33, 1, 2, 3, 4, 200}) // bug 2
	f.Add(uint8(0x0a), uint8(40), uint8(2), uint16(0x1ff), 0.05, 1e200, 0.0, 0.5, []byte{1, 2, 3, 4})                 // bug 3
	f.Add(uint8(0x01), uint8(2), uint8(2), uint16(0x1ff), 0.05, 0.0, 0.0, 0.5,
		[]byte{160, 200, 235, 133, 243, 204, 225, 127, 160, 200, 235, 133, 243, 204, 225, 127}) // bug 4: hausdorff, weights 1e308
	f.Add(uint8(0x0a), uint8(40), uint8(2), uint16(0x0ff), 1e8, 0.0, 0.0, 0.5, []byte{3, 1, 4, 1, 5}) // bug 5
	f.Add(uint8(0x03), uint8(4), uint8(2), uint16(0x4ff), 1e19, 0.0, 0.0, 0.5,
		[]byte{0, 61, 145, 96, 228, 88, 1, 68, 0, 61, 145, 96, 228, 88, 1, 196}) // bug 6: float32 gaussian, coordinates ±4e19
	f.Add(uint8(0x03), uint8(40), uint8(2), uint16(0x4ff), 1e-21, 0.0, 0.0, 0.5, []byte{7, 7, 8, 9}) // bug 7: float32 gaussian, blur 1e-21
	f.Add(uint8(0x0a), uint8(0), uint8(0x80|60), uint16(0x4ff), 0.5, 0.0, 0.0, 0.5, []byte{1, 2})    // bug 10: 1 point, generic D
	f.Fuzz(func(t *testing.T, cfg, n, dd uint8, present uint16, blur, reach, diameter, scaling float64, data []byte) {
		N, M, D := int(n%9)+1, int(n/9%9)+1, int(dd%6)+1
		if dd&0x80 != 0 {
			D = 16 + int(dd%64) // generic-D kernels
		}
		B := int(cfg>>6%2) + 1
		o := Defaults()
		_ = o.SetInt(KeyLoss, int64(cfg%5)+1) // 0x0a: sinkhorn, p=2, auto, debiased
		_ = o.SetInt(KeyP, int64(cfg>>3%2)+1)
		_ = o.SetInt(KeyBackend, int64(cfg>>4%3))
		_ = o.SetInt(KeyDebias, int64(cfg>>7%2^1))
		for _, kv := range []struct {
			key int
			v   float64
		}{{KeyBlur, blur}, {KeyReach, reach}, {KeyDiameter, diameter}, {KeyScaling, scaling}} {
			_ = o.SetDouble(kv.key, kv.v) // invalid values are refused and leave the default
		}
		_ = o.SetInt(KeyThreads, int64(present>>12%3))
		next := func() float64 {
			if len(data) >= 8 {
				v := math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
				return v
			}
			if len(data) > 0 {
				v := float64(int8(data[0])) / 16
				data = data[1:]
				return v
			}
			return 0.25
		}
		vals := func(k int, positive bool) []float64 {
			v := make([]float64, k)
			for i := range v {
				if v[i] = next(); positive {
					v[i] = math.Abs(v[i])
				}
			}
			return v
		}
		var a, b []float64
		if present&(1<<8) != 0 {
			a, b = vals(B*N, true), vals(B*M, true)
		}
		x, y := vals(B*N*D, false), vals(B*M*D, false)
		d, err := CheckSizes(int64(B), int64(N), int64(M), int64(D))
		if err != nil {
			t.Fatalf("valid sizes refused: %v", err)
		}
		if present&(1<<10) != 0 {
			hostileEval(t, &o, d, present, convertTo[float32](x), convertTo[float32](y), convertTo[float32](a), convertTo[float32](b))
		} else {
			hostileEval(t, &o, d, present, x, y, a, b)
		}
	})
}

func convertTo[T core.Float](v []float64) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func hostileEval[T core.Float](t *testing.T, o *Options, d Dims, present uint16, x, y, a, b []T) {
	out := func(bit uint, n int) []T {
		if present&(1<<bit) == 0 {
			return nil
		}
		v := make([]T, n)
		for i := range v {
			v[i] = 42
		}
		return v
	}
	B, N, M, D := d.B, d.N, d.M, d.D
	outs := Outputs[T]{Value: make([]T, B), F: out(0, B*N), G: out(1, B*M), GradX: out(2, B*N*D),
		GradY: out(3, B*M*D), GradA: out(4, B*N), GradB: out(5, B*M)}
	for i := range outs.Value {
		outs.Value[i] = 42
	}
	var cv []T
	if present&(1<<6) != 0 {
		cv = make([]T, B)
		for i := range cv {
			cv[i] = T(i) - 0.5
		}
	}
	_, err := Eval(o, d, Inputs[T]{X: x, Y: y, A: a, Bw: b, CotValue: cv}, outs, func(string, int, int) bool { return false })
	checkEvalOutcome(t, err, outs)
}
