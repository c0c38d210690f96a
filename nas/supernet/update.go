package supernet

import (
	"runtime"

	"github.com/multihw/multihw/internal/parallel"
)

// The optimizer updates of apply run on the contiguous runs of a variable
// slice (optim.RMSPropRun, optim.SGDRun): a search updates every weight its
// path used at every step (tens of millions at the maximal widths of the op
// warm-up), so large updates are split across the cores.

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
	parallel.Ranges(len(runs), workers, func(lo, hi int) {
		for _, r := range runs[lo:hi] {
			fn(r.full, r.part, r.n)
		}
	})
}
