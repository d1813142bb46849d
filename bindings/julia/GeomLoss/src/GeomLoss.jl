"""
    GeomLoss

Geometric losses between weighted point clouds — Sinkhorn divergences,
Hausdorff divergences and kernel norms (energy, gaussian, laplacian MMDs) —
with their gradients, in `Float32` or `Float64`, computed by `libgeomloss`
(a reimplementation of the GeomLoss Python library's `SamplesLoss`) through
its C ABI.

Point clouds are `D×N` matrices: one column per point. In memory this is
exactly the `N×D` row-major layout the library reads, so arrays are passed to
it without a copy. A batch of `B` independent problems is a `D×N×B` array,
with weights `N×B`.

The shared library is found through `ENV["GEOMLOSS_LIBRARY"]` (a path to
`libgeomloss.so`), else in the checkout this package lives in
(`dist/lib/libgeomloss.so`, built by `make lib`).

Exported: [`samples_loss`](@ref), [`samples_loss_with_gradients`](@ref),
[`potentials`](@ref), [`GeomLossError`](@ref); the OT solver
[`solve_sample`](@ref), [`plan_times`](@ref), [`barycentric_map`](@ref),
[`transport_plan`](@ref) (GeomLoss 0.3.1's `geomloss.ot`); for images and volumes
[`images_loss`](@ref), [`volumes_loss`](@ref), [`images_barycenter`](@ref),
[`images_barycenter_with_gradients`](@ref). Also public (not exported):
[`GeomLoss.potentials_with_gradients`](@ref),
[`GeomLoss.images_potentials_with_gradients`](@ref),
[`GeomLoss.volumes_potentials_with_gradients`](@ref), [`GeomLoss.last_run`](@ref),
[`GeomLoss.library_version`](@ref), [`GeomLoss.library_path`](@ref).
"""
module GeomLoss

using Libdl

export samples_loss, samples_loss_with_gradients, potentials, GeomLossError
export solve_sample, plan_times, barycentric_map, transport_plan, OTSolution
export images_loss, volumes_loss, images_barycenter, images_barycenter_with_gradients

# ---------------------------------------------------------------------------
# Errors

# The ABI's constants (statuses, option keys, value names, buffer keys),
# generated from include/geomloss.h by capi/internal/abigen.
include("abi.jl")

const STATUS_CODES = Dict{Symbol,Int}(v => k for (k, v) in STATUS_NAMES)

"""
    GeomLossError(status, code, msg)

An error reported by libgeomloss (or by this binding's own checks of the same
kind, e.g. shapes the C ABI cannot see). `status` is the C status code
(`GEOMLOSS_ERR_*`), `code` its name as a `Symbol` (`:shape`, `:value`,
`:invalid_option`, `:size`, `:memory`, `:unsupported`, `:internal`, `:cancelled`
(the progress function threw: the exception is rethrown instead), `:device`), and
`msg` the library's message naming the argument and the problem.
"""
struct GeomLossError <: Exception
    status::Int
    code::Symbol
    msg::String
end

GeomLossError(code::Symbol, msg::AbstractString) = GeomLossError(get(STATUS_CODES, code, 0), code, String(msg))

Base.showerror(io::IO, e::GeomLossError) = print(io, "GeomLossError (", e.code, "): ", e.msg)

# ---------------------------------------------------------------------------
# The shared library

"""
    GeomLoss.library_path() -> String

The path of the `libgeomloss.so` this package uses: `ENV["GEOMLOSS_LIBRARY"]`
when set and non-empty, else `dist/lib/libgeomloss.so` in the checkout that
contains this package.
"""
function library_path()
    p = get(ENV, "GEOMLOSS_LIBRARY", "")
    isempty(p) || return p
    return normpath(joinpath(@__DIR__, "..", "..", "..", "..", "dist", "lib", "libgeomloss.so"))
end

const _lock = ReentrantLock()
const _handle = Ref{Ptr{Cvoid}}(C_NULL)
const _loaded_path = Ref{String}("")
const _symbols = Dict{Symbol,Ptr{Cvoid}}()

