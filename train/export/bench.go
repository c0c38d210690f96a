package export

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model/onnx"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/train"
)

// BenchResult compares the inference time of one architecture on the Go
// backend and in ONNX Runtime (running the exported .onnx file).
type BenchResult struct {
	Model      string `json:"model"`
	Resolution int    `json:"resolution"`
	Batch      int    `json:"batch"`
	Runs       int    `json:"runs"`
	Warmup     int    `json:"warmup"`
	// GoMS and ONNXMS are medians over Runs runs (in alternating blocks) after Warmup;
	// Ratio is GoMS/ONNXMS.
	GoMS   float64 `json:"go_ms"`
	ONNXMS float64 `json:"onnx_ms"`
	Ratio  float64 `json:"ratio"`
	// RatioCI is the 95% percentile-bootstrap interval of Ratio over this
	// run's timings (stats.MedianRatioInterval, run i of each engine paired:
	// they ran at the same place of the alternating blocks): how well the
	// run pins the ratio down.
	// It does not hold the machine's changes of speed between runs, which
	// can be larger.
	RatioCI stats.Interval `json:"ratio_ci95"`
	// ONNXLowered reports the flavour of the exported graph (false: standard
	// Conv nodes); the Go backend always runs its lowered flavour.
	ONNXLowered bool      `json:"onnx_lowered"`
	GoTimesMS   []float64 `json:"go_times_ms"`
	ONNXTimesMS []float64 `json:"onnx_times_ms"`
	// Export is the export check of the benchmarked model (go vs the file).
	Export *Report `json:"export"`
}

// benchBlock is the number of timed runs of one engine in a row, and
// benchPause the pause before each block (see BenchInfer).
const (
	benchBlock = 10
	benchPause = 300 * time.Millisecond
)

// BenchInfer times batch-1 inference of arch (at its own resolution, random
// weights from seed) on the Go backend and in ONNX Runtime on the exported
// model, in alternating blocks of runs (see below). progress, if not nil,
// gets a line per run.
func BenchInfer(arch *blocks.Arch, runs, warmup int, lowered bool, seed uint64, progress func(string)) (*BenchResult, error) {
	if runs < 1 || warmup < 0 || runs > train.MaxBenchRuns || warmup > train.MaxBenchRuns {
		return nil, fmt.Errorf("bench infer: runs must be in [1, %d] and warm-up in [0, %[1]d] (got %d, %d)", train.MaxBenchRuns, runs, warmup)
	}
	ck, err := train.InitCheckpoint(arch, seed)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "multihw-bench-infer-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.onnx")
	opts := Options{Lowered: lowered, CheckImages: 1, Seed: seed}
	if lowered {
		opts.Batch = 1
	}
	rep, err := ONNX(ck, path, opts)
	if err != nil {
		return nil, err
	}
	// The file is removed on return, and the classes are the 1000 numbered
	// ones of a random-weight model: neither belongs in the report.
	rep.Path, rep.Classes = "", nil
	ort, err := ONNXRuntime()
	if err != nil {
		return nil, err
	}
	loaded, err := onnx.LoadFromFile(ort, path)
	if err != nil {
		return nil, err
	}
	defer loaded.Finalize()
	goBe, err := backend.New("go")
	if err != nil {
		return nil, err
	}
	inf, err := train.NewInference(ck, goBe, train.InferenceOptions{RawPixels: true})
	if err != nil {
		return nil, err
	}
	defer inf.Finalize()

	r, c := arch.Resolution, arch.Channels
	img := make([]float32, r*r*c)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range img {
		img[i] = float32(rng.IntN(256))
	}
	runGo := func() error {
		_, err := inf.Logits(img, 1, r, r, c)
		return err
	}
	runONNX := func() error {
		return safe(func() error {
			out, err := loaded.Call(tensors.FromFlatDataAndDimensions(img, 1, r, r, c))
			for _, t := range out {
				_, _ = tensors.CopyFlatData[float32](t) // include the read-back, as Logits does
			}
			return err
		})
	}
	res := &BenchResult{Model: arch.Name, Resolution: r, Batch: 1, Runs: runs, Warmup: warmup, ONNXLowered: lowered, Export: rep}
	engines := []benchEngine{{"go", runGo, &res.GoTimesMS}, {"onnx", runONNX, &res.ONNXTimesMS}}
	if err := timeBlocks(engines, runs, warmup, progress); err != nil {
		return nil, err
	}
	res.GoMS, res.ONNXMS = stats.Median(res.GoTimesMS), stats.Median(res.ONNXTimesMS)
	res.Ratio = res.GoMS / res.ONNXMS
	res.RatioCI = stats.MedianRatioInterval(res.GoTimesMS, res.ONNXTimesMS)
	return res, nil
}

// benchEngine is one side of BenchInfer: its run and the timings it collects.
type benchEngine struct {
	name  string
	fn    func() error
	times *[]float64
}

// timeBlocks times runs of each engine after warmup untimed ones.
func timeBlocks(engines []benchEngine, runs, warmup int, progress func(string)) error {
	// The engines run in alternating blocks of benchBlock timed runs (the
	// warm-up runs before each engine's first), each block after a pause, so
	// that load from other processes hits both alike while neither runs
	// beside the other: ONNX Runtime's worker thread, pinned to one core,
	// spins after its runs, and interleaved run by run it held that core at
	// 100% through the Go backend's runs (Go median 19-25 ms interleaved,
	// 13-14 ms without ONNX Runtime runs, the same binary).
	for done := 0; done < runs; done += benchBlock {
		n := min(benchBlock, runs-done)
		for _, v := range engines {
			time.Sleep(benchPause)
			warm := 0
			if done == 0 {
				warm = warmup
			}
			for i := range warm + n {
				start := time.Now()
				if err := v.fn(); err != nil {
					return fmt.Errorf("bench infer: %s: %w", v.name, err)
				}
				ms := float64(time.Since(start).Microseconds()) / 1000
				line := fmt.Sprintf("%s warm-up run %d/%d: %.1f ms", v.name, i+1, warm, ms)
				if i >= warm {
					*v.times = append(*v.times, ms)
					line = fmt.Sprintf("%s run %d/%d (timed): %.1f ms", v.name, len(*v.times), runs, ms)
				}
				if progress != nil {
					progress(line)
				}
			}
		}
	}
	return nil
}
