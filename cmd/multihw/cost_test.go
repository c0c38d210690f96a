package main

import (
	"encoding/json"
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
	// The written target is a target like any other; `cost` says how far
	// the parameters its data did not decide (NAS-Bench-201 has no depthwise
	// convolution: eff_dw) move the architecture.
	code, outb := runCaptured(t, "cost", "--model", "multi_avg", "--hardware", "paper,"+out)
	text := string(outb)
	if code != 0 || !strings.Contains(text, "Prior-bound parameters of adapted targets") || !strings.Contains(text, "adapted-fpga  eff_dw") {
		t.Fatalf("cost with a target file: exit %d:\n%s", code, text)
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
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5,10", "--train", "10"}, "--train is for a single fit"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5,10", "--out", out}, "--out is for a single fit"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--seeds", "3"}, "--seeds is for --curve"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--plot", dir}, "--plot is for --curve"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5,x"}, `--curve: "x" is not an integer`},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", ","}, "--curve: no training sizes"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5", "--seeds", "1"}, "--seeds must be in [2, 1000]"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5", "--seeds", "1000000000"}, "--seeds must be in [2, 1000]"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5", "--plot", bad}, "exists and is not a directory"},
		{runSearchNB201Compare, []string{"--plot", bad}, "--plot " + bad + " exists and is not a directory"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "10,5"}, "must increase, got 5 after 10"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga,toaster", "--curve", "5,10", "--seeds", "2"}, "toaster"},
		{runCostAdapt, []string{"--data", "nb201-help", "--device", "fpga", "--curve", "5", "--seed", "18446744073709551615"}, "would pass the largest seed"},
		{runCostAdapt, []string{"--data", filepath.Join(dir, "none.json"), "--device", "fpga"}, "--device names a column of a benchmark table"},
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
		// Invented timings: 2 ms plus 1 ms per 100 M multiply-adds, and a
		// little per model, so that the fits rank the test models (timings
		// that contradict the model's form leave it a flat fit whose
		// predictions tie: no Spearman to draw).
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		ms := 2 + float64(an.MACs)/1e8 + 0.1*float64(i)
		tm, err := measure.NewTiming([]float64{ms, ms + 0.1, ms + 0.2})
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
	// How many models the machine needs: a curve over the same table, as
	// JSON and as a figure.
	plotDir := filepath.Join(dir, "plot")
	code, js := runCaptured(t, "cost", "adapt", "--data", path, "--curve", "3,4", "--seeds", "2", "--plot", plotDir, "--json")
	var curves []struct {
		Device string `json:"device"`
		Points []struct {
			Train   int       `json:"n_train"`
			NTest   int       `json:"n_test"`
			PerSeed []float64 `json:"spearman_per_seed"`
		} `json:"points"`
	}
	if err := json.Unmarshal(js, &curves); code != 0 || err != nil {
		t.Fatalf("cost adapt --curve: exit %d, %v:\n%s", code, err, js)
	}
	if len(curves) != 1 || curves[0].Device != "local:go" || len(curves[0].Points) != 2 || curves[0].Points[1].Train != 4 ||
		curves[0].Points[1].NTest != 2 || len(curves[0].Points[0].PerSeed) != 2 {
		t.Errorf("curve %+v", curves)
	}
	if st, err := os.Stat(filepath.Join(plotDir, "adapt_curve.png")); err != nil || st.Size() == 0 {
		t.Errorf("figure: %v", err)
	}
	if err := runCostAdapt([]string{"--data", path, "--curve", "3,6", "--seeds", "2"}); err == nil || !strings.Contains(err.Error(), "sizes must be in [3, 5]") {
		t.Errorf("curve up to every row: %v", err)
	}
}

// `cost` repeats the fit report's caveat for a target whose model ranks its
// published rows worse than MACs held out, in text and JSON, and says
// nothing for targets that rank as well as MACs.
func TestCostCaveats(t *testing.T) {
	code, out := runCaptured(t, "cost", "--model", "mobilenet_v2", "--hardware", "pixel4-cpu,pixel7-gpu")
	if text := string(out); code != 0 || strings.Count(text, "caveat: ") != 1 || !strings.Contains(text, "caveat: pixel7-gpu: its model ranks") {
		t.Errorf("cost on pixel7-gpu: exit %d:\n%s", code, text)
	}
	code, out = runCaptured(t, "cost", "--model", "mobilenet_v2", "--hardware", "pixel7-gpu", "--json")
	var c struct{ Caveats []string }
	if err := json.Unmarshal(out, &c); code != 0 || err != nil || len(c.Caveats) != 1 || !strings.HasPrefix(c.Caveats[0], "pixel7-gpu: ") {
		t.Errorf("cost --json on pixel7-gpu: exit %d, %v: %+v", code, err, c)
	}
	if code, out = runCaptured(t, "cost", "--model", "mobilenet_v2", "--hardware", "paper"); code != 0 || strings.Contains(string(out), "caveat") {
		t.Errorf("cost on the paper targets: exit %d:\n%s", code, out)
	}
}
