# The OT solver (geomloss_ot_solve_sample): GeomLoss 0.3.1's geomloss.ot with
# transport plans, included by GeomLoss.jl.

module _ABI
include("abi.jl")  # the generated constants (buffer keys, option keys)
end

"""
    OTSolution{T}

The solution of [`solve_sample`](@ref): `value` (the dual objective),
`value_linear` (⟨π, C⟩), `potential_a` / `potential_b` (f, g), `marginal_a`
/ `marginal_b` (π1, πᵀ1), `n_iter`, `marginal_error`, the problem, and
the plan the library kept (a handle, freed when the solution is garbage
collected, or by [`free_plan!`](@ref)), which [`plan_times`](@ref),
[`barycentric_map`](@ref) and [`transport_plan`](@ref) apply without
solving again. The plan is π_ij = a_i b_j exp((f_i + g_j − C_ij)/ε).
"""
struct OTSolution{T}
    value::T
    value_linear::T
    potential_a::Vector{T}
    potential_b::Vector{T}
    marginal_a::Vector{T}
    marginal_b::Vector{T}
    n_iter::Int
    marginal_error::T
    x::Matrix{T}
    y::Matrix{T}
    a::Union{Nothing,Vector{T}}
    b::Union{Nothing,Vector{T}}
    options::NamedTuple
    plan::Any  # a _PlanHandle
end

# A plan kept by the library (geomloss_ot_solve_sample_plan): its handle, freed
# once (geomloss_plan_free) by the finalizer or free_plan!.
mutable struct _PlanHandle
    h::UInt64
    function _PlanHandle(h::UInt64)
        p = new(h)
        finalizer(_free_handle!, p)
        return p
    end
end

function _free_handle!(p::_PlanHandle)
    if p.h != 0
        ccall(_sym(:geomloss_plan_free), Cint, (UInt64,), p.h)
        p.h = 0
    end
    return nothing
end

"""
    free_plan!(sol::OTSolution)

Frees the plan the library keeps for `sol` now (otherwise done when `sol` is
garbage collected); [`plan_times`](@ref) and the others refuse it afterwards.
"""
free_plan!(sol::OTSolution) = _free_handle!(sol.plan)

# geomloss_plan_eval on the plan of sol: the outputs of outs, from v or u.
function _plan_eval(sol::OTSolution{T}, outs::Dict{Cint,Array{T}}; v = nothing, u = nothing) where {T}
    p = sol.plan::_PlanHandle
    p.h == 0 && throw(GeomLossError(:invalid_argument, "plan: the solution's plan was freed (free_plan!)"))
    bufs = ccall(_sym(:geomloss_buffers_create), Ptr{Cvoid}, ())
    bufs == C_NULL && throw(GeomLossError(:memory, _last_error()))
    ins = Dict{Cint,Any}()
    v === nothing || (ins[_ABI.BUF_V] = v)
    u === nothing || (ins[_ABI.BUF_U] = u)
    try
        GC.@preserve ins outs p begin
            for d in (ins, outs), (k, arr) in d
                _check(ccall(_sym(:geomloss_buffers_set), Cint, (Ptr{Cvoid}, Cint, Ptr{Cvoid}, Int64),
                             bufs, k, pointer(arr), length(arr)))
            end
            _check(ccall(_sym(:geomloss_plan_eval), Cint, (UInt64, Ptr{Cvoid}), p.h, bufs))
        end
    finally
        ccall(_sym(:geomloss_buffers_destroy), Cvoid, (Ptr{Cvoid},), bufs)
    end
    return outs
end

