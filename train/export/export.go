// Package export writes trained models to ONNX and checks that a model gives
// the same answers on every backend: the pure-Go backend, ONNX Runtime and
// XLA (where installed).
//
// The exported file is a deployment graph written from the architecture's
// op plan (DeployModel): input "images" float32 [batch, H, W, C] with raw
// pixel values 0..255 (NHWC, like the datasets) and a symbolic batch
// dimension, normalised inside the graph with the training statistics;
// output "logits" float32 [batch, classes]. BatchNorm is folded into the
// convolutions' weights and biases (convnet.FoldBatchNorm), weights are
// stored in the layout the ONNX ops read, and the graph is one Conv, Add,
// GlobalAveragePool or Gemm node (plus activation) per op of the plan, at
// an opset from MinOpset to MaxOpset (default DefaultOpset). Options.Lowered
// writes instead the MatMul/window lowering the Go backend runs, as gomlx's
// ONNX converter emits it: a diagnostic (e.g. for timing the lowering in ONNX
// Runtime), not a deployment file.
//
// ONNX needs the build tag onnx (the Makefile sets it) and ONNX Runtime
// (`make setup` installs libonnxruntime.so.1 into .deps/onnxruntime).
package export

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute-onnx/support/protos"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/train"
)

// Names of the exported graph's input and output.
const (
	InputName  = "images"
	OutputName = "logits"
)

// Producer is the exported models' producer_name.
const Producer = "multihw"

// ONNXRuntime returns the ONNX Runtime backend, or an error saying why it is
// unavailable (backend.New would silently fall back to the Go backend).
func ONNXRuntime() (compute.Backend, error) {
	if _, err := backend.ONNXRuntimeLibrary(); err != nil {
		return nil, fmt.Errorf("ONNX Runtime unavailable: %w", err)
	}
	be, err := backend.New("onnx")
	if err != nil {
		return nil, err
	}
	if !backend.IsONNX(be) {
		return nil, fmt.Errorf("ONNX Runtime unavailable (not compiled in: build with -tags onnx, as the Makefile does; or the library failed to load)")
	}
	return be, nil
}

// Options configure ONNX.
type Options struct {
	// Opset of the deployment graph, MinOpset..MaxOpset (0: DefaultOpset).
	Opset int
	// Lowered exports the Go backend's MatMul/shifted-window lowering
	// through gomlx's converter (BatchNorm at run time, a fixed batch, the
	// converter's opset) instead of the deployment graph.
	Lowered bool
	// Batch is the fixed batch size of the lowered graph (default 1); the
	// deployment graph's batch is symbolic, so Batch must be 0 without Lowered.
	Batch int
	// CheckImages is the number of random images run through the reloaded
	// file and through the Go backend (default 4). The deployment graph runs
	// them as two batches of different sizes (n−1 and 1) in one session, which
	// checks its dynamic batch; the lowered graph in batches of Batch.
	CheckImages int
	// Seed of the random check images.
	Seed uint64
}

// Report describes an exported file and the check that it loads back and
// matches the Go backend.
type Report struct {
	// Path is the written file (empty where the file was temporary: bench
	// infer's).
	Path  string `json:"path,omitempty"`
	Bytes int64  `json:"bytes"`
	Input string `json:"input"`
	// InputShape is [batch, H, W, C]; batch is -1 when symbolic (BatchDim).
	InputShape []int  `json:"input_shape"`
	Output     string `json:"output"`
	// Classes are the logits' class names (left out of bench infer's
	// report: its random-weight models have ImageNet's 1000 numbered ones).
	Classes []string `json:"classes,omitempty"`
	Lowered bool     `json:"lowered"`
	// Graph describes the file: IR version, opset, nodes per op type.
	Graph *Summary `json:"graph"`
	// CheckImages random images (raw pixels 0..255) were run through the
	// reloaded file on ONNX Runtime, in batches of CheckBatches images, and
	// through the checkpoint on the Go backend.
	CheckImages     int     `json:"check_images"`
	CheckBatches    []int   `json:"check_batches"`
	MaxAbsLogitDiff float64 `json:"max_abs_logit_diff"`
	Top1Agreement   float64 `json:"top1_agreement"`
}

