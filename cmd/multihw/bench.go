package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/stats"
	multihwtrain "github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/export"
)

// The bench command group: speed measurements printed as ratios measured side
// by side in one run (the machines are shared, so absolute times drift; the
// ratio of interleaved measurements does not). Each subcommand registers here.
func init() {
	register(&command{name: "bench train", summary: "training step time: lowered conv blocks vs stock graph.Convolve, side by side", run: runBenchTrain})
}

// benchTrainResult is the JSON output of `bench train`. When the stock
// variant cannot train on the backend (ONNX Runtime cannot run the gradient of
// strided convolutions), its times and the speedup are null, StockError says
// why, and the command fails after printing the result.
type benchTrainResult struct {
	Backend      string    `json:"backend"`
	Model        string    `json:"model"`
	Batch        int       `json:"batch"`
	Resolution   int       `json:"resolution"`
	Steps        int       `json:"steps"`
	Warmup       int       `json:"warmup"`
	FastStepMS   float64   `json:"fast_step_ms"`
	StockStepMS  *float64  `json:"stock_step_ms"`
	Speedup      *float64  `json:"speedup"`
	FastStepsMS  []float64 `json:"fast_steps_ms"`
	StockStepsMS []float64 `json:"stock_steps_ms"`
	StockError   string    `json:"stock_error,omitempty"`
	// StepGFLOP is the counted work of one step: 2 FLOPs per multiply-add of
	// blocks.Analyze (convolutions, fully connected layers) × batch × 3
	// (forward, input gradient, weight gradient); element-wise work,
	// BatchNorm and the optimizer are not counted.
	StepGFLOP float64 `json:"step_gflop"`
	// AchievedGFLOPS is StepGFLOP / the lowered step's median time.
	AchievedGFLOPS float64 `json:"achieved_gflops"`
	// MatMulGFLOPS is the throughput of a 1024×1024×1024 MatMul on the same
	// backend, timed between the steps (median of MatMulMS): what the
	// backend's MatMul reaches when nothing else limits it.
	MatMulGFLOPS float64   `json:"matmul_gflops"`
	MatMulMS     []float64 `json:"matmul_ms"`
	// MatMulFraction is AchievedGFLOPS / MatMulGFLOPS.
	MatMulFraction float64 `json:"matmul_fraction"`
}

