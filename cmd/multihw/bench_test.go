package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/testenv"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/export"
)

// TestBenchTrainFlags: bad flags fail before anything runs (train's
// TestBenchTrain runs the benchmark).
func TestBenchTrainFlags(t *testing.T) {
	stderr := os.Stderr
	devnull, _ := os.Open(os.DevNull)
	defer func() { os.Stderr = stderr }()
	for _, bad := range [][]string{{"--steps", "0"}, {"--batch", "-1"}, {"--optimizer", "lbfgs"}, {"extra"},
		{"--model", "nosuch"}, {"--model", "multi_avg", "--spec", "x.txt"}, {"--model", "mnv4_conv_s", "--resolution", "-3"}} {
		os.Stderr = devnull
		code := run(append([]string{"bench", "train"}, bad...))
		os.Stderr = stderr
		if code == 0 {
			t.Errorf("bench train %v: exit code 0, want an error", bad)
		}
	}
}

// TestBenchTrainModels: bench train takes a spec file or a list of models
// (at 32 px with 10 classes unless told otherwise), one row per model with
// the count below the target speedup; --json is then a list. Without
// --model or --spec it runs train.BenchArch.
func TestBenchTrainModels(t *testing.T) {
	small := []string{"--batch", "2", "--steps", "1", "--warmup", "1"}
	code, out := runCaptured(t, append([]string{"bench", "train", "--model", "mobilenet_v2_0.5,mnv4_conv_s"}, small...)...)
	text := string(out)
	if code != 0 || !strings.Contains(text, "mobilenet_v2_0.5") || !strings.Contains(text, "of 2 models below a speedup of 20") {
		t.Fatalf("bench train of two models: exit %d\n%s", code, text)
	}
	_, arch := runCaptured(t, "arch", "--model", "mobilenet_edgetpu", "--text")
	spec := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(spec, []byte(strings.Replace(string(arch), "name mobilenet_edgetpu", "name mine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		model      string
		resolution int
	}{
		{nil, "multi_avg@0.5", 32},
		{[]string{"--spec", spec, "--resolution", "24", "--width", "0.5"}, "mine@0.5", 24},
	} {
		code, out = runCaptured(t, append(append([]string{"bench", "train", "--json"}, tc.args...), small...)...)
		var one train.BenchTrainResult
		if err := json.Unmarshal(out, &one); code != 0 || err != nil || one.Model != tc.model || one.Resolution != tc.resolution || one.Speedup == nil {
			t.Errorf("bench train %v: exit %d, %v\n%s", tc.args, code, err, out)
		}
	}
}

// TestBenchInferModels: bench infer takes a spec file, or a list of models
// (--model a,b or all) and then prints one row per model and the count above
// the target ratio; --json is then a list. Bad flags fail before any work.
func TestBenchInferModels(t *testing.T) {
	_, err := export.ONNXRuntime()
	testenv.NeedONNX(t, err)
	for _, bad := range [][]string{{"--model", "nosuch"}, {"--model", "multi_avg", "--spec", "x.txt"}, {"--spec", filepath.Join(t.TempDir(), "none.txt")}, {"--runs", "0"}} {
		if code, _ := runCaptured(t, append([]string{"bench", "infer"}, bad...)...); code == 0 {
			t.Errorf("bench infer %v: exit code 0, want an error", bad)
		}
	}
	small := []string{"--resolution", "32", "--classes", "10", "--runs", "1", "--warmup", "0"}
	code, out := runCaptured(t, append([]string{"bench", "infer", "--model", "mobilenet_v2_0.5,mnv4_conv_s"}, small...)...)
	if code != 0 {
		t.Fatalf("bench infer of two models: exit %d\n%s", code, out)
	}
	text := string(out)
	for _, want := range []string{"mobilenet_v2_0.5", "mnv4_conv_s", "of 2 models above a ratio of 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("bench infer of two models: no %q in\n%s", want, text)
		}
	}
	code, out = runCaptured(t, append([]string{"bench", "infer", "--model", "mobilenet_v2_0.5,mnv4_conv_s", "--json"}, small...)...)
	var rows []export.BenchResult
	if err := json.Unmarshal(out, &rows); code != 0 || err != nil || len(rows) != 2 || rows[1].Model != "mnv4_conv_s" || rows[1].Resolution != 32 {
		t.Fatalf("bench infer --json of two models: exit %d, %v, %d rows\n%s", code, err, len(rows), out)
	}
	// A spec file: an edited `multihw arch` output.
	_, arch := runCaptured(t, "arch", "--model", "mobilenet_edgetpu", "--text")
	spec := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(spec, []byte(strings.Replace(string(arch), "name mobilenet_edgetpu", "name mine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runCaptured(t, append([]string{"bench", "infer", "--spec", spec, "--json"}, small...)...)
	var one export.BenchResult
	if err := json.Unmarshal(out, &one); code != 0 || err != nil || one.Model != "mine" || one.Resolution != 32 || one.GoMS <= 0 {
		t.Fatalf("bench infer --spec: exit %d, %v\n%s", code, err, out)
	}
}
