package train

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/cputime"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/report"
	"github.com/multihw/multihw/train/optim"
)

// BenchTrainResult compares the training step of the lowered convolutions
// with gomlx's graph.Convolve (`multihw bench train`). When the stock
// variant cannot train on the backend (ONNX Runtime cannot run the gradient
// of strided convolutions), its times and the speedup are null and
// StockError says why.
type BenchTrainResult struct {
	Backend string `json:"backend"`
	Model   string `json:"model"`
	// Optimizer describes the update both variants run: the recipe's
	// (BenchRecipe), as `multihw train` runs it.
	Optimizer   string   `json:"optimizer"`
	Batch       int      `json:"batch"`
	Resolution  int      `json:"resolution"`
	Steps       int      `json:"steps"`
	Warmup      int      `json:"warmup"`
	FastStepMS  float64  `json:"fast_step_ms"`
	StockStepMS *float64 `json:"stock_step_ms"`
	Speedup     *float64 `json:"speedup"`
	// SpeedupCI is the 95% bootstrap interval of Speedup over this run's
	// steps (stats.MedianRatioInterval; step i of each variant paired, as
	// they ran one after the other); nil without the stock variant.
	SpeedupCI    *stats.Interval `json:"speedup_ci95,omitempty"`
	FastStepsMS  []float64       `json:"fast_steps_ms"`
	StockStepsMS []float64       `json:"stock_steps_ms"`
	StockError   string          `json:"stock_error,omitempty"`
	// FastStepCPUMS and StockStepCPUMS are the medians of the process's CPU
	// time (user+system, all threads) per step, CPUSpeedup their ratio: on a
	// machine shared with other jobs they vary less than wall times.
	FastStepCPUMS  float64  `json:"fast_step_cpu_ms"`
	StockStepCPUMS *float64 `json:"stock_step_cpu_ms"`
	CPUSpeedup     *float64 `json:"cpu_speedup"`
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

// BenchArch is the network of BenchTrain: MultiAVG at width 0.5 with 10
// classes on 32×32×3 images and the published strides (the last blocks run
// on a 1×1 map: fine for timing).
func BenchArch() (*blocks.Arch, error) {
	arch, err := blocks.Model("multi_avg")
	if err != nil {
		return nil, err
	}
	arch = arch.WithWidth(0.5)
	arch.Resolution, arch.Channels, arch.Classes = 32, 3, 10
	return arch, arch.Validate()
}

// benchVariant is one flavour of the convolutions being timed.
type benchVariant struct {
	name    string
	lowered bool
	times   []float64
	cpu     []float64
	trainer *gtrain.Trainer
	updater *updater
	lr      float64
	err     error
}

// BenchRecipe is the recipe of BenchTrain for batches of batch images:
// DefaultRecipe, what `multihw train` runs by default, with optimizer kind
// and its peak learning rate scaled linearly to the batch.
func BenchRecipe(kind optim.Kind, batch int) (Recipe, error) {
	r := DefaultRecipe()
	r.Optimizer, r.Nesterov = kind, r.Nesterov && kind == optim.SGD
	r.LearningRate *= float64(batch) / float64(r.BatchSize)
	r.BatchSize = batch
	r = r.withDefaults()
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("bench train: %w", err)
	}
	return r, nil
}

// describe names the recipe's update and loss for a summary line.
func (r Recipe) describe() string {
	s := string(r.Optimizer)
	switch r.Optimizer {
	case optim.SGD:
		if r.Nesterov {
			s += ", Nesterov"
		}
		s += fmt.Sprintf(" momentum %g", r.Momentum)
	case optim.RMSProp:
		s += fmt.Sprintf(" (rho %g, momentum %g, epsilon %g)", r.Decay, r.Momentum, r.Epsilon)
	case optim.Adam:
		s += fmt.Sprintf(" (beta1 %g, beta2 %g, epsilon %g)", r.Momentum, r.Decay, r.Epsilon)
	}
	return s + fmt.Sprintf(", weight decay %g, label smoothing %g, lr %g", r.WeightDecay, r.LabelSmoothing, r.LearningRate)
}

// BenchTrain times steps training steps (after warmup) of BenchArch with
// batches of batch random images on be, with the lowered ops and with the
// stock graph.Convolve, interleaved step by step with a reference 1024³
// MatMul so that load from other processes hits them alike. Both variants
// train with the train package's own trainer and updater, as `multihw train`
// does, with BenchRecipe(kind, batch). A failure of the lowered variant is an
// error; one of the stock variant is in the result. Progress lines go to
// progress (nil: none).
func BenchTrain(be compute.Backend, kind optim.Kind, steps, warmup, batch int, progress io.Writer) (*BenchTrainResult, error) {
	arch, err := BenchArch()
	if err != nil {
		return nil, err
	}
	return BenchTrainArch(be, arch, kind, steps, warmup, batch, progress)
}

