package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/train/data"
)

// ModelScope is the scope (under the store's root) of the network's variables.
const ModelScope = "model"

func scalarF32(v float64) *tensors.Tensor { return tensors.FromScalar(float32(v)) }

// smoothedCrossEntropy is convnet.SmoothedCrossEntropy as a gomlx training
// loss: int labels [B, 1], logits the first prediction.
func smoothedCrossEntropy(eps float64) func(labels, predictions []*Node) *Node {
	return func(labels, predictions []*Node) *Node {
		return convnet.SmoothedCrossEntropy(predictions[0], Reshape(labels[0], -1), eps)
	}
}

// PixelNormalization returns the per-channel constants with which a graph
// turns raw pixels (0..255) into the training inputs: x ↦ (x − sub)·mul with
// sub = 255·mean and mul = 1/(255·std) in float32, i.e. (x/255 − mean)/std as
// data.Stream computes it. The inference graphs (InferenceOptions.RawPixels)
// and the ONNX deployment graph (train/export) both normalise with these.
func PixelNormalization(norm data.Norm) (sub, mul []float32) {
	c := len(norm.Mean)
	sub = make([]float32, c)
	mul = make([]float32, c)
	for i := range c {
		sub[i] = norm.Mean[i] * 255
		mul[i] = 1 / (norm.Std[i] * 255)
	}
	return sub, mul
}

// inputNorm is the normalisation of raw pixels (0..255) into the training
// inputs (PixelNormalization) of the inference graphs.
func inputNorm(norm data.Norm) *convnet.InputNorm {
	sub, mul := PixelNormalization(norm)
	return &convnet.InputNorm{Sub: sub, Mul: mul}
}

// Inference is an inference-mode model of a checkpoint on one backend: a
// store holding the model variables and an executor mapping normalised images
// [B, H, W, C] to logits [B, classes].
type Inference struct {
	Arch  *blocks.Arch // the trained (proxy) architecture
	Norm  data.Norm
	store *model.Store
	exec  *model.Exec
	// staged, on the pure-Go backend, runs the few-image batches (the
	// NHWC layout) with the depthwise convolutions in Go between graph
	// segments: the same logits, 2x faster (convnet.Staged).
	staged *convnet.Staged
	be     compute.Backend
	raw    bool
}

// InferenceOptions configure NewInference.
type InferenceOptions struct {
	// RawPixels makes the executor take raw pixel values (0..255, float32)
	// and normalise them in the graph (the form exported to ONNX).
	RawPixels bool
	// Lowered, if set, forces the convolution flavour (see convnet.Builder.Lowered).
	Lowered *bool
}

// NewInference builds the inference model of checkpoint c on backend be (nil:
// the default backend, backend.Default).
func NewInference(c *Checkpoint, be compute.Backend, opts InferenceOptions) (inf *Inference, err error) {
	defer recoverErr(&err, "building the inference model")
	if c == nil {
		return nil, fmt.Errorf("inference: checkpoint is nil")
	}
	if be == nil { // as EvaluateCheckpoint: the default backend
		if be, err = backend.Default(); err != nil {
			return nil, err
		}
	}
	store := model.NewStore()
	if err := c.Restore(store, IsModelVariable); err != nil {
		return nil, err
	}
	b := convnet.New(c.TrainArch).BatchNormMomentum(c.Recipe.BNMomentum)
	if opts.Lowered != nil {
		b = b.Lowered(*opts.Lowered)
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	// A graph would create a missing variable at random and turn bad
	// BatchNorm statistics into NaN logits: staging checks every layer's
	// variables first (in every build, also when nothing is staged), other
	// backends and flavours check them here.
	stage := backend.IsGo(be) && b.OpsFor(be).Lowered
	if !stage {
		if err := b.CheckVariables(store, ModelScope); err != nil {
			return nil, fmt.Errorf("inference of %s: %w", c.Path, err)
		}
	}
	norm := c.Dataset.Norm
	if len(norm.Mean) != c.TrainArch.Channels || len(norm.Std) != c.TrainArch.Channels {
		return nil, fmt.Errorf("checkpoint normalisation has %d channels, the architecture %d", len(norm.Mean), c.TrainArch.Channels)
	}
	var in *convnet.InputNorm
	if opts.RawPixels {
		in = inputNorm(norm)
	}
	fn := func(scope *model.Scope, images *Node) *Node {
		if in != nil {
			images = in.Graph(images)
		}
		return b.Logits(scope.In(ModelScope), images)
	}
	exec, err := model.NewExec(be, store, fn)
	if err != nil {
		return nil, err
	}
	inf = &Inference{Arch: c.TrainArch, Norm: norm, store: store, exec: exec, be: be, raw: opts.RawPixels}
	if stage {
		// A network with nothing to stage runs its one graph, as fast (its
		// variables checked). Any other refusal is an error.
		staged, err := b.NewStaged(be, store, ModelScope, in)
		switch {
		case err == nil:
			inf.staged = staged
		case !errors.Is(err, convnet.ErrNothingToStage):
			exec.Finalize()
			return nil, fmt.Errorf("inference of %s: %w", c.Path, err)
		}
	}
	return inf, nil
}

// Exec returns the underlying executor (e.g. for ONNX export).
func (m *Inference) Exec() *model.Exec { return m.exec }

// Backend returns the backend the model runs on.
func (m *Inference) Backend() compute.Backend { return m.be }

// Logits runs images (NHWC, flat, batch×H×W×C values) and returns the logits
// (batch×classes values, row-major).
func (m *Inference) Logits(images []float32, batch, h, w, c int) (logits []float32, err error) {
	defer recoverErr(&err, "inference")
	if batch < 1 || h < 1 || w < 1 || c < 1 {
		return nil, fmt.Errorf("inference: images of %dx%dx%dx%d: every dimension must be positive", batch, h, w, c)
	}
	if len(images) != batch*h*w*c {
		return nil, fmt.Errorf("inference: %d image values for %dx%dx%dx%d", len(images), batch, h, w, c)
	}
	in := tensors.FromFlatDataAndDimensions(images, batch, h, w, c)
	defer func() { _ = in.FinalizeAll() }()
	var out *tensors.Tensor
	if m.staged != nil && convnet.LayoutFor(batch) == convnet.NHWC {
		out, err = m.staged.Logits(in)
	} else {
		var outs []*tensors.Tensor
		outs, err = m.exec.Exec(in)
		if err == nil {
			out = outs[0]
		}
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = out.FinalizeAll() }()
	return tensors.CopyFlatData[float32](out)
}

// Finalize frees the executor and the variables.
func (m *Inference) Finalize() {
	if m.staged != nil {
		m.staged.Finalize()
	}
	m.exec.Finalize()
	m.store.Finalize()
}

// recoverErr turns a panic (gomlx reports graph errors by panicking) into an
// error with context.
func recoverErr(err *error, what string) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok {
			e = fmt.Errorf("%v", r)
		}
		*err = fmt.Errorf("%s: %w", what, e)
	}
}

