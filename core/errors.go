package core

import "fmt"

// Code classifies an error. Its values are the C ABI's status codes
// (include/geomloss.h; codes 8 and 9, NULL pointer and size, exist only there).
type Code int

const (
	// ErrInvalidArgument: a missing or malformed argument (NULL pointer, bad size).
	ErrInvalidArgument Code = 1
	// ErrInvalidOption: an option out of range or unknown.
	ErrInvalidOption Code = 2
	// ErrShape: sizes that do not agree (e.g. "y has 4 columns but x has 3").
	ErrShape Code = 3
	// ErrValue: bad numbers (non-finite coordinates, negative or all-zero weights, unequal masses).
	ErrValue Code = 4
	// ErrMemory: the problem exceeds a documented memory cap, or an engine ran out of memory.
	ErrMemory Code = 5
	// ErrUnsupported: a valid request this build cannot serve.
	ErrUnsupported Code = 6
	// ErrInternal: a bug; the message says where.
	ErrInternal Code = 7
	// ErrCancelled: the progress callback asked to stop.
	ErrCancelled Code = 10
	// ErrDevice: a device (GPU) failed: launch failure, lost context, driver error.
	ErrDevice Code = 11
)

// Error is the library's error: a Code and a message naming the argument.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func errorf(code Code, format string, a ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Errorf returns an *Error with the given code and formatted message (for
// engines and backends outside package core).
func Errorf(code Code, format string, a ...any) error { return errorf(code, format, a...) }

// Cancelled is the error of a cancelled evaluation.
func Cancelled() error { return errorf(ErrCancelled, "cancelled by the progress callback") }
