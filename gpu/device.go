// Package gpu is the CUDA engine: core.Engine[T] (and
// core.BlockSparseEngine[T]) over the kernels of gpu/kernels, JIT-compiled
// from the embedded PTX by the driver (package gpu/cuda) at first use, so a
// machine needs nothing but the NVIDIA driver. Without a usable device the
// engine's constructors return the reason ("no libcuda.so.1", "cuInit:
// CUDA_ERROR_NO_DEVICE", "driver too old for this PTX"), which core puts in
// the result note (device auto) or the error (device gpu).
package gpu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// MinDriverVersion is the oldest driver API the PTX loads on: nvcc 11.8
// writes PTX ISA 7.8, which drivers of CUDA 11.8 and later compile.
const MinDriverVersion = 11080

// Options configure a Device.
type Options struct {
	// Ordinal is the CUDA device number (default 0).
	Ordinal int
	// MemoryBudget bounds the device memory one Pair allocates; 0 means 90 %
	// of the memory free when the Pair is built. Problems larger than the
	// budget are reduced in chunks of rows (and of columns if y alone does
	// not fit).
	MemoryBudget uint64
	// NVML, if set, describes a device by PCI bus id (cuda.QueryNVML); the
	// driver API answers otherwise.
	NVML func(busID string) (cuda.Info, error)
}

// Device is an opened CUDA device: its driver, primary context, kernels
// and stream. Reductions on a Device are serialised.
type Device struct {
	drv    cuda.Driver
	dev    cuda.Device
	ctx    cuda.Context
	mods   []cuda.Module
	fns    map[string]cuda.Function
	stream cuda.Stream
	name   string
	opts   Options
	info   cuda.Info
	noNVML string

	mu     sync.Mutex
	closed bool
}

// Open initialises the driver and opens device opts.Ordinal: it retains the
// primary context, loads the kernels and creates a stream. The error is the
// reason the device cannot be used (a *core.Error with code ErrDevice).
func Open(drv cuda.Driver, opts Options) (*Device, error) {
	why := func(format string, a ...any) error { return core.Errorf(core.ErrDevice, format, a...) }
	if err := drv.Init(); err != nil {
		return nil, why("%v", err)
	}
	v, err := drv.Version()
	if err != nil {
		return nil, why("%v", err)
	}
	if v < MinDriverVersion {
		return nil, why("driver too old for this PTX (CUDA driver API %d.%d; the kernels need %d.%d)", v/1000, v%1000/10, MinDriverVersion/1000, MinDriverVersion%1000/10)
	}
	n, err := drv.DeviceCount()
	if err != nil {
		return nil, why("%v", err)
	}
	if opts.Ordinal < 0 || opts.Ordinal >= n {
		return nil, why("no CUDA device %d (%d present)", opts.Ordinal, n)
	}
	dev, err := drv.DeviceGet(opts.Ordinal)
	if err != nil {
		return nil, why("%v", err)
	}
	info, nvmlWhy, err := cuda.Query(drv, dev, opts.NVML)
	if err != nil {
		return nil, why("%v", err)
	}
	name, major, minor := info.Name, info.Major, info.Minor
	if major < 7 {
		return nil, why("cuda:%d %s: compute capability %d.%d, the kernels need 7.0 or later", opts.Ordinal, name, major, minor)
	}
	d := &Device{drv: drv, dev: dev, name: fmt.Sprintf("cuda:%d %s", opts.Ordinal, name), opts: opts, fns: map[string]cuda.Function{},
		info: info, noNVML: nvmlWhy}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if d.ctx, err = drv.PrimaryCtxRetain(dev); err != nil {
		return nil, why("%v", err)
	}
	fail := func(err error) (*Device, error) {
		d.release()
		var ce *cuda.Error
		if errors.As(err, &ce) && (ce.Code == cuda.ErrUnsupportedPTX || ce.Code == cuda.ErrInvalidPTX || ce.Code == cuda.ErrNoBinaryForGPU) {
			return nil, why("driver too old for this PTX: %v", err)
		}
		return nil, why("%v", err)
	}
	if err := drv.SetCurrent(d.ctx); err != nil {
		return fail(err)
	}
	names, images := kernels.Modules()
	for k, img := range images {
		m, err := drv.ModuleLoadData(img)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", names[k], err))
		}
		d.mods = append(d.mods, m)
	}
	if d.stream, err = drv.StreamCreate(); err != nil {
		return fail(err)
	}
	return d, nil
}

// release frees what Open acquired (the caller holds the OS thread).
func (d *Device) release() {
	if d.stream != 0 {
		d.drv.StreamDestroy(d.stream)
		d.stream = 0
	}
	for _, m := range d.mods {
		d.drv.ModuleUnload(m)
	}
	d.mods = nil
	if d.ctx != 0 {
		d.drv.PrimaryCtxRelease(d.dev)
		d.ctx = 0
	}
}

// Close releases the device (its stream, kernels and context). Pairs must
// be closed first.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.drv.SetCurrent(d.ctx); err != nil {
		return cuda.AsCore(err)
	}
	d.release()
	return nil
}

// Name says which device this is, e.g. "cuda:0 NVIDIA H200".
func (d *Device) Name() string { return d.name }

// Info describes the device as Open found it (from NVML or the driver
// API); why says why NVML did not answer ("" when it did).
func (d *Device) Info() (info cuda.Info, why string) { return d.info, d.noNVML }

// function returns the kernel name, looked up once. d.mu is held, with the
// context current.
func (d *Device) function(name string) (cuda.Function, error) {
	if f, ok := d.fns[name]; ok {
		return f, nil
	}
	var last error
	for _, m := range d.mods {
		f, err := d.drv.ModuleGetFunction(m, name)
		if err == nil {
			d.fns[name] = f
			return f, nil
		}
		last = err
	}
	return 0, last
}

// enter locks the device and makes its context current on this OS thread;
// the returned function undoes both.
func (d *Device) enter() (func(), error) {
	d.mu.Lock()
	runtime.LockOSThread()
	done := func() {
		runtime.UnlockOSThread()
		d.mu.Unlock()
	}
	if d.closed {
		done()
		return nil, core.Errorf(core.ErrDevice, "gpu: %s was closed", d.name)
	}
	if err := d.drv.SetCurrent(d.ctx); err != nil {
		done()
		return nil, cuda.AsCore(err)
	}
	return done, nil
}
