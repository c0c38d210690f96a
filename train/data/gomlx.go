package data

import (
	"fmt"
	"iter"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"
)

// Tensor layout of the gomlx adapters: Inputs = [images float32
// [B,H,W,C]], Labels = [labels int32 [B,1]] (the shape gomlx's sparse
// categorical loss and accuracy expect), plus, for padded evaluation batches,
// a mask bool [B] that gomlx's losses and metrics understand.

// GomlxTrain adapts a Stream to gomlx's train.Dataset. Its Iter is endless
// and starts at the step last set by Seek, then advances with every batch it
// yields (so repeated train.Loop.RunSteps calls continue the stream).
//
// To resume after a restart, Seek(step) to the restored step before running,
// or call AttachTo(loop), which seeks to loop.LoopStep whenever a run starts
// (robust to prefetching wrappers that read ahead).
type GomlxTrain struct {
	s    *Stream
	name string

	mu   sync.Mutex
	next int
}

// NewGomlxTrain returns the gomlx adapter of s, named name (used by gomlx for
// metric labels), starting at step 0.
func NewGomlxTrain(s *Stream, name string) *GomlxTrain {
	return &GomlxTrain{s: s, name: name}
}

// Name implements train.Dataset.
func (d *GomlxTrain) Name() string { return d.name }

// Seek makes the next Iter (or the running one's next batch) start at step.
func (d *GomlxTrain) Seek(step int) {
	d.mu.Lock()
	d.next = step
	d.mu.Unlock()
}

// Next is the step of the next batch to be yielded.
func (d *GomlxTrain) Next() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.next
}

// AttachTo registers an OnStart hook on loop that seeks to loop.LoopStep, so
// every RunSteps/RunToGlobalStep starts with the batch of the loop's step
// (after a checkpoint restore, loop.LoopStep is the restored global step).
func (d *GomlxTrain) AttachTo(loop *train.Loop) {
	loop.OnStart("data.GomlxTrain.Seek", -1000, func(loop *train.Loop, _ train.Dataset) error {
		d.Seek(loop.LoopStep)
		return nil
	})
}

// Iter implements train.Dataset: batches Next(), Next()+1, ... forever.
func (d *GomlxTrain) Iter() iter.Seq2[train.Batch, error] {
	return func(yield func(train.Batch, error) bool) {
		for {
			d.mu.Lock()
			step := d.next
			d.next++
			d.mu.Unlock()
			b, err := d.batch(step)
			if !yield(b, err) || err != nil {
				return
			}
		}
	}
}

func (d *GomlxTrain) batch(step int) (b train.Batch, err error) {
	defer recoverTo(&err, "gomlx train batch %d", step)
	shape := d.s.Shape()
	img := tensors.FromShape(shapes.Make(dtypes.Float32, shape[:]...))
	lab := tensors.FromShape(shapes.Make(dtypes.Int32, shape[0], 1))
	err = fillTensors(img, lab, func(images []float32, labels []int32) error {
		return d.s.Fill(step, images, labels)
	})
	if err != nil {
		return train.Batch{}, err
	}
	return train.Batch{Inputs: []*tensors.Tensor{img}, Labels: []*tensors.Tensor{lab}}, nil
}

// GomlxEval adapts an Eval to gomlx's train.Dataset (for Trainer.Eval): one
// pass over the split in order.
//
// By default the last batch is smaller, because gomlx's mean metrics weight a
// batch by its size (padding would bias them); that costs one more graph
// compilation. PadLast(true) keeps one shape and adds a mask label instead;
// those batches carry Spec MaskedSpec, because gomlx's Trainer insists that a
// spec always comes with the same number of label tensors (training batches
// have one). Model functions must ignore that spec.
type GomlxEval struct {
	e    *Eval
	name string
	pad  bool
}

// MaskedSpec is the train.Batch.Spec of PadLast evaluation batches.
const MaskedSpec = "multihw/data:masked"

// NewGomlxEval returns the gomlx adapter of e, named name.
func NewGomlxEval(e *Eval, name string) *GomlxEval { return &GomlxEval{e: e, name: name} }

// PadLast makes the last batch full size, with a bool mask [B] as second label.
// All batches then carry the mask, so a single graph serves the whole pass.
func (d *GomlxEval) PadLast(pad bool) *GomlxEval { d.pad = pad; return d }

// Name implements train.Dataset.
func (d *GomlxEval) Name() string { return d.name }

// Iter implements train.Dataset.
func (d *GomlxEval) Iter() iter.Seq2[train.Batch, error] {
	return func(yield func(train.Batch, error) bool) {
		for i := 0; i < d.e.NumBatches(); i++ {
			b, err := d.batch(i)
			if !yield(b, err) || err != nil {
				return
			}
		}
	}
}

func (d *GomlxEval) batch(i int) (b train.Batch, err error) {
	defer recoverTo(&err, "gomlx eval batch %d", i)
	shape := d.e.Shape()
	rows := shape[0]
	if !d.pad {
		rows = min(rows, d.e.Len()-i*rows)
	}
	img := tensors.FromShape(shapes.Make(dtypes.Float32, rows, shape[1], shape[2], shape[3]))
	lab := tensors.FromShape(shapes.Make(dtypes.Int32, rows, 1))
	valid := 0
	err = fillTensors(img, lab, func(images []float32, labels []int32) error {
		if d.pad {
			var err error
			valid, err = d.e.Fill(i, images, labels)
			return err
		}
		valid = d.e.fillRows(i, images, labels)
		return nil
	})
	if err != nil {
		return train.Batch{}, err
	}
	b = train.Batch{Inputs: []*tensors.Tensor{img}, Labels: []*tensors.Tensor{lab}}
	if d.pad {
		mask := make([]bool, rows)
		for j := range valid {
			mask[j] = true
		}
		b.Labels = append(b.Labels, tensors.FromFlatDataAndDimensions(mask, rows))
		b.Spec = MaskedSpec
	}
	return b, nil
}

// fillTensors gives fill the flat data of a float32 and an int32 tensor.
func fillTensors(img, lab *tensors.Tensor, fill func([]float32, []int32) error) error {
	var innerErr, fillErr error
	err := tensors.MutableFlatData(img, func(images []float32) {
		innerErr = tensors.MutableFlatData(lab, func(labels []int32) {
			fillErr = fill(images, labels)
		})
	})
	for _, e := range []error{err, innerErr, fillErr} {
		if e != nil {
			_ = img.FinalizeAll()
			_ = lab.FinalizeAll()
			return e
		}
	}
	return nil
}

// recoverTo turns a gomlx panic into *err.
func recoverTo(err *error, format string, args ...any) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %v", fmt.Sprintf(format, args...), r)
	}
}
