package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/measure"
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

// `cost measure` feeds `cost adapt` directly: its whole-model timings are the
// training and test rows.
func TestCostAdaptLocalTable(t *testing.T) {
	tbl := measure.NewTable("go")
	for i, name := range []string{"mobilenet_v2", "multi_avg", "multi_max", "mobilenet_v3_large_min", "efficientnet_lite0", "mnv4_conv_s"} {
		a, err := blocks.Model(name)
		if err != nil {
			t.Fatal(err)
		}
		// Invented timings, rising with the MACs-ish order of the list.
		tm, err := measure.NewTiming([]float64{20 + 3*float64(i), 21 + 3*float64(i), 22 + 3*float64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := tbl.SetModel(a, tm, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "local-go.json")
	if err := tbl.Save(path); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mine.json")
	if err := runCostAdapt([]string{"--data", path, "--train", "4", "--out", out}); err != nil {
		t.Fatal(err)
	}
	tf, err := hwcost.LoadTargetFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if tf.Target != "adapted-local-go" || !strings.Contains(tf.Note, "--train 4") {
		t.Errorf("target file %+v", tf)
	}
	if err := runCostAdapt([]string{"--data", path, "--train", "6"}); err == nil || !strings.Contains(err.Error(), "too few rows") {
		t.Errorf("6 of 6 rows for training: %v", err)
	}
}
