//go:build cgo

package gpu

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/gpu/cuda/fake"
	"github.com/libgeomloss/libgeomloss/gpu/emu"
)

// newFake returns a fake driver whose kernels are the real ones, emulated
// on the CPU.
func newFake() *fake.Driver {
	return &fake.Driver{Name: "Emulated GPU", Exec: emu.Exec, ParamPointers: paramPointers}
}

// openFake opens a Device on drv or fails the test.
func openFake(t testing.TB, drv *fake.Driver, opts Options) *Device {
	t.Helper()
	d, err := Open(drv, opts)
	if err != nil {
		t.Fatalf("Open on the fake driver: %v", err)
	}
	return d
}
