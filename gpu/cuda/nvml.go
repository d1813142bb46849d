package cuda

import (
	"fmt"
	"strings"
	"sync"

	"github.com/ebitengine/purego"
)

// Info describes a device: what Query reports, from NVML where the NVIDIA
// management library answers, else from the driver API.
type Info struct {
	Name         string
	BusID        string // PCI bus id, "" if unknown
	Major, Minor int    // compute capability
	TotalMem     uint64
	FreeMem      uint64 // 0 if unknown (the driver API needs a context for it)
	Via          string // "nvml" or "driver"
}

// NVMLName is the management library QueryNVML opens.
const NVMLName = "libnvidia-ml.so.1"

// NVML is bound with purego like the driver, not through
// github.com/NVIDIA/go-nvml: that package's cgo bindings leave every nvml*
// symbol undefined in the linked object (resolved only once it has dlopened
// the library), so a C shared library built with it fails to load with
// RTLD_NOW — as Python's ctypes loads — ("undefined symbol: nvml…").
type nvmlLib struct {
	init       func() int32
	byBusID    func(bus *byte, dev *uintptr) int32
	name       func(dev uintptr, name *byte, n uint32) int32
	memory     func(dev uintptr, mem *[3]uint64) int32
	capability func(dev uintptr, major, minor *int32) int32
	errString  func(r int32) *byte
}

var nvml struct {
	once sync.Once
	lib  *nvmlLib
	err  error
}

func loadNVML(path string) (*nvmlLib, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, &Missing{"no " + path}
	}
	l := &nvmlLib{}
	for name, fn := range map[string]any{
		"nvmlInit_v2": &l.init, "nvmlDeviceGetHandleByPciBusId_v2": &l.byBusID, "nvmlDeviceGetName": &l.name,
		"nvmlDeviceGetMemoryInfo": &l.memory, "nvmlDeviceGetCudaComputeCapability": &l.capability, "nvmlErrorString": &l.errString,
	} {
		ptr, err := purego.Dlsym(h, name)
		if err != nil || ptr == 0 {
			return nil, &Missing{path + " lacks " + name}
		}
		purego.RegisterFunc(fn, ptr)
	}
	if r := l.init(); r != 0 {
		return nil, l.fail("nvmlInit", r)
	}
	return l, nil
}

func (l *nvmlLib) fail(call string, r int32) error {
	return fmt.Errorf("%s: %s (NVML error %d)", call, cString(l.errString(r)), r)
}

// QueryNVML describes the device at PCI bus id busID through NVML (loaded
// and initialised once per process).
func QueryNVML(busID string) (Info, error) {
	nvml.once.Do(func() { nvml.lib, nvml.err = loadNVML(NVMLName) })
	if nvml.err != nil {
		return Info{}, nvml.err
	}
	if busID == "" {
		return Info{}, fmt.Errorf("nvml: no PCI bus id to find the device by")
	}
	l := nvml.lib
	bus := append([]byte(busID), 0)
	var dev uintptr
	if r := l.byBusID(&bus[0], &dev); r != 0 {
		return Info{}, l.fail("nvmlDeviceGetHandleByPciBusId("+busID+")", r)
	}
	info := Info{BusID: busID, Via: "nvml"}
	name := make([]byte, 96)
	if r := l.name(dev, &name[0], uint32(len(name)-1)); r != 0 {
		return Info{}, l.fail("nvmlDeviceGetName", r)
	}
	info.Name = cString(&name[0])
	var mem [3]uint64 // total, free, used
	if r := l.memory(dev, &mem); r != 0 {
		return Info{}, l.fail("nvmlDeviceGetMemoryInfo", r)
	}
	info.TotalMem, info.FreeMem = mem[0], mem[1]
	var major, minor int32
	if r := l.capability(dev, &major, &minor); r != 0 {
		return Info{}, l.fail("nvmlDeviceGetCudaComputeCapability", r)
	}
	info.Major, info.Minor = int(major), int(minor)
	return info, nil
}

// Query describes device dev: through nvml (QueryNVML, or a stand-in) when
// it answers, else through the driver API. The second result says why NVML
// was not used ("" when it was).
func Query(drv Driver, dev Device, nvmlQuery func(busID string) (Info, error)) (Info, string, error) {
	bus, err := drv.PCIBusID(dev)
	if err != nil {
		return Info{}, "", err
	}
	if nvmlQuery != nil {
		info, err := nvmlQuery(bus)
		if err == nil {
			return info, "", nil
		}
		return queryDriver(drv, dev, bus, strings.TrimSpace(err.Error()))
	}
	return queryDriver(drv, dev, bus, "no NVML")
}

func queryDriver(drv Driver, dev Device, bus, why string) (Info, string, error) {
	info := Info{BusID: bus, Via: "driver"}
	var err error
	if info.Name, err = drv.DeviceName(dev); err != nil {
		return Info{}, why, err
	}
	if info.TotalMem, err = drv.DeviceTotalMem(dev); err != nil {
		return Info{}, why, err
	}
	if info.Major, err = drv.DeviceAttribute(AttrComputeCapabilityMajor, dev); err != nil {
		return Info{}, why, err
	}
	if info.Minor, err = drv.DeviceAttribute(AttrComputeCapabilityMinor, dev); err != nil {
		return Info{}, why, err
	}
	return info, why, nil
}
