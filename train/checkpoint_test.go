package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/blocks"
)

// trainedRun trains the tiny model for 20 steps into a new directory.
func trainedRun(t *testing.T) (string, *Result) {
	t.Helper()
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.Steps = 20
	out := t.TempDir()
	res, err := New(tinyArch(t), ds).Recipe(r).Out(out).EvalEvery(10).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

func TestCheckpointRoundTrip(t *testing.T) {
	out, res := trainedRun(t)
	list, err := ListCheckpoints(out)
	if err != nil {
		t.Fatal(err)
	}
	// Steps 10 (evaluation) and 20 (final), oldest first.
	if len(list) != 2 || stepOfName(filepath.Base(list[0])) != 10 || stepOfName(filepath.Base(list[1])) != 20 {
		t.Fatalf("checkpoints %v, want steps 10 and 20", list)
	}
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Path != res.Checkpoint || ck.Step != 20 || !ck.Final || ck.Recipe.Steps != 20 || ck.Seed != 1 || ck.Adapt != blocks.DefaultAdapt {
		t.Errorf("checkpoint %s: step %d final %v steps %d seed %d adapt %q", ck.Path, ck.Step, ck.Final, ck.Recipe.Steps, ck.Seed, ck.Adapt)
	}
	if !sameJSON(ck.Arch, tinyArch(t)) || ck.TrainArch.Resolution != 12 || ck.TrainArch.Classes != 10 || ck.TrainArch.Channels != 1 {
		t.Errorf("architectures: %s / %s", jsonString(ck.Arch), jsonString(ck.TrainArch))
	}
	// Everything for an exact resume is there: model, optimizer slots, step, RNG.
	want := []string{"/model/stem/weights", "/model/stem/bn/moving_mean", "/optimizer/slots/model/stem/weights_momentum", "/global_step", "/#rngState", lrVarPath}
	for _, p := range want {
		if _, err := ck.Tensor(p); err != nil {
			t.Error(err)
		}
	}
	for _, v := range ck.Variables {
		if strings.HasPrefix(v.Path, gomlxMetricsScope) || strings.HasPrefix(v.Path, gradsScope) {
			t.Errorf("gomlx metric or last-step gradient variable %s saved", v.Path)
		}
	}
	// Evaluating the checkpoint reproduces the run's test metrics. The run
	// evaluates in batches of 256 through its graph, EvaluateCheckpoint in
	// batches of 64 through the inference model (another layout, staged
	// where the build has Go kernels): the same float32 network summed in
	// other orders, so the mean loss agrees to float32 rounding (relative
	// 1e-6), not bit for bit (builds without the kernels differ by 5e-10).
	ev, err := EvaluateCheckpoint(ck, nil, SplitTest, goBackend(t), 64)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Accuracy != res.Test.Accuracy || ev.N != res.Test.N || math.Abs(ev.Loss-res.Test.Loss) > 1e-6*res.Test.Loss {
		t.Errorf("EvaluateCheckpoint: accuracy %v loss %v n %d; the run said %v %v %d", ev.Accuracy, ev.Loss, ev.N, res.Test.Accuracy, res.Test.Loss, res.Test.N)
	}
	sum := 0
	for i, row := range ev.Confusion {
		for _, v := range row {
			sum += v
		}
		if ev.ClassCount[i] != 10 {
			t.Errorf("class %d has %d test images, want 10", i, ev.ClassCount[i])
		}
	}
	if sum != 100 || len(ev.PerClass) != 10 {
		t.Errorf("confusion matrix sums to %d, per-class has %d entries", sum, len(ev.PerClass))
	}
}

func TestCorruptedCheckpoints(t *testing.T) {
	out, _ := trainedRun(t)
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(ck.Path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"truncated", "truncated", raw[:len(raw)-100]},
		{"header-truncated", "truncated", raw[:200]},
		{"flipped", "checksum", func() []byte { b := append([]byte(nil), raw...); b[len(b)-7] ^= 0x10; return b }()},
		{"magic", "not a multihw checkpoint", append([]byte("XXXXXXXX"), raw[8:]...)},
		{"empty", "not a multihw checkpoint", nil},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+checkpointExt)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want an error naming %s and saying %q", c.name, err, path, c.want)
		}
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := LoadCheckpoint(t.TempDir()); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty directory: got %v, want ErrNoCheckpoint", err)
	}

	// A kill during a save leaves only a hidden temporary file, which is ignored.
	tmp := filepath.Join(out, CheckpointsDir, ".ckpt-00000030.mhwc.tmp-123")
	if err := os.WriteFile(tmp, raw[:50], 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadCheckpoint(out); err != nil || got.Step != 20 {
		t.Errorf("with a leftover temporary file: %v (step %v)", err, got)
	}

	// Loading the run falls back to the newest valid checkpoint and says so;
	// a named file must be valid.
	if err := os.WriteFile(ck.Path, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(out)
	if err != nil || got.Step != 10 || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], ck.Path) || !strings.Contains(got.Notes[0], "truncated") {
		t.Errorf("newest checkpoint truncated: %v, %+v", err, got)
	}
	if _, err := LoadCheckpoint(ck.Path); err == nil || !strings.Contains(err.Error(), ck.Path) {
		t.Errorf("truncated file by name: %v", err)
	}
	// Resuming from a truncated newest checkpoint falls back to the newest
	// valid one, sets the bad one aside (kept, renamed) and says so.
	ds, _ := toyDataset(t)
	var progress strings.Builder
	res, err := New(nil, ds).Out(out).Resume(true).Backend(goBackend(t)).Progress(&progress).Run(context.Background())
	if err != nil {
		t.Fatalf("resume past a truncated newest checkpoint: %v", err)
	}
	notes := strings.Join(res.Notes, "\n")
	if res.ResumedFrom != 10 || res.Steps != 20 || !strings.Contains(notes, "kept as ckpt-00000020.mhwc.corrupt; resuming from the newest valid checkpoint, ckpt-00000010.mhwc (step 10)") ||
		!strings.Contains(progress.String(), "note: ") {
		t.Errorf("resumed from %d to %d, notes %q", res.ResumedFrom, res.Steps, res.Notes)
	}
	// The temporary file the kill left (tmp above) is removed by the resumed
	// run, which holds the directory, and the removal is reported.
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) || !strings.Contains(notes, "removed "+tmp) {
		t.Errorf("stale temporary file: %v; notes %q", err, res.Notes)
	}
	if b, err := os.ReadFile(ck.Path + corruptSuffix); err != nil || len(b) != len(raw)/2 {
		t.Errorf("the truncated checkpoint was not kept aside: %v", err)
	}
	if got, err := LoadCheckpoint(out); err != nil || got.Step != 20 || !got.Final || len(got.Notes) != 0 {
		t.Errorf("after the resumed run: %v %+v", err, got)
	}
}

