package core

// Config chooses how an evaluation runs.
type Config[T Float] struct {
	// Engine performs the online reductions; nil means the portable engine.
	Engine Engine[T]
	// Threads bounds the goroutines a reduction uses; ≤ 0 means all cores.
	Threads int
	// TensorizedCap bounds B·N·M for the tensorized backend (each cost matrix
	// entry is one element of T, and up to four matrices are stored); ≤ 0 means
	// DefaultTensorizedCap.
	TensorizedCap int64
}

// DefaultTensorizedCap is the default bound on B·N·M for the tensorized
// backend: 2^26 ≈ 6.7e7 entries, i.e. at most 4 matrices × 512 MiB in float64.
const DefaultTensorizedCap = 1 << 26

// Evaluate computes the loss par.Loss between the B pairs of measures of pr,
// and the outputs req asks for. It validates every input first and returns
// an *Error naming the bad argument; it never modifies pr.
func Evaluate[T Float](cfg Config[T], par Params, pr Problem[T], req Request[T]) (*Result[T], error) {
	panic("not yet")
}
