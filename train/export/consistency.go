package export

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/backend"
	"github.com/multihw/multihw/train/data"
)

// BackendStats is one backend's run in a Consistency check.
type BackendStats struct {
	Name string `json:"name"`
	// Backend is the backend's own description.
	Backend string `json:"backend"`
	// Lowered reports the convolution flavour (MatMul/window lowering or
	// native convolutions; see blocks/convnet).
	Lowered  bool    `json:"lowered"`
	Accuracy float64 `json:"accuracy"`
	// MaxAbsLogitDiff and Top1Agreement compare with the first backend.
	MaxAbsLogitDiff float64 `json:"max_abs_logit_diff"`
	Top1Agreement   float64 `json:"top1_agreement"`
	Seconds         float64 `json:"seconds"`
}

// ConsistencyResult compares the logits of one checkpoint on several backends.
type ConsistencyResult struct {
	// Backends that ran; the first is the reference of the comparisons.
	Backends []string `json:"backends"`
	// Skipped backends and why (e.g. XLA's plugin not installed).
	Skipped map[string]string `json:"skipped,omitempty"`
	// N test images.
	N int `json:"n"`
	// MaxAbsLogitDiff is the largest over backends and logits; Top1Agreement
	// the smallest fraction of images with the reference's arg-max.
	MaxAbsLogitDiff float64        `json:"max_abs_logit_diff"`
	Top1Agreement   float64        `json:"top1_agreement"`
	PerBackend      []BackendStats `json:"per_backend"`
}

// openBackend creates the backend named name ("go", "onnx", "xla",
// "xla:cpu", ...), returning a reason instead when it is unavailable.
// backend.New falls back to the Go backend; that fallback counts as
// unavailable here.
func openBackend(name string) (compute.Backend, string) {
	switch {
	case name == "go":
		be, err := backend.New("go")
		if err != nil {
			return nil, err.Error()
		}
		return be, ""
	case name == "onnx":
		be, err := ONNXRuntime()
		if err != nil {
			return nil, err.Error()
		}
		return be, ""
	case name == "xla" || strings.HasPrefix(name, "xla:"):
		config := name
		if config == "xla" {
			config = "xla:cpu"
		}
		be, err := backend.New(config)
		if err != nil {
			return nil, err.Error()
		}
		if backend.IsGo(be) {
			return nil, "XLA PJRT plugin not installed (and no internet to install it): skipped"
		}
		return be, ""
	}
	return nil, fmt.Sprintf("unknown backend %q (valid: go, onnx, xla)", name)
}

// Consistency runs checkpoint c on the test split of ds (nil: reloaded) on
// each backend and compares the logits with the first available one. Each
// backend uses its default convolution flavour (lowered on go and onnx,
// native on XLA). limit > 0 evaluates only the first limit test images.
func Consistency(c *train.Checkpoint, ds *data.Dataset, backends []string, batch, limit int) (*ConsistencyResult, error) {
	var err error
	if ds == nil {
		if ds, err = c.LoadDataset(); err != nil {
			return nil, err
		}
	}
	if len(backends) == 0 {
		return nil, fmt.Errorf("consistency: no backends")
	}
	if batch <= 0 {
		batch = 100
	}
	test := ds.Test
	if limit > 0 && limit < test.Len() {
		idx := make([]int, limit)
		for i := range idx {
			idx[i] = i
		}
		test = test.Subset(idx)
	}
	if test.Len() == 0 {
		return nil, fmt.Errorf("consistency: empty test split")
	}
	// The checkpoint's normalisation (the model was trained with it).
	dsn := *ds
	dsn.Norm = c.Dataset.Norm
	ev, err := dsn.Eval(test, batch)
	if err != nil {
		return nil, err
	}
	res := &ConsistencyResult{Skipped: map[string]string{}, N: test.Len(), Top1Agreement: 1}
	var ref []float32
	classes := len(ds.Classes)
	for _, name := range backends {
		be, reason := openBackend(strings.TrimSpace(name))
		if be == nil {
			res.Skipped[name] = reason
			continue
		}
		start := time.Now()
		inf, err := train.NewInference(c, be, train.InferenceOptions{})
		if err != nil {
			return nil, fmt.Errorf("consistency: %s: %w", name, err)
		}
		logits := make([]float32, 0, test.Len()*classes)
		labels := make([]int32, 0, test.Len())
		for b := range ev.All() {
			out, err := inf.Logits(b.Images, ev.BatchSize(), ds.Height(), ds.Width(), ds.Channels())
			if err != nil {
				inf.Finalize()
				return nil, fmt.Errorf("consistency: %s: %w", name, err)
			}
			logits = append(logits, out[:b.Valid*classes]...)
			labels = append(labels, b.Labels[:b.Valid]...)
		}
		inf.Finalize()
		st := BackendStats{Name: name, Backend: be.String(), Lowered: convnet.DefaultLowered(be), Seconds: time.Since(start).Seconds(), Top1Agreement: 1}
		correct := 0
		for i, l := range labels {
			if argmax(logits[i*classes:(i+1)*classes]) == int(l) {
				correct++
			}
		}
		st.Accuracy = float64(correct) / float64(len(labels))
		if ref == nil {
			ref = logits
		} else {
			st.MaxAbsLogitDiff, st.Top1Agreement = compare(ref, logits, classes)
			if math.IsNaN(st.MaxAbsLogitDiff) {
				return nil, fmt.Errorf("consistency: %s gives NaN logits", name)
			}
			res.MaxAbsLogitDiff = max(res.MaxAbsLogitDiff, st.MaxAbsLogitDiff)
			res.Top1Agreement = min(res.Top1Agreement, st.Top1Agreement)
		}
		res.Backends = append(res.Backends, name)
		res.PerBackend = append(res.PerBackend, st)
	}
	if len(res.Backends) == 0 {
		return nil, fmt.Errorf("consistency: no backend available (%v)", res.Skipped)
	}
	if len(res.Skipped) == 0 {
		res.Skipped = nil
	}
	return res, nil
}
