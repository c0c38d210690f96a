package convnet

import (
	"fmt"
	"math/rand/v2"
	"syscall"
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
			loopCPU(b, step)
		})
	}
}

// BenchmarkDepthwise times the forward and backward pass (input and weight
// gradients) of a depthwise convolution in the CHWN layout, batch 64, 48
// channels, with the windowed and the banded lowerings: their crossover sets
// bandedMaxRatio.
//
//	go test ./blocks/convnet -run NONE -bench Depthwise -benchtime 20x
func BenchmarkDepthwise(b *testing.B) {
	const batch, c = 64, 48
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range benchDepthwiseSizes {
		for _, k := range []int{3, 5} {
			for _, stride := range []int{1, 2} {
				x := randTensor(rng, c, size, size, batch)
				w := randTensor(rng, k, k, c)
				for _, dw := range []dwLowering{dwWindows, dwBanded} {
					o := Ops{Lowered: true, Layout: CHWN, dw: dw}
					name := fmt.Sprintf("%dx%d_k%d_s%d/%s", size, size, k, stride, map[dwLowering]string{dwWindows: "windows", dwBanded: "banded"}[dw])
					b.Run(name, func(b *testing.B) {
						benchGradient(b, func(x, w *Node) *Node { return o.Depthwise(x, w, stride) }, x, w)
					})
				}
			}
		}
	}
}

// loopCPU runs fn in the benchmark loop and also reports its CPU time
// (user+system of the process) per call: on a shared machine it varies less
// than wall time.
func loopCPU(b *testing.B, fn func()) {
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		fn()
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

var benchDepthwiseSizes = []int{16, 14, 8, 7, 4}

// BenchmarkInference times batch-1 inference of MultiAVG at 224 px (random
// weights and BatchNorm statistics) as the one lowered graph and as a Staged
// pipeline, which compute the same logits:
//
//	go test ./blocks/convnet -run NONE -bench Inference -benchtime 40x
//
// `multihw bench infer` times the staged form against ONNX Runtime.
func BenchmarkInference(b *testing.B) {
	arch, err := blocks.Model("multi_avg")
	if err != nil {
		b.Fatal(err)
	}
	be := testBackend(b)
	rng := rand.New(rand.NewPCG(7, 8))
	x := randTensor(rng, 1, arch.Resolution, arch.Resolution, arch.Channels)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	builder := New(arch)
	logits := func(scope *model.Scope, images *Node) *Node { return builder.Logits(scope.In("model"), images) }
	initExec, err := model.NewExec(be, store, logits)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := initExec.Exec(x); err != nil { // Initializes the variables.
		b.Fatal(err)
	}
	// Built now that the variables have values: constants, BatchNorm folded.
	graph, err := model.NewExec(be, store, logits)
	if err != nil {
		b.Fatal(err)
	}
	staged, err := builder.NewStaged(be, store, "model", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		run  func() (*tensors.Tensor, error)
	}{
		{"graph", func() (*tensors.Tensor, error) {
			out, err := graph.Exec(x)
			if err != nil {
				return nil, err
			}
			return out[0], nil
		}},
		{"staged", func() (*tensors.Tensor, error) { return staged.Logits(x) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			run := func() {
				out, err := v.run()
				if err != nil {
					b.Fatal(err)
				}
				out.FinalizeAll()
			}
			run()
			b.ResetTimer()
			loopCPU(b, run)
		})
	}
}

// benchGradient times op's forward pass and its gradient with respect to x
// and w, after one run that compiles (loopCPU).
func benchGradient(b *testing.B, op func(x, w *Node) *Node, x, w *tensors.Tensor) {
	exec, err := NewExec(testBackend(b), func(x, w *Node) []*Node {
		y := op(x, w)
		return Gradient(ReduceAllSum(Mul(y, y)), x, w)
	})
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		out, err := exec.Exec(x, w)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range out {
			t.FinalizeAll()
		}
	}
	run()
	b.ResetTimer()
	loopCPU(b, run)
}
