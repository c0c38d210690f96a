package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/measure"
)

func init() {
	register(&command{name: "cost measure", summary: "time real inference of models and their blocks here; build the `local` lookup table (--check: 5-model accuracy report)", run: runCostMeasure})
}

func runCostMeasure(args []string) error {
	fs := newFlags("cost measure", "--model NAME[,NAME...] | --spec FILE | --check [--resolution R] [--width W] [--backend B] [--table FILE] [--runs N] [--warmup N] [--remeasure] [--stat S] [--repeat N] [--report FILE] [--segments] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	be := fs.String("backend", "", "gomlx backend configuration (go, go:parallelism=2, onnx, xla:cpu; default $"+backend.EnvVar+" or go)")
	tablePath := fs.String("table", "", "latency table file (default $"+measure.EnvTable+" or ~/.cache/multihw/local-<backend>.json, the file that cost --hardware local reads)")
	job := measure.Job{Command: "multihw cost measure " + strings.Join(args, " "), Progress: os.Stderr}
	fs.IntVar(&job.Runs, "runs", measure.DefaultRuns, "timed runs per graph (at least 10 recommended; the median, p10 and spread are reported)")
	fs.IntVar(&job.Warmup, "warmup", measure.DefaultWarmup, "untimed runs per graph first (the first one compiles)")
	fs.BoolVar(&job.Remeasure, "remeasure", false, "time segments already in the table again (default: only missing ones)")
	fs.BoolVar(&job.Check, "check", false, "measure the five reference models ("+strings.Join(measure.CheckModels, ", ")+") afresh, check that the summed table predicts each held-out whole-model latency within --tolerance, write the report")
	fs.Float64Var(&job.Tolerance, "tolerance", 0.15, "largest |held-out error| --check accepts")
	reportFlag := fs.String("report", "", "markdown report of --check (default: hwcost/measure/LOCAL_REPORT.md of the repository, found from $MULTIHW_ROOT or the working directory)")
	stat := fs.String("stat", "", "statistic of the timed runs the table uses: median, p25, p10, min (default: the table's, p10 for a new one)")
	fs.IntVar(&job.Repeats, "repeat", 1, "with --check: measure everything this many times and require every repeat to pass")
	showSegs := fs.Bool("segments", false, "also print the timing of every segment of the measured models")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := job.Validate(); err != nil {
		return err
	}
	if job.Check && af.Given() {
		return fmt.Errorf("--check measures its own models (%s): leave out --model and --spec", strings.Join(measure.CheckModels, ", "))
	}
	if job.Check {
		af.Model = strings.Join(measure.CheckModels, ",")
	}
	var err error
	if job.Archs, err = af.LoadList(); err != nil {
		return err
	}
	if *stat != "" {
		if job.Stat, err = measure.ParseStat(*stat); err != nil {
			return fmt.Errorf("--stat: %w", err)
		}
	}
	if job.Check { // Fail before measuring, not after.
		if job.ReportFile, err = measure.ReportPath(*reportFlag); err != nil {
			return err
		}
	}
	job.Path = *tablePath
	if err := job.OpenBackend(*be); err != nil {
		return err
	}
	res, err := job.Run()
	if err != nil {
		return err
	}
	if *asJSON {
		err = printJSON(res)
	} else {
		err = res.WriteText(stdout, *showSegs)
	}
	if err != nil {
		return err
	}
	if res.Passed != nil && !*res.Passed {
		return fmt.Errorf("check failed: a held-out error above %.0f%% (see %s)", 100*job.Tolerance, res.Report)
	}
	return nil
}
