// Package demo is the main job of the paper in minutes: the reference
// models, a quick multi-hardware search (TuNAS on a weight-sharing supernet),
// the found architecture's cost on every target, a short retraining, ONNX
// export and a consistency check. It is what `multihw demo` (and `make demo`)
// runs; the full-size steps are `multihw search`, `train` and `consistency`.
package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/export"
)

// Config is what a demo runs.
type Config struct {
	Out        string // a new or empty directory, or an earlier demo's
	Objective  string // tunas.ObjectiveAvg or tunas.ObjectiveMax
	TrainSteps int    // training steps of the found architecture
	Seed       uint64 // of the search and the training
}

// search checks c and returns its search configuration.
func (c Config) search() (tunas.Config, error) {
	if c.TrainSteps < 1 {
		return tunas.Config{}, fmt.Errorf("--train-steps must be positive, got %d", c.TrainSteps)
	}
	if c.Objective != tunas.ObjectiveAvg && c.Objective != tunas.ObjectiveMax {
		return tunas.Config{}, fmt.Errorf("--objective must be %s or %s, got %q", tunas.ObjectiveAvg, tunas.ObjectiveMax, c.Objective)
	}
	cfg := tunas.DefaultConfig().Quick()
	cfg.Objective, cfg.Seed = c.Objective, c.Seed
	return cfg, cfg.Validate()
}

// Run runs the demo, writing its steps and results to w and notes about the
// output directory to notes. Everything is checked before the output
// directory is touched; the demo's own runs in it (search/, train/) are
// replaced, each removing only its own files.
func Run(ctx context.Context, c Config, w, notes io.Writer) error {
	cfg, err := c.search()
	if err != nil {
		return err
	}
	if _, err := export.ONNXRuntime(); err != nil {
		return fmt.Errorf("the demo exports to ONNX and compares the Go backend with ONNX Runtime, which cannot be loaded (make demo installs it; or run make setup): %w", err)
	}
	ds, err := data.NewLoader(cfg.Dataset).Validation(data.DefaultValidation).Seed(c.Seed).Load()
	if err != nil {
		return fmt.Errorf("the demo's dataset: %w (make demo installs Fashion-MNIST; or run make setup)", err)
	}
	dir, err := rundir.Open(c.Out, Kind)
	if err != nil {
		return err
	}
	defer dir.Close()
	for _, n := range dir.Notes {
		fmt.Fprintf(notes, "note: %s\n", n)
	}
	start := time.Now()
	step := func(n int, what string) {
		fmt.Fprintf(w, "\n== %d/5 %s (%s)\n\n", n, what, time.Since(start).Round(time.Second))
	}
	step(1, "the reference models")
	rows, err := blocks.ModelRows()
	if err != nil {
		return err
	}
	fmt.Fprint(w, blocks.ModelTable(rows).Text())

	step(2, "a quick multi-hardware search (TuNAS on a weight-sharing supernet, Fashion-MNIST)")
	searchDir := filepath.Join(c.Out, "search")
	res, err := tunas.New(cfg).Dataset(ds).Out(searchDir).Overwrite(true).Progress(w).CheckpointEvery(cfg.Steps, 0).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s", res.Summary(searchDir))

	step(3, "the found architecture on every target, next to the references")
	found := res.Final.Arch
	if err := latencyTable(w, found); err != nil {
		return err
	}

	step(4, fmt.Sprintf("retraining the found architecture alone (%d steps: a smoke run, not a result)", c.TrainSteps))
	trainDir := filepath.Join(c.Out, "train")
	tr, err := train.New(found, ds).Recipe(train.QuickRecipe(c.TrainSteps)).Seed(c.Seed).Out(trainDir).Overwrite(true).EvalEvery(c.TrainSteps).Progress(w).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "test accuracy %s after %d steps (%.0f ms per step)\n", tr.Test.AccuracyText(), tr.Steps, tr.StepMS)

	step(5, "export to ONNX and check the outputs on each backend")
	if err := exportCheck(w, trainDir, ds); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ndemo done in %s; runs in %s.\nFull size: multihw search --objective %s --out DIR (4000 steps: about 13 min on 2 cores, PERFORMANCE.md), multihw train --spec DIR/arch.txt --dataset fashion-mnist, multihw consistency --checkpoint RUN.\n",
		time.Since(start).Round(time.Second), c.Out, c.Objective)
	return nil
}

// latencyTable writes the model x target table of the references and a.
func latencyTable(w io.Writer, a *blocks.Arch) error {
	m, err := hwcost.NewMetric().Targets(hwcost.PaperTargets()...).Done()
	if err != nil {
		return err
	}
	archs, err := blocks.Models("mobilenet_v2", "multi_avg", "multi_max")
	if err != nil {
		return err
	}
	tbl, err := m.Table(append(archs, a)...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "latency normalised to %s:\n%s", m.Reference(), tbl.Text())
	return nil
}

// exportCheck exports the newest checkpoint of the training run in dir to
// ONNX and compares it on the Go backend and ONNX Runtime.
func exportCheck(w io.Writer, dir string, ds *data.Dataset) error {
	ck, err := train.LoadCheckpoint(dir)
	if err != nil {
		return err
	}
	rep, err := export.ONNX(ck, filepath.Join(dir, "model.onnx"), export.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%.0f KB)\n", rep.Path, float64(rep.Bytes)/1024)
	cr, err := export.Consistency(ck, ds, []string{"go", "onnx"}, 100, 500)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "reference %s:\n%s", cr.Backends[0], cr.Summary())
	return nil
}

// Kind is the demo's output directory: its two runs, search/ and train/
// (before markers existed, a demo directory held just those).
var Kind = rundir.Kind{
	Name: "demo",
	Legacy: func(names []string) bool {
		for _, n := range names {
			if n != "search" && n != "train" {
				return false
			}
		}
		return true
	},
}
