// Package core holds the maths of libgeomloss — GeomLoss's SamplesLoss
// (ALGORITHMS.md, kept in docs/algorithms.md: every "§" in this package
// refers to it) — written against small reduction interfaces, in layers
// whose imports run one way:
//
//   - Inputs: Params (GeomLoss's parameters, validated by Params.Validate),
//     Problem and Request (validated once, by Problem.validate: the C ABI
//     checks only pointers and counts), Result, and Error with its Codes
//     (errors.go), which are the C ABI's status codes.
//   - Reductions (reduce.go): a Pair reduces, for every point x_i of one
//     cloud, over the points y_j of another — the soft-min
//     −ε·LSE_j(h_j − C(x_i, y_j)/ε) with its soft-max weighted cost gradient,
//     and kernel sums — fallibly (out of memory, device failure,
//     cancellation) and releasably (Close). An Engine builds Pairs on its
//     hardware (Resources: threads and a Stop flag); optional capabilities
//     are small interfaces: DenseEngine (stored distance matrices),
//     BlockSparseEngine (cluster-pair Ranges), DensePreferrer. Engines
//     register with RegisterEngine and NewEngine picks one for a Device; the
//     portable Go engine (portable.go) is always there and is the
//     conformance oracle (package enginetest holds the suite every engine
//     passes).
//   - Geometries (geometry.go): the scales a Sinkhorn solve runs on (their
//     log-weights and Pairs), with the coarse→fine jumps and extrapolation.
//     Backends build them over any engine (backend.go): tensorized and
//     online are one scale (singlescale.go) of dense or streamed Pairs.
//   - The solver (solver.go): the symmetric ε-scaling loop of §3 over a
//     geometry, with the schedule of §2.2 (schedule.go), returning the duals.
//   - Losses: Sinkhorn (sinkhorn.go: final extrapolation step, value of
//     §3.1, closed-form gradients of §7.1), Hausdorff (hausdorff.go, §5.4,
//     exact gradients) and kernel norms (kernel.go, §5.1–5.2, §7.6), each
//     deriving its outputs from the potentials on the finest scale.
//   - Evaluate (evaluate.go) ties them together: validation, engine and
//     backend choice, the batch (items spread over the cores when B is at
//     least the number of threads), progress relayed on the caller's
//     goroutine with a heartbeat and cancellation (progress.go), and a final
//     check that every output is finite.
//
// Results are deterministic bit for bit: they do not depend on the thread
// count, on how the batch is spread, or on whether gradients are asked for.
package core
