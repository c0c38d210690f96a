package train

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/train/data"
)

// recalSeedTag separates the recalibration batches from the training stream.
const recalSeedTag = 0x6e6f726d62617463 // "normbatc"

// recalibrateBN replaces the BatchNorm moving averages of the model in store
// by the mean, over n training batches, of the batch statistics computed with
// the current weights ("precise BatchNorm"). Each batch runs the network in
// training mode with BatchNorm momentum 0, which sets every moving average to
// that batch's statistics; the batch statistics of a layer depend only on the
// weights and the batch, never on the moving averages, so one forward pass
// per batch gives all layers. Dropout (after every BatchNorm) is removed so
// the dropout RNG state is left untouched.
func recalibrateBN(be compute.Backend, store *model.Store, arch *blocks.Arch, ds *data.Dataset, batch, n int, seed uint64) (err error) {
	defer recoverErr(&err, "recalibrating BatchNorm")
	a := arch.Clone()
	a.Head.Dropout = 0
	b := convnet.New(a).BatchNormMomentum(0)
	if err := b.Err(); err != nil {
		return err
	}
	var vars []*model.Variable
	for v := range store.RootScope().In(ModelScope).IterVariables() {
		if v.Name() == convnet.BNMovingMean || v.Name() == convnet.BNMovingVariance {
			vars = append(vars, v)
		}
	}
	if len(vars) == 0 {
		return nil
	}
	exec, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
		scope.SetTraining(images.Graph(), true)
		return b.Logits(scope.In(ModelScope), images)
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	stream, err := data.NewStream(ds.Train, batch, seed^recalSeedTag, ds.Norm, ds.Augment)
	if err != nil {
		return err
	}
	shape := stream.Shape()
	images := make([]float32, shape[0]*shape[1]*shape[2]*shape[3])
	labels := make([]int32, shape[0])
	sums := make([][]float64, len(vars))
	for k := range n {
		if err := stream.Fill(k, images, labels); err != nil {
			return err
		}
		in := tensors.FromFlatDataAndDimensions(images, shape[:]...)
		out, err := exec.Exec(in)
		_ = in.FinalizeAll()
		if err != nil {
			return err
		}
		for _, t := range out {
			_ = t.FinalizeAll()
		}
		for i, v := range vars {
			t, err := v.Value()
			if err != nil {
				return err
			}
			vals, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return err
			}
			if sums[i] == nil {
				sums[i] = make([]float64, len(vals))
			}
			for j, x := range vals {
				sums[i][j] += float64(x)
			}
		}
	}
	for i, v := range vars {
		avg := make([]float32, len(sums[i]))
		for j, s := range sums[i] {
			avg[j] = float32(s / float64(n))
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(avg, v.Shape().Dimensions...)); err != nil {
			return fmt.Errorf("setting %s: %w", v.Path(), err)
		}
	}
	return nil
}
