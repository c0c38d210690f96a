package main

import (
	"encoding/json"
	"io"
	"os"
	"testing"
)

// TestBenchTrain runs `bench train` on a tiny batch and checks its JSON.
func TestBenchTrain(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout = w
	devnull, _ := os.Open(os.DevNull)
	os.Stderr = devnull
	code := run([]string{"bench", "train", "--steps", "2", "--warmup", "1", "--batch", "2", "--json"})
	w.Close()
	os.Stdout, os.Stderr = stdout, stderr
	out, _ := io.ReadAll(r)
	if code != 0 {
		t.Fatalf("exit code %d, output %s", code, out)
	}
	var res benchTrainResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if res.Model != "multi_avg@0.5" || res.Batch != 2 || len(res.FastStepsMS) != 2 || !(res.FastStepMS > 0) {
		t.Errorf("unexpected result %+v", res)
	}
	if res.StockStepMS == nil || res.Speedup == nil || *res.Speedup != *res.StockStepMS/res.FastStepMS {
		t.Errorf("stock time or speedup missing or inconsistent on the Go backend: %+v (error %q)", res, res.StockError)
	}
	for _, bad := range [][]string{{"--steps", "0"}, {"--batch", "-1"}, {"extra"}} {
		os.Stderr = devnull
		code := run(append([]string{"bench", "train"}, bad...))
		os.Stderr = stderr
		if code == 0 {
			t.Errorf("bench train %v: exit code 0, want an error", bad)
		}
	}
}
