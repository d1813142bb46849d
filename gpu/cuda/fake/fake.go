// Package fake is a CUDA driver in Go memory, behind the cuda.Driver
// interface, for the engine's tests on machines without a GPU. Device
// memory is host memory with the driver's accounting (a capacity, live
// allocations, bounds-checked copies, pointers checked at launch); kernels
// run through an executor (the CPU emulation of the real kernels, package
// gpu/emu); any call can be made to fail on its n-th use with a chosen CUDA
// code, for the error paths.
package fake

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/gpu/cuda"
)

// Exec runs the kernel name on grid×block threads with sharedMem bytes of
// dynamic shared memory and the bytes of its Params argument.
type Exec func(name string, grid, block [3]uint32, sharedMem uint32, params []byte) error

// Driver is the fake. Its exported fields configure it before use.
type Driver struct {
	InitResult cuda.Result // cuInit's result (e.g. cuda.ErrNoDevice)
	Devices    int         // device count (default 1; negative: none)
	Name       string      // device name (default "Fake GPU")
	Memory     uint64      // device memory capacity in bytes (default 1 GB)
	Versions   int         // cuDriverGetVersion (default 12040)
	CC         [2]int      // compute capability (default 9.0)
	LoadResult cuda.Result // cuModuleLoadDataEx's result, with LoadLog as the JIT log
	LoadLog    string
	Exec       Exec
	// ParamPointers is the number of leading 8-byte fields of a launch's
	// parameters that are device pointers (checked to be null or inside a
	// live allocation).
	ParamPointers int

	mu      sync.Mutex
	allocs  map[cuda.DevPtr][]uint64
	used    uint64
	peak    uint64
	calls   map[string]int
	fails   map[string]failure
	mods    map[cuda.Module]map[string]cuda.Function
	fnNames map[cuda.Function]string
	next    uintptr
	retains int
}

type failure struct {
	n int
	r cuda.Result
}

var _ cuda.Driver = (*Driver)(nil)

// FailAt makes the n-th call (counting from 1, from now on) of the driver
// function call (e.g. "cuMemAlloc", "cuLaunchKernel", "cuMemcpyDtoH") fail
// with r.
func (d *Driver) FailAt(call string, n int, r cuda.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	d.fails[call] = failure{n: d.calls[call] + n, r: r}
}

// Calls returns how many times the driver function call was made.
func (d *Driver) Calls(call string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[call]
}

// Live returns the number and total size of live allocations, and the peak size.
func (d *Driver) Live() (n int, bytes, peak uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.allocs), d.used, d.peak
}

// Retained returns the primary-context retain count.
func (d *Driver) Retained() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retains
}

func (d *Driver) init() {
	if d.calls == nil {
		d.calls, d.fails = map[string]int{}, map[string]failure{}
		d.allocs = map[cuda.DevPtr][]uint64{}
		d.mods, d.fnNames = map[cuda.Module]map[string]cuda.Function{}, map[cuda.Function]string{}
		d.next = 0x1000
	}
}

// enter counts a call and returns its injected failure, if any. d.mu is held.
func (d *Driver) enter(call, desc string) error {
	d.init()
	d.calls[call]++
	if f, ok := d.fails[call]; ok && f.n == d.calls[call] {
		delete(d.fails, call)
		return &cuda.Error{Call: desc, Code: f.r, Name: f.r.Name()}
	}
	return nil
}

func fail(desc string, r cuda.Result, detail string) error {
	return &cuda.Error{Call: desc, Code: r, Name: r.Name(), Detail: detail}
}

func (d *Driver) Init() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuInit", "cuInit"); err != nil {
		return err
	}
	if d.InitResult != cuda.Success {
		return fail("cuInit", d.InitResult, "")
	}
	return nil
}

func (d *Driver) Version() (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuDriverGetVersion", "cuDriverGetVersion"); err != nil {
		return 0, err
	}
	if d.Versions == 0 {
		return 12040, nil
	}
	return d.Versions, nil
}

func (d *Driver) devices() int {
	if d.Devices == 0 {
		return 1
	}
	return max(d.Devices, 0)
}

func (d *Driver) DeviceCount() (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuDeviceGetCount", "cuDeviceGetCount"); err != nil {
		return 0, err
	}
	return d.devices(), nil
}

func (d *Driver) DeviceGet(ordinal int) (cuda.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := fmt.Sprintf("cuDeviceGet(%d)", ordinal)
	if err := d.enter("cuDeviceGet", desc); err != nil {
		return 0, err
	}
	if ordinal < 0 || ordinal >= d.devices() {
		return 0, fail(desc, cuda.ErrInvalidDevice, "")
	}
	return cuda.Device(ordinal), nil
}