function _ot_call(::Type{T}, x::Matrix{T}, y::Matrix{T}, a, b, opts::NamedTuple, outs::Dict{Cint,Array{T}};
                  v = nothing, u = nothing, keep::Bool = false) where {T}
    D, N = size(x)
    M = size(y, 2)
    opt = _make_ot_options(; opts...)
    bufs = ccall(_sym(:geomloss_buffers_create), Ptr{Cvoid}, ())
    bufs == C_NULL && (ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt);
                       throw(GeomLossError(:memory, _last_error())))
    ins = Dict{Cint,Any}(_ABI.BUF_X => x, _ABI.BUF_Y => y)
    a === nothing || (ins[_ABI.BUF_A] = a)
    b === nothing || (ins[_ABI.BUF_B] = b)
    v === nothing || (ins[_ABI.BUF_V] = v)
    u === nothing || (ins[_ABI.BUF_U] = u)
    handle = Ref{UInt64}(0)
    try
        GC.@preserve ins outs begin
            for d in (ins, outs), (k, arr) in d
                _check(ccall(_sym(:geomloss_buffers_set), Cint, (Ptr{Cvoid}, Cint, Ptr{Cvoid}, Int64),
                             bufs, k, pointer(arr), length(arr)))
            end
            dt = T === Float32 ? _ABI.F32 : _ABI.F64
            if keep
                _check(ccall(_sym(:geomloss_ot_solve_sample_plan), Cint,
                             (Ptr{Cvoid}, Cint, Int64, Int64, Int64, Ptr{Cvoid}, Ptr{UInt64}),
                             opt, dt, N, M, D, bufs, handle))
            else
                _check(ccall(_sym(:geomloss_ot_solve_sample), Cint, (Ptr{Cvoid}, Cint, Int64, Int64, Int64, Ptr{Cvoid}),
                             opt, dt, N, M, D, bufs))
            end
        end
    finally
        ccall(_sym(:geomloss_buffers_destroy), Cvoid, (Ptr{Cvoid},), bufs)
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
    end
    return keep ? _PlanHandle(handle[]) : outs
end

function _make_ot_options(; cost = :sqeuclidean, q = nothing, reg = nothing, blur = nothing, unbalanced = nothing,
                          reach = nothing, debias = false, tol = nothing, max_iter = nothing,
                          scaling = nothing, diameter = nothing, backend = nothing, threads = 0)
    opt = ccall(_sym(:geomloss_options_create), Ptr{Cvoid}, ())
    opt == C_NULL && throw(GeomLossError(:memory, _last_error()))
    try
        _set_string(opt, _ABI.OPT_COST, "cost", cost)
        q === nothing || _set_double(opt, _ABI.OPT_Q, "q", q)
        reg === nothing || _set_double(opt, _ABI.OPT_REG, "reg", reg)
        blur === nothing || _set_double(opt, OPT_BLUR, "blur", blur)
        unbalanced === nothing || _set_double(opt, _ABI.OPT_UNBALANCED, "unbalanced", unbalanced)
        reach === nothing || _set_double(opt, OPT_REACH, "reach", reach)
        debias isa Bool || throw(GeomLossError(:invalid_option, "debias: expected true or false, got $(repr(debias))"))
        _set_int(opt, OPT_DEBIAS, "debias", debias)
        tol === nothing || _set_double(opt, _ABI.OPT_TOL, "tol", tol)
        max_iter === nothing || _set_int(opt, _ABI.OPT_MAX_ITER, "max_iter", max_iter)
        scaling === nothing || _set_double(opt, OPT_SCALING, "scaling", scaling)
        diameter === nothing || _set_double(opt, OPT_DIAMETER, "diameter", diameter)
        backend === nothing || _set_string(opt, OPT_BACKEND, "backend", backend)
        _set_int(opt, OPT_THREADS, "threads", threads === nothing ? 0 : threads)
    catch
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
        rethrow()
    end
    return opt
end

