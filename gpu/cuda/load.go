package cuda

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibraryName is the CUDA driver library Load opens.
const LibraryName = "libcuda.so.1"

// Missing is returned by Load when the driver library or one of its required
// symbols cannot be found (a usable reason for the CPU fallback note).
type Missing struct{ What string }

func (m *Missing) Error() string { return m.What }

// symbol binds one driver entry point to a function variable.
type symbol struct {
	name     string
	fn       any // pointer to a func variable
	required bool
}

// lib is the purego-bound driver. Optional entry points are nil when the
// driver lacks them, and the method using one falls back or says so.
type lib struct {
	cuInit               func(flags uint32) Result
	cuDriverGetVersion   func(v *int32) Result
	cuDeviceGetCount     func(n *int32) Result
	cuDeviceGet          func(d *Device, ordinal int32) Result
	cuDeviceGetName      func(name *byte, n int32, d Device) Result
	cuDeviceGetAttribute func(v *int32, a Attribute, d Device) Result
	cuDeviceTotalMem     func(b *uint64, d Device) Result
	cuDeviceGetPCIBusId  func(id *byte, n int32, d Device) Result
	cuPrimaryCtxRetain   func(c *Context, d Device) Result
	cuPrimaryCtxRelease  func(d Device) Result
	cuCtxSetCurrent      func(c Context) Result
	cuMemGetInfo         func(free, total *uint64) Result
	cuModuleLoadDataEx   func(m *Module, image unsafe.Pointer, n uint32, opts *int32, vals *uintptr) Result
	cuModuleUnload       func(m Module) Result
	cuModuleGetFunction  func(f *Function, m Module, name *byte) Result
	cuStreamCreate       func(s *Stream, flags uint32) Result
	cuStreamDestroy      func(s Stream) Result
	cuStreamSynchronize  func(s Stream) Result
	cuMemAlloc           func(p *DevPtr, bytes uint64) Result
	cuMemFree            func(p DevPtr) Result
	cuMemcpyHtoDAsync    func(p DevPtr, src unsafe.Pointer, bytes uint64, s Stream) Result
	cuMemcpyDtoHAsync    func(dst unsafe.Pointer, p DevPtr, bytes uint64, s Stream) Result
	cuLaunchKernel       func(f Function, gx, gy, gz, bx, by, bz, shmem uint32, s Stream, params, extra unsafe.Pointer) Result
	cuGetErrorName       func(r Result, s **byte) Result
	cuGetErrorString     func(r Result, s **byte) Result
}

func (l *lib) symbols() []symbol {
	return []symbol{
		{"cuInit", &l.cuInit, true},
		{"cuDriverGetVersion", &l.cuDriverGetVersion, true},
		{"cuDeviceGetCount", &l.cuDeviceGetCount, true},
		{"cuDeviceGet", &l.cuDeviceGet, true},
		{"cuDeviceGetName", &l.cuDeviceGetName, true},
		{"cuDeviceGetAttribute", &l.cuDeviceGetAttribute, true},
		{"cuDeviceTotalMem_v2", &l.cuDeviceTotalMem, true},
		{"cuDeviceGetPCIBusId", &l.cuDeviceGetPCIBusId, false},
		{"cuDevicePrimaryCtxRetain", &l.cuPrimaryCtxRetain, true},
		{"cuDevicePrimaryCtxRelease_v2", &l.cuPrimaryCtxRelease, true},
		{"cuCtxSetCurrent", &l.cuCtxSetCurrent, true},
		{"cuMemGetInfo_v2", &l.cuMemGetInfo, false},
		{"cuModuleLoadDataEx", &l.cuModuleLoadDataEx, true},
		{"cuModuleUnload", &l.cuModuleUnload, true},
		{"cuModuleGetFunction", &l.cuModuleGetFunction, true},
		{"cuStreamCreate", &l.cuStreamCreate, true},
		{"cuStreamDestroy_v2", &l.cuStreamDestroy, true},
		{"cuStreamSynchronize", &l.cuStreamSynchronize, true},
		{"cuMemAlloc_v2", &l.cuMemAlloc, true},
		{"cuMemFree_v2", &l.cuMemFree, true},
		{"cuMemcpyHtoDAsync_v2", &l.cuMemcpyHtoDAsync, true},
		{"cuMemcpyDtoHAsync_v2", &l.cuMemcpyDtoHAsync, true},
		{"cuLaunchKernel", &l.cuLaunchKernel, true},
		{"cuGetErrorName", &l.cuGetErrorName, false},
		{"cuGetErrorString", &l.cuGetErrorString, false},
	}
}

