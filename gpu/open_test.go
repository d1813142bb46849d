//go:build cgo

package gpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/cuda/fake"
)

// TestOpenReasons checks the reason an unusable device is reported with,
// for each way a device can be unusable, and that a failed Open releases
// the primary context it retained.
func TestOpenReasons(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*fake.Driver)
		want []string
	}{
		{"no-device", func(d *fake.Driver) { d.InitResult = cuda.ErrNoDevice }, []string{"cuInit: CUDA_ERROR_NO_DEVICE"}},
		{"old-driver", func(d *fake.Driver) { d.Versions = 11040 }, []string{"driver too old for this PTX", "11.4", "11.8"}},
		{"ptx-rejected", func(d *fake.Driver) {
			d.LoadResult, d.LoadLog = cuda.ErrUnsupportedPTX, "ptxas fatal: Unsupported .version 7.8"
		}, []string{"driver too old for this PTX", "softmin.ptx", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "JIT log: ptxas fatal"}},
		{"old-gpu", func(d *fake.Driver) { d.CC = [2]int{6, 1}; d.Name = "Tesla P100" }, []string{"cuda:0 Tesla P100: compute capability 6.1"}},
		{"zero-devices", func(d *fake.Driver) { d.Devices = -1 }, []string{"no CUDA device 0 (0 present)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drv := newFake()
			tc.set(drv)
			_, err := Open(drv, Options{})
			wantCode(t, "Open", err, core.ErrDevice, tc.want...)
			if r := drv.Retained(); r != 0 {
				t.Errorf("primary context retained %d times after a failed Open", r)
			}
			if m := drv.Modules(); m != 0 {
				t.Errorf("%d modules loaded after a failed Open", m)
			}
		})
	}
}

// TestOpenAndClose checks a successful Open (name, every kernel module
// loaded) and that Close releases the context and modules.
func TestOpenAndClose(t *testing.T) {
	drv := newFake()
	d := openFake(t, drv, Options{})
	if d.Name() != "cuda:0 Emulated GPU" {
		t.Errorf("Name = %q", d.Name())
	}
	if drv.Retained() != 1 || drv.Modules() != 3 || len(drv.Functions()) != 82 {
		t.Errorf("after Open: %d contexts, %d modules, %d functions; want 1, 3, 82", drv.Retained(), drv.Modules(), len(drv.Functions()))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if drv.Retained() != 0 || drv.Modules() != 0 {
		t.Errorf("after Close: %d contexts, %d modules", drv.Retained(), drv.Modules())
	}
	pr := randomProblem[float32](10, 10, 2, 1)
	p, err := New[float32](d, core.Resources{}).Pair(pr.x, pr.y, core.CostHalfSquared)
	if err == nil {
		err = p.SoftMin(.1, pr.h, make([]float32, 10), nil)
	}
	wantCode(t, "reduction on a closed device", err, core.ErrDevice, "closed")
}

// TestOpenWith checks the loader step of the default device: a missing
// library is ErrUnsupported with its reason, a fake one opens.
func TestOpenWith(t *testing.T) {
	_, err := openWith(func() (cuda.Driver, error) { return nil, &cuda.Missing{What: "no libcuda.so.1"} })
	wantCode(t, "openWith(missing)", err, core.ErrUnsupported, "no libcuda.so.1")
	d, err := openWith(func() (cuda.Driver, error) { return newFake(), nil })
	if err != nil || d == nil {
		t.Fatalf("openWith(fake): %v", err)
	}
	d.Close()
}

// TestRegistryFallback runs core's engine selection with the cuda engine
// registered, on this machine: without a usable GPU (no libcuda.so.1, or
// Debian's libcuda1 whose cuInit fails), device auto runs on the CPU with
// the reason in the note and device gpu fails with ErrUnsupported giving
// it; with one, both run on the GPU.
func TestRegistryFallback(t *testing.T) {
	_, why := Default()
	eng, note, err := core.NewEngine[float64](core.DeviceAuto, core.Resources{})
	if err != nil {
		t.Fatalf("NewEngine(auto): %v", err)
	}
	_, _, gerr := core.NewEngine[float32](core.DeviceGPU, core.Resources{})
	if why == nil {
		t.Logf("GPU present: %s", eng.Device())
		if eng.Name() != "cuda" || gerr != nil {
			t.Errorf("auto picked %s, gpu: %v; want cuda", eng.Name(), gerr)
		}
		return
	}
	t.Logf("no usable GPU: %v", why)
	if eng.Device() != "cpu" || !strings.Contains(note, "cuda: "+why.Error()) || !strings.Contains(note, "ran on cpu") {
		t.Errorf("auto: engine %s on %s, note %q; want the CPU with the reason %q", eng.Name(), eng.Device(), note, why)
	}
	var ce *core.Error
	if !errors.As(gerr, &ce) || ce.Code != core.ErrUnsupported || !strings.Contains(ce.Msg, why.Error()) {
		t.Errorf("gpu: %v; want ErrUnsupported with the reason %q", gerr, why)
	}
	if strings.Contains(why.Error(), "libcuda.so.1") == strings.Contains(why.Error(), "cuInit") {
		t.Errorf("reason %q names neither a missing library nor a failing cuInit", why)
	}
}

// TestOpenNVMLName checks that Open describes the device with NVML when it
// answers, and with the driver API otherwise.
func TestOpenNVMLName(t *testing.T) {
	nv := func(bus string) (cuda.Info, error) {
		return cuda.Info{Name: "NVML GPU", BusID: bus, Major: 8, Minor: 0, TotalMem: 80 << 30, FreeMem: 79 << 30, Via: "nvml"}, nil
	}
	d := openFake(t, newFake(), Options{NVML: nv})
	if info, why := d.Info(); d.Name() != "cuda:0 NVML GPU" || info.Via != "nvml" || info.FreeMem != 79<<30 || why != "" {
		t.Errorf("with NVML: %s, %+v, %q", d.Name(), info, why)
	}
	d = openFake(t, newFake(), Options{})
	if info, why := d.Info(); d.Name() != "cuda:0 Emulated GPU" || info.Via != "driver" || info.Major != 9 || why != "no NVML" {
		t.Errorf("without NVML: %s, %+v, %q", d.Name(), info, why)
	}
}
