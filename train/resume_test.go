package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/multihw/multihw/train/data"
)

// Environment of the child process of TestResumeAfterKill.
const (
	childOutEnv  = "MULTIHW_TRAIN_TEST_CHILD_OUT"
	childDataEnv = "MULTIHW_TRAIN_TEST_CHILD_DATA"
)

// killConfig is the run that TestResumeAfterKill interrupts: 300 steps, an
// evaluation and a checkpoint every 10 steps.
func killConfig(t *testing.T, spec, out string, onEval func(Record)) *Config {
	t.Helper()
	ds, err := loadSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := tinyRecipe()
	r.Steps = 300
	return New(tinyArch(t), ds).Recipe(r).Seed(7).Out(out).EvalEvery(10).Backend(goBackend(t)).OnEval(onEval)
}

// TestResumeAfterKill SIGKILLs a training process after it wrote a
// checkpoint, resumes the run, and checks that it ends exactly as an
// uninterrupted run: same final metrics, same metrics log, bitwise-equal final
// state (all variables: weights, BatchNorm averages, optimizer slots, step,
// RNG).
func TestResumeAfterKill(t *testing.T) {
	if out := os.Getenv(childOutEnv); out != "" {
		// Child: train slowly (each evaluation sleeps) until killed.
		_, err := killConfig(t, os.Getenv(childDataEnv), out, func(Record) { time.Sleep(40 * time.Millisecond) }).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	_, spec := toyDataset(t)

	// Uninterrupted reference.
	refOut := t.TempDir()
	ref, err := killConfig(t, spec, refOut, nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Child process, killed once a checkpoint of step >= 100 exists.
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterKill$")
	cmd.Env = append(os.Environ(), childOutEnv+"="+out, childDataEnv+"="+spec)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killedAt := -1
	deadline := time.Now().Add(2 * time.Minute)
	for killedAt < 0 && time.Now().Before(deadline) {
		list, _ := ListCheckpoints(out)
		if n := len(list); n > 0 && stepOfName(filepath.Base(list[n-1])) >= 100 {
			killedAt = stepOfName(filepath.Base(list[n-1]))
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	werr := cmd.Wait()
	if killedAt < 0 {
		t.Fatalf("child never reached step 100 (wait: %v)\n%s", werr, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, ResultFile)); err == nil {
		t.Fatalf("the child finished before being killed (killed after step %d): the test interrupted nothing", killedAt)
	}

	// Resume in this process with nothing but the output directory.
	ds, err := loadSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := New(nil, ds).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after checkpoint %d, resumed from %d; test accuracy %.3f (reference %.3f)", killedAt, res.ResumedFrom, res.Test.Accuracy, ref.Test.Accuracy)
	if res.ResumedFrom < 100 || res.ResumedFrom >= 300 {
		t.Errorf("resumed from step %d, want a step in [100, 300)", res.ResumedFrom)
	}
	if res.Steps != ref.Steps || res.Test.Accuracy != ref.Test.Accuracy || res.Test.Loss != ref.Test.Loss ||
		res.Validation.Accuracy != ref.Validation.Accuracy || res.Validation.Loss != ref.Validation.Loss {
		t.Errorf("final metrics differ: resumed steps %d test %v/%v validation %v/%v; reference %d test %v/%v validation %v/%v",
			res.Steps, res.Test.Accuracy, res.Test.Loss, res.Validation.Accuracy, res.Validation.Loss,
			ref.Steps, ref.Test.Accuracy, ref.Test.Loss, ref.Validation.Accuracy, ref.Validation.Loss)
	}
	a, err := LoadCheckpoint(refOut)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Final || !b.Final || a.Step != 300 || b.Step != 300 {
		t.Fatalf("final checkpoints: reference step %d final %v, resumed step %d final %v", a.Step, a.Final, b.Step, b.Final)
	}
	if a.DataSHA256 != b.DataSHA256 || len(a.Variables) != len(b.Variables) {
		for i, v := range a.Variables {
			if i < len(b.Variables) && (b.Variables[i].Path != v.Path || string(a.data[v.Offset:v.Offset+v.Bytes]) != string(b.data[v.Offset:v.Offset+v.Bytes])) {
				t.Errorf("variable %d %s differs", i, v.Path)
			}
		}
		t.Fatalf("final states differ (%d vs %d variables)", len(a.Variables), len(b.Variables))
	}
	// The metrics logs agree except for wall times.
	if ra, rb := readRecords(t, refOut), readRecords(t, out); ra != rb {
		t.Errorf("metrics logs differ:\nreference:\n%s\nresumed:\n%s", ra, rb)
	}
}

// loadSpec loads a dataset spec with the default loader.
func loadSpec(spec string) (*data.Dataset, error) { return data.Load(spec) }

// readRecords returns the metrics log with the wall times zeroed.
func readRecords(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		rec.TrainSeconds = 0
		out, _ := json.Marshal(rec)
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDivergence trains with an absurd learning rate: the run must stop with a
// DivergedError naming the last good checkpoint, which loads and is finite.
func TestDivergence(t *testing.T) {
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.LearningRate = 1e5
	r.WarmupEpochs = 1.5 // 37 warm-up steps at batch 16: the first steps are tame
	r.Steps = 100
	out := t.TempDir()
	_, err := New(tinyArch(t), ds).Recipe(r).Out(out).CheckpointEvery(0, 1).Backend(goBackend(t)).Run(context.Background())
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("got error %v, want a *DivergedError", err)
	}
	t.Log(err)
	if de.Checkpoint == "" || de.CheckpointStep >= de.Step || de.CheckpointStep < 1 {
		t.Fatalf("diverged at step %d with last checkpoint %q (step %d): want an earlier checkpoint", de.Step, de.Checkpoint, de.CheckpointStep)
	}
	if !strings.Contains(err.Error(), de.Checkpoint) || !strings.Contains(err.Error(), "diverged") {
		t.Errorf("error %q does not name the divergence and the checkpoint", err)
	}
	if want := r.LearningRate * r.Hyper.WeightDecay; de.DecayStep != want || (want < 1) != strings.HasSuffix(err.Error(), "lower the learning rate") {
		t.Errorf("decay step %g (want %g): %q", de.DecayStep, want, err)
	}
	if msg := (&DivergedError{Step: 3, LearningRate: 0.1, What: "loss is NaN", DecayStep: 5e-6}).Error(); !strings.HasSuffix(msg, "-- lower the learning rate") {
		t.Errorf("a small decay step: %q", msg)
	}
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Path != de.Checkpoint || ck.Step != de.CheckpointStep {
		t.Errorf("newest checkpoint %s (step %d), want %s (step %d)", ck.Path, ck.Step, de.Checkpoint, de.CheckpointStep)
	}
	// encode refuses non-finite values; check the stored values anyway.
	for _, v := range ck.Variables {
		if v.DType != "Float32" {
			continue
		}
		tt, err := ck.Tensor(v.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range tensors.MustCopyFlatData[float32](tt) {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("the last good checkpoint holds %v in %s", x, v.Path)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, MetricsFile))
	if err != nil || !strings.Contains(string(raw), `"event":"diverged"`) {
		t.Errorf("metrics log lacks the divergence record (err %v):\n%s", err, raw)
	}
}