// Load opens the CUDA driver library (LibraryName, or path if non-empty)
// and binds its entry points. It fails with a *Missing error when the
// library or a required symbol is absent; optional ones may be missing.
// Load does not call cuInit.
func Load(path string) (Driver, error) {
	if runtime.GOOS != "linux" {
		return nil, &Missing{"the CUDA engine is built for linux only"}
	}
	if path == "" {
		path = LibraryName
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, &Missing{"no " + path + " (" + strings.TrimSpace(err.Error()) + ")"}
	}
	l := &lib{}
	var missing []string
	for _, s := range l.symbols() {
		ptr, err := purego.Dlsym(h, s.name)
		if err != nil || ptr == 0 {
			if s.required {
				missing = append(missing, s.name)
			}
			continue
		}
		purego.RegisterFunc(s.fn, ptr)
	}
	if len(missing) > 0 {
		return nil, &Missing{fmt.Sprintf("%s lacks %s (driver too old)", path, strings.Join(missing, ", "))}
	}
	return l, nil
}

// cString reads a NUL-terminated C string.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return string(b)
}

// check turns a CUresult into nil or an *Error for call.
func (l *lib) check(r Result, call string) error {
	if r == Success {
		return nil
	}
	e := &Error{Call: call, Code: r, Name: r.Name()}
	var s *byte
	if l.cuGetErrorName != nil && l.cuGetErrorName(r, &s) == Success {
		e.Name = cString(s)
	}
	if l.cuGetErrorString != nil && l.cuGetErrorString(r, &s) == Success {
		if d := cString(s); d != "" && d != e.Name {
			e.Detail = d
		}
	}
	return e
}

func (l *lib) Init() error { return l.check(l.cuInit(0), "cuInit") }

func (l *lib) Version() (int, error) {
	var v int32
	return int(v), l.check(l.cuDriverGetVersion(&v), "cuDriverGetVersion")
}

func (l *lib) DeviceCount() (int, error) {
	var n int32
	return int(n), l.check(l.cuDeviceGetCount(&n), "cuDeviceGetCount")
}

func (l *lib) DeviceGet(ordinal int) (Device, error) {
	var d Device
	return d, l.check(l.cuDeviceGet(&d, int32(ordinal)), fmt.Sprintf("cuDeviceGet(%d)", ordinal))
}

func (l *lib) DeviceName(d Device) (string, error) {
	buf := make([]byte, 256)
	if err := l.check(l.cuDeviceGetName(&buf[0], int32(len(buf)-1), d), "cuDeviceGetName"); err != nil {
		return "", err
	}
	return cString(&buf[0]), nil
}

func (l *lib) DeviceAttribute(a Attribute, d Device) (int, error) {
	var v int32
	return int(v), l.check(l.cuDeviceGetAttribute(&v, a, d), fmt.Sprintf("cuDeviceGetAttribute(%d)", a))
}

func (l *lib) DeviceTotalMem(d Device) (uint64, error) {
	var b uint64
	return b, l.check(l.cuDeviceTotalMem(&b, d), "cuDeviceTotalMem")
}

func (l *lib) PCIBusID(d Device) (string, error) {
	if l.cuDeviceGetPCIBusId == nil {
		return "", nil
	}
	buf := make([]byte, 64)
	if err := l.check(l.cuDeviceGetPCIBusId(&buf[0], int32(len(buf)-1), d), "cuDeviceGetPCIBusId"); err != nil {
		return "", err
	}
	return cString(&buf[0]), nil
}

func (l *lib) PrimaryCtxRetain(d Device) (Context, error) {
	var c Context
	return c, l.check(l.cuPrimaryCtxRetain(&c, d), "cuDevicePrimaryCtxRetain")
}

func (l *lib) PrimaryCtxRelease(d Device) error {
	return l.check(l.cuPrimaryCtxRelease(d), "cuDevicePrimaryCtxRelease")
}

