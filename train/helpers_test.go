package train

import (
	"testing"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/internal/toydata"
)

func tinyArch(t testing.TB) *blocks.Arch {
	t.Helper()
	a, err := blocks.Parse(toydata.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// toyDataset writes and loads a toy dataset (12×12, 400 train of which 10%
// validation, 100 test).
func toyDataset(t testing.TB) (*data.Dataset, string) {
	t.Helper()
	spec, err := toydata.WriteFashion(t.TempDir(), 400, 100, 12)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ds, spec
}

// tinyRecipe trains the tiny model on the toy data in a few dozen steps.
func tinyRecipe() Recipe {
	r := DefaultRecipe()
	r.BatchSize = 16
	r.Epochs = 0
	r.Steps = 40
	r.LearningRate = 0.05
	r.WarmupEpochs = 0.1
	r.BNRecalibrationBatches = 4
	return r
}

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return be
}