function _load()
    lock(_lock) do
        _handle[] != C_NULL && return _handle[]
        path = library_path()
        # Check first: a clear message beats dlopen's.
        if !isfile(path)
            throw(ErrorException("libgeomloss not found at $path: build it with `make lib` " *
                                 "in the repository root, or set ENV[\"GEOMLOSS_LIBRARY\"] to its path"))
        end
        h, err = _dlopen(path)
        if h == C_NULL
            hint = occursin("static TLS", err) ?
                " (the library needs more static TLS than glibc reserves for dlopen; as a workaround start julia with " *
                "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536)" : ""
            throw(ErrorException("libgeomloss at $path could not be loaded: $err$hint"))
        end
        _resolve_all(h, path)
        _loaded_path[] = path
        _handle[] = h
        return h
    end
end

# dlopen with the system's message on failure (Libdl.dlopen loses it).
function _dlopen(path::String)
    h = ccall(cglobal(:dlopen), Ptr{Cvoid}, (Cstring, Cint), path, Libdl.RTLD_NOW | Libdl.RTLD_LOCAL)
    h != C_NULL && return h, ""
    m = ccall(cglobal(:dlerror), Ptr{UInt8}, ())
    return h, m == C_NULL ? "dlopen failed" : unsafe_string(m)
end

# Every symbol this module calls, resolved once when the library is loaded (so
# that _symbols is never written after the handle is published).
const _SYMBOLS = (:geomloss_version, :geomloss_last_error, :geomloss_last_backend, :geomloss_last_device,
                  :geomloss_last_engine, :geomloss_last_note, :geomloss_options_create,
                  :geomloss_options_destroy, :geomloss_options_set_int, :geomloss_options_set_double,
                  :geomloss_options_set_string, :geomloss_options_set_progress, :geomloss_eval,
                  :geomloss_buffers_create, :geomloss_buffers_destroy,
                  :geomloss_buffers_set, :geomloss_ot_solve_sample, :geomloss_eval_grid,
                  :geomloss_images_barycenter, :geomloss_ot_solve_sample_plan, :geomloss_plan_eval,
                  :geomloss_plan_free)

function _resolve_all(h::Ptr{Cvoid}, path)
    for name in _SYMBOLS
        p = Libdl.dlsym(h, name; throw_error = false)
        p === nothing && throw(ErrorException("libgeomloss at $path has no symbol $name (too old?)"))
        _symbols[name] = p
    end
end

_sym(name::Symbol) = (_handle[] == C_NULL && _load(); _symbols[name])

"""
    GeomLoss.library_version() -> VersionNumber

The version of the loaded libgeomloss (`geomloss_version()`).
"""
library_version() = VersionNumber(unsafe_string(ccall(_sym(:geomloss_version), Cstring, ())))

_last_error() = unsafe_string(ccall(_sym(:geomloss_last_error), Cstring, ()))

function _check(status::Integer)
    status == 0 && return nothing
    throw(GeomLossError(Int(status), get(STATUS_NAMES, Int(status), :unknown), _last_error()))
end

"""
    GeomLoss.last_run() -> NamedTuple{(:backend, :device, :engine, :note)}

What actually ran in the last successful evaluation made on the current
thread: the backend (`:tensorized` or `:online`; `:auto` and `:multiscale` are
resolved), the device (`:cpu`, `:gpu`), the reduction engine's name (e.g.
`"portable"`) and a note explaining a substitution (or `""`). The fields are
`nothing`/`""` after a failed evaluation.
"""
function last_run()
    b = ccall(_sym(:geomloss_last_backend), Cint, ())
    d = ccall(_sym(:geomloss_last_device), Cint, ())
    e = unsafe_string(ccall(_sym(:geomloss_last_engine), Cstring, ()))
    n = unsafe_string(ccall(_sym(:geomloss_last_note), Cstring, ()))
    return (backend = get(BACKEND_NAMES, b, nothing), device = get(DEVICE_NAMES, d, nothing), engine = e, note = n)
end

# ---------------------------------------------------------------------------
# Options

_name(v::Union{Symbol,AbstractString}) = String(v)
_name(v) = throw(GeomLossError(:invalid_option, "expected a Symbol or String, got $(repr(v))"))

function _set_string(opt, key, what, v)
    _check(ccall(_sym(:geomloss_options_set_string), Cint, (Ptr{Cvoid}, Cint, Cstring), opt, key, _name(v)))
end

function _set_double(opt, key, what, v)
    v isa Real || throw(GeomLossError(:invalid_option, "$what: expected a real number, got $(repr(v))"))
    _check(ccall(_sym(:geomloss_options_set_double), Cint, (Ptr{Cvoid}, Cint, Cdouble), opt, key, Float64(v)))
end