// MaxBenchRuns bounds the timed and the warm-up runs of a benchmark
// (BenchTrain's steps, export.BenchInfer's runs): a million is days of
// training steps, and their sum must not overflow.
const MaxBenchRuns = 1_000_000

// BenchTrainArch is BenchTrain on any architecture (at its resolution,
// channels and classes): `multihw bench train --model|--spec`.
func BenchTrainArch(be compute.Backend, arch *blocks.Arch, kind optim.Kind, steps, warmup, batch int, progress io.Writer) (*BenchTrainResult, error) {
	if steps < 1 || warmup < 1 || batch < 1 || steps > MaxBenchRuns || warmup > MaxBenchRuns {
		return nil, fmt.Errorf("bench train: steps and warm-up must be in [1, %d] and batch positive (got %d, %d, %d)", MaxBenchRuns, steps, warmup, batch)
	}
	if be == nil {
		return nil, fmt.Errorf("bench train: backend is nil")
	}
	recipe, err := BenchRecipe(kind, batch)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	if arch == nil {
		return nil, fmt.Errorf("bench train: architecture is nil")
	}
	if err := arch.Validate(); err != nil {
		return nil, fmt.Errorf("bench train: %w", err)
	}
	if err := CheckMemory("bench train on "+arch.Name, arch, batch, true); err != nil {
		return nil, err
	}
	an, err := blocks.Analyze(arch, 0)
	if err != nil {
		return nil, err
	}
	images, labels := benchBatch(batch, arch)
	variants := []*benchVariant{{name: "fast", lowered: true}, {name: "stock", lowered: false}}
	for _, v := range variants {
		v.lr = recipe.LearningRate
		if v.trainer, v.updater, err = benchTrainer(be, arch, v.lowered, recipe); err != nil {
			return nil, err
		}
	}
	mm, err := newBenchMatMul(be, 1024)
	if err != nil {
		return nil, err
	}
	defer mm.finalize()
	var mmTimes []float64
	for s := range warmup + steps {
		d, err := mm.run()
		if err != nil {
			return nil, fmt.Errorf("reference MatMul: %w", err)
		}
		if s >= warmup {
			mmTimes = append(mmTimes, float64(d.Microseconds())/1000)
		}
		for _, v := range variants {
			if err := v.step(images, labels, s, warmup, steps, be, progress); err != nil {
				return nil, err
			}
		}
	}
	fast, stock := variants[0], variants[1]
	res := &BenchTrainResult{Backend: be.String(), Model: arch.Name, Optimizer: recipe.describe(), Batch: batch, Resolution: arch.Resolution,
		Steps: steps, Warmup: warmup, FastStepMS: stats.Median(fast.times), FastStepsMS: fast.times, FastStepCPUMS: stats.Median(fast.cpu),
		StepGFLOP: 2 * 3 * float64(an.MACs) * float64(batch) / 1e9, MatMulMS: mmTimes}
	res.AchievedGFLOPS = res.StepGFLOP / (res.FastStepMS / 1000)
	res.MatMulGFLOPS = mm.flop() / 1e9 / (stats.Median(mmTimes) / 1000)
	res.MatMulFraction = res.AchievedGFLOPS / res.MatMulGFLOPS
	if stock.err != nil {
		res.StockError = stock.err.Error()
	} else {
		ms, cpu := stats.Median(stock.times), stats.Median(stock.cpu)
		speedup, cpuSpeedup := ms/res.FastStepMS, cpu/res.FastStepCPUMS
		ci := stats.MedianRatioInterval(stock.times, fast.times)
		res.StockStepMS, res.Speedup, res.StockStepsMS, res.SpeedupCI = &ms, &speedup, stock.times, &ci
		res.StockStepCPUMS, res.CPUSpeedup = &cpu, &cpuSpeedup
	}
	return res, nil
}

// step runs step s of the variant (its copy of the batch: TrainStep takes
// ownership of its inputs) and records its time once the warm-up is over.
// The stock variant's failure is recorded, the lowered one's returned.
func (v *benchVariant) step(images, labels *tensors.Tensor, s, warmup, steps int, be compute.Backend, progress io.Writer) error {
	if v.err != nil {
		return nil
	}
	in, err := images.LocalClone()
	if err != nil {
		return err
	}
	lab, err := labels.LocalClone()
	if err != nil {
		return err
	}
	start, cpu0 := time.Now(), cputime.Process()
	_, err = v.trainer.TrainStep(gtrain.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lab}})
	if err == nil {
		err = v.updater.apply(v.trainer.Store(), v.lr)
	}
	d, cpu := time.Since(start), cputime.Process()-cpu0
	if err != nil {
		if v.lowered {
			return fmt.Errorf("%s variant, step %d: %w", v.name, s+1, err)
		}
		v.err = err
		fmt.Fprintf(progress, "bench train: the stock variant cannot train on %s: %v\n", be, err)
		return nil
	}
	phase := "warm-up"
	if s >= warmup {
		phase = "timed"
		v.times = append(v.times, float64(d.Microseconds())/1000)
		v.cpu = append(v.cpu, float64(cpu.Microseconds())/1000)
	}
	fmt.Fprintf(progress, "bench train: %s step %d/%d (%s): %.0f ms\n", v.name, s+1, warmup+steps, phase, float64(d.Microseconds())/1000)
	return nil
}

