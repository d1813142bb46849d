package core

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzEvaluate runs small random problems through Evaluate with parameters
// from the whole valid range and beyond (blur, reach, scaling, diameter from
// raw doubles), float32 or float64, every loss and backend, weights and
// cotangents sometimes present: the result must be an *Error with a known
// code, or finite values, potentials and gradients — never a panic, a hang
// or a NaN. Seeds: f.Add below and testdata/fuzz/FuzzEvaluate (issue 11's
// hostile inputs). go test runs the seeds; by hand:
//
//	go test ./core -run '^$' -fuzz '^FuzzEvaluate$' -fuzztime 10m
func FuzzEvaluate(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(4), uint8(2), uint16(0), 0.05, 0.0, 0.5, 0.0, []byte("seed"))
	f.Add(uint8(0x81), uint8(5), uint8(5), uint8(3), uint16(0x3ff), 0.1, 1e7, 0.5, 0.0, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add(uint8(0x02), uint8(4), uint8(4), uint8(1), uint16(0), 1e-21, 0.0, 0.5, 0.0, []byte{9, 9, 9})
	f.Add(uint8(0x40), uint8(2), uint8(6), uint8(4), uint16(0x0f), 1e4, 0.0, 0.9, 0.0, []byte{0xff, 0x01})
	f.Add(uint8(0x10), uint8(1), uint8(1), uint8(1), uint16(0x1ff), 0.05, 1e200, 0.9999999999, 0.0, []byte{})
	f.Add(uint8(0x21), uint8(6), uint8(3), uint8(2), uint16(0x303), 0.3, 0.5, 0.7, 3.0, []byte("weights"))
	f.Fuzz(func(t *testing.T, cfg, n, m, dd uint8, present uint16, blur, reach, scaling, diameter float64, data []byte) {
		N, M, D := int(n%7)+1, int(m%7)+1, int(dd%4)+1
		B := int(cfg>>5%2) + 1
		par := DefaultParams()
		par.Loss = Loss(int(cfg%5) + 1)
		par.P = int(cfg>>3%2) + 1
		par.Backend = Backend(int(cfg >> 4 % 2 * 2)) // auto or online
		par.Debias = cfg&0x80 == 0
		par.Blur, par.Reach, par.Scaling, par.Diameter = blur, reach, scaling, diameter
		if par.Loss == Hausdorff {
			par.Reach = 0
		}
		if !(scaling >= 0.3) { // keep runs short: fuzz the range near 1 and beyond
			par.Scaling = 0.5
		}
		next := func() float64 { // raw doubles while they last, then a ramp
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
		fill := func(k int, positive bool) []float64 {
			v := make([]float64, k)
			for i := range v {
				v[i] = next()
				if positive {
					v[i] = math.Abs(v[i])
				}
			}
			return v
		}
		x, y := fill(B*N*D, false), fill(B*M*D, false)
		var a, b []float64
		if present&1 != 0 {
			a, b = fill(B*N, present&(1<<9) == 0), fill(B*M, present&(1<<9) == 0)
		}
		req64 := Request[float64]{GradX: present&2 != 0, GradY: present&4 != 0, GradA: present&8 != 0 && a != nil,
			GradB: present&16 != 0 && b != nil, Potentials: present&32 != 0}
		if present&64 != 0 {
			req64.CotValue = fill(B, false)
		}
		if present&128 != 0 {
			req64.CotF, req64.CotG = fill(B*N, false), fill(B*M, false)
		}
		if present&(1<<8) != 0 {
			pr := Problem[float32]{B: B, N: N, M: M, D: D, X: convert[float32](x), Y: convert[float32](y), A: convert[float32](a), Bw: convert[float32](b)}
			req := Request[float32]{GradX: req64.GradX, GradY: req64.GradY, GradA: req64.GradA, GradB: req64.GradB,
				Potentials: req64.Potentials, CotValue: convert[float32](req64.CotValue), CotF: convert[float32](req64.CotF), CotG: convert[float32](req64.CotG)}
			res, err := Evaluate(Config[float32]{Threads: 1}, par, pr, req)
			checkFuzzResult(t, res, err)
			return
		}
		pr := Problem[float64]{B: B, N: N, M: M, D: D, X: x, Y: y, A: a, Bw: b}
		res, err := Evaluate(Config[float64]{Threads: 1}, par, pr, req64)
		checkFuzzResult(t, res, err)
	})
}

func checkFuzzResult[T Float](t *testing.T, res *Result[T], err error) {
	t.Helper()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Code < ErrInvalidArgument || e.Code > ErrDevice || e.Msg == "" {
			t.Fatalf("not a coded error: %T %v", err, err)
		}
		if e.Code == ErrInternal {
			t.Fatalf("internal error: %v", err)
		}
		return
	}
	for _, v := range [][]T{res.Value, res.F, res.G, res.GradX, res.GradY, res.GradA, res.GradB} {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("OK with a non-finite output [%d] = %v", i, x)
			}
		}
	}
}
