# Tests of GeomLoss.jl against libgeomloss.
#
#   bash build/julia.sh --project=bindings/julia/GeomLoss bindings/julia/GeomLoss/test/runtests.jl
#
# (build/test-julia.sh runs this, building the library first if needed.)
# The golden file is ../shared/testdata/golden_public.json next to the
# checkout, or ENV["GEOMLOSS_GOLDEN"].

using Test, LinearAlgebra, Random
using GeomLoss

include("json.jl")
using .MiniJSON

const REPO = normpath(joinpath(@__DIR__, "..", "..", "..", ".."))

# ---------------------------------------------------------------------------
# Golden data

golden_path() = get(ENV, "GEOMLOSS_GOLDEN", joinpath(REPO, "..", "shared", "testdata", "golden_public.json"))

# The parsed golden file, parsed once (the sample and image testsets share it).
const _GOLDEN = Ref{Any}(nothing)
golden_data() = (_GOLDEN[] === nothing && (_GOLDEN[] = parse_json(read(golden_path()))); _GOLDEN[])

# An Array object of the golden file ({"shape", "data"}, row-major) as a
# Vector{Float64} in its row-major order: reshaping it to the reversed shape
# gives the Julia array (a row-major (N,D) array is the D×N matrix).
function jdata(a)
    a === nothing && return nothing
    return Float64[v isa String ? parse(Float64, v == "Infinity" ? "Inf" : v == "-Infinity" ? "-Inf" : v) : Float64(v)
                   for v in a["data"]]
end
jshape(a) = Int[s for s in a["shape"]]
jarray(a) = (s = jshape(a); d = jdata(a); isempty(s) ? d[1] : reshape(d, reverse(s)...))

# The comparison rules and documented deviations from GeomLoss: those of
# tests/golden/deviations.json, the one source the Go, Python and Julia golden
# suites read (its "about" fields state them). Unbalanced gradients use
# κ' = ρ + κ2_eps·ε instead of κ = ρ + κ_eps·ε, and the raw unbalanced value
# (and its weight gradients) is the true entropic OT value.
const RULES = parse_json(read(joinpath(REPO, "tests", "golden", "deviations.json")))
const REF = RULES["reference_backend"]
const TOL = Dict(Float64 => Float64(RULES["comparison"]["tolerance"]["float64"]),
                 Float32 => Float64(RULES["comparison"]["tolerance"]["float32"]))
const NORM_FLOOR = Float64(RULES["comparison"]["norm_floor"])
skipped_loss(c) = haskey(RULES["skip_losses"], c["params"]["loss"])

# Everything is returned flat, in row-major order, like the golden arrays.
function expected(c)
    ref = c["results"][REF]
    par = c["params"]
    u = RULES["unbalanced"]
    g = get(ref, "grad", nothing)
    value = haskey(ref, "value") ? jdata(ref["value"]) : nothing
    gx = g === nothing ? nothing : jdata(g["x"])
    gy = g === nothing ? nothing : jdata(g["y"])
    ga = g === nothing ? nothing : jdata(g["a"])
    gb = g === nothing ? nothing : jdata(g["b"])
    if !(par["loss"] in u["losses"]) || par["reach"] === nothing || par["potentials"]
        return value, gx, gy, ga, gb
    end
    p = par["p"]
    ε, ρ = Float64(par["blur"])^p, Float64(par["reach"])^p
    κ, κ′ = ρ + u["kappa_eps"] * ε, ρ + u["kappa2_eps"] * ε
    for v in (gx, gy)
        v === nothing || (v .*= κ′ / κ)
    end
    if par["debias"]
        for v in (ga, gb)
            v === nothing || (v .*= κ′ / κ)
        end
        return value, gx, gy, ga, gb
    end
    B = c["batched"] ? c["B"] : 1
    N, M = c["N"], c["M"]
    A, Bw = jdata(c["inputs"]["a"]), jdata(c["inputs"]["b"])
    for k in 1:B
        ia, ib = (k-1)*N+1:k*N, (k-1)*M+1:k*M
        mα, mβ = sum(A[ia]), sum(Bw[ib])
        value[k] += ε * (u["value_mass_product"] * mα * mβ + u["value_mass_sum"] * (mα + mβ))
        ga === nothing || (ga[ia] .= ρ + ε * mβ .- κ′ .* (1 .- ga[ia] ./ κ))
        gb === nothing || (gb[ib] .= ρ + ε * mα .- κ′ .* (1 .- gb[ib] ./ κ))
    end
    return value, gx, gy, ga, gb
end

# The comparison rule: ‖ours − ref‖₂ / max(‖ref‖₂, norm_floor).
relerr(got, want) = norm(vec(Float64.(got)) .- want) / max(norm(want), NORM_FLOOR)

function must_fail(c)
    ref = c["results"][REF]
    par = c["params"]
    ref["status"] == "error" && RULES["must_fail"]["reference_error"] && !skipped_loss(c) && return true
    u = RULES["must_fail"]["balanced_unequal_mass"]
    (par["loss"] in u["losses"] && par["reach"] === nothing) || return false
    any(t -> t in c["tags"], u["tags"]) && return true
    B = c["batched"] ? c["B"] : 1
    N, M = c["N"], c["M"]
    A, Bw = jdata(c["inputs"]["a"]), jdata(c["inputs"]["b"])
    for k in 1:B
        mα, mβ = sum(A[(k-1)*N+1:k*N]), sum(Bw[(k-1)*M+1:k*M])
        abs(mα - mβ) > u["mass_rtol"] * max(abs(mα), abs(mβ)) && return true
    end
    return false
end

function golden_options(c, backend)
    par = c["params"]
    return (loss = Symbol(par["loss"]), p = par["p"], blur = par["blur"], reach = par["reach"],
            diameter = par["diameter"], scaling = par["scaling"], debias = par["debias"],
            truncate = par["truncate"], cluster_scale = par["cluster_scale"], backend = backend)
end

