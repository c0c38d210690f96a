// Package parallel splits index ranges over the cores.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Ranges calls fn on consecutive ranges [lo, hi) covering [0, n), on up to
// min(GOMAXPROCS, n, maxWorkers) goroutines, the caller's among them; with
// one worker it calls fn(0, n) on the calling goroutine. Callers bound
// maxWorkers by the work per range worth a goroutine. The ranges must be
// independent. Their bounds depend only on n and the number of workers, not
// on which goroutine runs them.
//
// The ranges go to helper goroutines that stay awake for spin after their
// last range: a goroutine started per call, or a parked one, had to be woken
// through the OS for each call (tens of microseconds on this VM, against
// passes of a few hundred in Staged inference, which makes some 50 calls per
// image). The work is cut into chunksPerWorker ranges per worker, which the
// caller and the helpers claim one at a time: a helper that starts late (in
// about a fifth of the back-to-back calls of a 1×1 stage, the caller used to
// finish its half and then run the helper's whole half itself) takes the
// ranges left, and one still busy elsewhere takes none, so nested or
// concurrent calls cannot wait on each other.
func Ranges(n, maxWorkers int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if workers <= 1 {
		fn(0, n)
		return
	}
	j := &job{fn: fn, n: n, chunks: min(n, workers*chunksPerWorker)}
	j.done.Add(j.chunks)
	startHelpers()
	for range workers - 1 {
		select {
		case queue <- j:
		default: // every helper has work queued: the caller takes more below
		}
	}
	j.run()
	j.done.Wait()
}

// chunksPerWorker is how many ranges Ranges cuts per worker (1 is the
// static split BenchmarkRanges compares with).
var chunksPerWorker = 4

// job is one Ranges call: chunks ranges of [0, n), claimed in order by
// whoever runs it (next) until none is left.
type job struct {
	fn        func(lo, hi int)
	n, chunks int
	next      atomic.Int64
	done      sync.WaitGroup
}

// bound is where range c starts: the first n%chunks ranges are one longer.
func (j *job) bound(c int) int {
	return c*(j.n/j.chunks) + min(c, j.n%j.chunks)
}

func (j *job) run() {
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		j.fn(j.bound(c), j.bound(c+1))
		j.done.Done()
	}
}

// spin is how long a helper polls for the next range before it parks.
const spin = 100 * time.Microsecond

var (
	queue       = make(chan *job, 64)
	helpersOnce sync.Once
)

// startHelpers starts GOMAXPROCS-1 helpers (at the first call; they live as
// long as the process, parked when idle).
func startHelpers() {
	helpersOnce.Do(func() {
		for range runtime.GOMAXPROCS(0) - 1 {
			go helper()
		}
	})
}

func helper() {
	for t := range queue {
		t.run()
		for deadline := time.Now().Add(spin); time.Now().Before(deadline); {
			select {
			case t := <-queue:
				t.run()
				deadline = time.Now().Add(spin)
			default:
				runtime.Gosched()
			}
		}
	}
}
