package export

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/testenv"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/internal/toydata"
)

// tinyCheckpoint trains the tiny model on toy data and returns its final checkpoint and dataset.
func tinyCheckpoint(t *testing.T) (*train.Checkpoint, *data.Dataset) {
	t.Helper()
	spec, err := toydata.WriteFashion(t.TempDir(), 400, 100, 12)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := blocks.Parse(toydata.Spec)
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	r := train.DefaultRecipe()
	r.BatchSize, r.Epochs, r.Steps, r.LearningRate, r.BNRecalibrationBatches = 16, 0, 60, 0.05, 4
	out := t.TempDir()
	if _, err := train.New(arch, ds).Recipe(r).Out(out).Backend(be).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ck, err := train.LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	return ck, ds
}

func TestONNXExport(t *testing.T) {
	_, err := ONNXRuntime()
	testenv.NeedONNX(t, err)
	ck, _ := tinyCheckpoint(t)
	for _, lowered := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "tiny.onnx")
		opts := Options{CheckImages: 9}
		if lowered {
			opts.Lowered, opts.Batch = true, 3
		}
		rep, err := ONNX(ck, path, opts)
		if err != nil {
			t.Fatalf("lowered=%v: %v", lowered, err)
		}
		t.Logf("lowered=%v: %+v; %d nodes: %s", lowered, rep, rep.Graph.Nodes, rep.Graph.Histogram())
		if rep.CheckImages != 9 || rep.Top1Agreement != 1 || rep.MaxAbsLogitDiff > 1e-4 || rep.Bytes < 1000 {
			t.Errorf("lowered=%v: %d images, agreement %g, max diff %g, %d bytes", lowered, rep.CheckImages, rep.Top1Agreement, rep.MaxAbsLogitDiff, rep.Bytes)
		}
		// Exporting again replaces the model; never another file.
		if _, err := ONNX(ck, path, opts); err != nil {
			t.Errorf("lowered=%v: exporting over the exported model: %v", lowered, err)
		}
		user := filepath.Join(filepath.Dir(path), "notes.onnx")
		_ = os.WriteFile(user, []byte("precious"), 0o644)
		if _, err := ONNX(ck, user, opts); err == nil || !strings.Contains(err.Error(), "not an ONNX model written by multihw") {
			t.Errorf("lowered=%v: exporting over another file: %v", lowered, err)
		}
		if lowered {
			continue
		}
		// The deployment graph of the trained checkpoint (BatchNorm statistics
		// recalibrated on data): dynamic batch checked with two batch sizes,
		// the default opset, BatchNorm folded.
		g := rep.Graph
		if !slices.Equal(rep.CheckBatches, []int{8, 1}) || rep.InputShape[0] != -1 || g.InputDims[0] != BatchDim ||
			g.Opset != DefaultOpset || g.IRVersion != 7 {
			t.Errorf("deployment graph: batches %v, input %v (%v), opset %d, IR %d", rep.CheckBatches, rep.InputShape, g.InputDims, g.Opset, g.IRVersion)
		}
		checkDeployGraph(t, ck.TrainArch, g)
	}
}