# Runs one golden case in element type T; returns the list of failures (empty = pass).
function check_case(c, ::Type{T}, backend, tol) where {T}
    failures = String[]
    inp = c["inputs"]
    x = T.(jarray(inp["x"]))
    y = T.(jarray(inp["y"]))
    a = c["weights_given"] ? T.(jarray(inp["a"])) : nothing
    b = c["weights_given"] ? T.(jarray(inp["b"])) : nothing
    ref = c["results"][REF]
    opts = golden_options(c, backend)
    pot = c["params"]["potentials"]
    wantw = c["weights_given"] && get(ref, "grad", nothing) !== nothing && ref["grad"]["a"] !== nothing
    wrt = wantw ? (:x, :y, :a, :b) : (:x, :y)
    run() = pot ?
        GeomLoss.potentials_with_gradients(x, y; a = a, b = b, wrt = wrt,
                                           cot_F = T.(jarray(c["cotangent"]["F"])),
                                           cot_G = T.(jarray(c["cotangent"]["G"])), opts...) :
        samples_loss_with_gradients(x, y; a = a, b = b, wrt = wrt,
                                    cotangent = T.(jdata(c["cotangent"]["value"])), opts...)
    if must_fail(c)
        try
            r = run()
            push!(failures, "expected a GeomLossError, got a result")
        catch e
            e isa GeomLossError || push!(failures, "expected a GeomLossError, got $(typeof(e)): $(sprint(showerror, e))")
        end
        return failures
    end
    local r
    try
        r = run()
    catch e
        push!(failures, "unexpected error: $(sprint(showerror, e))")
        return failures
    end
    skipped_loss(c) && return failures  # no reference (checked by finite differences)
    value, gx, gy, ga, gb = expected(c)
    function check(name, got, want)
        want === nothing && return
        if got === nothing
            push!(failures, "$name: not computed")
        elseif length(got) != length(want)
            push!(failures, "$name: $(length(got)) values, reference has $(length(want))")
        elseif eltype(got) !== T
            push!(failures, "$name: element type $(eltype(got)), want $T")
        else
            e = relerr(got, want)
            (e <= tol) || push!(failures, "$name: relative error $e > $tol")
        end
    end
    if pot
        check("F", r.F, jdata(ref["F"]))
        check("G", r.G, jdata(ref["G"]))
        # Shapes: a vector per cloud (N×B for batches).
        size(r.F) == (c["batched"] ? (c["N"], c["B"]) : (c["N"],)) || push!(failures, "F has size $(size(r.F))")
    else
        check("value", r.value isa AbstractArray ? r.value : [r.value], value)
        (r.value isa AbstractArray) == c["batched"] || push!(failures, "value: scalar/vector mismatch")
    end
    check("grad x", r.∇x, gx)
    check("grad y", r.∇y, gy)
    if wantw
        check("grad a", r.∇a, ga)
        check("grad b", r.∇b, gb)
    end
    r.∇x === nothing || size(r.∇x) == size(x) || push!(failures, "grad x has size $(size(r.∇x)), x has $(size(x))")
    return failures
end

@testset "GeomLoss.jl" begin

# dlopen of the library in a fresh julia without any GLIBC_TUNABLES reserve
# (build/test-julia.sh may add one to run the rest of the suite).
function loads_in_plain_process(path)
    probe = """
        function probe(path, o, e)
            ccall(o, Ptr{Cvoid}, (Cstring, Cint), path, 2) != C_NULL && return 0
            m = ccall(e, Ptr{UInt8}, ())
            println(stderr, m == C_NULL ? "dlopen failed" : unsafe_string(m))
            return 1
        end
        exit(probe(ARGS[1], cglobal(:dlopen), cglobal(:dlerror)))
        """
    env = Dict(k => v for (k, v) in ENV if k != "GLIBC_TUNABLES")
    out = IOBuffer()
    ok = success(pipeline(setenv(`$(Base.julia_cmd()) --startup-file=no -e $probe $path`, env); stderr = out))
    ok || @error "libgeomloss cannot be loaded into a plain julia process" path String(take!(out))
    return ok
end

@testset "library" begin
    @test isfile(GeomLoss.library_path())
    @test GeomLoss.library_version() >= v"0.1.0"
    @test loads_in_plain_process(GeomLoss.library_path())
end

@testset "golden (public sample cases)" begin
    path = golden_path()
    if !isfile(path)
        @error "golden data not found at $path (set GEOMLOSS_GOLDEN)"
        @test isfile(path)
    else
        data = golden_data()
        cases = data["samples"]
        @test length(cases) > 0
        counts = Dict{String,Int}()
        for (T, backend) in ((Float64, :tensorized), (Float32, :tensorized), (Float64, :online), (Float32, :online))
            tol = TOL[T]
            @testset "$T $backend" begin
                for c in cases
                    fails = check_case(c, T, backend, tol)
                    isempty(fails) || @error "golden $(c["id"]) ($T, $backend)" fails
                    @test isempty(fails)
                    kind = must_fail(c) ? "must fail" :
                           (c["results"][REF]["status"] == "error" ? "reference error (skipped loss, no value)" : "compared")
                    counts[kind] = get(counts, kind, 0) + 1
                end
            end
        end
        @info "golden cases (×4 runs)" counts
        @test get(counts, "compared", 0) >= 4 * 100
    end
end

@testset "translation oracle S(x, x+t) = |t|²/2" begin
    rng = MersenneTwister(42)
    # The value converges faster than the gradients (envelope theorem), hence
    # the looser gradient tolerances.
    # (Measured worst cases at scaling 0.8: value 1.1e-7 in Float64 and 6e-8 in
    # Float32, gradients 3.2e-4.)
    for (T, tol, gtol) in ((Float64, 1e-6, 1e-3), (Float32, 1e-5, 1e-3))
        for (D, N) in ((3, 200), (2, 60), (1, 50))
            x = rand(rng, T, D, N)
            t = T[0.5, -0.3, 0.25][1:D]
            y = x .+ t
            exact = sum(abs2, Float64.(t)) / 2
            for blur in (0.05, 0.01), backend in (:tensorized, :online)
                r = samples_loss_with_gradients(x, y; blur = blur, scaling = 0.8, backend = backend)
                @test r.value isa T
                @test abs(r.value - exact) <= tol * exact
                # The optimal plan is the translation: ∇x S = −aᵢ t, ∇y S = bⱼ t.
                @test norm(r.∇x .- (-t / N)) <= gtol * norm(t) / sqrt(N)
                @test norm(r.∇y .- (t / N)) <= gtol * norm(t) / sqrt(N)
            end
        end
        # A small blur and a slow schedule converge to near machine precision.
        x = rand(rng, T, 3, 100)
        t = T[0.3, 0.2, -0.4]
        v = samples_loss(x, x .+ t; blur = 0.01, scaling = 0.9)
        @test abs(v - sum(abs2, Float64.(t)) / 2) <= (T === Float64 ? 1e-10 : 1e-6) * sum(abs2, Float64.(t)) / 2
        # Batched: one translation per batch item.
        x = rand(rng, T, 3, 40, 3)
        ts = T[0.5 0.0 -0.2; 0.1 0.3 0.2; 0.0 0.0 0.4]   # column k: translation of item k
        y = x .+ reshape(ts, 3, 1, 3)
        v = samples_loss(x, y; blur = 0.02, scaling = 0.8)
        @test v isa Vector{T} && length(v) == 3
        @test all(abs.(v .- vec(sum(abs2, Float64.(ts); dims = 1)) ./ 2) .<= tol .* vec(sum(abs2, Float64.(ts); dims = 1)) ./ 2)
    end
end

