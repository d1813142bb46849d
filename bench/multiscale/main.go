// Command multiscale benchmarks the multiscale backend against the online
// backend in the same run (issue 10): float32, SIMD engine, x ~ randn(N, 3),
// y ~ randn(2N, 3), Sinkhorn p = 2, blur = .05, value + gradient w.r.t. x.
// For each N it prints the time of each backend, the value and gradient
// differences, the multiscale note (levels, kept blocks, truncation bound),
// peak RSS and the load average.
//
//	go run ./bench/multiscale -n 20000            # multiscale vs online
//	go run ./bench/multiscale -n 100000 -online=false
//	go run ./bench/multiscale -n 1000000 -m 1000000 -online=false -v
//	go run ./bench/multiscale -n 5000 -needed     # pairs any exact truncation keeps, per ε
//	go run ./bench/multiscale -n 5000 -reps 5     # fastest of 5 runs of each backend
//	go run ./bench/multiscale -n 100000 -online=false -memprofile heap.prof  # live objects at the peak
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/simd"
)

func main() {
	n := flag.Int("n", 20000, "N (y has 2N points unless -m)")
	mFlag := flag.Int("m", 0, "M, the points of y (0: 2N)")
	online := flag.Bool("online", true, "also run the online backend (the reference of the comparison)")
	uniform := flag.Bool("uniform", false, "x uniform in the cube [-2, 2]^3 instead of randn (the e2e case)")
	threads := flag.Int("threads", 0, "threads (0: all cores)")
	verbose := flag.Bool("v", false, "print the multiscale progress stages")
	prof := flag.String("cpuprofile", "", "write a CPU profile")
	need := flag.Bool("needed", false, "print the fraction of pairs an exact truncation must keep at each ε (no timings)")
	dump := flag.String("dump", "", "write x and y as little-endian float32 to PREFIX.x / PREFIX.y (for bench/peers.py)")
	reps := flag.Int("reps", 1, "run each backend this many times and report the fastest (wall) run")
	tol := flag.Float64("tol", 0, "converge at the final ε until the marginal error is below tol (0: GeomLoss's fixed schedule)")
	memprof := flag.String("memprofile", "", "write the heap profile at the largest live heap seen (sampled every 50 ms after each GC)")
	flag.Parse()
	if *memprof != "" {
		defer peakHeapProfile(*memprof)()
	}
	if *prof != "" {
		f, _ := os.Create(*prof)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	r := rand.New(rand.NewPCG(10, 20))
	N, M := *n, 2**n
	if *mFlag > 0 {
		M = *mFlag
	}
	x, y := make([]float32, N*3), make([]float32, M*3)
	for i := range x {
		if *uniform {
			x[i] = float32(4*r.Float64() - 2)
		} else {
			x[i] = float32(r.NormFloat64())
		}
	}
	for i := range y {
		y[i] = float32(r.NormFloat64())
	}
	if *dump != "" {
		for suf, v := range map[string][]float32{".x": x, ".y": y} {
			f, err := os.Create(*dump + suf)
			if err == nil {
				err = binary.Write(f, binary.LittleEndian, v)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	pr := core.Problem[float32]{B: 1, N: N, M: M, D: 3, X: x, Y: y}
	eng := simd.For[float32](core.Resources{Threads: *threads})
	if *need {
		needed(pr, eng)
		return
	}
	var cpu float64 // CPU seconds of the last run (robust to a loaded machine)
	run := func(b core.Backend) (*core.Result[float32], time.Duration) {
		c0 := cpuSeconds()
		defer func() { cpu = cpuSeconds() - c0 }()
		par := core.DefaultParams()
		par.Backend, par.Tol = b, *tol
		var t0 time.Time
		t0 = time.Now()
		req := core.Request[float32]{GradX: true}
		last := ""
		if *verbose && b == core.Multiscale {
			req.Progress = func(stage string, it, tot int) bool {
				if stage != last {
					fmt.Printf("  %5.2fs %s [%d/%d]\n", time.Since(t0).Seconds(), stage, it, tot)
					last = stage
				}
				return false
			}
		}
		res, err := core.Evaluate(core.Config[float32]{Engine: eng}, par, pr, req)
		if err != nil {
			fmt.Fprintln(os.Stderr, b, err)
			os.Exit(1)
		}
		return res, time.Since(t0)
	}
	fmt.Printf("N=%d M=%d D=3 float32, engine %s, load: %s\n", N, M, eng.Name(), loadavg())
	best := func(b core.Backend) (*core.Result[float32], time.Duration, float64) {
		res, t := run(b)
		c := cpu
		for r := 1; r < *reps; r++ {
			if res2, t2 := run(b); t2 < t {
				res, t, c = res2, t2, cpu
			}
		}
		return res, t, c
	}
	ms, tms, cms := best(core.Multiscale)
	fmt.Printf("multiscale: %.3f s wall, %.3f s CPU  value %.7g  (%s)\n", tms.Seconds(), cms, ms.Value[0], ms.Note)
	fmt.Printf("peak RSS after multiscale: %d MB, load: %s\n", peakRSS(), loadavg())
	if !*online {
		pprof.StopCPUProfile()
		return
	}
	on, ton, con := best(core.Online)
	var dn, gn float64
	for i := range on.GradX {
		d := float64(ms.GradX[i]) - float64(on.GradX[i])
		dn += d * d
		gn += float64(on.GradX[i]) * float64(on.GradX[i])
	}
	fmt.Printf("online:     %.3f s wall, %.3f s CPU  value %.7g\n", ton.Seconds(), con, on.Value[0])
	fmt.Printf("speed-up %.1f× wall, %.1f× CPU, value rel. diff %.2e, grad_x rel. diff (norm-wise) %.2e, load: %s\n",
		ton.Seconds()/tms.Seconds(), con/cms, math.Abs(float64(ms.Value[0]-on.Value[0]))/math.Abs(float64(on.Value[0])), math.Sqrt(dn/gn), loadavg())
}

// cpuSeconds returns the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss / 1024
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// peakHeapProfile samples the live heap (the last GC's mark) every 50 ms
// and writes the heap profile to path whenever it exceeds the largest seen
// by 5 %, so that path ends up holding the live objects at (about) the
// peak; the returned function stops it and prints the peak.
func peakHeapProfile(path string) func() {
	done := make(chan struct{})
	finished := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				finished <- peak
				return
			case <-tick.C:
			}
			metrics.Read(s)
			if live := s[0].Value.Uint64(); float64(live) > 1.05*float64(peak) {
				peak = live
				if f, err := os.Create(path); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() {
		close(done)
		fmt.Printf("peak live heap: %.0f MB (heap profile at it: %s)\n", float64(<-finished)/1e6, path)
	}
}
