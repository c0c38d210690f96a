package tunas

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/train/data"
)

// RandomPathScores trains the supernet of cfg for cfg.Steps steps with a
// uniform policy (controller learning rate 0, so every weight step samples
// uniformly, with cfg's warm-up) and returns the one-shot accuracy of n
// random points (drawn from seed) on the first batches validation batches.
// It measures how well a supernet configuration learns: paths that do not
// reach a useful accuracy give the controller no signal.
//
// n is at most MaxBenchPoints, and batches at most the validation split's
// batches (more would score the same images again; the batches are held in
// memory): checked before training where ds is given, else after.
func RandomPathScores(ctx context.Context, cfg Config, ds *data.Dataset, be compute.Backend, n, batches int, seed uint64) (scores []float64, res *Result, err error) {
	if n <= 0 || batches <= 0 || n > MaxBenchPoints {
		return nil, nil, fmt.Errorf("random path scores: need points in [1, %d] and positive batches, got %d and %d", MaxBenchPoints, n, batches)
	}
	if ds != nil && ds.Validation != nil {
		if err := checkValidationBatches(batches, ds.Validation.Len(), cfg.ValidationBatch); err != nil {
			return nil, nil, fmt.Errorf("random path scores: %w", err)
		}
	}
	cfg.Controller.LR = 0
	s := New(cfg).Dataset(ds).Backend(be)
	s.after = func(r *run) error {
		if err := checkValidationBatches(batches, r.val.Len(), cfg.ValidationBatch); err != nil {
			return fmt.Errorf("random path scores: %w", err)
		}
		rng := rand.New(rand.NewPCG(seed, 0x5c0e))
		var bs []supernet.Batch
		for i := range batches {
			b, err := r.val.Batch(i)
			if err != nil {
				return err
			}
			bs = append(bs, supernet.Batch{Images: b.Images, Labels: b.Labels, Size: cfg.ValidationBatch})
		}
		for range n {
			p := cfg.Space.Sample(rng, nil)
			var sum float64
			for _, b := range bs {
				acc, err := r.sn.Accuracy(p, b)
				if err != nil {
					return err
				}
				sum += acc
			}
			scores = append(scores, sum/float64(len(bs)))
		}
		return nil
	}
	if res, err = s.Run(ctx); err != nil {
		return nil, nil, err
	}
	return scores, res, nil
}

// checkValidationBatches refuses more validation batches of size batch than a
// split of n images fills (a last partial batch counts): more would score the
// same images again, and the batches are held in memory.
func checkValidationBatches(batches, n, batch int) error {
	if batch > 0 {
		if most := max(1, (n+batch-1)/batch); batches > most {
			return fmt.Errorf("%d validation batches of %d, but the validation split's %d images fill %d", batches, batch, n, most)
		}
	}
	return nil
}
