package cuda

import (
	"fmt"

	"github.com/libgeomloss/libgeomloss/core"
)

// Result is a CUresult.
type Result int32

// CUDA result codes the library distinguishes (the rest are named by the
// driver's cuGetErrorName, or by number).
const (
	Success             Result = 0
	ErrInvalidValue     Result = 1
	ErrOutOfMemory      Result = 2
	ErrNotInitialized   Result = 3
	ErrDeinitialized    Result = 4
	ErrNoDevice         Result = 100
	ErrInvalidDevice    Result = 101
	ErrInvalidImage     Result = 200
	ErrInvalidContext   Result = 201
	ErrNoBinaryForGPU   Result = 209
	ErrInvalidPTX       Result = 218
	ErrUnsupportedPTX   Result = 222
	ErrNotFound         Result = 500
	ErrLaunchOutOfRes   Result = 701
	ErrLaunchFailed     Result = 719
	ErrInsufficientDrv  Result = 35
	ErrSystemDrvMismtch Result = 803
)

var resultNames = map[Result]string{
	Success: "CUDA_SUCCESS", ErrInvalidValue: "CUDA_ERROR_INVALID_VALUE", ErrOutOfMemory: "CUDA_ERROR_OUT_OF_MEMORY",
	ErrNotInitialized: "CUDA_ERROR_NOT_INITIALIZED", ErrDeinitialized: "CUDA_ERROR_DEINITIALIZED",
	ErrNoDevice: "CUDA_ERROR_NO_DEVICE", ErrInvalidDevice: "CUDA_ERROR_INVALID_DEVICE",
	ErrInvalidImage: "CUDA_ERROR_INVALID_IMAGE", ErrInvalidContext: "CUDA_ERROR_INVALID_CONTEXT",
	ErrNoBinaryForGPU: "CUDA_ERROR_NO_BINARY_FOR_GPU", ErrInvalidPTX: "CUDA_ERROR_INVALID_PTX",
	ErrUnsupportedPTX: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", ErrNotFound: "CUDA_ERROR_NOT_FOUND",
	ErrLaunchOutOfRes: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", ErrLaunchFailed: "CUDA_ERROR_LAUNCH_FAILED",
	ErrInsufficientDrv: "CUDA_ERROR_INSUFFICIENT_DRIVER", ErrSystemDrvMismtch: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
}

// Name returns the CUDA_ERROR_* name of r from the library's table (the
// loaded driver's cuGetErrorName is preferred where it exists).
func (r Result) Name() string {
	if s, ok := resultNames[r]; ok {
		return s
	}
	return fmt.Sprintf("CUDA error %d", int(r))
}

// Error is a failed driver call: Call names it with its salient argument
// ("cuMemAlloc(1.2 GB)"), Code is the CUDA result, Name its CUDA_ERROR_*
// name and Detail the driver's description or the JIT log, if any.
type Error struct {
	Call   string
	Code   Result
	Name   string
	Detail string
}

func (e *Error) Error() string {
	s := e.Call + ": " + e.Name
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// AsCore converts err into the library's coded error: an out-of-memory
// CUDA error becomes ErrMemory, every other CUDA error ErrDevice; a
// *core.Error is returned as it is; nil stays nil.
func AsCore(err error) error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*core.Error); ok {
		return ce
	}
	if e, ok := err.(*Error); ok && e.Code == ErrOutOfMemory {
		return core.Errorf(core.ErrMemory, "gpu: %s", e)
	}
	return core.Errorf(core.ErrDevice, "gpu: %s", err)
}

// Bytes formats a size for error messages: "512 B", "3.4 MB", "1.2 GB".
func Bytes(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
