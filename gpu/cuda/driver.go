// Package cuda is the CUDA driver layer of the GPU engine: a small Go
// interface (Driver) over the parts of the driver API the engine uses, with
// two implementations: the real libcuda.so.1, loaded at run time with purego
// (no cgo, no link-time dependency; see Load), and a fake (package
// gpu/cuda/fake) for the tests of machines without a GPU.
//
// Every failing call returns an *Error naming the call and its CUDA code
// ("cuMemAlloc(1.2 GB): CUDA_ERROR_OUT_OF_MEMORY"); AsCore turns it into the
// library's coded error (ErrMemory for an allocation failure, ErrDevice
// otherwise).
package cuda

import "unsafe"

// Handles of driver objects. They are the driver's own values (CUdevice,
// CUcontext, CUmodule, CUfunction, CUstream, CUdeviceptr).
type (
	Device   int32
	Context  uintptr
	Module   uintptr
	Function uintptr
	Stream   uintptr
	DevPtr   uint64
)

// Attribute is a CUdevice_attribute.
type Attribute int32

// Device attributes the engine reads.
const (
	AttrMaxThreadsPerBlock     Attribute = 1
	AttrMaxSharedMemPerBlock   Attribute = 8
	AttrMultiprocessorCount    Attribute = 16
	AttrComputeCapabilityMajor Attribute = 75
	AttrComputeCapabilityMinor Attribute = 76
)

// Driver is the subset of the CUDA driver API the engine uses. Methods
// return *Error on failure. The calls on a context require it to be current
// on the calling OS thread (SetCurrent after runtime.LockOSThread).
type Driver interface {
	// Init is cuInit(0).
	Init() error
	// Version is cuDriverGetVersion (e.g. 12040 for CUDA 12.4).
	Version() (int, error)
	DeviceCount() (int, error)
	DeviceGet(ordinal int) (Device, error)
	DeviceName(d Device) (string, error)
	DeviceAttribute(a Attribute, d Device) (int, error)
	DeviceTotalMem(d Device) (uint64, error)
	// PCIBusID returns the device's PCI bus id ("0000:3b:00.0"), or "" if the
	// optional cuDeviceGetPCIBusId is missing.
	PCIBusID(d Device) (string, error)

	PrimaryCtxRetain(d Device) (Context, error)
	PrimaryCtxRelease(d Device) error
	SetCurrent(c Context) error
	// MemGetInfo is cuMemGetInfo on the current context (free, total bytes).
	MemGetInfo() (free, total uint64, err error)

	// ModuleLoadData loads a PTX (or cubin) image with cuModuleLoadDataEx;
	// on failure the error carries the JIT compiler's log.
	ModuleLoadData(image []byte) (Module, error)
	ModuleUnload(m Module) error
	ModuleGetFunction(m Module, name string) (Function, error)

	StreamCreate() (Stream, error)
	StreamDestroy(s Stream) error
	StreamSynchronize(s Stream) error

	MemAlloc(bytes uint64) (DevPtr, error)
	MemFree(p DevPtr) error
	// MemcpyHtoD copies bytes from host memory src to p, asynchronously on s
	// (src must stay alive and unchanged until s is synchronised).
	MemcpyHtoD(p DevPtr, src unsafe.Pointer, bytes uint64, s Stream) error
	// MemcpyDtoH copies bytes from p to host memory dst, asynchronously on s.
	MemcpyDtoH(dst unsafe.Pointer, p DevPtr, bytes uint64, s Stream) error

	// Launch is cuLaunchKernel with one by-value parameter: the bytes of
	// params (a kernel whose only argument is a struct of that layout).
	Launch(f Function, grid, block [3]uint32, sharedMem uint32, s Stream, params []byte) error
}
