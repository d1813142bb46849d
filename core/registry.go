package core

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Device selects the hardware an evaluation runs on.
type Device int

const (
	// DeviceAuto uses a usable GPU engine when one is registered, else the CPU.
	DeviceAuto Device = iota
	// DeviceCPU uses the best CPU engine.
	DeviceCPU
	// DeviceGPU requires a GPU engine; without one the evaluation fails with the reason.
	DeviceGPU
)

var deviceNames = map[Device]string{DeviceAuto: "auto", DeviceCPU: "cpu", DeviceGPU: "gpu"}

func (d Device) String() string {
	if s, ok := deviceNames[d]; ok {
		return s
	}
	return fmt.Sprintf("Device(%d)", int(d))
}

// EngineSpec describes an engine family to the registry. New32/New64 build
// an engine with the given resources, or explain why they cannot (e.g. "no
// libcuda.so.1"); the reason is reported when another engine runs instead.
type EngineSpec struct {
	Name     string // family, e.g. "simd", "cuda"
	GPU      bool   // runs on a GPU (chosen by DeviceAuto and DeviceGPU)
	Priority int    // among CPU (or GPU) engines, the highest usable one is chosen
	New32    func(Resources) (Engine[float32], error)
	New64    func(Resources) (Engine[float64], error)
}

var registry struct {
	sync.Mutex
	specs []EngineSpec
}

// RegisterEngine adds an engine family (typically from an init function of
// the engine's package). Core's portable engine is always registered, with
// the lowest CPU priority.
func RegisterEngine(s EngineSpec) {
	registry.Lock()
	defer registry.Unlock()
	registry.specs = append(registry.specs, s)
	sort.SliceStable(registry.specs, func(i, j int) bool { return registry.specs[i].Priority > registry.specs[j].Priority })
}

func init() {
	RegisterEngine(EngineSpec{Name: "portable", Priority: -1 << 30,
		New32: func(r Resources) (Engine[float32], error) { return Portable[float32](r), nil },
		New64: func(r Resources) (Engine[float64], error) { return Portable[float64](r), nil },
	})
}

// NewEngine builds the engine an evaluation on dev uses: for DeviceAuto the
// first usable GPU engine, else the best CPU engine; for DeviceGPU a GPU
// engine or an ErrUnsupported error with every engine's reason; for
// DeviceCPU the best CPU engine. note lists the engines that were passed
// over and why ("" when the first choice ran).
func NewEngine[T Float](dev Device, res Resources) (eng Engine[T], note string, err error) {
	registry.Lock()
	specs := append([]EngineSpec(nil), registry.specs...)
	registry.Unlock()
	var reasons []string
	try := func(gpu bool) Engine[T] {
		for _, s := range specs {
			if s.GPU != gpu {
				continue
			}
			var e Engine[T]
			var err error
			switch any(*new(T)).(type) {
			case float32:
				if s.New32 != nil {
					var e32 Engine[float32]
					e32, err = s.New32(res)
					if err == nil {
						e = any(e32).(Engine[T])
					}
				}
			default:
				if s.New64 != nil {
					var e64 Engine[float64]
					e64, err = s.New64(res)
					if err == nil {
						e = any(e64).(Engine[T])
					}
				}
			}
			if e != nil {
				return e
			}
			if err != nil {
				reasons = append(reasons, s.Name+": "+err.Error())
			}
		}
		return nil
	}
	switch dev {
	case DeviceGPU, DeviceAuto:
		if e := try(true); e != nil {
			return e, strings.Join(reasons, "; "), nil
		}
		if dev == DeviceGPU {
			why := "no GPU engine in this build"
			if len(reasons) > 0 {
				why = strings.Join(reasons, "; ")
			}
			return nil, "", errorf(ErrUnsupported, "device: gpu requested but unavailable (%s); use cpu or auto", why)
		}
	case DeviceCPU:
	default:
		return nil, "", errorf(ErrInvalidOption, "device: unknown device value %d", int(dev))
	}
	e := try(false)
	if e == nil {
		return nil, "", errorf(ErrInternal, "no CPU engine could be built: %s", strings.Join(reasons, "; "))
	}
	if len(reasons) > 0 {
		note = "device " + dev.String() + ": " + strings.Join(reasons, "; ") + "; ran on " + e.Device() + " (" + e.Name() + ")"
	}
	return e, note, nil
}
