package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/plots/figset"
	"github.com/multihw/multihw/train"
)

// runCaptured runs the CLI with args and returns its exit code and stdout.
func runCaptured(t *testing.T, args ...string) (int, []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout = w
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	os.Stderr = devnull
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	code := run(args)
	w.Close()
	os.Stdout, os.Stderr = stdout, stderr
	return code, <-done
}

type figuresJSON struct {
	Out     string        `json:"out"`
	Figures []figset.File `json:"figures"`
	Skipped []figset.Skip `json:"skipped"`
}

// TestFigures writes the fast figure sources and a training run's figures
// from a fake runs directory, and checks the files and the skip notes (the
// figures themselves are tested in plots/figset).
func TestFigures(t *testing.T) {
	out := t.TempDir()
	runs := t.TempDir()
	// A finished run: result.json and metrics.jsonl as `multihw train --out` writes them.
	runDir := filepath.Join(runs, "fmnist multi_avg")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	arch, _ := blocks.Model("multi_avg")
	res := train.Result{Arch: arch, Test: &train.EvalResult{N: 100, Accuracy: 0.9}}
	res.Dataset.Kind = "fashion-mnist"
	raw, _ := json.Marshal(res)
	var metrics bytes.Buffer
	for step, acc := range []float64{0.5, 0.7, 0.8} {
		rec := train.Record{Step: 100 * (step + 1), TrainLoss: 1 - acc, TrainAccuracy: acc,
			Validation: &train.EvalSummary{N: 10, Accuracy: acc - 0.05}}
		b, _ := json.Marshal(rec)
		metrics.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(runDir, train.ResultFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, train.MetricsFile), metrics.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not a run: ignored.
	if err := os.Mkdir(filepath.Join(runs, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	code, stdout := runCaptured(t, "figures", "--out", out, "--runs", runs, "--only", "references,breakdown,arch,train", "--json")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stdout)
	}
	var got figuresJSON
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("bad JSON %q: %v", stdout, err)
	}
	var names []string
	for _, f := range got.Figures {
		names = append(names, f.Name)
		if len(f.Files) != 2 {
			t.Fatalf("%s: files %v, want PNG and SVG", f.Name, f.Files)
		}
		png, err := os.ReadFile(f.Files[0])
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("%s: %s is not a PNG (%v)", f.Name, f.Files[0], err)
		}
		svg, err := os.ReadFile(f.Files[1])
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: %s is not an SVG (%v)", f.Name, f.Files[1], err)
		}
	}
	want := []string{"target_bars", "tradeoff_published", "breakdown_multi_avg", "arch_multi_avg", "arch_multi_max",
		"arch_mobilenet_v2", "train_curves_fmnist_multi_avg", "tradeoff_trained"}
	if !slices.Equal(names, want) {
		t.Errorf("figures %q, want %q", names, want)
	}
	if len(got.Skipped) != 0 {
		t.Errorf("skipped %v", got.Skipped)
	}

	// Without --runs the run figures are skipped with a note, the rest written.
	code, stdout = runCaptured(t, "figures", "--out", out, "--only", "arch,train", "--json")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stdout)
	}
	got = figuresJSON{}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Figures) != 3 || len(got.Skipped) != 1 || got.Skipped[0].Source != "train" || !strings.Contains(got.Skipped[0].Reason, "no runs directory") {
		t.Errorf("without runs: %+v", got)
	}

	for _, bad := range [][]string{{}, {"--out", out, "--only", "nope"}, {"--out", out, "--runs", filepath.Join(runs, "missing")},
		{"--out", out, "--hardware", "pixel9-cpu"}, {"--out", out, "--scale", "0"}} {
		if code, _ := runCaptured(t, append([]string{"figures"}, bad...)...); code == 0 {
			t.Errorf("figures %v: exit code 0, want an error", bad)
		}
	}
}
