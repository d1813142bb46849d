package gpu

import (
	"sync"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
)

// The process's device: opened at the first engine request, kept open for
// the life of the process (its Pairs release their memory on Close).
var shared struct {
	once sync.Once
	dev  *Device
	err  error
}

// Default opens (once) device 0 through the system's libcuda.so.1 and
// returns it, or the reason it is unusable.
func Default() (*Device, error) {
	shared.once.Do(func() { shared.dev, shared.err = openWith(func() (cuda.Driver, error) { return cuda.Load("") }) })
	return shared.dev, shared.err
}

// openWith loads a driver with load and opens its device 0; a driver that
// cannot be loaded is reported with ErrUnsupported, an unusable device with
// ErrDevice (see Open).
func openWith(load func() (cuda.Driver, error)) (*Device, error) {
	drv, err := load()
	if err != nil {
		return nil, core.Errorf(core.ErrUnsupported, "%v", err)
	}
	return Open(drv, Options{NVML: cuda.QueryNVML})
}

func init() {
	core.RegisterEngine(core.EngineSpec{Name: "cuda", GPU: true, Priority: 10,
		New32: func(r core.Resources) (core.Engine[float32], error) {
			d, err := Default()
			if err != nil {
				return nil, err
			}
			return New[float32](d, r), nil
		},
		New64: func(r core.Resources) (core.Engine[float64], error) {
			d, err := Default()
			if err != nil {
				return nil, err
			}
			return New[float64](d, r), nil
		},
	})
}
