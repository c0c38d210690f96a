// Package export writes trained models to ONNX and checks that a model gives
// the same answers on every backend: the pure-Go backend, ONNX Runtime and
// XLA (where installed).
//
// The exported graph is self-contained: input "images" float32 [B, H, W, C]
// with raw pixel values 0..255 (NHWC, like the datasets), normalised inside
// the graph with the training statistics; output "logits" float32
// [B, classes]. BatchNorm is folded into a per-channel scale and shift.
// Convolutions are exported as standard ONNX Conv nodes by default (the
// native flavour of blocks/convnet), or as the MatMul/Slice lowering the Go
// backend trains with.
//
// ONNX needs the build tag onnx (the Makefile sets it) and ONNX Runtime
// (`make setup` installs libonnxruntime.so.1 into .deps/onnxruntime).
package export

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model/onnx"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/backend"
)

// Names of the exported graph's input and output.
const (
	InputName  = "images"
	OutputName = "logits"
)

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
	// Batch is the fixed batch size of the exported graph (default 1).
	Batch int
	// Lowered exports the MatMul/shifted-window lowering instead of standard
	// Conv nodes.
	Lowered bool
	// CheckImages is the number of images used to compare the reloaded file
	// with the Go backend (default 2·Batch; 0 after defaults means Batch).
	CheckImages int
	// Seed of the random check images.
	Seed uint64
}

// Report describes an exported file and the check that it loads back and
// matches the Go backend.
type Report struct {
	Path       string   `json:"path"`
	Bytes      int64    `json:"bytes"`
	Input      string   `json:"input"`
	InputShape []int    `json:"input_shape"`
	Output     string   `json:"output"`
	Classes    []string `json:"classes"`
	Lowered    bool     `json:"lowered"`
	// CheckImages random images (raw pixels 0..255) were run through the
	// reloaded file on ONNX Runtime and through the checkpoint on the Go
	// backend.
	CheckImages     int     `json:"check_images"`
	MaxAbsLogitDiff float64 `json:"max_abs_logit_diff"`
	Top1Agreement   float64 `json:"top1_agreement"`
}

// ONNX exports the inference graph of checkpoint c to path (written
// atomically), reloads the file with ONNX Runtime and compares its logits
// with the Go backend's on random images.
func ONNX(c *train.Checkpoint, path string, opts Options) (rep *Report, err error) {
	if opts.Batch <= 0 {
		opts.Batch = 1
	}
	if opts.CheckImages <= 0 {
		opts.CheckImages = 2 * opts.Batch
	}
	ort, err := ONNXRuntime()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	lowered := opts.Lowered
	inf, err := train.NewInference(c, ort, train.InferenceOptions{RawPixels: true, Lowered: &lowered})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer inf.Finalize()
	d := c.Dataset
	inShape := []int{opts.Batch, d.Height, d.Width, d.Channels}
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		return safe(func() error {
			return onnx.Save(ort, inf.Exec(), f, []shapes.Shape{shapes.Make(dtypes.Float32, inShape...)}, []string{InputName}, []string{OutputName})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	rep = &Report{Path: path, Bytes: st.Size(), Input: InputName, InputShape: inShape, Output: OutputName,
		Classes: d.Classes, Lowered: lowered}
	if err := check(c, path, ort, opts, rep); err != nil {
		return nil, fmt.Errorf("export: checking %s: %w", filepath.Base(path), err)
	}
	return rep, nil
}

// check reloads path on ort and compares with the Go backend.
func check(c *train.Checkpoint, path string, ort compute.Backend, opts Options, rep *Report) error {
	loaded, err := onnx.LoadFromFile(ort, path)
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
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6578706f7274))
	var got, want []float32
	for done := 0; done < opts.CheckImages; done += opts.Batch {
		img := make([]float32, opts.Batch*n)
		for i := range img {
			img[i] = float32(rng.IntN(256))
		}
		w, err := ref.Logits(img, opts.Batch, d.Height, d.Width, d.Channels)
		if err != nil {
			return err
		}
		var out []*tensors.Tensor
		err = safe(func() (err error) {
			out, err = loaded.Call(tensors.FromFlatDataAndDimensions(img, opts.Batch, d.Height, d.Width, d.Channels))
			return err
		})
		if err != nil {
			return err
		}
		if len(out) != 1 {
			return fmt.Errorf("the model has %d outputs, want 1", len(out))
		}
		g, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return err
		}
		if len(g) != len(w) {
			return fmt.Errorf("the model gives %d logits per batch, want %d", len(g), len(w))
		}
		got, want = append(got, g...), append(want, w...)
	}
	rep.CheckImages = len(want) / len(d.Classes)
	rep.MaxAbsLogitDiff, rep.Top1Agreement = compare(want, got, len(d.Classes))
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