# Central differences of a loss along a direction δ, against the gradient:
# |fd − ⟨∇, δ⟩| ≤ tol·‖∇‖‖δ‖ (the core's criterion).
function fd_check(f, grad, u, δ, tol; h = 1e-5)
    fd = (f(u .+ h .* δ) - f(u .- h .* δ)) / (2h)
    an = dot(grad, δ)
    ok = abs(fd - an) <= tol * norm(grad) * norm(δ)
    ok || @error "finite differences" fd an tol
    return ok
end

@testset "finite differences" begin
    rng = MersenneTwister(7)
    D, N, M = 2, 9, 13
    x = rand(rng, D, N)
    y = rand(rng, D, M) .+ 0.3
    a = rand(rng, N) .+ 0.5
    b = rand(rng, M) .+ 0.5
    a ./= sum(a)
    b ./= sum(b)
    # Sinkhorn's gradients are exact at convergence: a large blur and a slow
    # ε-schedule (scaling 0.99) make the value converged, as in the core's test.
    ot = (blur = 0.5, scaling = 0.99, diameter = 2.0)
    settings = Any[(loss = :sinkhorn, p = p, reach = reach, debias = debias, ot...)
                   for p in (1, 2) for reach in (nothing, 0.3) for debias in (true, false)]
    append!(settings, [(loss = :energy,), (loss = :gaussian, blur = 0.3), (loss = :laplacian, blur = 0.3)])
    push!(settings, (loss = :hausdorff, p = 1, ot...), (loss = :hausdorff, p = 2, ot...))
    for opts in settings
        @testset "$opts" begin
            tol = opts.loss in (:sinkhorn, :hausdorff) ? 1e-3 : 1e-6
            r = samples_loss_with_gradients(x, y; a = a, b = b, opts...)
            balanced = opts.loss in (:sinkhorn, :hausdorff) && get(opts, :reach, nothing) === nothing
            dx = randn(rng, D, N)
            dy = randn(rng, D, M)
            # Balanced transport needs equal masses: move weights along Σδ = 0
            # (and little, to keep them positive).
            da = 0.1 .* randn(rng, N)
            db = 0.1 .* randn(rng, M)
            if balanced
                da .-= sum(da) / N
                db .-= sum(db) / M
            end
            @test fd_check(u -> samples_loss(u, y; a = a, b = b, opts...), r.∇x, x, dx, tol)
            @test fd_check(u -> samples_loss(x, u; a = a, b = b, opts...), r.∇y, y, dy, tol)
            @test fd_check(u -> samples_loss(x, y; a = u, b = b, opts...), r.∇a, a, da, tol)
            @test fd_check(u -> samples_loss(x, y; a = a, b = u, opts...), r.∇b, b, db, tol)
        end
    end
    # Batched gradients with a cotangent: those of Σ cₖ·valueₖ.
    xb = rand(rng, D, N, 2)
    yb = rand(rng, D, M, 2)
    cot = [0.7, -1.3]
    r = samples_loss_with_gradients(xb, yb; cotangent = cot, ot...)
    δ = randn(rng, size(xb))
    @test fd_check(u -> dot(cot, samples_loss(u, yb; ot...)), r.∇x, xb, δ, 1e-3)
    # Potentials' gradients are those of ⟨cF, F⟩ + ⟨cG, G⟩ as GeomLoss's autograd
    # graph gives them (it treats some factors as constants, so they are not
    # finite differences of F and G; the golden cases check them). Here:
    # linearity in the cotangents, and the same F, G as `potentials`.
    cF, cG = randn(rng, N), randn(rng, M)
    for opts in ((loss = :gaussian, blur = 0.3), (loss = :sinkhorn, ot...))
        pg(cf, cg) = GeomLoss.potentials_with_gradients(x, y; a = a, b = b, cot_F = cf, cot_G = cg, opts...)
        r12, r1, r2 = pg(cF, cG), pg(cF, zeros(M)), pg(zeros(N), cG)
        @test r12.∇x ≈ r1.∇x .+ r2.∇x rtol = 1e-10 atol = 1e-14
        @test r12.∇y ≈ r1.∇y .+ r2.∇y rtol = 1e-10 atol = 1e-14
        P = potentials(x, y; a = a, b = b, opts...)
        @test r12.F ≈ P.F rtol = 1e-12
        @test r12.G ≈ P.G rtol = 1e-12
    end
end

