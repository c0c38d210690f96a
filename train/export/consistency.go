package export

import (
	"fmt"
	"iter"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/train"
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
// each backend and compares the logits with the first. Every backend gets
// the same raw pixels. "onnx" runs the exported deployment graph (DeployModel
// at DefaultOpset) in ONNX Runtime; the others run the checkpoint's gomlx
// graph in their default convolution flavour (lowered on go, native on XLA).
// Every backend named must run: an unknown backend, or one that cannot run
// here (ONNX Runtime not installed, XLA's plugin missing), is an error naming
// it, since a comparison that quietly drops what was asked for reports
// agreement it never measured. A name ending in "?" ("xla?") marks a backend
// as optional: when it cannot run it is listed in Skipped with the reason.
// At least two backends must run. limit > 0 evaluates only the first limit
// test images.
func Consistency(c *train.Checkpoint, ds *data.Dataset, backends []string, batch, limit int) (*ConsistencyResult, error) {
	var err error
	if len(backends) == 0 {
		return nil, fmt.Errorf("consistency: no backends")
	}
	if batch <= 0 {
		batch = 100
	}
	// Open every backend first: a missing one fails before any work.
	open, skipped, err := openBackends(backends)
	if err != nil {
		return nil, err
	}
	if len(open) < 2 {
		return nil, fmt.Errorf("consistency: only %d backend(s) can run (%s), nothing to compare; skipped: %v", len(open), strings.Join(backends, ","), skipped)
	}
	if err := train.CheckMemory("consistency check of "+c.TrainArch.Name, c.TrainArch, batch, false); err != nil {
		return nil, fmt.Errorf("consistency: %w", err)
	}
	if ds == nil {
		if ds, err = c.LoadDataset(); err != nil {
			return nil, err
		}
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
	// Raw pixels: every backend normalises them in its graph, with the
	// checkpoint's statistics, as the exported file does.
	ev, err := newRawEval(test, batch, c.Dataset)
	if err != nil {
		return nil, err
	}
	res := &ConsistencyResult{Skipped: skipped, N: test.Len(), Top1Agreement: 1}
	var ref []float32
	classes := len(ds.Classes)
	for _, o := range open {
		name := o.name
		start := time.Now()
		run, err := newRunner(c, name, o.be)
		if err != nil {
			return nil, fmt.Errorf("consistency: %s: %w", name, err)
		}
		logits, labels, err := run.all(ev, classes)
		if err != nil {
			return nil, fmt.Errorf("consistency: %s: %w", name, err)
		}
		st := BackendStats{Name: name, Backend: run.describe, Lowered: run.lowered, Seconds: time.Since(start).Seconds(), Top1Agreement: 1}
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
	if len(res.Skipped) == 0 {
		res.Skipped = nil
	}
	return res, nil
}

// namedBackend is a backend of a consistency check, opened.
type namedBackend struct {
	name string
	be   compute.Backend
}

// openBackends opens the backends named (a trailing "?" marks one optional):
// a required one that cannot run is an error; an optional one is skipped,
// with the reason.
func openBackends(backends []string) ([]namedBackend, map[string]string, error) {
	var open []namedBackend
	skipped := map[string]string{}
	seen := map[string]bool{}
	for _, raw := range backends {
		name := strings.TrimSpace(raw)
		optional := strings.HasSuffix(name, "?")
		name = strings.TrimSuffix(name, "?")
		if name == "" {
			return nil, nil, fmt.Errorf("consistency: empty backend name in %q", strings.Join(backends, ","))
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("consistency: backend %q given twice", name)
		}
		seen[name] = true
		be, reason := openBackend(name)
		if be == nil {
			if !optional {
				return nil, nil, fmt.Errorf("consistency: backend %q cannot run: %s (mark it optional as %q to skip it)", name, reason, name+"?")
			}
			skipped[name] = reason
			continue
		}
		open = append(open, namedBackend{name, be})
	}
	return open, skipped, nil
}

// all runs every batch of ev and returns the logits of the valid images
// (classes per image) and their labels; it finalizes the runner.
func (r *runner) all(ev *rawEval, classes int) (logits []float32, labels []int32, err error) {
	defer r.finalize()
	for b := range ev.all() {
		out, err := r.logits(b.images, ev.batch)
		if err != nil {
			return nil, nil, err
		}
		logits = append(logits, out[:b.valid*classes]...)
		labels = append(labels, b.labels...)
	}
	return logits, labels, nil
}

// runner computes logits of raw-pixel image batches on one backend.
type runner struct {
	logits   func(images []float32, batch int) ([]float32, error)
	finalize func()
	describe string
	lowered  bool
}

// newRunner returns the runner of backend name: the deployment graph in ONNX
// Runtime for "onnx", else the checkpoint's inference graph on be.
func newRunner(c *train.Checkpoint, name string, be compute.Backend) (*runner, error) {
	d := c.Dataset
	if name == "onnx" {
		model, err := DeployBytes(c, DefaultOpset)
		if err != nil {
			return nil, err
		}
		m, err := loadORT(be, model, d)
		if err != nil {
			return nil, err
		}
		return &runner{logits: m.logits, finalize: m.Finalize,
			describe: fmt.Sprintf("%s, exported deployment graph (opset %d)", be.String(), DefaultOpset)}, nil
	}
	inf, err := train.NewInference(c, be, train.InferenceOptions{RawPixels: true})
	if err != nil {
		return nil, err
	}
	return &runner{
		logits: func(images []float32, batch int) ([]float32, error) {
			return inf.Logits(images, batch, d.Height, d.Width, d.Channels)
		},
		finalize: inf.Finalize, describe: be.String(), lowered: convnet.DefaultLowered(be)}, nil
}

// rawEval walks a split in order in batches of raw pixel values (0..255 as
// float32), the last one padded with zero images.
type rawEval struct {
	split *data.Split
	batch int
}

type rawBatch struct {
	images []float32
	labels []int32 // of the valid rows
	valid  int
}

// newRawEval checks that split's images are those checkpoint d was trained on.
func newRawEval(split *data.Split, batch int, d train.DatasetInfo) (*rawEval, error) {
	if split.Height != d.Height || split.Width != d.Width || split.Channels != d.Channels {
		return nil, fmt.Errorf("consistency: test images are %dx%dx%d, the checkpoint was trained on %dx%dx%d",
			split.Height, split.Width, split.Channels, d.Height, d.Width, d.Channels)
	}
	if len(split.Pixels) != split.Len()*split.ImageSize() {
		return nil, fmt.Errorf("consistency: the test split holds %d pixel values for %d images", len(split.Pixels), split.Len())
	}
	return &rawEval{split: split, batch: batch}, nil
}

// all yields every batch; the yielded images buffer is reused.
func (e *rawEval) all() iter.Seq[rawBatch] {
	return func(yield func(rawBatch) bool) {
		n := e.split.ImageSize()
		images := make([]float32, e.batch*n)
		for first := 0; first < e.split.Len(); first += e.batch {
			valid := min(e.batch, e.split.Len()-first)
			for i, p := range e.split.Pixels[first*n : (first+valid)*n] {
				images[i] = float32(p)
			}
			clear(images[valid*n:])
			if !yield(rawBatch{images: images, labels: e.split.Labels[first : first+valid], valid: valid}) {
				return
			}
		}
	}
}
