package parallel

import (
	"runtime"
	"slices"
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

// The ranges are chunksPerWorker per worker, of lengths differing by at most
// one, in order, whichever goroutine runs them: results that depend on the
// bounds (none should) are still reproducible.
func TestRangesBounds(t *testing.T) {
	workers := min(runtime.GOMAXPROCS(0), 3)
	if workers < 2 {
		t.Skip("needs GOMAXPROCS >= 2 to split")
	}
	for _, n := range []int{2, 5, 13, 1000, 1 << 20} {
		var mu sync.Mutex
		var got [][2]int
		Ranges(n, workers, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, [2]int{lo, hi})
		})
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		chunks := min(n, workers*chunksPerWorker)
		if len(got) != chunks {
			t.Fatalf("n=%d: %d ranges %v, want %d", n, len(got), got, chunks)
		}
		for i, r := range got {
			if want := n / chunks; r[1]-r[0] != want && r[1]-r[0] != want+1 {
				t.Fatalf("n=%d: range %d is %v, want %d or %d long", n, i, r, want, want+1)
			}
			if i > 0 && r[0] != got[i-1][1] || i == 0 && r[0] != 0 || i == len(got)-1 && r[1] != n {
				t.Fatalf("n=%d: ranges %v do not tile [0, %d)", n, got, n)
			}
		}
	}
}

// BenchmarkRanges runs calls of the size of a 1×1 stage's (64 ranges, tens
// of microseconds in all, back to back), with ranges of equal cost and with
// the last quarter 4x the others (an uneven split), split statically (one
// range per worker, the caller running whatever the helper has not started)
// and in chunks, in one run: compare the ns/op of each pair.
func BenchmarkRanges(b *testing.B) {
	const per = 32
	data := make([]float64, 64*per)
	work := func(uneven bool) func(lo, hi int) {
		return func(lo, hi int) {
			for r := lo; r < hi; r++ {
				reps := 16
				if uneven && r >= 48 {
					reps = 64
				}
				for i := r * per; i < (r+1)*per; i++ {
					v := data[i]
					for range reps {
						v = v*0.999 + 1
					}
					data[i] = v
				}
			}
		}
	}
	defer func(c int) { chunksPerWorker = c }(chunksPerWorker)
	for _, load := range []string{"equal", "uneven"} {
		fn := work(load == "uneven")
		for _, c := range []struct {
			name   string
			chunks int
		}{{"static", 1}, {"chunked", chunksPerWorker}} {
			b.Run(load+"/"+c.name, func(b *testing.B) {
				chunksPerWorker = c.chunks
				for b.Loop() {
					Ranges(64, 64, fn)
				}
			})
		}
	}
}