func (l *lib) SetCurrent(c Context) error { return l.check(l.cuCtxSetCurrent(c), "cuCtxSetCurrent") }

func (l *lib) MemGetInfo() (free, total uint64, err error) {
	if l.cuMemGetInfo == nil {
		return 0, 0, &Error{Call: "cuMemGetInfo", Code: ErrNotFound, Name: "symbol missing from the driver"}
	}
	err = l.check(l.cuMemGetInfo(&free, &total), "cuMemGetInfo")
	return free, total, err
}

// jitLogSize is the size of the JIT error log buffer of ModuleLoadData.
const jitLogSize = 16 << 10

func (l *lib) ModuleLoadData(image []byte) (Module, error) {
	img := append(append([]byte(nil), image...), 0) // PTX must be NUL-terminated
	logBuf := make([]byte, jitLogSize)
	const cuJitErrorLogBuffer, cuJitErrorLogBufferSize = 5, 6
	opts := []int32{cuJitErrorLogBuffer, cuJitErrorLogBufferSize}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf) - 1)}
	var m Module
	r := l.cuModuleLoadDataEx(&m, unsafe.Pointer(&img[0]), uint32(len(opts)), &opts[0], &vals[0])
	runtime.KeepAlive(logBuf)
	runtime.KeepAlive(img)
	if err := l.check(r, fmt.Sprintf("cuModuleLoadDataEx(%s)", Bytes(uint64(len(image))))); err != nil {
		if log := strings.TrimSpace(cString(&logBuf[0])); log != "" {
			err.(*Error).Detail = "JIT log: " + log
		}
		return 0, err
	}
	return m, nil
}

func (l *lib) ModuleUnload(m Module) error { return l.check(l.cuModuleUnload(m), "cuModuleUnload") }

func (l *lib) ModuleGetFunction(m Module, name string) (Function, error) {
	var f Function
	n := append([]byte(name), 0)
	return f, l.check(l.cuModuleGetFunction(&f, m, &n[0]), "cuModuleGetFunction("+name+")")
}

func (l *lib) StreamCreate() (Stream, error) {
	var s Stream
	const nonBlocking = 1
	return s, l.check(l.cuStreamCreate(&s, nonBlocking), "cuStreamCreate")
}

func (l *lib) StreamDestroy(s Stream) error { return l.check(l.cuStreamDestroy(s), "cuStreamDestroy") }

func (l *lib) StreamSynchronize(s Stream) error {
	return l.check(l.cuStreamSynchronize(s), "cuStreamSynchronize")
}

func (l *lib) MemAlloc(bytes uint64) (DevPtr, error) {
	var p DevPtr
	return p, l.check(l.cuMemAlloc(&p, bytes), "cuMemAlloc("+Bytes(bytes)+")")
}

func (l *lib) MemFree(p DevPtr) error { return l.check(l.cuMemFree(p), "cuMemFree") }

func (l *lib) MemcpyHtoD(p DevPtr, src unsafe.Pointer, bytes uint64, s Stream) error {
	return l.check(l.cuMemcpyHtoDAsync(p, src, bytes, s), "cuMemcpyHtoDAsync("+Bytes(bytes)+")")
}

func (l *lib) MemcpyDtoH(dst unsafe.Pointer, p DevPtr, bytes uint64, s Stream) error {
	return l.check(l.cuMemcpyDtoHAsync(dst, p, bytes, s), "cuMemcpyDtoHAsync("+Bytes(bytes)+")")
}

func (l *lib) Launch(f Function, grid, block [3]uint32, sharedMem uint32, s Stream, params []byte) error {
	if len(params) == 0 {
		return &Error{Call: "cuLaunchKernel", Code: ErrInvalidValue, Name: "CUDA_ERROR_INVALID_VALUE", Detail: "no parameters"}
	}
	ptrs := []unsafe.Pointer{unsafe.Pointer(&params[0])}
	r := l.cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedMem, s, unsafe.Pointer(&ptrs[0]), nil)
	runtime.KeepAlive(ptrs)
	runtime.KeepAlive(params)
	return l.check(r, fmt.Sprintf("cuLaunchKernel(grid %d, block %d)", grid[0], block[0]))
}
