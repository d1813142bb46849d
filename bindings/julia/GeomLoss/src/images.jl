# Images and volumes: GeomLoss's sinkhorn_divergence on grids and
# ImagesBarycenter, over geomloss_eval_grid and geomloss_images_barycenter.
#
# Julia arrays are column-major: an n1×n2 image is, in memory, the C ABI's
# row-major (n2, n1) grid, so the shape (and the spacing) passed to the
# library is the reversed size. The cost is separable and symmetric per axis,
# so the divergence is that of the n1×n2 image whose pixel (i, j) sits at
# ((i-1)·h1, (j-1)·h2).

# The generated ABI constants (abi.jl), in their own namespace: the buffer keys
# and element types used here.
module ABI
include("abi.jl")
end
using .ABI: BUF_A, BUF_B, BUF_VALUE, BUF_F, BUF_G, BUF_GRAD_A, BUF_GRAD_B, BUF_COT_VALUE, BUF_COT_F, BUF_COT_G,
    F32, F64

_grid_eltype(a, b) = (eltype(a) === Float32 && eltype(b) === Float32) ? Float32 : Float64

function _grid_sizes(what, a, b, d)
    _check_real("a", a)
    _check_real("b", b)
    (ndims(a) == d || ndims(a) == d + 1) ||
        _shape_error("$what: a must have $d dimensions (one grid) or $(d+1) (a batch, the last index), got size $(size(a))")
    size(b) == size(a) || _shape_error("$what: b has size $(size(b)) but a has size $(size(a))")
    batched = ndims(a) == d + 1
    B = batched ? size(a, d + 1) : 1
    return B, Int[size(a, k) for k in 1:d], batched
end

function _grid_options(; p = 2, blur = nothing, reach = nothing, scaling = 0.5, debias = true,
                       diameter = nothing, threads = 0, device = :auto, single_scale = false)
    opt = ccall(_sym(:geomloss_options_create), Ptr{Cvoid}, ())
    opt == C_NULL && throw(GeomLossError(:memory, _last_error()))
    try
        _set_int(opt, OPT_P, "p", p)
        blur === nothing || _set_double(opt, OPT_BLUR, "blur", blur)
        reach === nothing || _set_double(opt, OPT_REACH, "reach", reach)
        diameter === nothing || _set_double(opt, OPT_DIAMETER, "diameter", diameter)
        _set_double(opt, OPT_SCALING, "scaling", scaling)
        debias isa Bool || throw(GeomLossError(:invalid_option, "debias: expected true or false, got $(repr(debias))"))
        _set_int(opt, OPT_DEBIAS, "debias", debias)
        _set_int(opt, OPT_THREADS, "threads", threads === nothing ? 0 : threads)
        _set_string(opt, OPT_DEVICE, "device", device)
        single_scale isa Bool ||
            throw(GeomLossError(:invalid_option, "single_scale: expected true or false, got $(repr(single_scale))"))
        _set_int(opt, OPT_SINGLE_SCALE, "single_scale", single_scale)
    catch
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
        rethrow()
    end
    return opt
end

function _cshape(shape, spacing)
    cs = Int64.(reverse(shape))
    spacing === nothing && return cs, Ptr{Float64}(C_NULL)
    length(spacing) == length(shape) ||
        _shape_error("spacing has $(length(spacing)) pixel widths for a grid of $(length(shape)) axes")
    return cs, Float64.(reverse(collect(spacing)))
end