"""
    solve_sample(x, y; a = nothing, b = nothing, cost = :sqeuclidean, reg = nothing, blur = nothing,
                 unbalanced = nothing, reach = nothing, debias = false, tol = nothing,
                 max_iter = nothing, scaling = nothing, diameter = nothing, backend = nothing,
                 threads = 0) -> OTSolution

Entropic optimal transport between the points `x` (D×N, one column per
point) with weights `a` and `y` (D×M) with weights `b` (`nothing`: uniform),
as GeomLoss 0.3.1's `ot.solve_sample`. `cost` is `:sqeuclidean` (|x−y|², no
½), `:euclidean`, `:halfsqeuclidean`, or `:power` with `q ≥ 1` (|x−y|^q/q);
`reg` is ε in units of the cost (default from `blur`, 0.05: ε = 2·blur² for
sqeuclidean, blur^q for power); `unbalanced` is ρ.
`tol` continues the Sinkhorn loop until the marginal error is below it (at
most `max_iter` more iterations). `backend` is `:auto` (online), `:online`,
`:tensorized` or `:multiscale` (the solve on the multiscale geometry, for the
euclidean and squared costs; its plan products run over the block pairs the
final potentials keep, with the dropped mass bounded in `last_run().note`).
"""
function solve_sample(x::AbstractMatrix, y::AbstractMatrix; a = nothing, b = nothing, options...)
    T = _eltype(x, y)
    X, Y = _dense(T, x), _dense(T, y)
    size(X, 1) == size(Y, 1) ||
        throw(GeomLossError(:shape, "y has $(size(Y, 1)) rows (dimensions) but x has $(size(X, 1))"))
    A = a === nothing ? nothing : Vector{T}(vec(a))
    B = b === nothing ? nothing : Vector{T}(vec(b))
    N, M = size(X, 2), size(Y, 2)
    opts = (; options...)
    outs = Dict{Cint,Array{T}}(_ABI.BUF_VALUE => zeros(T, 1), _ABI.BUF_VALUE_LINEAR => zeros(T, 1),
                               _ABI.BUF_F => zeros(T, N), _ABI.BUF_G => zeros(T, M),
                               _ABI.BUF_MARGINAL_A => zeros(T, N), _ABI.BUF_MARGINAL_B => zeros(T, M),
                               _ABI.BUF_N_ITER => zeros(T, 1), _ABI.BUF_MARGINAL_ERROR => zeros(T, 1))
    plan = _ot_call(T, X, Y, A, B, opts, outs; keep = true)
    o(k) = outs[k]
    return OTSolution{T}(o(_ABI.BUF_VALUE)[1], o(_ABI.BUF_VALUE_LINEAR)[1], o(_ABI.BUF_F), o(_ABI.BUF_G),
                         o(_ABI.BUF_MARGINAL_A), o(_ABI.BUF_MARGINAL_B), Int(o(_ABI.BUF_N_ITER)[1]),
                         o(_ABI.BUF_MARGINAL_ERROR)[1], copy(X), copy(Y), A, B, opts, plan)
end

"""
    plan_times(sol::OTSolution, V; transpose = false)

The product πV of the plan of `sol` with `V` (a vector of length M or an
M×K matrix), or πᵀU with `transpose = true` (U of length N or N×K), computed
by the library's streaming reductions over the plan it kept (never stored
densely, no new solve; equal bit for bit to the solve call's own output).
"""
function plan_times(sol::OTSolution{T}, V::AbstractVecOrMat; transpose::Bool = false) where {T}
    N, M = length(sol.potential_a), length(sol.potential_b)
    rows = transpose ? N : M
    size(V, 1) == rows || throw(GeomLossError(:shape, "plan_times: V has $(size(V, 1)) rows, want $rows"))
    K = size(V, 2)
    W = Matrix{T}(permutedims(reshape(V, rows, K)))  # K×rows column-major = rows×K row-major
    outrows = transpose ? M : N
    key = transpose ? _ABI.BUF_PLAN_T_U : _ABI.BUF_PLAN_V
    outs = Dict{Cint,Array{T}}(key => zeros(T, K, outrows))
    if transpose
        _plan_eval(sol, outs; u = W)
    else
        _plan_eval(sol, outs; v = W)
    end
    R = permutedims(outs[key])
    return V isa AbstractVector ? vec(R) : R
end

"""
    barycentric_map(sol::OTSolution; direction = :a_to_b) -> Matrix

The barycentric map of the plan: `:a_to_b` gives the D×N points
(πy)_i/(π1)_i, `:b_to_a` the D×M points (πᵀx)_j/(πᵀ1)_j.
"""
function barycentric_map(sol::OTSolution{T}; direction::Symbol = :a_to_b) where {T}
    D = size(sol.x, 1)
    key, n = direction === :a_to_b ? (_ABI.BUF_A_TO_B, size(sol.x, 2)) :
             direction === :b_to_a ? (_ABI.BUF_B_TO_A, size(sol.y, 2)) :
             throw(GeomLossError(:invalid_argument, "direction: want :a_to_b or :b_to_a, got $(repr(direction))"))
    outs = Dict{Cint,Array{T}}(key => zeros(T, D, n))
    _plan_eval(sol, outs)
    return outs[key]
end

"""
    transport_plan(sol::OTSolution) -> Matrix

The dense N×M plan π (refused over 2^26 entries).
"""
function transport_plan(sol::OTSolution{T}) where {T}
    N, M = length(sol.potential_a), length(sol.potential_b)
    outs = Dict{Cint,Array{T}}(_ABI.BUF_PLAN => zeros(T, M, N))
    _plan_eval(sol, outs)
    return permutedims(outs[_ABI.BUF_PLAN])
end
