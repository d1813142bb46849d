package cuda_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/cuda/fake"
)

// TestQuery checks the device query: NVML's answer when it has one (found by
// the driver's PCI bus id), the driver API's otherwise, with NVML's reason.
func TestQuery(t *testing.T) {
	drv := &fake.Driver{Name: "Fake H200", CC: [2]int{9, 0}, Memory: 2 << 30}
	var asked string
	nv := func(bus string) (cuda.Info, error) {
		asked = bus
		return cuda.Info{Name: "NVML name", BusID: bus, Major: 9, TotalMem: 3 << 30, FreeMem: 1 << 30, Via: "nvml"}, nil
	}
	info, why, err := cuda.Query(drv, 0, nv)
	if err != nil || info.Via != "nvml" || info.Name != "NVML name" || info.FreeMem != 1<<30 || why != "" || asked != "0000:01:00.0" {
		t.Errorf("with NVML: %+v, %q, %v (asked for %q)", info, why, err, asked)
	}
	broken := func(string) (cuda.Info, error) {
		return cuda.Info{}, errors.New("nvmlInit: Driver Not Loaded (NVML error 9)")
	}
	for _, q := range []func(string) (cuda.Info, error){broken, nil} {
		info, why, err = cuda.Query(drv, 0, q)
		if err != nil || info.Via != "driver" || info.Name != "Fake H200" || info.Major != 9 || info.TotalMem != 2<<30 || why == "" {
			t.Errorf("without NVML: %+v, %q, %v", info, why, err)
		}
	}
}

// TestQueryNVMLReal runs the real NVML path where libnvidia-ml.so.1 is
// installed: on a machine without the NVIDIA kernel driver nvmlInit fails
// with a named NVML error (then Query falls back, TestQuery); with one, the
// device at bus 0000:00:00.0 does not exist. Skips where the library is absent.
func TestQueryNVMLReal(t *testing.T) {
	found := false
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/" + cuda.NVMLName, "/usr/lib64/" + cuda.NVMLName, "/usr/lib/aarch64-linux-gnu/" + cuda.NVMLName} {
		if _, err := os.Stat(p); err == nil {
			found = true
		}
	}
	if !found {
		t.Skip(cuda.NVMLName + " not installed (Debian's libnvidia-ml1; TestQuery covers the fallback)")
	}
	_, err := cuda.QueryNVML("0000:00:00.0")
	if err == nil {
		t.Fatal("QueryNVML of a bus id with no GPU succeeded")
	}
	t.Logf("QueryNVML: %v", err)
	if !strings.Contains(err.Error(), "NVML error") {
		t.Errorf("error %q does not name the NVML error", err)
	}
}