function _set_int(opt, key, what, v)
    if v isa Bool
        v = Int(v)
    end
    (v isa Real && isfinite(v) && isinteger(v) && typemin(Int64) <= v <= typemax(Int64)) ||
        throw(GeomLossError(:invalid_option, "$what: expected an integer, got $(repr(v))"))
    _check(ccall(_sym(:geomloss_options_set_int), Cint, (Ptr{Cvoid}, Cint, Int64), opt, key, Int64(v)))
end

# Progress reporting: the callback gets a pointer to this box as user data.
mutable struct _ProgressBox
    f::Any
    err::Any
end

# An exception in the user's function cancels the evaluation (a non-zero
# return: the library stops and returns GEOMLOSS_ERR_CANCELLED) and is
# rethrown after it returns.
function _progress_trampoline(stage::Cstring, iter::Int64, total::Int64, ud::Ptr{Cvoid})::Cint
    box = unsafe_pointer_to_objref(ud)::_ProgressBox
    box.err === nothing || return Cint(1)
    try
        box.f(unsafe_string(stage), Int(iter), Int(total))
    catch e
        # Never unwind through the library: remember and rethrow after it returns.
        box.err = (e, catch_backtrace())
        return Cint(1)
    end
    return Cint(0)
end

function _make_options(; loss = :sinkhorn, p = 2, blur = 0.05, reach = nothing, diameter = nothing,
                       scaling = 0.5, truncate = 5, cluster_scale = nothing, debias = true,
                       backend = :auto, threads = 0, device = :auto)
    opt = ccall(_sym(:geomloss_options_create), Ptr{Cvoid}, ())
    opt == C_NULL && throw(GeomLossError(:memory, _last_error()))
    try
        _set_string(opt, OPT_LOSS, "loss", loss)
        _set_int(opt, OPT_P, "p", p)
        _set_double(opt, OPT_BLUR, "blur", blur)
        reach === nothing || _set_double(opt, OPT_REACH, "reach", reach)
        diameter === nothing || _set_double(opt, OPT_DIAMETER, "diameter", diameter)
        _set_double(opt, OPT_SCALING, "scaling", scaling)
        _set_double(opt, OPT_TRUNCATE, "truncate", truncate === nothing ? Inf : truncate)
        cluster_scale === nothing || _set_double(opt, OPT_CLUSTER_SCALE, "cluster_scale", cluster_scale)
        debias isa Bool || throw(GeomLossError(:invalid_option, "debias: expected true or false, got $(repr(debias))"))
        _set_int(opt, OPT_DEBIAS, "debias", debias)
        _set_string(opt, OPT_BACKEND, "backend", backend)
        _set_int(opt, OPT_THREADS, "threads", threads === nothing ? 0 : threads)
        _set_string(opt, OPT_DEVICE, "device", device)
    catch
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
        rethrow()
    end
    return opt
end

# ---------------------------------------------------------------------------
# Shapes and element types

# The element type of the computation: Float32 when both clouds are Float32,
# else Float64 (integers, Float16, mixed Float32/Float64, ... are converted).
_eltype(x, y) = (eltype(x) === Float32 && eltype(y) === Float32) ? Float32 : Float64

# A dense Array{T} with the same shape: the array itself when it already is one
# (no copy), else a converted copy (views, adjoints, other element types).
_dense(::Type{T}, x::Array{T}) where {T} = x
_dense(::Type{T}, x::AbstractArray) where {T} = Array{T}(x)
_dense(::Type{T}, ::Nothing) where {T} = nothing

_shape_error(msg) = throw(GeomLossError(:shape, msg))

function _check_real(name, v)
    v === nothing && return
    v isa AbstractArray || throw(GeomLossError(:invalid_argument, "$name: expected an array, got $(typeof(v))"))
    eltype(v) <: Real || throw(GeomLossError(:invalid_argument, "$name: expected real numbers, got elements of type $(eltype(v))"))
end

