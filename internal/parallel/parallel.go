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
// independent.
//
// The other ranges go to helper goroutines that stay awake for spin after
// their last range: a goroutine started per call, or a parked one, had to
// be woken through the OS for each call (tens of microseconds on this VM,
// against passes of a few hundred in Staged inference, which makes some 50
// calls per image). A range no helper has taken when the caller is done
// with its own, the caller runs itself, so nested or concurrent calls
// cannot wait on each other.
func Ranges(n, maxWorkers int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if workers <= 1 {
		fn(0, n)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	tasks := make([]task, 0, workers)
	for lo := per; lo < n; lo += per {
		tasks = append(tasks, task{fn: fn, lo: lo, hi: min(lo+per, n), done: &wg})
	}
	wg.Add(len(tasks))
	startHelpers()
	for i := range tasks {
		select {
		case queue <- &tasks[i]:
		default: // all helpers have work queued: the caller takes it below
		}
	}
	fn(0, min(per, n))
	for i := range tasks {
		tasks[i].run()
	}
	wg.Wait()
}

// task is one range of a Ranges call; whoever claims it first runs it.
type task struct {
	fn      func(lo, hi int)
	lo, hi  int
	claimed atomic.Bool
	done    *sync.WaitGroup
}

func (t *task) run() {
	if t.claimed.CompareAndSwap(false, true) {
		t.fn(t.lo, t.hi)
		t.done.Done()
	}
}

// spin is how long a helper polls for the next range before it parks.
const spin = 100 * time.Microsecond

var (
	queue       = make(chan *task, 64)
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
