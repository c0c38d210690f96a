package cputime

import (
	"testing"
	"time"
)

// TestProcess: CPU time grows with work (a busy loop of about 50 ms of wall
// time uses some of it) and never goes back.
func TestProcess(t *testing.T) {
	t0 := Process()
	x := 0.0
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		for i := range 1000 {
			x += float64(i)
		}
	}
	t1 := Process()
	if !(t1 > t0) || x == 0 {
		t.Errorf("CPU time %v after a busy loop, %v before", t1, t0)
	}
}
