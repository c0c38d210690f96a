package data

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/multihw/multihw/backend"
)

func TestGomlxTrainMatchesStream(t *testing.T) {
	sp := idSplit(13, 3, 2, 3)
	s := mustStream(t, sp, 4, 11, Augment{Pad: 1, Flip: true})
	d := NewGomlxTrain(s, "toy")
	d.Seek(7)
	k := 7
	for b, err := range d.Iter() {
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Inputs[0].Shape().Dimensions; !slices.Equal(got, []int{4, 3, 2, 3}) {
			t.Fatalf("images shape %v", got)
		}
		if got := b.Labels[0].Shape().Dimensions; !slices.Equal(got, []int{4, 1}) {
			t.Fatalf("labels shape %v", got)
		}
		want := mustBatch(t, s, k)
		if !slices.Equal(tensors.MustCopyFlatData[float32](b.Inputs[0]), want.Images) ||
			!slices.Equal(tensors.MustCopyFlatData[int32](b.Labels[0]), want.Labels) {
			t.Fatalf("gomlx batch %d differs from Stream.Batch(%d)", k, k)
		}
		_ = b.Finalize()
		if k++; k == 10 {
			break
		}
	}
	if d.Next() != 10 {
		t.Fatalf("Next() = %d after yielding steps 7..9", d.Next())
	}
}

func TestGomlxEvalShapes(t *testing.T) {
	sp := idSplit(10, 2, 2, 1)
	e, err := NewEval(sp, 4, unitNorm(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []bool{false, true} {
		var rows []int
		var labels []int32
		var masks int
		for b, err := range NewGomlxEval(e, "eval").PadLast(pad).Iter() {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, b.Inputs[0].Shape().Dimensions[0])
			labels = append(labels, tensors.MustCopyFlatData[int32](b.Labels[0])...)
			if pad {
				m := tensors.MustCopyFlatData[bool](b.Labels[1])
				for _, v := range m {
					if v {
						masks++
					}
				}
			} else if len(b.Labels) != 1 {
				t.Fatalf("unpadded batch has %d label tensors", len(b.Labels))
			}
			_ = b.Finalize()
		}
		wantRows := []int{4, 4, 2}
		if pad {
			wantRows = []int{4, 4, 4}
			if masks != 10 {
				t.Fatalf("mask has %d true values, want 10", masks)
			}
		}
		if !slices.Equal(rows, wantRows) || !slices.Equal(labels[:10], []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("pad=%v rows %v labels %v", pad, rows, labels)
		}
	}
}

// TestGomlxLoopResume runs the adapter inside gomlx's train.Loop with a tiny
// linear model: AttachTo makes a new loop start at the trainer's global step.
func TestGomlxLoopResume(t *testing.T) {
	b, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	sp := idSplit(12, 2, 2, 1)
	for i := range sp.Labels {
		sp.Labels[i] %= 3
	}
	norm, err := sp.Stats()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStream(sp, 4, 1, norm, Augment{Flip: true})
	if err != nil {
		t.Fatal(err)
	}
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.DenseWithBias(scope.In("dense"), graph.Reshape(x, x.Shape().Dimensions[0], -1), 3)
	}
	acc := metric.NewSparseCategoricalAccuracy("Accuracy", "acc")
	trainer := train.NewTrainer(b, model.NewStore(), modelFn, loss.SparseCategoricalCrossEntropyLogits,
		optimizer.StochasticGradientDescent().Done(), nil, []metric.Interface{acc})
	d := NewGomlxTrain(s, "toy")
	loop := train.NewLoop(trainer)
	d.AttachTo(loop)
	if _, err := loop.RunSteps(d, 3); err != nil {
		t.Fatal(err)
	}
	if d.Next() != 3 {
		t.Fatalf("after 3 steps Next() = %d", d.Next())
	}
	// A "restarted" loop on the same trainer starts at global step 3, wherever the dataset was.
	d.Seek(50)
	loop2 := train.NewLoop(trainer)
	d.AttachTo(loop2)
	if _, err := loop2.RunSteps(d, 2); err != nil {
		t.Fatal(err)
	}
	if d.Next() != 5 {
		t.Fatalf("resumed loop consumed up to %d, want 5", d.Next())
	}
	e, err := NewEval(sp, 5, norm)
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []bool{false, true} {
		m, err := trainer.Eval(NewGomlxEval(e, "eval").PadLast(pad))
		if err != nil {
			t.Fatalf("pad=%v: %v", pad, err)
		}
		if a := tensors.ToScalar[float32](m[1]); a < 0 || a > 1 {
			t.Fatalf("pad=%v accuracy %v", pad, a)
		}
	}
}
