package core

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// PanicError converts a recovered panic value into an ErrInternal error
// whose message has the panic value, then where it happened: the frames
// below the panic, innermost first. Call it in the deferred function that
// recovers.
func PanicError(v any) error {
	return errorf(ErrInternal, "internal error: panic: %v%s", v, panicSite())
}

// panicSite lists up to 8 frames of the panicking goroutine below
// runtime.gopanic. (Not debug.Stack: its argument dump reads stack words
// that memcheck rightly calls uninitialised.)
func panicSite() string {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	s, found, n := "", false, 0
	for {
		f, more := frames.Next()
		if found && n < 8 && !strings.HasPrefix(f.Function, "runtime.") {
			s += fmt.Sprintf("\n  at %s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
			n++
		}
		if f.Function == "runtime.gopanic" || f.Function == "runtime.panicmem" || f.Function == "runtime.sigpanic" {
			found = true
		}
		if !more {
			break
		}
	}
	return s
}
