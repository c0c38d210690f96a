// Package optim is the one vocabulary of weight optimizers and learning-rate
// schedules. Training (package train: every trainable variable after each
// step) and the supernet (package nas/supernet: lazy updates of the slices a
// path uses) run the same optimizers under the same names, with the same
// hyper-parameters (Hyper), validated and defaulted here, through the same
// update loops (RMSPropRun, SGDRun, AdamRun, in Go after the graph computed
// the gradients), and follow schedules resolved here (Plan). The update
// rules are TensorFlow's, as
// TuNAS (google-research/tunas mobile_architecture_search.py) and Model
// Garden's MobileNet recipes use them:
//
//   - SGD with momentum μ: buf ← μ·buf + g; Nesterov: w ← w − lr·(g + μ·buf),
//     else w ← w − lr·buf.
//   - RMSProp with momentum (tf.compat.v1.train.RMSPropOptimizer): ms ←
//     ρ·ms + (1−ρ)·g², mom ← μ·mom + lr·g/√(ms+ε), w ← w − mom, with ms
//     starting at 1.
//   - Adam with bias correction (μ as β1, ρ as β2), weight decay decoupled
//     (AdamW).
//
// For SGD and RMSProp weight decay adds WeightDecay·w to the gradient of the
// convolution and dense kernels (not biases nor BatchNorm).
package optim

import (
	"fmt"
	"math"
)

// Kind names an optimizer.
type Kind string

// Optimizers.
const (
	SGD     Kind = "sgd"
	RMSProp Kind = "rmsprop"
	Adam    Kind = "adam"
)

// Kinds lists the optimizers.
var Kinds = []Kind{SGD, RMSProp, Adam}

// Hyper holds an optimizer's hyper-parameters other than the learning rate
// (given per step by a Plan). Its JSON fields are those of train.Recipe and
// supernet.Optimizer, which embed it.
type Hyper struct {
	// Momentum of SGD and RMSProp; β1 of Adam.
	Momentum float64 `json:"momentum"`
	// Decay is RMSProp's ρ and Adam's β2.
	Decay float64 `json:"decay,omitempty"`
	// Epsilon of RMSProp and Adam.
	Epsilon float64 `json:"epsilon,omitempty"`
	// WeightDecay is the L2 penalty on convolution and dense kernels.
	WeightDecay float64 `json:"weight_decay"`
	// LabelSmoothing mixes the one-hot target of the training loss with the
	// uniform distribution.
	LabelSmoothing float64 `json:"label_smoothing"`
}

// WithDefaults fills the fields of optimizer k left at zero: RMSProp ρ 0.9
// and ε 0.002 (Model Garden's MobileNet recipe), Adam β2 0.999 and ε 1e-7
// (Keras's).
func (h Hyper) WithDefaults(k Kind) Hyper {
	switch k {
	case RMSProp:
		if h.Decay == 0 {
			h.Decay = 0.9
		}
		if h.Epsilon == 0 {
			h.Epsilon = 0.002
		}
	case Adam:
		if h.Decay == 0 {
			h.Decay = 0.999
		}
		if h.Epsilon == 0 {
			h.Epsilon = 1e-7
		}
	}
	return h
}

// Validate reports the first field invalid for optimizer k (the kind
// included).
func (h Hyper) Validate(k Kind) error {
	if err := k.Validate(); err != nil {
		return err
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !(h.Momentum >= 0 && h.Momentum < 1):
		return fmt.Errorf("momentum must be in [0, 1), got %g", h.Momentum)
	case k != SGD && !(h.Decay > 0 && h.Decay < 1):
		return fmt.Errorf("decay must be in (0, 1), got %g", h.Decay)
	case k != SGD && (!(h.Epsilon > 0) || !finite(h.Epsilon)):
		return fmt.Errorf("epsilon must be positive, got %g", h.Epsilon)
	case !(h.WeightDecay >= 0) || !finite(h.WeightDecay):
		return fmt.Errorf("weight decay must be >= 0, got %g", h.WeightDecay)
	case !(h.LabelSmoothing >= 0 && h.LabelSmoothing < 1):
		return fmt.Errorf("label smoothing must be in [0, 1), got %g", h.LabelSmoothing)
	}
	return nil
}

// Validate reports an unknown optimizer.
func (k Kind) Validate() error {
	switch k {
	case SGD, RMSProp, Adam:
		return nil
	}
	return fmt.Errorf("unknown optimizer %q (valid: %s, %s, %s)", k, SGD, RMSProp, Adam)
}
