package train

import (
	"fmt"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/train/data"
)

// Split names accepted by EvaluateCheckpoint.
const (
	SplitTest       = "test"
	SplitValidation = "validation"
)

// ValidationFraction is the validation fraction of the loader that produced
// the checkpoint's dataset, to reload the same validation split.
func (d DatasetInfo) ValidationFraction() float64 {
	if d.TrainLen+d.ValLen == 0 {
		return 0
	}
	return float64(d.ValLen) / float64(d.TrainLen+d.ValLen)
}

// LoadDataset reloads the dataset a checkpoint was trained on, with the same
// validation split.
func (c *Checkpoint) LoadDataset() (*data.Dataset, error) {
	return data.NewLoader(c.Dataset.Spec()).Validation(c.Dataset.ValidationFraction()).Load()
}

// EvaluateCheckpoint evaluates checkpoint c on split (SplitTest or
// SplitValidation) of ds (nil: reloaded with c.LoadDataset) on backend be
// (nil: backend.Default()), in batches of batch images (0: 256).
func EvaluateCheckpoint(c *Checkpoint, ds *data.Dataset, split string, be compute.Backend, batch int) (*EvalResult, error) {
	if c == nil {
		return nil, fmt.Errorf("evaluate: checkpoint is nil")
	}
	var err error
	if ds == nil {
		if ds, err = c.LoadDataset(); err != nil {
			return nil, err
		}
	}
	var s *data.Split
	switch split {
	case SplitTest:
		s = ds.Test
	case SplitValidation:
		s = ds.Validation
		if err := c.Dataset.compatible(ds, true); err != nil {
			return nil, fmt.Errorf("evaluate: the validation split may differ from training's: %w", err)
		}
	default:
		return nil, fmt.Errorf("evaluate: unknown split %q (valid: %s, %s)", split, SplitTest, SplitValidation)
	}
	if err := c.Dataset.compatible(ds, false); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("evaluate: the %s split is empty", split)
	}
	if be == nil {
		if be, err = backend.Default(); err != nil {
			return nil, err
		}
	}
	if batch <= 0 {
		batch = 256
	}
	inf, err := NewInference(c, be, InferenceOptions{})
	if err != nil {
		return nil, err
	}
	defer inf.Finalize()
	// The checkpoint's normalisation, not the reloaded dataset's: the model
	// was trained with it.
	dsNorm := *ds
	dsNorm.Norm = c.Dataset.Norm
	return inf.Evaluate(&dsNorm, s, split, batch)
}
