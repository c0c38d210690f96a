// Package parallel splits index ranges over the cores.
package parallel

import (
	"runtime"
	"sync"
)

// Ranges calls fn on consecutive ranges [lo, hi) covering [0, n), on up to
// min(GOMAXPROCS, n, maxWorkers) goroutines; with one worker it calls
// fn(0, n) on the calling goroutine. Callers bound maxWorkers by the work
// per range worth a goroutine. The ranges must be independent.
func Ranges(n, maxWorkers int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if workers <= 1 {
		fn(0, n)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += per {
		wg.Go(func() { fn(lo, min(lo+per, n)) })
	}
	wg.Wait()
}
