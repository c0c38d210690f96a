package supernet

import (
	"math"
	"runtime"
	"sync"
)

// The optimizer updates of apply, one contiguous run of a variable at a time:
// a search updates every weight its path used at every step (tens of millions
// at the maximal widths of the op warm-up), so the loops are vectorized
// (update_simd.go) and large updates split across the cores. Vector and
// scalar loops compute the same float32 operations in the same order: the
// results are identical.

// rmspropRun updates the weights w and slots ms, mom with gradient g (all of
// one length): g' = g + wd·w, ms = ρ·ms + (1−ρ)·g'², mom = μ·mom +
// lr·g'/√(ms+ε), w −= mom.
func rmspropRun(w, ms, mom, g []float32, wd, rho, eps, mu, lr float32) {
	i := 0
	if hasVectorUpdate {
		i = rmspropVector(w, ms, mom, g, wd, rho, eps, mu, lr)
	}
	for ; i < len(w); i++ {
		gi := g[i] + wd*w[i]
		ms[i] = rho*ms[i] + (1-rho)*gi*gi
		mom[i] = mu*mom[i] + lr*gi/float32(math.Sqrt(float64(ms[i]+eps)))
		w[i] -= mom[i]
	}
}

// sgdRun is Nesterov SGD on one run: g' = g + wd·w, mom = μ·mom + g',
// w −= lr·(g' + μ·mom).
func sgdRun(w, mom, g []float32, wd, mu, lr float32) {
	i := 0
	if hasVectorUpdate {
		i = sgdVector(w, mom, g, wd, mu, lr)
	}
	for ; i < len(w); i++ {
		gi := g[i] + wd*w[i]
		mom[i] = mu*mom[i] + gi
		w[i] -= lr * (gi + mu*mom[i])
	}
}

// parallelMin is the size of an update worth splitting across goroutines.
const parallelMin = 1 << 18

// splitRuns calls fn on the runs (full offset, slice offset, length) of a
// variable slice, in parallel over up to GOMAXPROCS goroutines when the
// slice holds at least parallelMin values. Runs are disjoint, so the calls
// are independent.
func splitRuns(shape, starts, dims []int, fn func(full, part, n int)) {
	size := 1
	for _, d := range dims {
		size *= d
	}
	workers := min(runtime.GOMAXPROCS(0), size/parallelMin)
	if workers < 2 {
		forRuns(shape, starts, dims, fn)
		return
	}
	type run struct{ full, part, n int }
	var runs []run
	forRuns(shape, starts, dims, func(full, part, n int) {
		// Long runs are cut so that the work divides evenly.
		for n > 0 {
			m := min(n, size/workers+1)
			runs = append(runs, run{full, part, m})
			full, part, n = full+m, part+m, n-m
		}
	})
	var wg sync.WaitGroup
	per := (len(runs) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(runs))
		if lo >= hi {
			break
		}
		wg.Go(func() {
			for _, r := range runs[lo:hi] {
				fn(r.full, r.part, r.n)
			}
		})
	}
	wg.Wait()
}
