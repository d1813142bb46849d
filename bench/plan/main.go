// Command plan benchmarks the lazy transport plan (not a test): it solves
// an entropic OT problem between two uniform clouds of N points in [0,1]^D
// (online or multiscale backend), then times the plan products πV (V: M×K)
// and πᵀU, and reports the peak resident memory (VmHWM), which stays
// O((N+M)·K) online — a dense N×M float32 plan at N = M = 1e5 would be 40 GB
// — and O(N+M+kept blocks) multiscale, whose products run over the block
// pairs the final potentials keep (the fraction is in the note).
//
//	go run ./bench/plan -n 100000 -k 1
//	go run ./bench/plan -n 1000000 -d 2 -backend multiscale -reg 8e-6 -scaling 0.01
//
// It prints one JSON line; run `uptime` next to it (figures from a loaded
// machine are not comparable). The solve's time per iteration is the peer
// figure: one iteration is two soft-min reductions of the same N×M shape.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/libgeomloss/libgeomloss"
)

func main() {
	n := flag.Int("n", 100000, "points per cloud (N = M)")
	d := flag.Int("d", 3, "dimension")
	k := flag.Int("k", 1, "columns of V")
	reg := flag.Float64("reg", 0.5, "ε (a large ε keeps the schedule short: this measures the plan, not the solve)")
	threads := flag.Int("threads", 0, "threads (0: all cores)")
	backend := flag.String("backend", "online", "online or multiscale")
	scaling := flag.Float64("scaling", 0, "ε ratio between iterations (0: the default 0.5)")
	tol := flag.Float64("tol", 0, "marginal tolerance (0: the fixed schedule)")
	maxIter := flag.Int("maxiter", 0, "iterations at most with -tol (0: the default)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the run")
	memprof := flag.String("memprofile", "", "write a heap profile (allocations) at the end")
	flag.Parse()
	if *memprof != "" {
		defer func() {
			f, err := os.Create(*memprof)
			if err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	be := geomloss.Online
	switch *backend {
	case "online":
	case "multiscale":
		be = geomloss.Multiscale
	default:
		fmt.Fprintln(os.Stderr, "-backend: online or multiscale")
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pts := func(m int) []float32 {
		p := make([]float32, m)
		for i := range p {
			p[i] = float32(r.Float64())
		}
		return p
	}
	x, y := pts(*n**d), pts(*n**d)
	opts := geomloss.Options{Threads: *threads}
	t0 := time.Now()
	res, err := geomloss.SolveSample(x, y, *d, nil, nil, geomloss.OTParams{Reg: *reg, Backend: be, Scaling: *scaling, Tol: *tol, MaxIter: *maxIter}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer res.Close()
	solve := time.Since(t0) // includes the marginals (two plan reductions)
	v := pts(*n * *k)
	t1 := time.Now()
	pv, err := res.Plan.Times(v, *k)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	times := time.Since(t1)
	t2 := time.Now()
	if _, err := res.Plan.TransposeTimes(pts(*n**k), *k); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ttimes := time.Since(t2)
	pairs := float64(*n) * float64(*n)
	out := map[string]any{
		"n": *n, "d": *d, "k": *k, "backend": *backend, "engine": res.Engine, "note": res.Note,
		"solve_s": solve.Seconds(), "iterations": res.Iterations,
		"plan_times_s": times.Seconds(), "plan_T_times_s": ttimes.Seconds(),
		"plan_times_all_pairs_per_s": pairs / times.Seconds(), // N·M over the time, whatever was kept
		"peak_rss_mib":               peakRSS(), "marginal_error": res.MarginalError, "pv0": pv[0],
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// peakRSS returns VmHWM from /proc/self/status in MiB (0 if unavailable).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%g", &kb)
			return kb / 1024
		}
	}
	return 0
}
