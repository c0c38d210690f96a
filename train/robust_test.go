package train

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/rundir"
)

// TestCheckpointHeaderChecksum: the header is covered by the checksum. A
// changed normalisation mean (the attack of the issue: same weights, silently
// different accuracy) or a changed step is a corruption naming the file.
func TestCheckpointHeaderChecksum(t *testing.T) {
	out, _ := trainedRun(t)
	ck, err := LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(ck.Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:8]) != checkpointMagic {
		t.Fatalf("magic %q", raw[:8])
	}
	dir := t.TempDir()
	for _, c := range []struct{ old, new string }{
		{`"norm":{"mean":[`, `"norm":{"mean":[0.9,`},
		{`"step":20`, `"step":21`},
		{`"seed":1,`, `"seed":7,`},
	} {
		i := strings.Index(string(raw), c.old)
		if i < 0 {
			t.Fatalf("%q not in the header", c.old)
		}
		// Same length edits keep the declared sizes right: only the checksum
		// can tell.
		edited := []byte(strings.Replace(string(raw), c.old, c.new, 1))
		if len(edited) != len(raw) {
			hdr := binary.LittleEndian.Uint64(raw[8:16]) + uint64(len(edited)-len(raw))
			binary.LittleEndian.PutUint64(edited[8:16], hdr)
		}
		path := filepath.Join(dir, "edited"+checkpointExt)
		if err := os.WriteFile(path, edited, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "checksum mismatch (header or data changed)") || !strings.Contains(err.Error(), path) {
			t.Errorf("header edit %q → %q: got %v", c.old, c.new, err)
		}
	}
	// A device, a FIFO-like non-regular file and a file announcing more than
	// it holds are refused before they are read.
	if _, err := LoadCheckpoint("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	huge := append([]byte(nil), raw[:checkpointPrefix2]...)
	binary.LittleEndian.PutUint64(huge[16:24], 1<<50)
	path := filepath.Join(dir, "huge"+checkpointExt)
	_ = os.WriteFile(path, huge, 0o644)
	if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "announced") {
		t.Errorf("announced 1 PiB: %v", err)
	}
	// Within the file size but above the memory limit: an error naming the
	// estimate, not an allocation.
	t.Setenv(memlimit.Env, "1KiB")
	if _, err := LoadCheckpoint(ck.Path); err == nil || !strings.Contains(err.Error(), "needs an estimated") {
		t.Errorf("checkpoint above the memory limit: %v", err)
	}
}

// TestRunDirectory: a run refuses a directory that is not a training run, a
// second writer of the same directory is refused naming the holder, --resume
// without a run says so, resume mismatches name the fields, and Overwrite
// replaces only the run's own files.
func TestRunDirectory(t *testing.T) {
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.Steps = 4

	user := t.TempDir()
	_ = os.WriteFile(filepath.Join(user, "thesis.tex"), []byte("precious"), 0o644)
	_, err := New(tinyArch(t), ds).Recipe(r).Out(user).Backend(goBackend(t)).Run(context.Background())
	var fe *rundir.ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "thesis.tex") {
		t.Errorf("user directory as output: %v", err)
	}
	if es, _ := os.ReadDir(user); len(es) != 1 {
		t.Errorf("the refused directory was written into: %d entries", len(es))
	}
	_, err = New(tinyArch(t), ds).Recipe(r).Out(user).Overwrite(true).Backend(goBackend(t)).Run(context.Background())
	if !errors.As(err, &fe) {
		t.Errorf("Overwrite of a user directory: %v", err)
	}

	// --resume into an empty directory starts a new run and says so.
	out := filepath.Join(t.TempDir(), "run")
	res, err := New(tinyArch(t), ds).Recipe(r).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err != nil || res.ResumedFrom != -1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "holds no checkpoint yet: starting a new run") {
		t.Fatalf("resume into an empty directory: %v %+v", err, res)
	}
	// --resume without an architecture and without a run is an error.
	empty := t.TempDir()
	if _, err := New(nil, ds).Out(empty).Resume(true).Backend(goBackend(t)).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "holds no checkpoint to resume") {
		t.Errorf("resume of nothing: %v", err)
	}

	// A recipe mismatch names the differing fields, not two whole recipes.
	r2 := r
	r2.BatchSize, r2.LearningRate = 8, 0.01
	_, err = New(nil, ds).Recipe(r2).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "batch_size is 16 (checkpoint), 8 (given)") || !strings.Contains(err.Error(), "learning_rate is 0.05 (checkpoint), 0.01 (given)") || strings.Contains(err.Error(), "optimizer") {
		t.Errorf("recipe mismatch: %v", err)
	}

	// A second writer is refused, naming the holder (this process).
	d, err := rundir.Open(out, runKind)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(nil, ds).Out(out).Resume(true).Backend(goBackend(t)).Run(context.Background())
	var be *rundir.BusyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "is in use by process") {
		t.Errorf("second writer: %v", err)
	}
	d.Close()

	// Overwrite replaces the run's files and keeps anything else.
	keep := filepath.Join(out, "notes.txt")
	_ = os.WriteFile(keep, []byte("mine"), 0o644)
	res, err = New(tinyArch(t), ds).Recipe(r).Seed(5).Out(out).Overwrite(true).Backend(goBackend(t)).Run(context.Background())
	if err != nil || res.Seed != 5 || res.ResumedFrom != -1 {
		t.Fatalf("overwrite: %v %+v", err, res)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("Overwrite removed a file it did not create: %v", err)
	}
	if _, err := New(tinyArch(t), ds).Out(out).Resume(true).Overwrite(true).Run(context.Background()); err == nil {
		t.Error("Resume and Overwrite together accepted")
	}
}

