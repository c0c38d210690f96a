package convnet

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/multihw/multihw/blocks"
)

// BenchmarkTrainStep times one Adam training step of MultiAVG@0.5 (batch 64,
// 32×32×3, 10 classes) with the lowered and the native ops:
//
//	go test ./blocks/convnet -run NONE -bench TrainStep -benchtime 10x
//
// `multihw bench train` measures the same, interleaved, and prints the ratio.
func BenchmarkTrainStep(b *testing.B) {
	arch, err := blocks.Model("multi_avg")
	if err != nil {
		b.Fatal(err)
	}
	arch = arch.WithWidth(0.5)
	arch.Resolution, arch.Classes = 32, 10
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 64, 32, 32, 3)
	labels := make([]int32, 64)
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
	y := tensors.FromFlatDataAndDimensions(labels, 64, 1)
	for _, lowered := range []bool{true, false} {
		b.Run(map[bool]string{true: "lowered", false: "native"}[lowered], func(b *testing.B) {
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(1))
			net := New(arch).Lowered(lowered)
			modelFn := func(scope *model.Scope, images *Node) *Node { return net.Logits(scope.In("model"), images) }
			tr := train.NewTrainer(testBackend(b), store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
				optimizer.Adam().Done(), nil, nil)
			step := func() {
				xc, _ := x.LocalClone()
				yc, _ := y.LocalClone()
				if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{xc}, Labels: []*tensors.Tensor{yc}}); err != nil {
					b.Fatal(err)
				}
			}
			step() // Compiles.
			b.ResetTimer()
			for b.Loop() {
				step()
			}
		})
	}
}