@testset "API behaviour" begin
    rng = MersenneTwister(3)
    x = rand(rng, 3, 30)
    y = rand(rng, 3, 20)
    a = fill(1 / 30, 30)
    b = fill(1 / 20, 20)
    # Uniform weights are the default.
    @test samples_loss(x, y) ≈ samples_loss(x, y; a = a, b = b) rtol = 1e-12
    # Float32 in, Float32 out; agrees with Float64.
    v32 = samples_loss(Float32.(x), Float32.(y))
    @test v32 isa Float32
    @test v32 ≈ samples_loss(x, y) rtol = 1e-4
    @test samples_loss(Float32.(x), y) isa Float64          # mixed → Float64
    @test samples_loss(round.(Int, 10x), round.(Int, 10y)) isa Float64
    # Dense Float64/Float32 arrays reach the library as they are (no copy).
    @test GeomLoss._dense(Float64, x) === x
    x32 = Float32.(x)
    @test GeomLoss._dense(Float32, x32) === x32
    # Non-contiguous inputs (adjoints, views) give the same results.
    @test samples_loss(collect(x')', y) == samples_loss(x, y)
    @test samples_loss(view(hcat(x, x), :, 1:30), y) == samples_loss(x, y)
    # Gradients have the shapes of the inputs; ∇a, ∇b only for given weights.
    r = samples_loss_with_gradients(x, y)
    @test size(r.∇x) == size(x) && size(r.∇y) == size(y)
    @test r.∇a === nothing && r.∇b === nothing
    r = samples_loss_with_gradients(x, y; a = a, b = b, wrt = (:y, :a))
    @test r.∇x === nothing && r.∇b === nothing && size(r.∇y) == size(y) && size(r.∇a) == size(a)
    @test r.value == samples_loss(x, y; a = a, b = b)
    r = samples_loss_with_gradients(x, y; wrt = :x)
    @test size(r.∇x) == size(x) && r.∇y === nothing
    e = try samples_loss_with_gradients(x, y; wrt = (:z,)); nothing; catch err; err; end
    @test e isa GeomLossError
    # Batches equal the items computed one by one.
    xb = rand(rng, 2, 15, 3)
    yb = rand(rng, 2, 11, 3)
    ab = rand(rng, 15, 3) .+ 0.1
    bb = rand(rng, 11, 3) .+ 0.1
    ab ./= sum(ab; dims = 1)
    bb ./= sum(bb; dims = 1)
    # (The ε-schedule of sinkhorn depends on the diameter of the whole batch,
    # as in GeomLoss: fix it to compare with single items.)
    for loss in (:sinkhorn, :energy)
        opts = (loss = loss, diameter = 2.0)
        vb = samples_loss(xb, yb; a = ab, b = bb, opts...)
        @test vb isa Vector{Float64} && length(vb) == 3
        for k in 1:3
            @test vb[k] ≈ samples_loss(xb[:, :, k], yb[:, :, k]; a = ab[:, k], b = bb[:, k], opts...) rtol = 1e-10
        end
        F, G = potentials(xb, yb; a = ab, b = bb, opts...)
        @test size(F) == (15, 3) && size(G) == (11, 3)
        F2, G2 = potentials(xb[:, :, 2], yb[:, :, 2]; a = ab[:, 2], b = bb[:, 2], opts...)
        @test F[:, 2] ≈ F2 rtol = 1e-10
        @test G[:, 2] ≈ G2 rtol = 1e-10
    end
    # Every loss runs; identical clouds give ~0.
    for loss in (:sinkhorn, :hausdorff, :energy, :gaussian, :laplacian)
        @test abs(samples_loss(x, x; loss = loss)) < 1e-8
        @test samples_loss(x, y; loss = loss, blur = 0.2) > 0
    end
    # The backend option reaches the library; last_run reports what ran.
    samples_loss(x, y; backend = :online)
    @test GeomLoss.last_run().backend == :online
    samples_loss(x, y; backend = :tensorized)
    @test GeomLoss.last_run().backend == :tensorized
    @test GeomLoss.last_run().device == :cpu
    @test samples_loss(x, y; backend = :online) ≈ samples_loss(x, y; backend = :tensorized) rtol = 1e-10
    @test samples_loss(x, y; threads = 1) == samples_loss(x, y; threads = 1)
    @test samples_loss(x, y; threads = 1) ≈ samples_loss(x, y) rtol = 1e-12
    # Progress callback: called with the stage, iteration and total.
    calls = Tuple{String,Int,Int}[]
    samples_loss(x, y; blur = 0.05, progress = (s, i, n) -> push!(calls, (s, i, n)))
    @test !isempty(calls)
    @test all(c -> c[2] >= 0 && c[3] >= 0, calls)
    # An exception in the callback is rethrown after the library returns.
    @test_throws ArgumentError samples_loss(x, y; progress = (s, i, n) -> throw(ArgumentError("stop")))
    # ...and it cancels the evaluation: the callback is not called again.
    ncalls = Ref(0)
    @test_throws ArgumentError samples_loss(x, y; progress = (s, i, n) -> (ncalls[] += 1; throw(ArgumentError("stop"))))
    @test ncalls[] == 1
    # The new statuses map to their codes (constants generated from the header).
    @test GeomLoss.STATUS_NAMES[10] == :cancelled && GeomLoss.STATUS_NAMES[11] == :device
    @test GeomLossError(:cancelled, "c").status == GeomLoss.ERR_CANCELLED == 10
    @test GeomLossError(:device, "d").status == GeomLoss.ERR_DEVICE == 11
    @test GeomLoss.library_version() == VersionNumber(GeomLoss.VERSION_STRING)
    # Inputs are never written.
    x0, y0 = copy(x), copy(y)
    samples_loss_with_gradients(x, y)
    @test x == x0 && y == y0
end

@testset "errors" begin
    rng = MersenneTwister(5)
    x = rand(rng, 3, 10)
    y = rand(rng, 3, 12)
    err(f) = try
        f()
        nothing
    catch e
        e
    end
    e = err(() -> samples_loss(x, rand(rng, 4, 12)))
    @test e isa GeomLossError && e.code == :shape
    @test occursin("y has 4", e.msg) && occursin("x has 3", e.msg)
    @test occursin("GeomLossError", sprint(showerror, e))
    e = err(() -> samples_loss(x, y; blur = -1.0))
    @test e isa GeomLossError && e.code == :invalid_option && occursin("blur", e.msg)
    e = err(() -> samples_loss(x, y; scaling = 1.5))
    @test e isa GeomLossError && occursin("scaling", e.msg)
    e = err(() -> samples_loss(x, y; p = 3))
    @test e isa GeomLossError && occursin("p", e.msg)
    e = err(() -> samples_loss(x, y; loss = :wasserstein))
    @test e isa GeomLossError && e.code == :invalid_option
    e = err(() -> samples_loss(x, y; backend = :gpu))
    @test e isa GeomLossError && e.code == :invalid_option
    xn = copy(x)
    xn[2, 3] = NaN
    e = err(() -> samples_loss(xn, y))
    @test e isa GeomLossError && e.code == :value
    e = err(() -> samples_loss(x, y; a = fill(0.1, 10), b = fill(0.5, 12)))   # masses 1 vs 6
    @test e isa GeomLossError && e.code == :value && occursin("reach", e.msg)
    @test samples_loss(x, y; a = fill(0.1, 10), b = fill(0.5, 12), reach = 1.0) isa Float64
    e = err(() -> samples_loss(x, y; a = fill(-0.1, 10)))
    @test e isa GeomLossError && e.code == :value
    e = err(() -> samples_loss(x, y; a = zeros(10), b = fill(1 / 12, 12)))
    @test e isa GeomLossError && e.code == :value
    e = err(() -> samples_loss(x, y; a = fill(0.1, 9)))
    @test e isa GeomLossError && e.code == :shape
    e = err(() -> samples_loss(rand(3, 5, 2), rand(3, 5, 3)))
    @test e isa GeomLossError && e.code == :shape
    e = err(() -> samples_loss(rand(3, 5, 2), rand(3, 5)))
    @test e isa GeomLossError && e.code == :shape
    e = err(() -> samples_loss(zeros(3, 0), y))
    @test e isa GeomLossError
    e = err(() -> samples_loss(x, y; loss = :hausdorff, reach = 1.0))
    @test e isa GeomLossError && occursin("reach", e.msg)
    e = err(() -> samples_loss(x, y; debias = 1))
    @test e isa GeomLossError
    # A scalar where per-point cotangents are needed (issue 11): a GeomLossError,
    # not a MethodError.
    e = err(() -> GeomLoss.potentials_with_gradients(x, y; cot_F = 1.0, cot_G = ones(12)))
    @test e isa GeomLossError && e.code == :invalid_argument && occursin("cotangent", e.msg)
    e = err(() -> GeomLoss.potentials_with_gradients(x, y; cot_F = ones(10), cot_G = 2))
    @test e isa GeomLossError && e.code == :invalid_argument
    e = err(() -> GeomLoss.potentials_with_gradients(x, y; cot_F = fill("a", 10), cot_G = ones(12)))
    @test e isa GeomLossError && e.code == :invalid_argument
    # Errors do not stick: the next call works.
    @test samples_loss(x, y) isa Float64
end

# The image cases (core/grid's and tests/golden/expected.py's rules): blur
# null = 1/n; unbalanced weight gradients with κ′ = ρ + ε; the raw unbalanced
# value is the true entropic OT value. Flat row-major arrays, which are the
# Julia n×n(×n)×B arrays' memory (the reversed shape).
function expected_image(c)
    r, par = c["result"], c["params"]
    value, ga, gb = jdata(r["value"]), jdata(r["grad"]["a"]), jdata(r["grad"]["b"])
    par["reach"] === nothing && return value, ga, gb
    p = par["p"]
    blur = par["blur"] === nothing ? 1 / c["n"] : Float64(par["blur"])
    ε, ρ = blur^p, Float64(par["reach"])^p
    κ, κ′ = ρ + ε / 2, ρ + ε
    if par["debias"]
        return value, ga .* (κ′ / κ), gb .* (κ′ / κ)
    end
    A, Bw = jdata(c["inputs"]["a"]), jdata(c["inputs"]["b"])
    P = length(A) ÷ c["B"]
    for k in 1:c["B"]
        i = (k-1)*P+1:k*P
        mα, mβ = sum(A[i]), sum(Bw[i])
        value[k] += ε * mα * mβ - ε / 2 * (mα + mβ)
        ga[i] .= ρ + ε * mβ .- κ′ .* (1 .- ga[i] ./ κ)
        gb[i] .= ρ + ε * mα .- κ′ .* (1 .- gb[i] ./ κ)
    end
    return value, ga, gb
end

@testset "golden (public image cases)" begin
    cases = golden_data()["images"]
    @test length(cases) >= 10
    for c in cases, T in (Float64, Float32)
        @testset "$(c["id"]) $T" begin
            par, d, n, B = c["params"], c["dim"], c["n"], c["B"]
            sz = (fill(n, d)..., B)
            a = reshape(T.(jdata(c["inputs"]["a"])), sz)
            b = reshape(T.(jdata(c["inputs"]["b"])), sz)
            kw = (p = par["p"], blur = par["blur"], reach = par["reach"], scaling = par["scaling"], debias = par["debias"])
            f = d == 2 ? images_loss : volumes_loss
            tol = T === Float64 ? 1e-6 : 1e-4
            if c["result"]["status"] != "ok"  # the reference raises; libgeomloss answers
                @test all(isfinite, f(a, b; kw...))
                continue
            end
            if par["potentials"]
                r = f(a, b; potentials = true, kw...)
                @test relerr(r.F, jdata(c["result"]["F"])) <= tol
                @test relerr(r.G, jdata(c["result"]["G"])) <= tol
                continue
            end
            value, ga, gb = expected_image(c)
            r = f(a, b; gradients = true, kw...)
            @test r.value isa Vector{T} && length(r.value) == B
            @test relerr(r.value, value) <= tol
            @test relerr(r.∇a, ga) <= tol
            @test relerr(r.∇b, gb) <= tol
            @test f(a, b; kw...) == r.value
        end
    end
end

@testset "images: closed forms, barycenter, errors" begin
    n = 16
    a = zeros(n, n); a[5:10, 5:10] .= 1 / 36
    b = zeros(n, n); b[7:12, 6:11] .= 1 / 36
    want = 0.5 * ((2 / n)^2 + (1 / n)^2)
    v = images_loss(a, b; scaling = 0.9)
    @test v isa Float64 && abs(v - want) <= 0.03 * want
    @test abs(images_loss(a, a)) <= 1e-12
    @test abs(images_loss(b, a; scaling = 0.9) - v) <= 1e-12
    # Julia's n1×n2 is the C ABI's (n2, n1): a translate along either index costs the same.
    @test abs(images_loss(a, circshift(a, (2, 0))) - images_loss(a, circshift(a, (0, 2)))) <= 1e-12
    # Spacing follows the Julia axes: width 2/16 along the first index.
    w = images_loss(a, circshift(a, (1, 0)); spacing = (2 / n, 1 / n), scaling = 0.9)
    @test abs(w - 0.5 * (2 / n)^2) <= 0.05 * 0.5 * (2 / n)^2
    @test images_loss(Float32.(a), Float32.(b)) isa Float32
    m = cat(a, circshift(a, (6, 0)); dims = 3)
    bar = images_barycenter(m, [0.5, 0.5])
    @test size(bar) == (n, n) && abs(sum(bar) - 1) <= 0.2
    rows = sum(bar; dims = 2)[:]
    @test abs(sum(rows .* (0:n-1)) / sum(bar) - (4 + 2.5 + 3)) <= 0.5
    @test size(images_barycenter(cat(m, m; dims = 4), [0.5 0.5; 0.5 0.5])) == (n, n, 2)
    err(f) = try f(); nothing catch e; e end
    e = err(() -> images_loss(a, 2a)); @test e isa GeomLossError && e.code == :value && occursin("set reach", e.msg)
    e = err(() -> images_loss(a, b[1:8, :])); @test e isa GeomLossError && e.code == :shape
    e = err(() -> images_loss(a[:, 1], b[:, 1])); @test e isa GeomLossError && occursin("2 dimensions", e.msg)
    e = err(() -> volumes_loss(a, b)); @test e isa GeomLossError && occursin("volumes_loss", e.msg)
    e = err(() -> images_loss(a, b; scaling = 2)); @test e isa GeomLossError && e.code == :invalid_option
    e = err(() -> images_loss(-a, b)); @test e isa GeomLossError && occursin("negative", e.msg)
    e = err(() -> images_loss(a, b; spacing = (1.0,))); @test e isa GeomLossError && occursin("spacing", e.msg)
    e = err(() -> images_barycenter(m, [1.0])); @test e isa GeomLossError && occursin("weights", e.msg)
end

@testset "images_barycenter_with_gradients" begin
    # The gradients of S = sum(cot .* bar) are validated against finite
    # differences in Go (core/grid TestBarycenterGradient: the reference's
    # truncated reverse mode, earlier iterations frozen, which the C ABI does
    # not expose). Here: the binding's plumbing. bar is images_barycenter's;
    # reverse mode is linear in cot (to 1e-12); transposing every image
    # (measures and cot) transposes ∇measures and leaves ∇weights (to 1e-12:
    # the problem is symmetric, so a mixed-up layout fails); a rectangular
    # grid's gradients match a Float32 run to 1e-3; refusals name their argument.
    rng = MersenneTwister(5)
    n1, n2 = 9, 7
    m = zeros(n1, n2, 2); m[2:5, 2:5, 1] .= 1; m[5:8, 3:6, 2] .= 1
    m .= 0.7 .* m ./ 16 .+ 0.3 / (n1 * n2)
    w = [0.3, 0.7]
    c1, c2 = randn(rng, n1, n2), randn(rng, n1, n2)
    rel(x, y) = maximum(abs.(x .- y)) / maximum(abs.(y))
    for (p, it) in ((2, 1), (2, 3), (1, 2))
        bar, gm, gw = images_barycenter_with_gradients(m, w, c1; p = p, backward_iterations = it)
        @test bar == images_barycenter(m, w; p = p, backward_iterations = it)
        @test size(gm) == size(m) && size(gw) == size(w) && maximum(abs.(gm)) > 0 && all(isfinite, gw)
        _, gm2, gw2 = images_barycenter_with_gradients(m, w, c2; p = p, backward_iterations = it)
        _, gm3, gw3 = images_barycenter_with_gradients(m, w, c1 .+ 2 .* c2; p = p, backward_iterations = it)
        @test rel(gm3, gm .+ 2 .* gm2) <= 1e-12 && rel(gw3, gw .+ 2 .* gw2) <= 1e-12
        mt = permutedims(m, (2, 1, 3))
        bt, gmt, gwt = images_barycenter_with_gradients(mt, w, permutedims(c1); p = p, backward_iterations = it)
        @test rel(bt, permutedims(bar)) <= 1e-12
        @test rel(gmt, permutedims(gm, (2, 1, 3))) <= 1e-12 && rel(gwt, gw) <= 1e-12
        b32, gm32, gw32 = images_barycenter_with_gradients(Float32.(m), Float32.(w), Float32.(c1); p = p, backward_iterations = it)
        @test eltype(gm32) === Float32 && rel(gm32, gm) <= 1e-3 && rel(gw32, gw) <= 1e-3
    end
    # Batched: B = 2 barycenters, each item's gradients are its own run's.
    mb, wb, cb = cat(m, m[end:-1:1, :, :]; dims = 4), [0.3 0.6; 0.7 0.4], cat(c1, c2; dims = 3)
    _, gmb, gwb = images_barycenter_with_gradients(mb, wb, cb)
    _, g1, w1 = images_barycenter_with_gradients(m[end:-1:1, :, :], [0.6, 0.4], c2)
    @test size(gmb) == size(mb) && size(gwb) == size(wb)
    @test rel(gmb[:, :, :, 2], g1) <= 1e-12 && rel(gwb[:, 2], w1) <= 1e-12
    e = try images_barycenter_with_gradients(m, w, c1; backward_iterations = 0); nothing catch x; x end
    @test e isa GeomLossError && occursin("backward_iterations", e.msg)
    e = try images_barycenter_with_gradients(m, w, c1[1:5, :]); nothing catch x; x end
    @test e isa GeomLossError && occursin("cot", e.msg)
end

@testset "grid potentials' gradients (cot_F, cot_G)" begin
    # The VJP itself is checked against finite differences of independent
    # dense oracles in Go (core/grid TestPotentialVJP, TestPotentialVJPJump:
    # the loop's duals, held fixed there, are not exposed by the C ABI).
    # Here, closed forms and the binding's plumbing: a rescaling b -> s·b
    # shifts the last soft-min by -λε ln s, so <b, ∇b> = -c (ΣcF - ΣcG)
    # debiased (G_bb on b subtracts), -c ΣcF raw, and <a, ∇a> likewise with
    # cF, cG swapped, where c = λε with single_scale (a final step) and λε/2
    # with the defaults on power-of-two sides (the last iteration jumps: F is
    # the upsampled average of the held dual and the coarse soft-min), to
    # 1e-12; F, G are those of potentials = true bit for bit; linear in the
    # cotangents; transposing every array transposes the gradients (the
    # square problem is symmetric: a mixed-up layout fails); a batch's items
    # are their own runs; Float32 within 1e-3; refusals name the argument.
    rng = MersenneTwister(11)
    rel(x, y) = maximum(abs.(x .- y)) / maximum(abs.(y))
    dens(sz...) = (x = 0.5 .+ rand(rng, sz...); x ./ sum(x))
    for (f, loss, sz, perm) in ((GeomLoss.images_potentials_with_gradients, images_loss, (8, 8), (2, 1)),
                                (GeomLoss.volumes_potentials_with_gradients, volumes_loss, (4, 4, 4), (3, 2, 1)))
        n = sz[1]
        a, b = dens(sz...), dens(sz...)
        cF, cG = randn(rng, sz...), randn(rng, sz...)
        for p in (1, 2), reach in (nothing, 0.5), debias in (true, false), single_scale in (false, true)
            opts = (p = p, reach = reach, debias = debias, single_scale = single_scale)
            r = f(a, b; cot_F = cF, cot_G = cG, opts...)
            ε = (1 / n)^p
            λ = reach === nothing ? 1.0 : 1 / (1 + ε / reach^p)
            c = single_scale ? λ * ε : λ * ε / 2
            sF, sG = sum(cF), sum(cG)
            wa, wb = debias ? (-c * (sG - sF), -c * (sF - sG)) : (-c * sG, -c * sF)
            @test abs(sum(a .* r.∇a) - wa) <= 1e-12 && abs(sum(b .* r.∇b) - wb) <= 1e-12
            pot = loss(a, b; potentials = true, opts...)
            @test r.F == pot.F && r.G == pot.G && size(r.∇a) == sz && size(r.∇b) == sz
            rF, rG = f(a, b; cot_F = cF, opts...), f(a, b; cot_G = cG, opts...)
            @test rel(rF.∇a .+ rG.∇a, r.∇a) <= 1e-12 && rel(rF.∇b .+ rG.∇b, r.∇b) <= 1e-12
            rt = f(permutedims(a, perm), permutedims(b, perm); cot_F = permutedims(cF, perm),
                   cot_G = permutedims(cG, perm), opts...)
            @test rel(rt.∇a, permutedims(r.∇a, perm)) <= 1e-12 && rel(rt.∇b, permutedims(r.∇b, perm)) <= 1e-12
        end
        # Raw, the defaults: F does not depend on a, so cot_F alone gives ∇a = 0.
        @test all(iszero, f(a, b; cot_F = cF, debias = false).∇a)
        r = f(a, b; cot_F = cF, cot_G = cG)
        r32 = f(Float32.(a), Float32.(b); cot_F = Float32.(cF), cot_G = Float32.(cG))
        @test eltype(r32.∇a) === Float32 && rel(r32.∇a, r.∇a) <= 1e-3 && rel(r32.∇b, r.∇b) <= 1e-3
        a2, b2, cF2 = dens(sz...), dens(sz...), randn(rng, sz...)
        rb = f(cat(a, a2; dims = length(sz) + 1), cat(b, b2; dims = length(sz) + 1);
               cot_F = cat(cF, cF2; dims = length(sz) + 1))
        r2 = f(a2, b2; cot_F = cF2)
        @test size(rb.∇a) == (sz..., 2) && selectdim(rb.∇b, length(sz) + 1, 2) == r2.∇b
        err(g) = try g(); nothing catch e; e end
        short = zeros(sz[1] - 1, sz[2:end]...)
        e = err(() -> f(a, b; cot_F = short)); @test e isa GeomLossError && e.code == :shape && occursin("cot_F", e.msg)
        e = err(() -> f(a, b; cot_G = short)); @test e isa GeomLossError && e.code == :shape && occursin("cot_G", e.msg)
        e = err(() -> f(a, b; cot_F = fill("x", sz))); @test e isa GeomLossError && e.code == :invalid_argument && occursin("cot_F", e.msg)
        e = err(() -> f(a, b; cot_G = fill(NaN, sz))); @test e isa GeomLossError && e.code == :value && occursin("cotangent of G", e.msg)
        e = err(() -> f(a, b; cot_F = cF, single_scale = 1)); @test e isa GeomLossError && e.code == :invalid_option && occursin("single_scale", e.msg)
    end
end

@testset "threads ($(Threads.nthreads()) julia threads)" begin
    # Concurrent evaluations equal the serial ones bit for bit, and each thread
    # gets its own error message.
    rng = MersenneTwister(11)
    probs = [(rand(rng, 3, 40), rand(rng, 3, 30)) for k in 1:32]
    serial = [samples_loss_with_gradients(p...; blur = 0.05) for p in probs]
    par = Vector{Any}(undef, length(probs))
    Threads.@threads for k in eachindex(probs)
        par[k] = samples_loss_with_gradients(probs[k]...; blur = 0.05)
    end
    @test all(par[k].value == serial[k].value && par[k].∇x == serial[k].∇x && par[k].∇y == serial[k].∇y
              for k in eachindex(probs))
    msgs = Vector{String}(undef, 32)
    Threads.@threads for k in 1:32
        msgs[k] = try
            samples_loss(probs[k]...; blur = -k)
            ""
        catch e
            e isa GeomLossError ? e.msg : sprint(showerror, e)
        end
    end
    @test all(occursin("got -$k", msgs[k]) for k in 1:32)
end

@testset "OT solver: plans, products, barycentric maps" begin
    rng = MersenneTwister(14)
    D, N, M, eps = 2, 9, 7, 0.1
    x, y = rand(rng, D, N), rand(rng, D, M) .+ 0.2
    a, b = rand(rng, N) .+ 0.3, rand(rng, M) .+ 0.3
    a ./= sum(a); b ./= sum(b)
    sol = solve_sample(x, y; a = a, b = b, reg = eps, tol = 1e-12)
    @test sol.marginal_error < 1e-12 && sol.n_iter > 0
    @test maximum(abs.(sol.marginal_a .- a)) < 1e-11 && maximum(abs.(sol.marginal_b .- b)) < 1e-11
    C = [sum(abs2, x[:, i] .- y[:, j]) for i in 1:N, j in 1:M]
    P = transport_plan(sol)
    @test size(P) == (N, M)
    @test maximum(abs.(P .- (a * b') .* exp.((sol.potential_a .+ sol.potential_b' .- C) ./ eps))) < 1e-14
    @test abs(sol.value_linear - sum(P .* C)) < 1e-13
    @test abs(sol.value - (dot(a, sol.potential_a) + dot(b, sol.potential_b))) < 1e-13
    V, U = randn(rng, M, 3), randn(rng, N, 2)
    @test maximum(abs.(plan_times(sol, V) .- P * V)) < 1e-14
    @test maximum(abs.(plan_times(sol, U; transpose = true) .- P' * U)) < 1e-14
    @test maximum(abs.(plan_times(sol, ones(M)) .- sol.marginal_a)) < 1e-15
    @test maximum(abs.(barycentric_map(sol) .- (y * P') ./ sum(P, dims = 2)')) < 1e-13
    @test maximum(abs.(barycentric_map(sol; direction = :b_to_a) .- (x * P) ./ sum(P, dims = 1))) < 1e-13
    # OT(b, a) = OT(a, b)ᵀ
    sol2 = solve_sample(y, x; a = b, b = a, reg = eps, tol = 1e-12)
    @test maximum(abs.(transport_plan(sol2) .- P')) < 1e-10
    # a Dirac source: the plan is b
    d = solve_sample(reshape([0.1, 0.4], 2, 1), y; b = b, blur = 0.05)
    @test maximum(abs.(vec(transport_plan(d)) .- b)) < 1e-12
    # Float32, and refusals naming the argument
    s32 = solve_sample(Float32.(x), Float32.(y); reg = 0.1f0, tol = 1e-5)
    @test s32.value isa Float32 && abs(s32.value - solve_sample(x, y; reg = 0.1, tol = 1e-9).value) < 1e-4
    err = try solve_sample(x, y; a = 2 .* a, b = b, reg = eps); nothing catch e; e end
    @test err isa GeomLossError && err.code == :value && occursin("total masses differ", err.msg)
    err = try plan_times(sol, ones(M + 1)); nothing catch e; e end
    @test err isa GeomLossError && err.code == :shape
    err = try solve_sample(x, y; cost = :cityblock, reg = eps); nothing catch e; e end
    @test err isa GeomLossError && err.code == :invalid_option && occursin("cost", err.msg)
end

@testset "cluster labels (labels_x, labels_y)" begin
    rng = MersenneTwister(21)
    D, N, M = 4, 30, 40
    x, y = rand(rng, D, N), 0.8 .* rand(rng, D, M) .+ 0.3
    a, b = rand(rng, N) .+ 0.2, rand(rng, M) .+ 0.2
    a ./= sum(a); b ./= sum(b)
    lx, ly = rand(rng, -2:2, N) .* 1000, rand(rng, 0:3, M) .- 7
    lx0 = copy(lx)
    kw = (a = a, b = b, blur = 0.1, labels_x = lx, labels_y = ly)
    # truncate=nothing: the labelled multiscale run is the online one (1e-10)
    r = samples_loss_with_gradients(x, y; truncate = nothing, kw...)
    @test GeomLoss.last_run().backend == :multiscale
    r0 = samples_loss_with_gradients(x, y; a = a, b = b, blur = 0.1, backend = :online)
    @test abs(r.value - r0.value) <= 1e-10 * r0.value
    for (g, g0) in ((r.∇x, r0.∇x), (r.∇y, r0.∇y), (r.∇a, r0.∇a), (r.∇b, r0.∇b))
        @test maximum(abs.(g .- g0)) <= 1e-10 * maximum(abs.(g0))
    end
    p = potentials(x, y; truncate = nothing, kw...)
    p0 = potentials(x, y; a = a, b = b, blur = 0.1, backend = :online)
    @test maximum(abs.(p.F .- p0.F)) <= 1e-10 && maximum(abs.(p.G .- p0.G)) <= 1e-10
    # without labels, auto runs online: the labels selected multiscale
    v = samples_loss(x, y; kw...)
    @test GeomLoss.last_run().backend == :multiscale
    samples_loss(x, y; a = a, b = b, blur = 0.1)
    @test GeomLoss.last_run().backend == :online
    # any integer type, same partition and order: the same value, bit for bit
    rank(l) = [searchsortedfirst(sort(unique(l)), v) for v in l]
    @test samples_loss(x, y; kw..., labels_x = Int32.(rank(lx)), labels_y = UInt8.(rank(ly))) == v
    @test lx == lx0                                          # not modified
    # finite differences of the labelled gradients (default truncation;
    # converged settings as in "finite differences")
    ot = (a = a, b = b, blur = 0.5, scaling = 0.99, diameter = 2.0, reach = 0.3, labels_x = lx, labels_y = ly)
    r = samples_loss_with_gradients(x, y; ot...)
    @test GeomLoss.last_run().backend == :multiscale
    @test fd_check(u -> samples_loss(u, y; ot...), r.∇x, x, randn(rng, D, N), 1e-3)
    @test fd_check(u -> samples_loss(x, u; ot...), r.∇y, y, randn(rng, D, M), 1e-3)
    @test fd_check(u -> samples_loss(x, y; ot..., a = u), r.∇a, a, 0.1 .* randn(rng, N), 1e-3)
    @test fd_check(u -> samples_loss(x, y; ot..., b = u), r.∇b, b, 0.1 .* randn(rng, M), 1e-3)
    # Float32
    v32 = samples_loss(Float32.(x), Float32.(y); kw..., a = Float32.(a), b = Float32.(b))
    @test v32 isa Float32 && abs(v32 - v) <= 1e-5 * v
    # a batch: one labelling per item (N×B), each item as alone
    X, Y = cat(x, x .+ 0.1; dims = 3), cat(y, y; dims = 3)
    LX, LY = hcat(lx, reverse(lx)), hcat(ly, ly)
    vb = samples_loss(X, Y; blur = 0.1, diameter = 2.0, labels_x = LX, labels_y = LY)
    for k in 1:2
        @test vb[k] == samples_loss(X[:, :, k], Y[:, :, k]; blur = 0.1, diameter = 2.0,
                                    labels_x = LX[:, k], labels_y = LY[:, k])
    end
    # refusals naming the argument
    for (bad, code, what) in (((labels_x = Float64.(lx),), :invalid_argument, "labels_x (cluster labels of x): must be an array of integers"),
                              ((labels_y = ly .> 0,), :invalid_argument, "labels_y"),
                              ((labels_y = ly[1:end-1],), :shape, "labels_y has size (39,) but y has 40 points"),
                              ((labels_x = nothing,), :invalid_argument, "both x and y"),
                              ((backend = :online,), :invalid_option, "backend"))
        err = try samples_loss(x, y; kw..., bad...); nothing catch e; e end
        @test err isa GeomLossError && err.code == code && occursin(what, err.msg)
    end
    err = try samples_loss(X, Y; labels_x = lx, labels_y = LY); nothing catch e; e end
    @test err isa GeomLossError && err.code == :shape && occursin("needs 30×2 labels", err.msg)
end

@testset "OT solver: kept plans equal the re-solve bit for bit; the power cost" begin
    rng = MersenneTwister(15)
    D, N, M = 3, 11, 8
    x, y = rand(rng, D, N), rand(rng, D, M)
    V, U = randn(rng, M, 2), randn(rng, N, 3)
    for (cost, q) in ((:sqeuclidean, nothing), (:power, 1.5))
        sol = solve_sample(x, y; reg = 0.05, tol = 1e-9, cost = cost, q = q)
        # The re-solve's own outputs (geomloss_ot_solve_sample with v, u set).
        T = Float64
        outs = Dict{Cint,Array{T}}(GeomLoss._ABI.BUF_PLAN_V => zeros(T, 2, N), GeomLoss._ABI.BUF_PLAN_T_U => zeros(T, 3, M),
                                   GeomLoss._ABI.BUF_A_TO_B => zeros(T, D, N), GeomLoss._ABI.BUF_PLAN => zeros(T, M, N))
        GeomLoss._ot_call(T, sol.x, sol.y, sol.a, sol.b, sol.options, outs;
                          v = Matrix{T}(permutedims(V)), u = Matrix{T}(permutedims(U)))
        @test plan_times(sol, V) == permutedims(outs[GeomLoss._ABI.BUF_PLAN_V])
        @test plan_times(sol, U; transpose = true) == permutedims(outs[GeomLoss._ABI.BUF_PLAN_T_U])
        @test barycentric_map(sol) == outs[GeomLoss._ABI.BUF_A_TO_B]
        @test transport_plan(sol) == permutedims(outs[GeomLoss._ABI.BUF_PLAN])
        GeomLoss.free_plan!(sol)
        GeomLoss.free_plan!(sol)  # idempotent
        err = try plan_times(sol, V); nothing catch e; e end
        @test err isa GeomLossError && err.code == :invalid_argument && occursin("freed", err.msg)
    end
    # The power cost's Dirac closed form: value = Σ_j b_j |x − y_j|^q/q.
    b = rand(rng, M) .+ 0.1
    b ./= sum(b)
    x1 = reshape([0.2, 0.5, 0.1], 3, 1)
    for q in (1.25, 3.0)
        d = solve_sample(x1, y; b = b, cost = :power, q = q, reg = 0.01, tol = 1e-12)
        want = sum(b[j] * sqrt(sum(abs2, x1[:, 1] .- y[:, j]))^q / q for j in 1:M)
        @test abs(d.value - want) < 1e-12 && abs(d.value_linear - want) < 1e-12
    end
    err = try solve_sample(x, y; cost = :power, q = 0.5, reg = 0.1); nothing catch e; e end
    @test err isa GeomLossError && err.code == :invalid_option && occursin("q", err.msg)
end

@testset "OT solver: backend = :multiscale (plan products over the kept block pairs)" begin
    rng = MersenneTwister(16)
    D, N, M = 2, 1000, 1300
    x, y = rand(rng, D, N), rand(rng, D, M)
    ms = solve_sample(x, y; reg = 0.003, backend = :multiscale)
    run = GeomLoss.last_run()
    @test run.backend == :multiscale
    @test occursin("kept block pairs", run.note)
    on = solve_sample(x, y; reg = 0.003, backend = :online)
    @test GeomLoss.last_run().backend == :online
    rel(a, b) = maximum(abs.(a .- b)) / maximum(abs.(b))
    @test abs(ms.value - on.value) <= 1e-5 * abs(on.value)
    V, U = randn(rng, M, 3), randn(rng, N, 2)
    @test rel(plan_times(ms, V), plan_times(on, V)) <= 2e-5
    @test rel(plan_times(ms, U; transpose = true), plan_times(on, U; transpose = true)) <= 2e-5
    @test rel(barycentric_map(ms), barycentric_map(on)) <= 2e-5
    @test plan_times(ms, ones(M)) == ms.marginal_a  # the marginals are the sparse plan's products
    err = try solve_sample(x, y; reg = 0.003, backend = :fast); nothing catch e; e end
    @test err isa GeomLossError && err.code == :invalid_option && occursin("backend", err.msg)
end

end # testset