func TestConsistency(t *testing.T) {
	_, err := ONNXRuntime()
	testenv.NeedONNX(t, err)
	ck, ds := tinyCheckpoint(t)
	start := time.Now()
	res, err := Consistency(ck, ds, []string{"go", "onnx", "xla?", "tpu9000?"}, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v (%v)", res, time.Since(start))
	if len(res.Backends) < 2 || res.Backends[0] != "go" || res.Backends[1] != "onnx" || res.N != 100 {
		t.Fatalf("backends %v on %d images, want go and onnx on 100", res.Backends, res.N)
	}
	if res.Top1Agreement != 1 || res.MaxAbsLogitDiff > 1e-4 {
		t.Errorf("go vs onnx: top-1 agreement %v, max |logit diff| %v", res.Top1Agreement, res.MaxAbsLogitDiff)
	}
	if res.PerBackend[0].Accuracy != res.PerBackend[1].Accuracy || res.PerBackend[0].Accuracy < 0.5 {
		t.Errorf("accuracies %v and %v", res.PerBackend[0].Accuracy, res.PerBackend[1].Accuracy)
	}
	if res.Skipped["tpu9000"] == "" {
		t.Errorf("unknown optional backend not reported as skipped: %v", res.Skipped)
	}
	if !slices.Contains(res.Backends, "xla") && res.Skipped["xla"] == "" {
		t.Errorf("xla neither run nor skipped with a reason")
	}
	// Limit evaluates a prefix of the test split.
	res, err = Consistency(ck, ds, []string{"go", "onnx"}, 32, 10)
	if err != nil || res.N != 10 {
		t.Errorf("limit 10: %v, n %v", err, res)
	}
}

// TestConsistencyRunsWhatWasAsked: a backend named without "?" that cannot
// run fails the check, and so does a comparison left with one backend (the
// Go backend compared with itself would report agreement 1.0 and difference
// 0 without comparing anything).
func TestConsistencyRunsWhatWasAsked(t *testing.T) {
	ck, ds := tinyCheckpoint(t)
	for _, c := range []struct {
		backends []string
		want     string
	}{
		{[]string{"go", "tpu9000"}, `backend "tpu9000" cannot run: unknown backend`},
		{[]string{"go", "tpu9000?"}, "only 1 backend(s) can run"},
		{[]string{"go"}, "only 1 backend(s) can run"},
		{[]string{"go", "go"}, `backend "go" given twice`},
		{[]string{"go", " "}, "empty backend name"},
	} {
		res, err := Consistency(ck, ds, c.backends, 32, 10)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("backends %q: got %v (%+v), want an error containing %q", c.backends, err, res, c.want)
		}
	}
	// XLA's plugin cannot be installed here: named explicitly it fails.
	if be, _ := openBackend("xla"); be == nil {
		if _, err := Consistency(ck, ds, []string{"go", "xla"}, 32, 10); err == nil || !strings.Contains(err.Error(), `backend "xla" cannot run`) {
			t.Errorf("go,xla without XLA: %v", err)
		}
	}
}

func TestBenchInfer(t *testing.T) {
	_, err := ONNXRuntime()
	testenv.NeedONNX(t, err)
	arch, err := blocks.Parse(toydata.Spec)
	if err != nil {
		t.Fatal(err)
	}
	arch.Resolution = 32
	var lines int
	res, err := BenchInfer(arch, 3, 1, false, 1, func(string) { lines++ })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("go %.2f ms, onnx %.2f ms, ratio %.2f", res.GoMS, res.ONNXMS, res.Ratio)
	if len(res.GoTimesMS) != 3 || len(res.ONNXTimesMS) != 3 || lines != 8 {
		t.Errorf("%d go and %d onnx timings, %d progress lines; want 3, 3, 8", len(res.GoTimesMS), len(res.ONNXTimesMS), lines)
	}
	if !(res.GoMS > 0 && res.ONNXMS > 0) || math.Abs(res.Ratio-res.GoMS/res.ONNXMS) > 1e-12 {
		t.Errorf("go %v ms, onnx %v ms, ratio %v", res.GoMS, res.ONNXMS, res.Ratio)
	}
	if ci := res.RatioCI; !(ci.Lo > 0 && ci.Lo <= ci.Hi) || !strings.Contains(res.Summary(), "95% interval") {
		t.Errorf("ratio interval %+v; summary %s", ci, res.Summary())
	}
	if res.Export.Top1Agreement != 1 || res.Export.MaxAbsLogitDiff > 1e-3 || res.Export.InputShape[1] != 32 {
		t.Errorf("export check: %+v", res.Export)
	}
	// The file was temporary and removed: the report names no path, nor
	// the random-weight model's numbered classes.
	if js, err := json.Marshal(res); err != nil || strings.Contains(string(js), `"path"`) || strings.Contains(string(js), `"classes"`) {
		t.Errorf("bench JSON names the removed file or the classes (%v): %.300s", err, js)
	}
	if _, err := BenchInfer(arch, 0, 1, false, 1, nil); err == nil {
		t.Error("0 runs accepted")
	}
	// warm + n overflowed: no run at all, NaN times and no error.
	if _, err := BenchInfer(arch, 20, math.MaxInt, false, 1, nil); err == nil || !strings.Contains(err.Error(), "warm-up in [0, 1000000]") {
		t.Errorf("a warm-up of MaxInt runs: error %v", err)
	}
}