# _grid_eval runs geomloss_eval_grid. cots, when given, is (cot_F, cot_G)
# (each an array shaped like a, or nothing: zero): the call then returns the
# potentials and the gradients of sum(cot_F .* F) + sum(cot_G .* G) (a zero
# value cotangent).
function _grid_eval(what, a, b, d, cots = nothing; gradients = false, potentials = false, spacing = nothing,
                    options...)
    B, shape, batched = _grid_sizes(what, a, b, d)
    T = _grid_eltype(a, b)
    withcots = cots !== nothing
    cf, cg = withcots ? cots : (nothing, nothing)
    for (name, c) in (("cot_F", cf), ("cot_G", cg))
        _check_real(name, c)
        c === nothing || size(c) == size(a) || _shape_error("$what: $name has size $(size(c)) but a has size $(size(a))")
    end
    gradients |= withcots
    potentials |= withcots
    ad, bd = _dense(T, a), _dense(T, b)
    cfd = cf === nothing ? nothing : _dense(T, cf)
    cgd = cg === nothing ? nothing : _dense(T, cg)
    cv = withcots ? zeros(T, B) : nothing
    P = prod(shape)
    value = Vector{T}(undef, B)
    F = potentials ? Array{T}(undef, size(ad)) : nothing
    G = potentials ? Array{T}(undef, size(ad)) : nothing
    ga = gradients ? Array{T}(undef, size(ad)) : nothing
    gb = gradients ? Array{T}(undef, size(ad)) : nothing
    cs, sp = _cshape(shape, spacing)
    opt = _grid_options(; options...)
    bufs = ccall(_sym(:geomloss_buffers_create), Ptr{Cvoid}, ())
    status = try
        bufs == C_NULL && throw(GeomLossError(:memory, _last_error()))
        GC.@preserve ad bd cfd cgd cv value F G ga gb cs sp begin
            for (key, arr) in ((BUF_A, ad), (BUF_B, bd), (BUF_COT_VALUE, cv), (BUF_COT_F, cfd), (BUF_COT_G, cgd),
                               (BUF_VALUE, value), (BUF_F, F), (BUF_G, G), (BUF_GRAD_A, ga), (BUF_GRAD_B, gb))
                arr === nothing && continue
                _check(ccall(_sym(:geomloss_buffers_set), Cint, (Ptr{Cvoid}, Cint, Ptr{Cvoid}, Int64),
                             bufs, key, pointer(arr), length(arr)))
            end
            ccall(_sym(:geomloss_eval_grid), Cint,
                  (Ptr{Cvoid}, Cint, Int64, Cint, Ptr{Int64}, Ptr{Float64}, Ptr{Cvoid}),
                  opt, T === Float32 ? F32 : F64, B, Cint(d), cs, sp, bufs)
        end
    finally
        bufs == C_NULL || ccall(_sym(:geomloss_buffers_destroy), Cvoid, (Ptr{Cvoid},), bufs)
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
    end
    _check(status)
    withcots && return (F = F, G = G, ∇a = ga, ∇b = gb)
    potentials && return (F = F, G = G)
    v = batched ? value : value[1]
    gradients && return (value = v, ∇a = ga, ∇b = gb)
    return v
end

const _GRID_DOC = """
Keywords (GeomLoss's `sinkhorn_divergence`): `p = 2` (1: the L1 cost, as
GeomLoss), `blur = nothing` (the pixel width), `reach = nothing` (balanced:
equal masses needed), `scaling = 0.5` (any value in (0, 1)), `debias = true`,
`spacing = nothing` (one pixel width per axis; default 1/n: the domain
[0, 1)^d), `diameter`, `threads`, `device`. `gradients = true` returns
`(value, ∇a, ∇b)`; `potentials = true` returns `(F, G)` (F − F_aa, G − G_bb
when debiased), shaped like `a`. `single_scale = true` (beyond GeomLoss): no
pyramid, every iteration at full resolution. Densities are non-negative, `Float32` (both)
or `Float64`; any side lengths. Errors are `GeomLossError`s naming the argument.
"""

"""
    images_loss(a, b; kw...) -> value

The Sinkhorn divergence between two images (`n1×n2` matrices of densities),
or between the `B` pairs of an `n1×n2×B` batch (a vector of `B` values).
$_GRID_DOC
"""
images_loss(a, b; kw...) = _grid_eval("images_loss", a, b, 2; kw...)

"""
    volumes_loss(a, b; kw...) -> value

As [`images_loss`](@ref) for volumes: `n1×n2×n3` arrays, or `n1×n2×n3×B` batches.
$_GRID_DOC
"""
volumes_loss(a, b; kw...) = _grid_eval("volumes_loss", a, b, 3; kw...)

"""
    GeomLoss.images_potentials_with_gradients(a, b; cot_F = nothing, cot_G = nothing, kw...)
        -> (F, G, ∇a, ∇b)

The potentials of [`images_loss`](@ref) (as `potentials = true`) and the
gradients of `sum(cot_F .* F) + sum(cot_G .* G)` with respect to `a` and `b`
(beyond GeomLoss, whose grid potentials carry no gradient). `cot_F`, `cot_G`
are shaped like `a` (`nothing`: zero); the results too. As for point clouds,
the Sinkhorn loop's duals are held fixed and the last soft-min is
differentiated through its weights: the final full-resolution step, or,
when the schedule's last iteration is a pyramid jump (the defaults on
power-of-two sides), that iteration's soft-min on the sum-pooled densities,
through the averaging and the upsampling that give `F` and `G`
(docs/images.md). Keywords as [`images_loss`](@ref) (`gradients`,
`potentials` aside).
"""
images_potentials_with_gradients(a, b; cot_F = nothing, cot_G = nothing, kw...) =
    _grid_eval("images_potentials_with_gradients", a, b, 2, (cot_F, cot_G); kw...)