# Sizes (B, N, M, D) and whether the problem is batched, checking the shapes
# the C ABI cannot see (it receives bare pointers).
function _sizes(x, y, a, b)
    _check_real("x", x)
    _check_real("y", y)
    _check_real("a", a)
    _check_real("b", b)
    nd = ndims(x)
    (nd == 2 || nd == 3) || _shape_error("x must be a D×N matrix or a D×N×B array, got $(nd) dimensions")
    ndims(y) == nd || _shape_error("y has $(ndims(y)) dimensions but x has $nd (both D×N matrices, or both D×N×B batches)")
    D, N = size(x, 1), size(x, 2)
    M = size(y, 2)
    size(y, 1) == D || _shape_error("y has $(size(y, 1)) coordinates per point (rows) but x has $D")
    batched = nd == 3
    B = batched ? size(x, 3) : 1
    if batched && size(y, 3) != B
        _shape_error("y has $(size(y, 3)) batch items but x has $B")
    end
    for (name, w, n, cloud) in (("a", a, N, "x"), ("b", b, M, "y"))
        w === nothing && continue
        if batched
            (ndims(w) == 2 && size(w) == (n, B)) ||
                _shape_error("$name has size $(size(w)) but $cloud needs $n×$B weights (N×B for a D×N×B batch)")
        else
            (ndims(w) == 1 && length(w) == n) ||
                _shape_error("$name has size $(size(w)) but $cloud has $n points (a vector of length $n)")
        end
    end
    return B, N, M, D, batched
end

# Cluster labels: `nothing`, or a copy as Int64 (the C ABI's int64_t) of a
# vector of N integers (an N×B matrix for a batch), checked here since the
# ABI sees bare pointers.
_labels(name, l::Nothing, n, cloud, B, batched) = nothing
function _labels(name, l, n, cloud, B, batched)
    (l isa AbstractArray && eltype(l) <: Integer && !(eltype(l) <: Bool)) ||
        throw(GeomLossError(:invalid_argument, "$name (cluster labels of $cloud): must be an array of integers, got " *
                            (l isa AbstractArray ? "elements of type $(eltype(l))" : "a $(typeof(l))")))
    if batched
        (ndims(l) == 2 && size(l) == (n, B)) ||
            _shape_error("$name has size $(size(l)) but $cloud needs $n×$B labels (N×B for a D×N×B batch)")
    else
        (ndims(l) == 1 && length(l) == n) ||
            _shape_error("$name has size $(size(l)) but $cloud has $n points (a vector of length $n)")
    end
    return Array{Int64}(l) # a copy: the caller's array is never passed on
end

# One geomloss_eval: the arrays in bufs (key => array; `nothing` = not set).
# Returns the status (checked by the caller, after the progress function's
# own exception).
function _ccall_eval(opt::Ptr{Cvoid}, ::Type{T}, B, N, M, D, arrays) where {T}
    bufs = ccall(_sym(:geomloss_buffers_create), Ptr{Cvoid}, ())
    bufs == C_NULL && throw(GeomLossError(:memory, _last_error()))
    try
        GC.@preserve arrays begin
            for (k, arr) in arrays
                arr === nothing && continue
                _check(ccall(_sym(:geomloss_buffers_set), Cint, (Ptr{Cvoid}, Cint, Ptr{Cvoid}, Int64),
                             bufs, k, pointer(arr), length(arr)))
            end
            return ccall(_sym(:geomloss_eval), Cint, (Ptr{Cvoid}, Cint, Int64, Int64, Int64, Int64, Ptr{Cvoid}),
                         opt, T === Float32 ? _ABI.F32 : _ABI.F64, B, N, M, D, bufs)
        end
    finally
        ccall(_sym(:geomloss_buffers_destroy), Cvoid, (Ptr{Cvoid},), bufs)
    end
end

_cot(::Type{T}, ::Nothing, dims...) where {T} = nothing
function _cot(::Type{T}, c::Real, B::Int) where {T}
    return fill(T(c), B)
end
function _cot(::Type{T}, c::AbstractArray, dims...) where {T}
    length(c) == prod(dims) || _shape_error("a cotangent has $(length(c)) elements but $(prod(dims)) are needed (size $(dims))")
    eltype(c) <: Real || throw(GeomLossError(:invalid_argument, "a cotangent must hold real numbers, got elements of type $(eltype(c))"))
    return _dense(T, c)
end
# Anything else (a scalar where per-point cotangents are needed, a string...)
# is the caller's error, reported as such rather than as a MethodError.
_cot(::Type{T}, c, dims...) where {T} =
    throw(GeomLossError(:invalid_argument, "a cotangent of size $(dims) must be an array of real numbers, got a $(typeof(c))"))