func (d *Driver) DeviceName(dev cuda.Device) (string, error) {
	if d.Name == "" {
		return "Fake GPU", nil
	}
	return d.Name, nil
}

func (d *Driver) DeviceAttribute(a cuda.Attribute, dev cuda.Device) (int, error) {
	cc := d.CC
	if cc == [2]int{} {
		cc = [2]int{9, 0}
	}
	switch a {
	case cuda.AttrComputeCapabilityMajor:
		return cc[0], nil
	case cuda.AttrComputeCapabilityMinor:
		return cc[1], nil
	case cuda.AttrMaxThreadsPerBlock:
		return 1024, nil
	case cuda.AttrMaxSharedMemPerBlock:
		return 48 << 10, nil
	case cuda.AttrMultiprocessorCount:
		return 4, nil
	}
	return 0, fail(fmt.Sprintf("cuDeviceGetAttribute(%d)", a), cuda.ErrInvalidValue, "")
}

func (d *Driver) capacity() uint64 {
	if d.Memory == 0 {
		return 1 << 30
	}
	return d.Memory
}

func (d *Driver) DeviceTotalMem(dev cuda.Device) (uint64, error) { return d.capacity(), nil }

func (d *Driver) PCIBusID(dev cuda.Device) (string, error) {
	return fmt.Sprintf("0000:%02x:00.0", int(dev)+1), nil
}

func (d *Driver) PrimaryCtxRetain(dev cuda.Device) (cuda.Context, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain"); err != nil {
		return 0, err
	}
	d.retains++
	return cuda.Context(0xc0 + uintptr(dev)), nil
}

func (d *Driver) PrimaryCtxRelease(dev cuda.Device) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.retains--
	return nil
}

func (d *Driver) SetCurrent(c cuda.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enter("cuCtxSetCurrent", "cuCtxSetCurrent")
}

func (d *Driver) MemGetInfo() (free, total uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuMemGetInfo", "cuMemGetInfo"); err != nil {
		return 0, 0, err
	}
	return d.capacity() - d.used, d.capacity(), nil
}

var entryRe = regexp.MustCompile(`\.entry (\w+)\(`)

// ModuleLoadData "loads" a PTX image: its .entry names become its functions.
func (d *Driver) ModuleLoadData(image []byte) (cuda.Module, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := fmt.Sprintf("cuModuleLoadDataEx(%s)", cuda.Bytes(uint64(len(image))))
	if err := d.enter("cuModuleLoadDataEx", desc); err != nil {
		return 0, err
	}
	if d.LoadResult != cuda.Success {
		e := fail(desc, d.LoadResult, "")
		if d.LoadLog != "" {
			e.(*cuda.Error).Detail = "JIT log: " + d.LoadLog
		}
		return 0, e
	}
	d.next += 0x100
	m := cuda.Module(d.next)
	fns := map[string]cuda.Function{}
	for _, e := range entryRe.FindAllSubmatch(image, -1) {
		d.next += 0x10
		fns[string(e[1])] = cuda.Function(d.next)
		d.fnNames[cuda.Function(d.next)] = string(e[1])
	}
	d.mods[m] = fns
	return m, nil
}

func (d *Driver) ModuleUnload(m cuda.Module) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.mods[m]; !ok {
		return fail("cuModuleUnload", cuda.ErrInvalidValue, "unknown module")
	}
	for _, f := range d.mods[m] {
		delete(d.fnNames, f)
	}
	delete(d.mods, m)
	return nil
}

// Modules returns the number of loaded modules.
func (d *Driver) Modules() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.mods)
}

func (d *Driver) ModuleGetFunction(m cuda.Module, name string) (cuda.Function, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := "cuModuleGetFunction(" + name + ")"
	if err := d.enter("cuModuleGetFunction", desc); err != nil {
		return 0, err
	}
	f, ok := d.mods[m][name]
	if !ok {
		return 0, fail(desc, cuda.ErrNotFound, "")
	}
	return f, nil
}

func (d *Driver) StreamCreate() (cuda.Stream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuStreamCreate", "cuStreamCreate"); err != nil {
		return 0, err
	}
	d.next += 0x10
	return cuda.Stream(d.next), nil
}

func (d *Driver) StreamDestroy(s cuda.Stream) error { return nil }

func (d *Driver) StreamSynchronize(s cuda.Stream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enter("cuStreamSynchronize", "cuStreamSynchronize")
}

