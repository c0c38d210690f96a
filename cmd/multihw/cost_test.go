package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCostAdaptAndTargetFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "fpga.json")
	if err := runCostAdapt([]string{"--data", "nb201-help", "--device", "fpga", "--train", "10", "--seed", "2", "--out", out}); err != nil {
		t.Fatal(err)
	}
	// The written target is a target like any other.
	if err := runCost([]string{"--model", "multi_avg", "--hardware", "paper," + out}); err != nil {
		t.Fatal(err)
	}
	if err := runCostSensitivity([]string{"--model", "multi_avg,multi_max", "--hardware", "pixel4-cpu," + out, "--draws", "50", "--json"}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"target": "x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runCostAdapt, []string{"--device", "fpga"}, "missing --data"},
		{runCostAdapt, []string{"--data", "nb201-help"}, "missing --device; columns of nb201-help"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "toaster"}, "toaster"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--train", "20000"}, "too few rows"},
		{runCostAdapt, []string{"--data", filepath.Join(dir, "none.json")}, "no measured table"},
		{runCost, []string{"--model", "multi_avg", "--hardware", bad}, "parsing target file"},
		{runCostSensitivity, []string{"--hardware", "paper"}, "give the architectures"},
		{runCostSensitivity, []string{"--model", "multi_avg", "--draws", "1"}, "draws must be at least 2"},
	} {
		if err := tc.run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