# The one entry point: evaluates and returns every output asked for.
function _evaluate(x, y, a, b; want_F = false, want_G = false, want = (), cot_value = nothing,
                   cot_F = nothing, cot_G = nothing, progress = nothing, labels_x = nothing,
                   labels_y = nothing, options...)
    B, N, M, D, batched = _sizes(x, y, a, b)
    (labels_x === nothing) == (labels_y === nothing) ||
        throw(GeomLossError(:invalid_argument, "labels_x, labels_y: give the cluster labels of both x and y, or neither"))
    lx = _labels("labels_x", labels_x, N, "x", B, batched)
    ly = _labels("labels_y", labels_y, M, "y", B, batched)
    T = _eltype(x, y)
    xd, yd = _dense(T, x), _dense(T, y)
    ad, bd = _dense(T, a), _dense(T, b)
    cv = _cot(T, cot_value, B)
    cF = _cot(T, cot_F, N, B)
    cG = _cot(T, cot_G, M, B)
    want isa Symbol && (want = (want,))
    for w in want
        w in (:x, :y, :a, :b) || throw(GeomLossError(:invalid_argument, "wrt: unknown input $(repr(w)) (want :x, :y, :a or :b)"))
    end
    vshape = batched ? (N, B) : (N,)
    wshape = batched ? (M, B) : (M,)
    value = Vector{T}(undef, B)
    F = want_F ? Array{T}(undef, vshape) : nothing
    G = want_G ? Array{T}(undef, wshape) : nothing
    gx = :x in want ? Array{T}(undef, size(xd)) : nothing
    gy = :y in want ? Array{T}(undef, size(yd)) : nothing
    # No gradient for weights that were not given (uniform weights are not an input).
    ga = (:a in want && a !== nothing) ? Array{T}(undef, size(ad)) : nothing
    gb = (:b in want && b !== nothing) ? Array{T}(undef, size(bd)) : nothing
    opt = _make_options(; options...)
    box = progress === nothing ? nothing : _ProgressBox(progress, nothing)
    status = try
        if box !== nothing
            cb = @cfunction(_progress_trampoline, Cint, (Cstring, Int64, Int64, Ptr{Cvoid}))
            _check(ccall(_sym(:geomloss_options_set_progress), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}),
                         opt, cb, pointer_from_objref(box)))
        end
        GC.@preserve box begin
            _ccall_eval(opt, T, B, N, M, D,
                        (_ABI.BUF_X => xd, _ABI.BUF_Y => yd, _ABI.BUF_A => ad, _ABI.BUF_B => bd,
                         _ABI.BUF_COT_VALUE => cv, _ABI.BUF_COT_F => cF, _ABI.BUF_COT_G => cG,
                         _ABI.BUF_LABELS_X => lx, _ABI.BUF_LABELS_Y => ly,
                         _ABI.BUF_VALUE => value, _ABI.BUF_F => F, _ABI.BUF_G => G,
                         _ABI.BUF_GRAD_X => gx, _ABI.BUF_GRAD_Y => gy, _ABI.BUF_GRAD_A => ga,
                         _ABI.BUF_GRAD_B => gb))
        end
    finally
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
    end
    if box !== nothing && box.err !== nothing
        e, bt = box.err
        throw(e)
    end
    _check(status)
    return (value = batched ? value : value[1], F = F, G = G, ∇x = gx, ∇y = gy, ∇a = ga, ∇b = gb)
end

# ---------------------------------------------------------------------------
# Public API

const _OPTIONS_DOC = """
Options (GeomLoss's `SamplesLoss` names and defaults):
- `loss = :sinkhorn`: `:sinkhorn`, `:hausdorff`, `:energy`, `:gaussian` or `:laplacian`;
- `p = 2`: ground cost `|x-y|` (`p = 1`) or `|x-y|²/2` (`p = 2`), sinkhorn and hausdorff;
- `blur = 0.05`: ε = blur^p for sinkhorn/hausdorff, the kernel width for gaussian/laplacian;
- `reach = nothing`: `nothing` = balanced transport, else unbalanced with ρ = reach^p;
- `diameter = nothing`: estimated from the data when `nothing`;
- `scaling = 0.5`: ratio of the ε-scaling schedule, in (0, 1);
- `debias = true`: the Sinkhorn divergence (`false`: raw entropic OT);
- `backend = :auto`: `:auto`, `:tensorized`, `:online` or `:multiscale`;
- `truncate = 5`, `cluster_scale = nothing`: multiscale parameters;
- `labels_x = nothing`, `labels_y = nothing`: cluster labels of the points of `x`
  and `y` (integer vectors of length N and M, `N×B` and `M×B` matrices for a
  batch; both or neither; any values, equal labels forming a cluster): they
  select the multiscale backend with these clusters, in any dimension
  (GeomLoss's `SamplesLoss(l_x, a, x, l_y, b, y)`);
- `threads = 0`: the most CPU threads the library uses (0 = all cores);
- `device = :auto`: `:auto`, `:cpu` or `:gpu`;
- `progress = nothing`: a function `(stage::String, iter::Int, total::Int) -> _`
  called during long evaluations (on the calling thread).

`x` is a `D×N` matrix (one point per column) and `y` a `D×M` matrix, or `D×N×B`
and `D×M×B` arrays for a batch of `B` problems; `a` and `b` are the weights
(vectors of length N and M, or `N×B` and `M×B` matrices; `nothing` = uniform
1/N, 1/M). `Float32` inputs are computed in `Float32`; anything else in
`Float64`. Errors (bad shapes, values or options) throw a [`GeomLossError`](@ref).
"""

