package main

import (
	"os"
	"testing"
)

// TestBenchTrainFlags: bad flags fail before anything runs (train's
// TestBenchTrain runs the benchmark).
func TestBenchTrainFlags(t *testing.T) {
	stderr := os.Stderr
	devnull, _ := os.Open(os.DevNull)
	defer func() { os.Stderr = stderr }()
	for _, bad := range [][]string{{"--steps", "0"}, {"--batch", "-1"}, {"--optimizer", "lbfgs"}, {"extra"}} {
		os.Stderr = devnull
		code := run(append([]string{"bench", "train"}, bad...))
		os.Stderr = stderr
		if code == 0 {
			t.Errorf("bench train %v: exit code 0, want an error", bad)
		}
	}
}
