package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/export"
	"github.com/multihw/multihw/train/optim"
)

// The bench command group: speed measurements printed as ratios measured side
// by side in one run (the machines are shared, so absolute times drift; the
// ratio of interleaved measurements does not). Each subcommand registers here.
func init() {
	register(&command{name: "bench train", summary: "training step time: lowered conv blocks vs stock graph.Convolve, side by side", run: runBenchTrain})
}

func runBenchTrain(args []string) error {
	fs := newFlags("bench train", "[--model NAME[,NAME...]|all | --spec FILE] [--width W] [--resolution R] [--classes C] [--steps N] [--warmup N] [--batch B] [--optimizer sgd|rmsprop|adam] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	steps := fs.Int("steps", 5, "timed training steps per variant")
	warmup := fs.Int("warmup", 2, "untimed steps per variant first (the first one compiles the graph)")
	batch := fs.Int("batch", 64, "batch size")
	kind := fs.String("optimizer", string(train.DefaultRecipe().Optimizer), "optimizer of both variants, with the rest of the default training recipe (as multihw train runs it): sgd (Nesterov), rmsprop or adam")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *steps < 1 || *warmup < 1 || *batch < 1 || *steps > train.MaxBenchRuns || *warmup > train.MaxBenchRuns {
		return fmt.Errorf("--steps and --warmup must be in [1, %d] and --batch positive (got %d, %d, %d)", train.MaxBenchRuns, *steps, *warmup, *batch)
	}
	if err := optim.Kind(*kind).Validate(); err != nil {
		return fmt.Errorf("--optimizer: %w", err)
	}
	archs, err := benchTrainArchs(fs, &af)
	if err != nil {
		return err
	}
	be, err := backend.Default()
	if err != nil {
		return err
	}
	var results []*train.BenchTrainResult
	var incomplete []error
	for i, arch := range archs {
		progress := io.Writer(os.Stderr)
		if len(archs) > 1 {
			progress = prefixWriter{w: os.Stderr, prefix: fmt.Sprintf("(%s, %d/%d) ", arch.Name, i+1, len(archs))}
		}
		res, err := train.BenchTrainArch(be, arch, optim.Kind(*kind), *steps, *warmup, *batch, progress)
		if err != nil {
			return fmt.Errorf("%s: %w", arch.Name, err)
		}
		// A comparison that could not run both sides fails (after showing
		// what it measured): a speed-up of one variant alone is no result.
		if res.StockError != "" {
			incomplete = append(incomplete, fmt.Errorf("%s: the stock variant cannot train on %s, so there is no comparison: %s",
				arch.Name, be, train.FirstLine(res.StockError)))
		}
		results = append(results, res)
	}
	var out any = results
	text := func() string { return train.BenchTrainTable(results) }
	if len(results) == 1 {
		out, text = results[0], results[0].Summary
	}
	return errors.Join(emit(*asJSON, out, text), errors.Join(incomplete...))
}

// benchTrainArchs are the architectures of bench train: the flags' models,
// by default train.BenchArch's (MultiAVG at width 0.5), at 32 px with 10
// classes unless --width, --resolution or --classes say otherwise.
func benchTrainArchs(fs *flag.FlagSet, af *blocks.ArchFlags) ([]*blocks.Arch, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var archs []*blocks.Arch
	var err error
	if !af.Given() && !set["width"] {
		var a *blocks.Arch
		a, err = train.BenchArch()
		archs = []*blocks.Arch{a}
	} else {
		if !af.Given() {
			af.Model = "multi_avg"
		}
		archs, err = af.LoadList()
	}
	if err != nil {
		return nil, err
	}
	for _, a := range archs {
		a.Resolution, a.Classes = flagInt(fs, "resolution", 32), flagInt(fs, "classes", 10)
		if err := a.Validate(); err != nil {
			return nil, err // names the architecture
		}
	}
	return archs, nil
}

// flagInt is the value of the int flag name when it was given, else def.
func flagInt(fs *flag.FlagSet, name string, def int) int {
	v := def
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			v = f.Value.(flag.Getter).Get().(int)
		}
	})
	return v
}

// prefixWriter prefixes every write (a progress line) with prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

// bench infer: batch-1 inference on the Go backend vs ONNX Runtime.
func init() {
	register(&command{name: "bench infer", summary: "batch-1 inference time: Go backend vs ONNX Runtime (exported model), side by side", run: runBenchInfer})
}

func runBenchInfer(args []string) error {
	fs := newFlags("bench infer", "[--model NAME[,NAME...]|all | --spec FILE] [--width W] [--resolution R] [--classes C] [--runs N] [--warmup N] [--lowered] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	runs := fs.Int("runs", 20, "timed runs per backend")
	warmup := fs.Int("warmup", 3, "untimed runs per backend first")
	lowered := fs.Bool("lowered", false, "export the MatMul/window lowering to ONNX instead of standard Conv nodes")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !af.Given() {
		af.Model = "multi_avg"
	}
	archs, err := af.LoadList()
	if err != nil {
		return err
	}
	var results []*export.BenchResult
	for i, arch := range archs {
		prefix := "bench infer: "
		if len(archs) > 1 {
			prefix = fmt.Sprintf("bench infer: %s (%d/%d): ", arch.Name, i+1, len(archs))
		}
		res, err := export.BenchInfer(arch, *runs, *warmup, *lowered, 1, func(s string) { fmt.Fprintf(os.Stderr, "%s%s\n", prefix, s) })
		if err != nil {
			return fmt.Errorf("%s: %w", arch.Name, err)
		}
		results = append(results, res)
	}
	if len(results) == 1 {
		return emit(*asJSON, results[0], results[0].Summary)
	}
	return emit(*asJSON, results, func() string { return export.BenchTable(results) })
}
