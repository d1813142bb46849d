package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestLoadMissingLibrary checks that a missing driver library is reported
// as a *Missing naming it (the reason of the CPU fallback note).
func TestLoadMissingLibrary(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "libcuda.so.1"))
	var m *Missing
	if !errors.As(err, &m) || !strings.HasPrefix(m.What, "no ") || !strings.Contains(m.What, "libcuda.so.1") {
		t.Fatalf("Load of a missing library: %v, want a *Missing naming it", err)
	}
}

// TestLoadMissingSymbols loads a library that is not the CUDA driver (the C
// math library): every required symbol is missing, and the error lists them.
func TestLoadMissingSymbols(t *testing.T) {
	lib := "libm.so.6"
	_, err := Load(lib)
	var m *Missing
	if !errors.As(err, &m) || !strings.Contains(m.What, "cuInit") || !strings.Contains(m.What, "cuLaunchKernel") || !strings.Contains(m.What, "driver too old") {
		t.Fatalf("Load(%s): %v, want a *Missing listing the required symbols", lib, err)
	}
	if strings.Contains(m.What, "cuGetErrorName") {
		t.Errorf("optional symbol listed as missing: %v", m)
	}
}

// libcudaPath returns the installed driver library, or "" (Debian's
// libcuda1 on a machine without a GPU: its cuInit fails with
// CUDA_ERROR_NO_DEVICE).
func libcudaPath() string {
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/aarch64-linux-gnu/libcuda.so.1"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestRealDriverLoads runs the real loader path on the installed libcuda.so.1:
// every required symbol binds, cuDriverGetVersion answers without cuInit,
// and cuInit either succeeds (a GPU) or fails with a named CUDA error that
// converts to ErrDevice. (The fake-driver tests of package gpu cover the same
// engine paths on machines without the library.)
func TestRealDriverLoads(t *testing.T) {
	p := libcudaPath()
	if p == "" {
		t.Skip("libcuda.so.1 not installed (bash build/deps-cuda.sh installs Debian's libcuda1)")
	}
	d, err := Load(p)
	if err != nil {
		t.Fatalf("Load(%s): %v", p, err)
	}
	v, err := d.Version()
	if err != nil || v < 1000 {
		t.Fatalf("cuDriverGetVersion: %d, %v", v, err)
	}
	t.Logf("driver API version %d", v)
	err = d.Init()
	if err == nil {
		n, err := d.DeviceCount()
		if err != nil || n < 1 {
			t.Fatalf("cuInit succeeded but cuDeviceGetCount = %d, %v", n, err)
		}
		t.Logf("cuInit: ok, %d device(s)", n)
		return
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Call != "cuInit" || !strings.HasPrefix(ce.Name, "CUDA_ERROR_") {
		t.Fatalf("cuInit: %v, want a named CUDA error", err)
	}
	t.Logf("cuInit: %v", err)
	var le *core.Error
	if !errors.As(AsCore(err), &le) || le.Code != core.ErrDevice || !strings.Contains(le.Msg, "cuInit: CUDA_ERROR_") {
		t.Errorf("AsCore(%v) = %v, want ErrDevice naming cuInit", err, AsCore(err))
	}
}

// TestAsCore checks the error codes: out of memory → ErrMemory with the
// call and size, other CUDA errors → ErrDevice, core errors unchanged.
func TestAsCore(t *testing.T) {
	oom := &Error{Call: "cuMemAlloc(" + Bytes(1.2e9) + ")", Code: ErrOutOfMemory, Name: ErrOutOfMemory.Name()}
	var e *core.Error
	if !errors.As(AsCore(oom), &e) || e.Code != core.ErrMemory || !strings.Contains(e.Msg, "cuMemAlloc(1.2 GB): CUDA_ERROR_OUT_OF_MEMORY") {
		t.Errorf("AsCore(oom) = %v", AsCore(oom))
	}
	launch := &Error{Call: "cuLaunchKernel", Code: ErrLaunchFailed, Name: ErrLaunchFailed.Name(), Detail: "unspecified launch failure"}
	if !errors.As(AsCore(launch), &e) || e.Code != core.ErrDevice || !strings.Contains(e.Msg, "CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)") {
		t.Errorf("AsCore(launch) = %v", AsCore(launch))
	}
	c := core.Cancelled()
	if AsCore(c) != c || AsCore(nil) != nil {
		t.Errorf("AsCore changed a core error or nil")
	}
	if Result(12345).Name() != "CUDA error 12345" || ErrNoDevice.Name() != "CUDA_ERROR_NO_DEVICE" {
		t.Errorf("Result names: %q %q", Result(12345).Name(), ErrNoDevice.Name())
	}
	for n, want := range map[uint64]string{512: "512 B", 3400: "3.4 kB", 3.4e6: "3.4 MB", 1.25e9: "1.2 GB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