func (d *Driver) MemAlloc(bytes uint64) (cuda.DevPtr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := "cuMemAlloc(" + cuda.Bytes(bytes) + ")"
	if err := d.enter("cuMemAlloc", desc); err != nil {
		return 0, err
	}
	if bytes == 0 {
		return 0, fail(desc, cuda.ErrInvalidValue, "")
	}
	if d.used+bytes > d.capacity() {
		return 0, fail(desc, cuda.ErrOutOfMemory, "out of memory")
	}
	buf := make([]uint64, (bytes+7)/8)
	p := cuda.DevPtr(uintptr(unsafe.Pointer(&buf[0])))
	d.allocs[p] = buf
	d.used += uint64(len(buf) * 8)
	d.peak = max(d.peak, d.used)
	return p, nil
}

func (d *Driver) MemFree(p cuda.DevPtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter("cuMemFree", "cuMemFree"); err != nil {
		return err
	}
	buf, ok := d.allocs[p]
	if !ok {
		return fail("cuMemFree", cuda.ErrInvalidValue, "not an allocation")
	}
	d.used -= uint64(len(buf) * 8)
	delete(d.allocs, p)
	return nil
}

// region returns the host bytes of [p, p+n) if they lie inside one live allocation.
func (d *Driver) region(p cuda.DevPtr, n uint64) ([]byte, bool) {
	for base, buf := range d.allocs {
		size := uint64(len(buf) * 8)
		if p >= base && uint64(p-base)+n <= size {
			off := uint64(p - base)
			all := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), size)
			return all[off : off+n], true
		}
	}
	return nil, false
}

func (d *Driver) MemcpyHtoD(p cuda.DevPtr, src unsafe.Pointer, bytes uint64, s cuda.Stream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := "cuMemcpyHtoDAsync(" + cuda.Bytes(bytes) + ")"
	if err := d.enter("cuMemcpyHtoD", desc); err != nil {
		return err
	}
	dst, ok := d.region(p, bytes)
	if !ok {
		return fail(desc, cuda.ErrInvalidValue, "destination outside any allocation")
	}
	copy(dst, unsafe.Slice((*byte)(src), bytes))
	return nil
}

func (d *Driver) MemcpyDtoH(dst unsafe.Pointer, p cuda.DevPtr, bytes uint64, s cuda.Stream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := "cuMemcpyDtoHAsync(" + cuda.Bytes(bytes) + ")"
	if err := d.enter("cuMemcpyDtoH", desc); err != nil {
		return err
	}
	src, ok := d.region(p, bytes)
	if !ok {
		return fail(desc, cuda.ErrInvalidValue, "source outside any allocation")
	}
	copy(unsafe.Slice((*byte)(dst), bytes), src)
	return nil
}

// Launch checks the launch (a loaded function, a block of at most 1024
// threads, at most 48 KB of shared memory, device pointers inside live
// allocations) and runs it with Exec.
func (d *Driver) Launch(f cuda.Function, grid, block [3]uint32, sharedMem uint32, s cuda.Stream, params []byte) error {
	d.mu.Lock()
	desc := fmt.Sprintf("cuLaunchKernel(grid %d, block %d)", grid[0], block[0])
	if err := d.enter("cuLaunchKernel", desc); err != nil {
		d.mu.Unlock()
		return err
	}
	name, ok := d.fnNames[f]
	if !ok {
		d.mu.Unlock()
		return fail(desc, cuda.ErrInvalidValue, "unknown function")
	}
	if block[0]*block[1]*block[2] > 1024 || sharedMem > 48<<10 {
		d.mu.Unlock()
		return fail(desc, cuda.ErrInvalidValue, "block or shared memory too large")
	}
	for k := 0; k < d.ParamPointers && 8*k+8 <= len(params); k++ {
		p := cuda.DevPtr(*(*uint64)(unsafe.Pointer(&params[8*k])))
		if _, in := d.region(p, 1); p != 0 && !in {
			d.mu.Unlock()
			return fail(desc, cuda.ErrInvalidValue, fmt.Sprintf("parameter %d (%#x) is not device memory", k, p))
		}
	}
	exec := d.Exec
	d.mu.Unlock()
	if exec == nil {
		return fail(desc, cuda.ErrLaunchFailed, "no executor")
	}
	if err := exec(name, grid, block, sharedMem, params); err != nil {
		return fail(desc, cuda.ErrLaunchFailed, err.Error())
	}
	return nil
}

// Functions returns the names of the functions of the loaded modules.
func (d *Driver) Functions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n []string
	for _, s := range d.fnNames {
		n = append(n, s)
	}
	sort.Strings(n)
	return n
}
