package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Every index of [0, n) is visited exactly once, for any worker bound.
func TestRangesCoverOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 1001} {
		for _, w := range []int{-1, 0, 1, 2, 3, 64} {
			seen := make([]int, n)
			var mu sync.Mutex
			Ranges(n, w, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d workers=%d: index %d visited %d times", n, w, i, c)
				}
			}
		}
	}
}

// Calls from several goroutines at once, and calls from inside a range,
// complete and visit every index once: a range no helper took is run by its
// caller, so no call waits on a helper busy with another.
func TestRangesNestedAndConcurrent(t *testing.T) {
	var visits atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			Ranges(100, 8, func(lo, hi int) {
				for range hi - lo {
					Ranges(10, 4, func(lo, hi int) { visits.Add(int64(hi - lo)) })
				}
			})
		})
	}
	wg.Wait()
	if got := visits.Load(); got != 4*100*10 {
		t.Fatalf("%d visits, want %d", got, 4*100*10)
	}
}