// TestMemoryLimit: a batch (or network) that cannot fit is refused with the
// estimate before anything is allocated or written.
func TestMemoryLimit(t *testing.T) {
	ds, _ := toyDataset(t)
	r := tinyRecipe()
	r.BatchSize = 1 << 40
	out := filepath.Join(t.TempDir(), "run")
	_, err := New(tinyArch(t), ds).Recipe(r).Out(out).Backend(goBackend(t)).Run(context.Background())
	var tl *memlimit.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "with batches of 1099511627776 needs an estimated") {
		t.Errorf("huge batch: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the output directory was created before the check: %v", err)
	}
	// The estimate of the tiny model trained on 12×12 images in batches of
	// 128 is far below any limit: the check does not refuse real runs.
	proxy, err := blocks.ProxyArch(tinyArch(t), blocks.DefaultAdapt, 12, 12, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	est, err := convnet.MemoryEstimate(proxy, 128, true)
	if err != nil || est <= 0 || est > 64<<20 {
		t.Errorf("estimate of the tiny model: %d, %v", est, err)
	}
	eval, _ := convnet.MemoryEstimate(proxy, 128, false)
	if eval >= est {
		t.Errorf("inference estimate %d not below training's %d", eval, est)
	}
	if est, _ := convnet.MemoryEstimate(tinyArch(t), 1<<62, true); est != 1<<63-1 {
		t.Errorf("overflowing estimate %d, want saturation", est)
	}
	// Epochs or padding that would overflow the plan or the image buffers.
	for _, mod := range []func(*Recipe){
		func(r *Recipe) { r.Steps, r.Epochs = 0, 1e300 },
		func(r *Recipe) { r.Steps = 1 << 50 },
	} {
		rr := tinyRecipe()
		mod(&rr)
		if _, err := rr.Plan(1000); err == nil || !strings.Contains(err.Error(), "above the maximum") {
			t.Errorf("plan %+v: %v", rr, err)
		}
	}
}

// TestNilAndEmptyInputs: nil checkpoints, stores, datasets and backends and
// non-positive image dimensions are errors naming the problem (they were nil
// dereferences, a division by zero inside the graph build, or a message
// printing a whole 1024×1024 tensor).
func TestNilAndEmptyInputs(t *testing.T) {
	be := goBackend(t)
	ck, err := InitCheckpoint(tinyArch(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	inf, err := NewInference(ck, be, InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Finalize()
	// A nil backend is the default one, as for EvaluateCheckpoint.
	if def, err := NewInference(ck, nil, InferenceOptions{}); err != nil || def.Backend() == nil {
		t.Errorf("nil backend: %v", err)
	} else {
		def.Finalize()
	}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"nil checkpoint": {func() error { _, err := NewInference(nil, be, InferenceOptions{}); return err }(), "checkpoint is nil"},
		"empty batch":    {func() error { _, err := inf.Logits(nil, 0, 8, 8, 1); return err }(), "every dimension must be positive"},
		"nil dataset":    {func() error { _, err := inf.Evaluate(nil, nil, "test", 8); return err }(), "dataset and split must not be nil"},
		"nil eval ckpt":  {func() error { _, err := EvaluateCheckpoint(nil, nil, SplitTest, be, 8); return err }(), "checkpoint is nil"},
		"nil store":      {ck.Restore(nil, nil), "store is nil"},
		"bench nil be":   {func() error { _, err := BenchTrain(nil, "sgd", 1, 1, 1, nil); return err }(), "backend is nil"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, c.err, c.want)
		}
	}
}
