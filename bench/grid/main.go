// Command grid times libgeomloss's grid Sinkhorn (images and volumes, issue
// 13): sinkhorn_divergence(a, b) with the reference's defaults (p = 2,
// blur = pixel, scaling 0.5, debiased), float32, value + gradient w.r.t. a,
// two smooth random densities per grid (a sum of Gaussian blobs on a small
// floor). For each shape it prints one JSON line: best wall time over the
// repetitions, CPU time (user + system) per evaluation, the process's peak
// RSS so far (run one large shape per process to read its own peak) and the
// load average, so figures measured on a busy machine can be read.
//
//	go run ./bench/grid [-shapes 64x64,128x128,256x256,32x32x32,64x64x64] [-reps 3] [-threads 0] [-engine auto|avx2|portable] [-dense] [-dump DIR]
//
// -engine picks the grid pass engine (auto: the image functions' default,
// simd.GridFor; -engine portable,avx2 runs both as peers of the same run,
// shape by shape).
// -dense runs the untruncated O(n^(d+1)) passes (the reference's algorithm)
// as a peer of the same run; -dump writes the densities for
// bench/grid_peer.py (the reference's algorithm on PyTorch, same inputs).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/simd"
)

func main() {
	shapes := flag.String("shapes", "64x64,128x128,256x256,32x32x32,64x64x64", "comma-separated grid shapes")
	reps := flag.Int("reps", 3, "repetitions (the minimum wall time is reported)")
	threads := flag.Int("threads", 0, "threads (≤0: all cores)")
	dense := flag.Bool("dense", false, "untruncated passes")
	engines := flag.String("engine", "auto", "comma-separated grid engines: auto (simd.GridFor), or paths of simd.GridPaths()")
	dump := flag.String("dump", "", "write each shape's densities to DIR/SHAPE.a and DIR/SHAPE.b (float32 little-endian) for bench/grid_peer.py")
	flag.Parse()
	for _, s := range strings.Split(*shapes, ",") {
		var shape []int
		for _, f := range strings.Split(s, "x") {
			n, err := strconv.Atoi(f)
			if err != nil {
				fmt.Fprintf(os.Stderr, "grid: bad shape %q\n", s)
				os.Exit(2)
			}
			shape = append(shape, n)
		}
		a, b := density(1, shape), density(2, shape)
		if *dump != "" {
			for suf, v := range map[string][]float32{".a": a, ".b": b} {
				f, err := os.Create(filepath.Join(*dump, s+suf))
				if err == nil {
					err = binary.Write(f, binary.LittleEndian, v)
					f.Close()
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "grid:", err)
					os.Exit(1)
				}
			}
		}
		par := grid.DefaultParams()
		if *dense {
			par.Tolerance = -1
		}
		pr := grid.Problem[float32]{B: 1, Shape: shape, A: a, Bw: b}
		for _, en := range strings.Split(*engines, ",") {
			eng := simd.GridFor[float32]()
			if en != "auto" {
				var err error
				if eng, err = simd.GridEngine[float32](en); err != nil {
					fmt.Fprintln(os.Stderr, "grid:", err)
					os.Exit(2)
				}
			}
			best, cpu := math.Inf(1), 0.0
			var value float32
			for r := 0; r < *reps; r++ {
				c0 := cpuTime()
				t0 := time.Now()
				res, err := grid.Evaluate(grid.Config[float32]{Engine: eng, Threads: *threads}, par, pr, grid.Request[float32]{GradA: true})
				if err != nil {
					fmt.Fprintln(os.Stderr, "grid:", err)
					os.Exit(1)
				}
				best = math.Min(best, time.Since(t0).Seconds())
				cpu += cpuTime() - c0
				value = res.Value[0]
			}
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			load, _ := os.ReadFile("/proc/loadavg")
			out, _ := json.Marshal(map[string]any{
				"shape": s, "engine": eng.Name(), "threads": *threads, "dense": *dense, "seconds": best, "cpu_seconds": cpu / float64(*reps),
				"value": value, "peak_rss_mb": float64(ru.Maxrss) / 1024, "loadavg": strings.Fields(string(load))[0],
			})
			fmt.Println(string(out))
		}
	}
}

// density returns a positive density of mass 1: three Gaussian blobs of
// random centres and widths on a floor of 1e-4 of the peak.
func density(seed uint64, shape []int) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	size := 1
	for _, n := range shape {
		size *= n
	}
	type blob struct {
		c []float64
		s float64
	}
	var bl []blob
	for i := 0; i < 3; i++ {
		c := make([]float64, len(shape))
		for k := range c {
			c[k] = 0.2 + 0.6*r.Float64()
		}
		bl = append(bl, blob{c, 0.05 + 0.1*r.Float64()})
	}
	w := make([]float64, size)
	idx := make([]int, len(shape))
	tot := 0.0
	for i := range w {
		v := 1e-4
		for _, g := range bl {
			q := 0.0
			for k, u := range idx {
				x := (float64(u) + .5) / float64(shape[k])
				q += (x - g.c[k]) * (x - g.c[k])
			}
			v += math.Exp(-q / (2 * g.s * g.s))
		}
		w[i] = v
		tot += v
		for k := len(shape) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	out := make([]float32, size)
	for i, v := range w {
		out[i] = float32(v / tot)
	}
	return out
}

func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