// Summary describes the comparison: the lowered step with its counted
// throughput, the reference MatMul, and the stock step with the speedup (or
// why the stock variant could not train).
func (res *BenchTrainResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s training step on %s, batch %d, %dx%d, median of %d steps after %d warm-up:\n",
		res.Model, res.Backend, res.Batch, res.Resolution, res.Resolution, res.Steps, res.Warmup)
	fmt.Fprintf(&b, "  both variants: %s\n", res.Optimizer)
	fmt.Fprintf(&b, "  lowered blocks (fast):   %8.1f ms  (%.2f GFLOP counted: %.2f GFLOP/s)\n", res.FastStepMS, res.StepGFLOP, res.AchievedGFLOPS)
	fmt.Fprintf(&b, "  1024³ MatMul, same run:  %8.1f ms  (%.2f GFLOP/s; the step reaches %.1f%% of it)\n",
		stats.Median(res.MatMulMS), res.MatMulGFLOPS, 100*res.MatMulFraction)
	if res.StockStepMS == nil {
		fmt.Fprintf(&b, "  graph.Convolve (stock):  cannot train on this backend (%s)\n", FirstLine(res.StockError))
		return b.String()
	}
	fmt.Fprintf(&b, "  graph.Convolve (stock):  %8.1f ms\n", *res.StockStepMS)
	fmt.Fprintf(&b, "  speedup:                 %8.2fx  (95%% interval over this run's steps %s-%s)\n", *res.Speedup, res.SpeedupCI.Lo, res.SpeedupCI.Hi)
	fmt.Fprintf(&b, "  CPU time per step:       %8.1f ms lowered, %.1f ms stock: %.2fx\n", res.FastStepCPUMS, *res.StockStepCPUMS, *res.CPUSpeedup)
	return b.String()
}

// BenchTrainTable is the comparison of several architectures, one row each,
// with how many are below a speedup of 20.
func BenchTrainTable(results []*BenchTrainResult) string {
	tb := report.NewTable("model", "input", "batch", "lowered ms", "stock ms", "speedup", "95% interval", "GFLOP/s", "of MatMul").RightFrom(1)
	under := 0
	for _, r := range results {
		stock, speedup, ci := "-", "-", "-"
		if r.Speedup != nil {
			stock, speedup = fmt.Sprintf("%.1f", *r.StockStepMS), fmt.Sprintf("%.2f", *r.Speedup)
			ci = fmt.Sprintf("%.2f-%.2f", r.SpeedupCI.Lo, r.SpeedupCI.Hi)
			if *r.Speedup < 20 {
				under++
			}
		}
		tb.Row(r.Model, fmt.Sprint(r.Resolution), fmt.Sprint(r.Batch), fmt.Sprintf("%.1f", r.FastStepMS), stock, speedup, ci,
			fmt.Sprintf("%.1f", r.AchievedGFLOPS), fmt.Sprintf("%.1f%%", 100*r.MatMulFraction))
	}
	var b strings.Builder
	if len(results) > 0 {
		r := results[0]
		fmt.Fprintf(&b, "training step on %s, median of %d steps per variant after %d warm-up; both variants: %s\n", r.Backend, r.Steps, r.Warmup, r.Optimizer)
	}
	b.WriteString(tb.Text())
	fmt.Fprintf(&b, "%d of %d models below a speedup of 20\n", under, len(results))
	return b.String()
}

// FirstLine returns the first line of s, at most 160 bytes.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// benchMatMul is a compiled n×n×n float32 MatMul with its inputs, the
// reference throughput of BenchTrain.
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
// same seed, same recipe (the train package's trainer and updater), same
// graph otherwise.
func benchTrainer(be compute.Backend, arch *blocks.Arch, lowered bool, r Recipe) (*gtrain.Trainer, *updater, error) {
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	lr, err := ensureLRVar(store)
	if err != nil {
		return nil, nil, err
	}
	if err := lr.SetValue(scalarF32(r.LearningRate)); err != nil {
		return nil, nil, err
	}
	b := convnet.New(arch).BatchNormMomentum(r.BNMomentum).Lowered(lowered)
	if err := b.Err(); err != nil {
		return nil, nil, err
	}
	tr, u, _ := newTrainer(be, store, b, r)
	return tr, u, nil
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