"""
    GeomLoss.volumes_potentials_with_gradients(a, b; cot_F = nothing, cot_G = nothing, kw...)
        -> (F, G, ∇a, ∇b)

As [`GeomLoss.images_potentials_with_gradients`](@ref) for volumes (`n1×n2×n3`
arrays, or `n1×n2×n3×B` batches).
"""
volumes_potentials_with_gradients(a, b; cot_F = nothing, cot_G = nothing, kw...) =
    _grid_eval("volumes_potentials_with_gradients", a, b, 3, (cot_F, cot_G); kw...)

"""
    images_barycenter(measures, weights; blur = 0, p = 2, scaling_N = 10,
                      backward_iterations = 0, spacing = nothing, threads = 0) -> bar

GeomLoss's `ImagesBarycenter`: the Wasserstein barycenter of the `K` images
of `measures` (`n1×n2×K`, or `n1×n2×K×B` for `B` barycenters) with `weights`
(`K`, or `K×B`); `blur = 0` means the pixel width; `backward_iterations`
extra iterations at the final blur (GeomLoss runs 5 of them when its inputs
require a gradient). Returns `n1×n2` (or `n1×n2×B`), exp(ℓ_bar): mass ≈ 1.
"""
function images_barycenter(measures, weights; kw...)
    bar, _, _ = _barycenter(measures, weights, nothing; kw...)
    return bar
end

"""
    images_barycenter_with_gradients(measures, weights, cot; blur = 0, p = 2, scaling_N = 10,
                                     backward_iterations = 5, spacing = nothing, threads = 0)
        -> (bar, ∇measures, ∇weights)

[`images_barycenter`](@ref) and the gradients of `S = sum(cot .* bar)` with
respect to `measures` and `weights` (shaped like them; `cot` is shaped like
`bar`), by reverse mode through the `backward_iterations ≥ 1` last
iterations at the final blur (the reference's autograd, which differentiates
those 5 iterations only).
"""
function images_barycenter_with_gradients(measures, weights, cot; backward_iterations = 5, kw...)
    backward_iterations >= 1 ||
        throw(GeomLossError(:invalid_argument, "backward_iterations: gradients need at least 1, got $(backward_iterations)"))
    return _barycenter(measures, weights, cot; backward_iterations = backward_iterations, kw...)
end

function _barycenter(measures, weights, cot; blur = 0, p = 2, scaling_N = 10, backward_iterations = 0,
                     spacing = nothing, threads = 0, device = :auto)
    _check_real("measures", measures)
    _check_real("weights", weights)
    nd = ndims(measures)
    (nd == 3 || nd == 4) || _shape_error("images_barycenter: measures must be n1×n2×K or n1×n2×K×B, got size $(size(measures))")
    K = size(measures, 3)
    B = nd == 4 ? size(measures, 4) : 1
    want = nd == 4 ? (K, B) : (K,)
    size(weights) == want || _shape_error("images_barycenter: weights has size $(size(weights)) but measures needs $(want)")
    T = eltype(measures) === Float32 ? Float32 : Float64
    md, wd = _dense(T, measures), _dense(T, weights)
    shape = [size(measures, 1), size(measures, 2)]
    bar = Array{T}(undef, nd == 4 ? (shape[1], shape[2], B) : (shape[1], shape[2]))
    grads = cot !== nothing
    if grads
        _check_real("cot", cot)
        size(cot) == size(bar) || _shape_error("images_barycenter: cot has size $(size(cot)) but the barycenters have $(size(bar))")
    end
    cd = grads ? _dense(T, cot) : T[]
    gm, gw = grads ? similar(md) : T[], grads ? similar(wd) : T[]
    cs, sp = _cshape(shape, spacing)
    opt = _grid_options(; p = p, blur = (blur == 0 ? nothing : blur), threads = threads, device = device)
    status = try
        GC.@preserve md wd cd bar gm gw cs sp begin
            ccall(_sym(:geomloss_images_barycenter), Cint,
                  (Ptr{Cvoid}, Cint, Int64, Int64, Cint, Ptr{Int64}, Ptr{Float64}, Int64, Int64,
                   Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}),
                  opt, T === Float32 ? F32 : F64, B, K, Cint(2), cs, sp, Int64(scaling_N),
                  Int64(backward_iterations), pointer(md), pointer(wd), grads ? pointer(cd) : C_NULL, pointer(bar),
                  grads ? pointer(gm) : C_NULL, grads ? pointer(gw) : C_NULL)
        end
    finally
        ccall(_sym(:geomloss_options_destroy), Cvoid, (Ptr{Cvoid},), opt)
    end
    _check(status)
    return grads ? (bar, reshape(gm, size(measures)), reshape(gw, size(weights))) : (bar, nothing, nothing)
end