func runBenchTrain(args []string) error {
	fs := newFlags("bench train", "[--steps N] [--warmup N] [--batch B] [--json]")
	steps := fs.Int("steps", 5, "timed training steps per variant")
	warmup := fs.Int("warmup", 2, "untimed steps per variant first (the first one compiles the graph)")
	batch := fs.Int("batch", 64, "batch size")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *steps < 1 || *warmup < 1 || *batch < 1 {
		return fmt.Errorf("--steps, --warmup and --batch must be positive (got %d, %d, %d)", *steps, *warmup, *batch)
	}
	be, err := backend.Default()
	if err != nil {
		return err
	}
	// MultiAVG at width 0.5, 10 classes, on 32×32×3 random images with the
	// published strides (the last blocks run on a 1×1 map: fine for timing).
	arch, err := blocks.Model("multi_avg")
	if err != nil {
		return err
	}
	arch = arch.WithWidth(0.5)
	arch.Resolution, arch.Channels, arch.Classes = 32, 3, 10
	if err := arch.Validate(); err != nil {
		return err
	}
	if err := multihwtrain.CheckMemory("bench train on "+arch.Name, arch, *batch, true); err != nil {
		return err
	}
	images, labels := benchBatch(*batch, arch)

	variants := []struct {
		name    string
		lowered bool
		times   []float64
		trainer *train.Trainer
		err     error
	}{{name: "fast", lowered: true}, {name: "stock", lowered: false}}
	for i := range variants {
		variants[i].trainer = benchTrainer(be, arch, variants[i].lowered)
	}
	step := func(tr *train.Trainer) (time.Duration, error) {
		// TrainStep takes ownership of its inputs: give it copies.
		in, err := images.LocalClone()
		if err != nil {
			return 0, err
		}
		lab, err := labels.LocalClone()
		if err != nil {
			return 0, err
		}
		start := time.Now()
		_, err = tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lab}})
		return time.Since(start), err
	}
	an, err := blocks.Analyze(arch, 0)
	if err != nil {
		return err
	}
	mm, err := newBenchMatMul(be, 1024)
	if err != nil {
		return err
	}
	defer mm.finalize()
	var mmTimes []float64
	// Interleave the variants (and the reference MatMul) step by step so that
	// load from other processes hits them alike.
	for s := range *warmup + *steps {
		d, err := mm.run()
		if err != nil {
			return fmt.Errorf("reference MatMul: %w", err)
		}
		if s >= *warmup {
			mmTimes = append(mmTimes, float64(d.Microseconds())/1000)
		}
		for i := range variants {
			v := &variants[i]
			if v.err != nil {
				continue
			}
			d, err := step(v.trainer)
			if err != nil {
				if v.lowered {
					return fmt.Errorf("%s variant, step %d: %w", v.name, s+1, err)
				}
				v.err = err
				fmt.Fprintf(os.Stderr, "bench train: the stock variant cannot train on %s: %v\n", be, err)
				continue
			}
			phase := "warm-up"
			if s >= *warmup {
				phase = "timed"
				v.times = append(v.times, float64(d.Microseconds())/1000)
			}
			fmt.Fprintf(os.Stderr, "bench train: %s step %d/%d (%s): %.0f ms\n", v.name, s+1, *warmup+*steps, phase, float64(d.Microseconds())/1000)
		}
	}
	fast, stock := variants[0], variants[1]
	res := benchTrainResult{Backend: be.String(), Model: arch.Name, Batch: *batch, Resolution: arch.Resolution,
		Steps: *steps, Warmup: *warmup, FastStepMS: stats.Median(fast.times), FastStepsMS: fast.times,
		StepGFLOP: 2 * 3 * float64(an.MACs) * float64(*batch) / 1e9, MatMulMS: mmTimes}
	res.AchievedGFLOPS = res.StepGFLOP / (res.FastStepMS / 1000)
	res.MatMulGFLOPS = mm.flop() / 1e9 / (stats.Median(mmTimes) / 1000)
	res.MatMulFraction = res.AchievedGFLOPS / res.MatMulGFLOPS
	if stock.err != nil {
		res.StockError = stock.err.Error()
	} else {
		ms := stats.Median(stock.times)
		speedup := ms / res.FastStepMS
		res.StockStepMS, res.Speedup, res.StockStepsMS = &ms, &speedup, stock.times
	}
	// A comparison that could not run both sides fails (after showing what
	// it measured): a speed-up of one variant alone is no result.
	var incomplete error
	if stock.err != nil {
		incomplete = fmt.Errorf("the stock variant cannot train on %s, so there is no comparison: %s", be, benchFirstLine(res.StockError))
	}
	if *asJSON {
		return errors.Join(printJSON(res), incomplete)
	}
	printf("%s training step on %s, batch %d, %dx%d, median of %d steps after %d warm-up:\n",
		res.Model, res.Backend, res.Batch, res.Resolution, res.Resolution, res.Steps, res.Warmup)
	printf("  lowered blocks (fast):   %8.1f ms  (%.2f GFLOP counted: %.2f GFLOP/s)\n", res.FastStepMS, res.StepGFLOP, res.AchievedGFLOPS)
	printf("  1024³ MatMul, same run:  %8.1f ms  (%.2f GFLOP/s; the step reaches %.1f%% of it)\n",
		stats.Median(mmTimes), res.MatMulGFLOPS, 100*res.MatMulFraction)
	if res.StockStepMS == nil {
		printf("  graph.Convolve (stock):  cannot train on this backend (%s)\n", benchFirstLine(res.StockError))
		return incomplete
	}
	printf("  graph.Convolve (stock):  %8.1f ms\n", *res.StockStepMS)
	printf("  speedup:                 %8.2fx\n", *res.Speedup)
	return nil
}