// tryCatch runs fn, converting a gomlx panic into an error.
func tryCatch(fn func()) error { return exceptions.TryCatch[error](fn) }

// logitStats accumulates classification statistics from logits.
type logitStats struct {
	classes   int
	n         int
	correct   int
	lossSum   float64
	confusion [][]int
}

func newLogitStats(classes int) *logitStats {
	s := &logitStats{classes: classes, confusion: make([][]int, classes)}
	for i := range s.confusion {
		s.confusion[i] = make([]int, classes)
	}
	return s
}

// add accounts the first valid rows of a batch of logits.
func (s *logitStats) add(logits []float32, labels []int32, valid int) {
	c := s.classes
	for i := range valid {
		row := logits[i*c : (i+1)*c]
		pred, best := 0, row[0]
		for j, v := range row {
			if v > best {
				pred, best = j, v
			}
		}
		// Cross-entropy via log-sum-exp, in float64.
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - best))
		}
		y := int(labels[i])
		s.lossSum += float64(best) + math.Log(sum) - float64(row[y])
		s.confusion[y][pred]++
		if pred == y {
			s.correct++
		}
		s.n++
	}
}

// EvalResult is the evaluation of a model on one split.
type EvalResult struct {
	Split    string  `json:"split"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// AccuracyCI95 is the 95% Clopper-Pearson interval of Accuracy over the
	// split's N images (what the finite test set leaves open; a training
	// seed's spread is on top of it).
	AccuracyCI95 stats.Interval `json:"accuracy_ci95"`
	// Loss is the mean cross-entropy (without label smoothing).
	Loss    float64  `json:"loss"`
	Classes []string `json:"classes"`
	// PerClass is the accuracy (recall) of each class, NaN-free: a class
	// absent from the split gets 0 and count 0.
	PerClass   []float64 `json:"per_class"`
	ClassCount []int     `json:"class_count"`
	// Confusion[true][predicted] counts images.
	Confusion [][]int `json:"confusion"`
}

func (s *logitStats) result(split string, classes []string) *EvalResult {
	r := &EvalResult{Split: split, N: s.n, Classes: classes, Confusion: s.confusion,
		PerClass: make([]float64, s.classes), ClassCount: make([]int, s.classes)}
	r.AccuracyCI95 = stats.BinomialInterval(s.correct, s.n, 0.95)
	if s.n > 0 {
		r.Accuracy = float64(s.correct) / float64(s.n)
		r.Loss = s.lossSum / float64(s.n)
	}
	for i, row := range s.confusion {
		for _, v := range row {
			r.ClassCount[i] += v
		}
		if r.ClassCount[i] > 0 {
			r.PerClass[i] = float64(row[i]) / float64(r.ClassCount[i])
		}
	}
	return r
}

// evaluate runs fn (normalised images → logits) over a split in batches.
func evaluate(logits func(images []float32, batch int) ([]float32, error), ds *data.Dataset, split *data.Split, name string, batch int) (*EvalResult, error) {
	ev, err := ds.Eval(split, batch)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", name, err)
	}
	stats := newLogitStats(ds.NumClasses())
	for b := range ev.All() {
		out, err := logits(b.Images, ev.BatchSize())
		if err != nil {
			return nil, fmt.Errorf("evaluating %s, batch %d: %w", name, b.Index, err)
		}
		stats.add(out, b.Labels, b.Valid)
	}
	return stats.result(name, ds.Classes), nil
}

// Evaluate evaluates the model on split (ds.Test or ds.Validation, named
// name) in batches of batch images.
func (m *Inference) Evaluate(ds *data.Dataset, split *data.Split, name string, batch int) (*EvalResult, error) {
	if m.raw {
		return nil, fmt.Errorf("evaluate: the model takes raw pixels; build it without RawPixels")
	}
	if ds == nil || split == nil {
		return nil, fmt.Errorf("evaluate: dataset and split must not be nil")
	}
	if ds.Channels() != m.Arch.Channels || ds.NumClasses() != m.Arch.Classes {
		return nil, fmt.Errorf("evaluate: dataset has %d channels and %d classes, the model %d and %d", ds.Channels(), ds.NumClasses(), m.Arch.Channels, m.Arch.Classes)
	}
	if err := CheckMemory("evaluating "+m.Arch.Name, m.Arch, batch, false); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	h, w, c := ds.Height(), ds.Width(), ds.Channels()
	return evaluate(func(images []float32, b int) ([]float32, error) {
		return m.Logits(images, b, h, w, c)
	}, ds, split, name, batch)
}
