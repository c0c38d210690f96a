package parallel

import (
	"sync"
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