// benchMatMul is a compiled n×n×n float32 MatMul with its inputs, the
// reference throughput of `bench train`.
type benchMatMul struct {
	n    int
	exec *Exec
	a, b *tensors.Tensor
}

func newBenchMatMul(be compute.Backend, n int) (*benchMatMul, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := func() *tensors.Tensor {
		v := make([]float32, n*n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, n, n)
	}
	exec, err := NewExec(be, func(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{0}, nil) })
	if err != nil {
		return nil, err
	}
	return &benchMatMul{n: n, exec: exec, a: vals(), b: vals()}, nil
}

// run times one product (the first run also compiles).
func (m *benchMatMul) run() (time.Duration, error) {
	start := time.Now()
	out, err := m.exec.Exec(m.a, m.b)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	for _, t := range out {
		_ = t.FinalizeAll()
	}
	return d, nil
}

func (m *benchMatMul) flop() float64 { return 2 * float64(m.n) * float64(m.n) * float64(m.n) }

func (m *benchMatMul) finalize() {
	m.exec.Finalize()
	_ = m.a.FinalizeAll()
	_ = m.b.FinalizeAll()
}

// benchTrainer returns a trainer of arch with the lowered or the stock ops:
// same seed, same optimizer (Adam), same graph otherwise.
func benchTrainer(be compute.Backend, arch *blocks.Arch, lowered bool) *train.Trainer {
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	b := convnet.New(arch).Lowered(lowered)
	modelFn := func(scope *model.Scope, images *Node) *Node { return b.Logits(scope.In("model"), images) }
	return train.NewTrainer(be, store, modelFn, loss.SparseCategoricalCrossEntropyLogits, optimizer.Adam().Done(), nil, nil)
}

// benchBatch returns seeded random images [batch,R,R,C] and labels [batch,1].
func benchBatch(batch int, arch *blocks.Arch) (*tensors.Tensor, *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(1, 2))
	r, c := arch.Resolution, arch.Channels
	img := make([]float32, batch*r*r*c)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	lab := make([]int32, batch)
	for i := range lab {
		lab[i] = int32(rng.IntN(arch.Classes))
	}
	return tensors.FromFlatDataAndDimensions(img, batch, r, r, c), tensors.FromFlatDataAndDimensions(lab, batch, 1)
}

// benchFirstLine returns the first line of s, at most 160 bytes.
func benchFirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// bench infer: batch-1 inference on the Go backend vs ONNX Runtime.
func init() {
	register(&command{name: "bench infer", summary: "batch-1 inference time: Go backend vs ONNX Runtime (exported model), side by side", run: runBenchInfer})
}

func runBenchInfer(args []string) error {
	fs := newFlags("bench infer", "[--model NAME] [--runs N] [--warmup N] [--lowered] [--json]")
	name := fs.String("model", "multi_avg", "reference model (at its own resolution, 224 for multi_avg; random weights)")
	runs := fs.Int("runs", 20, "timed runs per backend")
	warmup := fs.Int("warmup", 3, "untimed runs per backend first")
	lowered := fs.Bool("lowered", false, "export the MatMul/window lowering to ONNX instead of standard Conv nodes")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	arch, err := blocks.Model(*name)
	if err != nil {
		return err
	}
	res, err := export.BenchInfer(arch, *runs, *warmup, *lowered, 1, func(s string) { fmt.Fprintf(os.Stderr, "bench infer: %s\n", s) })
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s batch 1, %dx%d, median of %d interleaved runs after %d warm-up:\n", res.Model, res.Resolution, res.Resolution, res.Runs, res.Warmup)
	printf("  Go backend (lowered ops):      %8.1f ms\n", res.GoMS)
	printf("  ONNX Runtime (exported model): %8.1f ms\n", res.ONNXMS)
	printf("  ratio go/onnx:                 %8.2fx\n", res.Ratio)
	printf("  export check: max |logit difference| %.3g\n", res.Export.MaxAbsLogitDiff)
	return nil
}
