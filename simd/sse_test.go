//go:build goexperiment.simd && amd64

package simd

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// kernelEntries returns the entry addresses of every kernel of every
// compiled-in path (float32 and float64).
func kernelEntries() []uintptr {
	var r []uintptr
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Func:
			if !v.IsNil() {
				r = append(r, v.Pointer())
			}
		case reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	for _, p := range registry {
		for _, k := range []reflect.Value{reflect.ValueOf(p.k32).Elem(), reflect.ValueOf(p.k64).Elem()} {
			for _, f := range []string{"sm", "ks", "dsm", "dks", "sq", "sm2"} {
				walk(k.FieldByName(f))
			}
		}
	}
	return r
}

// The compiled kernels contain no legacy-SSE instruction between their first
// use of a 256/512-bit register and their VZEROUPPER (see the package doc,
// "Performance": each such instruction costs hundreds of cycles). The check
// disassembles this test binary (GNU objdump, skipped without it; Go's own
// disassembler does not decode VEX/EVEX) in layout order, attributing
// instructions to functions with runtime.FuncForPC.
func TestNoLegacySSE(t *testing.T) {
	if testing.Short() {
		t.Skip("disassembles the test binary")
	}
	if raceEnabled {
		t.Skip("race-instrumented build")
	}
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("no GNU objdump")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	entries := kernelEntries()
	if len(entries) < 100 {
		t.Fatalf("%d kernels registered, want hundreds", len(entries))
	}
	lo, hi := entries[0], entries[0]
	for _, e := range entries {
		lo, hi = min(lo, e), max(hi, e)
	}
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn",
		fmt.Sprintf("--start-address=%#x", lo), fmt.Sprintf("--stop-address=%#x", hi+1<<16), exe).Output()
	if err != nil {
		t.Skipf("objdump: %v", err)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%x:\t", lo)) {
		t.Skip("the disassembly's addresses are not the running ones (position-independent binary?)")
	}
	kernel := regexp.MustCompile(`simd\.(sm|ks|sq)F`)
	wide := regexp.MustCompile(`%[yz]mm\d+`)
	xmm := regexp.MustCompile(`%xmm\d+`)
	seen := map[string]bool{}
	fn, bad := "", 0
	dirty := false
	for _, line := range strings.Split(string(out), "\n") {
		a, ins, ok := strings.Cut(strings.TrimSpace(line), ":\t")
		if !ok {
			continue
		}
		pc, err := strconv.ParseUint(a, 16, 64)
		if err != nil {
			continue
		}
		name := ""
		if f := runtime.FuncForPC(uintptr(pc)); f != nil {
			name = f.Name()
		}
		if name != fn {
			fn, dirty = name, false
		}
		if !kernel.MatchString(fn) {
			continue
		}
		seen[fn] = true
		op, _, _ := strings.Cut(ins, " ")
		switch {
		case op == "vzeroupper":
			dirty = false
		case wide.MatchString(ins):
			dirty = true
		case dirty && !strings.HasPrefix(op, "v") && !strings.HasPrefix(op, "k") && xmm.MatchString(ins):
			if bad < 10 {
				t.Errorf("%s: legacy SSE %q after wide vector code, before VZEROUPPER", fn, ins)
			}
			bad++
		}
	}
	if len(seen) < len(entries)*9/10 {
		t.Fatalf("disassembled %d kernels of %d", len(seen), len(entries))
	}
	if bad > 0 {
		t.Errorf("%d legacy-SSE instructions", bad)
	}
	t.Logf("%d kernels checked", len(seen))
}