// checkTolerance bounds the difference between the reloaded file's logits
// and the Go backend's, relative to the largest logit (at least 1): float32
// rounding differs by orders of magnitude less; a file beyond it computes
// another function, and ONNX fails rather than write it.
const checkTolerance = 1e-3

// ONNX exports the inference graph of checkpoint c to path (written
// atomically), reloads the file with ONNX Runtime and compares its logits
// with the Go backend's on random images. A file that disagrees with the Go
// backend beyond float32 rounding is an error (and is not written).
func ONNX(c *train.Checkpoint, path string, opts Options) (rep *Report, err error) {
	if opts.Lowered {
		if opts.Opset != 0 {
			return nil, fmt.Errorf("export: the opset is chosen for the deployment graph only; the lowered graph has the opset of gomlx's converter")
		}
		if opts.Batch <= 0 {
			opts.Batch = 1
		}
	} else {
		if opts.Batch != 0 {
			return nil, fmt.Errorf("export: a fixed batch (%d) applies to the lowered graph only; the deployment graph's batch dimension is symbolic", opts.Batch)
		}
		if opts.Opset == 0 {
			opts.Opset = DefaultOpset
		}
		if err := CheckOpset(opts.Opset); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if opts.CheckImages < 0 {
		return nil, fmt.Errorf("export: %d check images", opts.CheckImages)
	}
	if opts.CheckImages == 0 {
		opts.CheckImages = 4
	}
	if err := train.CheckMemory("exporting "+c.TrainArch.Name, c.TrainArch, max(opts.Batch, opts.CheckImages), false); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	ort, err := ONNXRuntime()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var model []byte
	if opts.Lowered {
		model, err = lowered(c, ort, opts.Batch)
	} else {
		model, err = DeployBytes(c, opts.Opset)
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	sum, err := Summarize(model)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	d := c.Dataset
	rep = &Report{Input: InputName, InputShape: []int{-1, d.Height, d.Width, d.Channels}, Output: OutputName,
		Classes: d.Classes, Lowered: opts.Lowered, Graph: sum}
	batches := []int{opts.CheckImages}
	if opts.Lowered {
		rep.InputShape[0] = opts.Batch
		batches = nil
		for n := 0; n < opts.CheckImages; n += opts.Batch {
			batches = append(batches, opts.Batch)
		}
	} else if opts.CheckImages > 1 {
		batches = []int{opts.CheckImages - 1, 1}
	}
	if err := check(c, model, ort, batches, opts.Seed, rep); err != nil {
		return nil, fmt.Errorf("export: checking the %s graph: %w", map[bool]string{false: "deployment", true: "lowered"}[opts.Lowered], err)
	}
	if err := atomicfile.WriteOwned(path, model, 0o644, "an ONNX model", isExported); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	rep.Path, rep.Bytes = path, st.Size()
	return rep, nil
}

// lowered converts the Go backend's lowered inference graph of c with gomlx's
// ONNX converter, for a fixed batch.
func lowered(c *train.Checkpoint, ort compute.Backend, batch int) ([]byte, error) {
	yes := true
	inf, err := train.NewInference(c, ort, train.InferenceOptions{RawPixels: true, Lowered: &yes})
	if err != nil {
		return nil, err
	}
	defer inf.Finalize()
	d := c.Dataset
	var buf bytes.Buffer
	err = safe(func() error {
		return onnx.Save(ort, inf.Exec(), &buf, []shapes.Shape{shapes.Make(dtypes.Float32, batch, d.Height, d.Width, d.Channels)}, []string{InputName}, []string{OutputName})
	})
	if err != nil {
		return nil, err
	}
	// Named like the deployment graph: Export recognises its own files.
	m := &protos.ModelProto{}
	if err := proto.Unmarshal(buf.Bytes(), m); err != nil {
		return nil, fmt.Errorf("reading back gomlx's ONNX model: %w", err)
	}
	m.ProducerName = Producer
	return proto.Marshal(m)
}

// isExported reports whether head starts an ONNX model this package wrote:
// a ModelProto (ir_version, field 1, first) naming Producer within its first
// 64 bytes (both graphs serialise producer_name, field 2, right after it).
func isExported(head []byte) bool {
	i := bytes.Index(head[:min(len(head), 64)], []byte(Producer))
	return len(head) > 0 && head[0] == 0x08 && i > 0
}

// ortModel is an ONNX model loaded in ONNX Runtime that maps raw-pixel image
// batches to logits.
type ortModel struct {
	exec    *onnx.Executable
	h, w, c int
	classes int
}

func loadORT(ort compute.Backend, model []byte, d train.DatasetInfo) (*ortModel, error) {
	var exec *onnx.Executable
	err := safe(func() (err error) {
		exec, err = onnx.Load(ort, bytes.NewReader(model))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loading the ONNX model in ONNX Runtime: %w", err)
	}
	return &ortModel{exec: exec, h: d.Height, w: d.Width, c: d.Channels, classes: len(d.Classes)}, nil
}

// logits runs batch images (NHWC raw pixels, flat) and returns batch×classes logits.
func (m *ortModel) logits(images []float32, batch int) (logits []float32, err error) {
	err = safe(func() error {
		out, err := m.exec.Call(tensors.FromFlatDataAndDimensions(images, batch, m.h, m.w, m.c))
		if err != nil {
			return err
		}
		defer func() {
			for _, t := range out {
				_ = t.FinalizeAll()
			}
		}()
		if len(out) != 1 {
			return fmt.Errorf("the model has %d outputs, want 1", len(out))
		}
		logits, err = tensors.CopyFlatData[float32](out[0])
		return err
	})
	if err == nil && len(logits) != batch*m.classes {
		err = fmt.Errorf("the model gives %d logits for %d images of %d classes", len(logits), batch, m.classes)
	}
	return logits, err
}

func (m *ortModel) Finalize() { m.exec.Finalize() }

// check runs model on ort and the checkpoint on the Go backend on random
// raw-pixel images in batches of the given sizes, and records the comparison.
func check(c *train.Checkpoint, model []byte, ort compute.Backend, batches []int, seed uint64, rep *Report) error {
	loaded, err := loadORT(ort, model, c.Dataset)
	if err != nil {
		return err
	}
	defer loaded.Finalize()
	goBe, err := backend.New("go")
	if err != nil {
		return err
	}
	ref, err := train.NewInference(c, goBe, train.InferenceOptions{RawPixels: true})
	if err != nil {
		return err
	}
	defer ref.Finalize()
	d := c.Dataset
	n := d.Height * d.Width * d.Channels
	rng := rand.New(rand.NewPCG(seed, 0x6578706f7274))
	var got, want []float32
	for _, b := range batches {
		img := make([]float32, b*n)
		for i := range img {
			img[i] = float32(rng.IntN(256))
		}
		w, err := ref.Logits(img, b, d.Height, d.Width, d.Channels)
		if err != nil {
			return err
		}
		g, err := loaded.logits(img, b)
		if err != nil {
			return fmt.Errorf("batch of %d: %w", b, err)
		}
		got, want = append(got, g...), append(want, w...)
	}
	rep.CheckImages, rep.CheckBatches = len(want)/len(d.Classes), batches
	rep.MaxAbsLogitDiff, rep.Top1Agreement = compare(want, got, len(d.Classes))
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	if !(rep.MaxAbsLogitDiff <= checkTolerance*scale) {
		return fmt.Errorf("the file's logits differ from the Go backend's by up to %.3g (largest logit %.3g): not the trained network", rep.MaxAbsLogitDiff, scale)
	}
	return nil
}

// compare returns the largest absolute difference between two logit sets
// and the fraction of rows with the same arg-max.
func compare(a, b []float32, classes int) (maxDiff, agree float64) {
	rows := len(a) / classes
	same := 0
	for r := range rows {
		x, y := a[r*classes:(r+1)*classes], b[r*classes:(r+1)*classes]
		for j := range x {
			d := math.Abs(float64(x[j]) - float64(y[j]))
			if d > maxDiff || math.IsNaN(d) { // NaN sticks
				maxDiff = d
			}
		}
		if argmax(x) == argmax(y) {
			same++
		}
	}
	if rows > 0 {
		agree = float64(same) / float64(rows)
	}
	return maxDiff, agree
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// safe runs fn turning a panic into an error.
func safe(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return fn()
}