func TestRunRefusesExistingRunAndMismatches(t *testing.T) {
	out, _ := trainedRun(t)
	ds, _ := toyDataset(t)
	_, err := New(tinyArch(t), ds).Out(out).Backend(goBackend(t)).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("fresh run over an existing one: got %v", err)
	}
	other := tinyArch(t)
	other.Name = "other"
	_, err = New(other, ds).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("resume with another architecture: got %v", err)
	}
	_, err = New(nil, ds).Seed(99).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("resume with another seed: got %v", err)
	}
	// Resuming a finished run re-evaluates it without training.
	res, err := New(nil, ds).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err != nil || res.Steps != 20 || res.ResumedFrom != 20 {
		t.Errorf("resume of a finished run: %v, %+v", err, res)
	}
}

func TestInterruptSavesCheckpoint(t *testing.T) {
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.Steps = 1000
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := New(tinyArch(t), ds).Recipe(r).Out(out).EvalEvery(5).Backend(goBackend(t)).OnEval(func(Record) {
		if n++; n == 3 {
			cancel()
		}
	}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Step != 15 || ck.Final {
		t.Errorf("checkpoint at step %d (final %v), want 15 (the third evaluation), not final", ck.Step, ck.Final)
	}
}

func TestTimeBudget(t *testing.T) {
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.Steps = 100000
	out := t.TempDir()
	res, err := New(tinyArch(t), ds).Recipe(r).Out(out).TimeBudget(300 * time.Millisecond).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "time budget" || res.Steps == 0 || res.Steps >= r.Steps || res.Test == nil {
		t.Fatalf("stopped %q after %d of %d steps (test %v)", res.Stopped, res.Steps, r.Steps, res.Test)
	}
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if !ck.Final || ck.Stopped != "time budget" || ck.Step != res.Steps {
		t.Errorf("final checkpoint: step %d final %v stopped %q", ck.Step, ck.Final, ck.Stopped)
	}
}

// TestInferenceRefusesBadStatistics: a checkpoint whose BatchNorm variance
// folds to a non-finite scale fails to load for inference, naming the
// layer, instead of running the graph into NaN logits; the
// checkpoint as written loads.
func TestInferenceRefusesBadStatistics(t *testing.T) {
	out, _ := trainedRun(t)
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	inf, err := NewInference(ck, goBackend(t), InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inf.staged == nil {
		t.Fatal("the tiny model is not staged: the test would not reach the check")
	}
	// The last block's projection (the stem, with 8 outputs, is a graph op).
	const path = "/model/block_02/project/bn/moving_variance"
	found := false
	for _, v := range ck.Variables {
		if v.Path == path {
			// −4 (float32, little-endian): γ/√(−4+ε) is NaN.
			copy(ck.data[v.Offset:v.Offset+4], []byte{0, 0, 0x80, 0xc0})
			found = true
		}
	}
	if !found {
		t.Fatalf("no variable %s", path)
	}
	// Staged (the lowered flavour on the Go backend) and as one graph (the
	// stock flavour, as other backends run it).
	for _, lowered := range []bool{true, false} {
		if _, err := NewInference(ck, goBackend(t), InferenceOptions{Lowered: &lowered}); err == nil || !strings.Contains(err.Error(), "/model/block_02/project: ") ||
			!strings.Contains(err.Error(), "non-finite") {
			t.Errorf("negative variance in %s (lowered %v): error %v", path, lowered, err)
		}
	}
}