"""
    samples_loss(x, y; a=nothing, b=nothing, loss=:sinkhorn, p=2, blur=0.05, reach=nothing,
                 diameter=nothing, scaling=0.5, debias=true, backend=:auto, ...) -> value

The loss between the measures Σᵢ aᵢ δ(xᵢ) and Σⱼ bⱼ δ(yⱼ): a scalar, or a
vector of B values for a batch.

$_OPTIONS_DOC
"""
function samples_loss(x, y; a = nothing, b = nothing, options...)
    return _evaluate(x, y, a, b; options...).value
end

"""
    samples_loss_with_gradients(x, y; a=nothing, b=nothing, wrt=(:x, :y, :a, :b),
                                cotangent=nothing, options...) -> (value, ∇x, ∇y, ∇a, ∇b)

The loss (as [`samples_loss`](@ref)) and its gradients with respect to the
points and weights, each of the shape of its input. For a batch, the
gradients are those of the sum of the B values, or of `Σ cotangent[k]·value[k]`
when `cotangent` (a number or a vector of length B) is given. Only the
gradients named in `wrt` are computed, the others are `nothing`; `∇a` (`∇b`)
is `nothing` too when `a` (`b`) is not given.

$_OPTIONS_DOC
"""
function samples_loss_with_gradients(x, y; a = nothing, b = nothing, wrt = (:x, :y, :a, :b),
                                     cotangent = nothing, options...)
    r = _evaluate(x, y, a, b; want = wrt, cot_value = cotangent, options...)
    return (value = r.value, ∇x = r.∇x, ∇y = r.∇y, ∇a = r.∇a, ∇b = r.∇b)
end

"""
    potentials(x, y; a=nothing, b=nothing, options...) -> (F, G)

The dual potentials: `F` on the points of `x` (a vector of length N, or an
`N×B` matrix for a batch) and `G` on the points of `y` — the Sinkhorn
potentials for sinkhorn (and hausdorff), the kernel convolutions for
kernel losses, as GeomLoss's `SamplesLoss(..., potentials=True)`.

$_OPTIONS_DOC
"""
function potentials(x, y; a = nothing, b = nothing, options...)
    r = _evaluate(x, y, a, b; want_F = true, want_G = true, options...)
    return (F = r.F, G = r.G)
end

"""
    GeomLoss.potentials_with_gradients(x, y; a=nothing, b=nothing, cot_F, cot_G,
                                       wrt=(:x, :y, :a, :b), options...) -> (F, G, ∇x, ∇y, ∇a, ∇b)

The potentials (as [`potentials`](@ref)) and the gradients of
`sum(cot_F .* F) + sum(cot_G .* G)` with respect to the inputs named in `wrt`
(what `torch.autograd.grad` of GeomLoss's potentials gives). `cot_F` and
`cot_G` have the shapes of `F` and `G`.
"""
function potentials_with_gradients(x, y; a = nothing, b = nothing, cot_F, cot_G,
                                   wrt = (:x, :y, :a, :b), options...)
    B = ndims(x) == 3 ? size(x, 3) : 1
    r = _evaluate(x, y, a, b; want_F = true, want_G = true, want = wrt, cot_value = zeros(_eltype(x, y), B),
                  cot_F = cot_F, cot_G = cot_G, options...)
    return (F = r.F, G = r.G, ∇x = r.∇x, ∇y = r.∇y, ∇a = r.∇a, ∇b = r.∇b)
end

include("ot.jl")
include("images.jl")

end # module
