// Command e2e times the end-to-end benchmark case of issue 6 with libgeomloss:
// SamplesLoss("sinkhorn", p=2, blur=.05, scaling=.5, debias=True), D=3,
// float32, x ~ U[0,1]³, y ~ N((.7,.5,.5), .1²·I), value + gradient w.r.t. x,
// online backend by default (-backend tensorized|auto|online). It prints one
// JSON object per line (size, seconds, value, peak RSS) for bench/run.py, and
// writes x and y for the peers with -dump.
//
//	go run ./bench/e2e -n 10000 [-threads 0] [-reps 3] [-backend online] [-dump prefix]
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	geomloss "github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/simd"
)

func main() {
	n := flag.Int("n", 10000, "N = M")
	threads := flag.Int("threads", 0, "threads (≤0: all cores)")
	reps := flag.Int("reps", 3, "repetitions (the minimum time is reported)")
	dump := flag.String("dump", "", "write x and y as little-endian float32 to PREFIX.x / PREFIX.y")
	seed := flag.Uint64("seed", 1, "random seed")
	backend := flag.String("backend", "online", "online, tensorized or auto")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	flag.Parse()
	backends := map[string]geomloss.Backend{"online": geomloss.Online, "tensorized": geomloss.Tensorized, "auto": geomloss.Auto}
	be, ok := backends[*backend]
	if !ok {
		fmt.Fprintf(os.Stderr, "e2e: unknown backend %q\n", *backend)
		os.Exit(2)
	}

	r := rand.New(rand.NewPCG(*seed, 7))
	x := make([]float32, *n*3)
	y := make([]float32, *n*3)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	c := [3]float64{.7, .5, .5}
	for i := range y {
		y[i] = float32(c[i%3] + .1*r.NormFloat64())
	}
	if *dump != "" {
		for suf, v := range map[string][]float32{".x": x, ".y": y} {
			f, err := os.Create(*dump + suf)
			if err != nil {
				panic(err)
			}
			if err := binary.Write(f, binary.LittleEndian, v); err != nil {
				panic(err)
			}
			f.Close()
		}
	}
	par := geomloss.DefaultParams()
	par.Backend = be
	pr := geomloss.Problem[float32]{B: 1, N: *n, M: *n, D: 3, X: x, Y: y}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		defer pprof.StopCPUProfile()
	}
	best := -1.0
	var val float32
	var gnorm float64
	var ran string
	for range *reps {
		t0 := time.Now()
		res, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true}, geomloss.Options{Threads: *threads})
		el := time.Since(t0).Seconds()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		if best < 0 || el < best {
			best = el
		}
		val = res.Value[0]
		ran = res.Backend.String()
		gnorm = 0
		for _, g := range res.GradX {
			gnorm += float64(g) * float64(g)
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "libgeomloss-" + ran, "backend": ran, "engine": simd.Selected(), "n": *n, "seconds": best,
		"value": val, "grad_norm2": gnorm, "peak_rss_mb": float64(ru.Maxrss) / 1024,
	})
}
