package export

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/backend"
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
	if _, err := ONNXRuntime(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	ck, _ := tinyCheckpoint(t)
	for _, lowered := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "tiny.onnx")
		rep, err := ONNX(ck, path, Options{Batch: 3, Lowered: lowered, CheckImages: 9})
		if err != nil {
			t.Fatalf("lowered=%v: %v", lowered, err)
		}
		t.Logf("lowered=%v: %+v", lowered, rep)
		if rep.CheckImages != 9 || rep.Top1Agreement != 1 || rep.MaxAbsLogitDiff > 1e-4 || rep.Bytes < 1000 {
			t.Errorf("lowered=%v: %d images, agreement %g, max diff %g, %d bytes", lowered, rep.CheckImages, rep.Top1Agreement, rep.MaxAbsLogitDiff, rep.Bytes)
		}
	}
}
