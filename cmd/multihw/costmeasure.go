package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/measure"
	"github.com/multihw/multihw/internal/atomicfile"
)

func init() {
	register(&command{name: "cost measure", summary: "time real inference of models and their blocks here; build the `local` lookup table (--check: 5-model accuracy report)", run: runCostMeasure})
}

// checkModels are the reference models of `cost measure --check`.
var checkModels = []string{"mobilenet_v2", "multi_avg", "multi_max", "mobilenet_v3_large_min", "efficientnet_lite0"}

// segmentRow is one segment of the measured models in `cost measure`'s output.
type segmentRow struct {
	Key    string         `json:"key"`
	Models []string       `json:"models"`
	Timing measure.Timing `json:"timing"`
}

// costMeasureResult is the JSON output of `cost measure`.
type costMeasureResult struct {
	Backend      string              `json:"backend"`
	Table        string              `json:"table"`
	Measured     []string            `json:"measured"`
	Segments     []segmentRow        `json:"segments"`
	TableSize    int                 `json:"table_segments"`
	CallOverhead measure.Timing      `json:"call_overhead"`
	Evaluation   *measure.Evaluation `json:"evaluation"`
	Tolerance    float64             `json:"tolerance,omitempty"`
	Passed       *bool               `json:"passed,omitempty"`
	Report       string              `json:"report,omitempty"`
	Repeats      []measure.Repeat    `json:"repeats,omitempty"`
}

func runCostMeasure(args []string) error {
	fs := newFlags("cost measure", "--model NAME[,NAME...] | --spec FILE | --check [--resolution R] [--width W] [--backend B] [--table FILE] [--runs N] [--warmup N] [--remeasure] [--stat S] [--repeat N] [--report FILE] [--segments] [--json]")
	var af archFlags
	af.register(fs)
	be := fs.String("backend", "", "gomlx backend configuration (go, go:parallelism=2, onnx, xla:cpu; default $"+backend.EnvVar+" or go)")
	tablePath := fs.String("table", "", "latency table file (default $"+measure.EnvTable+" or ~/.cache/multihw/local-<backend>.json, the file that cost --hardware local reads)")
	runs := fs.Int("runs", measure.DefaultRuns, "timed runs per graph (at least 10 recommended; the median, p10 and spread are reported)")
	warmup := fs.Int("warmup", measure.DefaultWarmup, "untimed runs per graph first (the first one compiles)")
	remeasure := fs.Bool("remeasure", false, "time segments already in the table again (default: only missing ones)")
	check := fs.Bool("check", false, "measure the five reference models ("+strings.Join(checkModels, ", ")+") afresh, check that the summed table predicts each held-out whole-model latency within --tolerance, write the report")
	tol := fs.Float64("tolerance", 0.15, "largest |held-out error| --check accepts")
	report := fs.String("report", "", "markdown report of --check (default: hwcost/measure/LOCAL_REPORT.md of the repository, found from $MULTIHW_ROOT or the working directory)")
	stat := fs.String("stat", "", "statistic of the timed runs the table uses: median, p25, p10, min (default: the table's, p10 for a new one)")
	repeat := fs.Int("repeat", 1, "with --check: measure everything this many times and require every repeat to pass")
	showSegs := fs.Bool("segments", false, "also print the timing of every segment of the measured models")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *runs < 1 || *warmup < 1 {
		return fmt.Errorf("--runs and --warmup must be at least 1 (got %d, %d)", *runs, *warmup)
	}
	if *repeat < 1 || (*repeat > 1 && !*check) {
		return fmt.Errorf("--repeat must be at least 1, and more only with --check (got %d)", *repeat)
	}
	if *check && (af.model != "" || af.spec != "") {
		return fmt.Errorf("--check measures its own models (%s): leave out --model and --spec", strings.Join(checkModels, ", "))
	}
	if *check {
		af.model = strings.Join(checkModels, ",")
	}
	archs, err := loadArchList(af)
	if err != nil {
		return err
	}
	if !(*tol > 0) {
		return fmt.Errorf("--tolerance must be positive, got %g", *tol)
	}
	st, err := measure.ParseStat(*stat)
	if err != nil {
		return fmt.Errorf("--stat: %w", err)
	}

	reportFile := ""
	if *check { // Fail before measuring, not after.
		if reportFile, err = reportPath(*report); err != nil {
			return err
		}
	}

	cfg := *be
	if cfg == "" {
		cfg = backend.Config()
	}
	b, err := backend.New(cfg)
	if err != nil {
		if *be != "" {
			return fmt.Errorf("--backend: %w", err)
		}
		return err
	}
	key := measure.KeyOf(cfg, b)
	path := *tablePath
	if path == "" {
		if path, err = measure.DefaultPath(key); err != nil {
			return err
		}
	}
	tbl, err := measure.LoadOrNew(path, key)
	if err != nil {
		return err
	}
	if *stat != "" {
		tbl.Stat = st
	}
	m := measure.New(b).Runs(*runs).Warmup(*warmup).Remeasure(*remeasure || *check).Progress(os.Stderr)
	names := make([]string, len(archs))
	for i, a := range archs {
		names[i] = measure.ModelKey(a)
	}
	var repeats []measure.Repeat
	var loadBefore string
	var dur time.Duration
	for r := range *repeat {
		loadBefore = measure.LoadAverage()
		start := time.Now()
		fmt.Fprintf(os.Stderr, "cost measure: timing %s on backend %s (%d runs after %d warm-up, repeat %d/%d, load average %s)\n",
			strings.Join(names, ", "), key, *runs, *warmup, r+1, *repeat, loadBefore)
		if err := m.Measure(tbl, archs...); err != nil {
			return err
		}
		dur = time.Since(start)
		// The stored overhead is fitted on every whole model the table holds.
		if tbl.Overhead, err = tbl.FitOverhead(); err != nil {
			return err
		}
		if err := tbl.Save(path); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "cost measure: wrote %s (%d segments, %d models)\n", path, len(tbl.Segments), len(tbl.Models))
		if *check {
			cmp, err := tbl.CompareStats(names...)
			if err != nil {
				return err
			}
			repeats = append(repeats, measure.Repeat{LoadBefore: loadBefore, LoadAfter: measure.LoadAverage(), Duration: dur, Stats: cmp})
		}
	}

	// Accuracy on the models just measured (on all of the table's models when
	// only one was measured, so that something is held out).
	keys := names
	if len(keys) < 2 {
		keys = tbl.ModelKeys()
	}
	ev, err := tbl.Evaluate(keys...)
	if err != nil {
		return err
	}
	res := costMeasureResult{Backend: key, Table: path, Measured: names, TableSize: len(tbl.Segments), CallOverhead: tbl.CallOverhead, Evaluation: ev}
	index := map[string]int{}
	for _, n := range names {
		for _, k := range tbl.Models[n].Segments {
			i, ok := index[k]
			if !ok {
				i = len(res.Segments)
				index[k] = i
				res.Segments = append(res.Segments, segmentRow{Key: k, Timing: tbl.Segments[k].Timing})
			}
			if ms := res.Segments[i].Models; len(ms) == 0 || ms[len(ms)-1] != n {
				res.Segments[i].Models = append(ms, n)
			}
		}
	}
	if *check {
		last := repeats[len(repeats)-1]
		info := measure.ReportInfo{Command: "multihw cost measure " + strings.Join(args, " "), Runs: *runs, Warmup: *warmup, Tolerance: *tol,
			LoadBefore: last.LoadBefore, LoadAfter: last.LoadAfter, Duration: dur, Stats: last.Stats, Repeats: repeats}
		passed := info.Passed(ev)
		res.Tolerance, res.Passed, res.Repeats = *tol, &passed, repeats
		res.Report = reportFile
		if err := atomicfile.WriteFile(res.Report, []byte(ev.Markdown(tbl, info)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "cost measure: wrote %s\n", res.Report)
	}
	if *asJSON {
		if err := printJSON(res); err != nil {
			return err
		}
	} else {
		printf("backend %s, table %s, call overhead %.4f ms (%s)\n\n", key, path, tbl.CallOverhead.Value(tbl.Stat), tbl.Stat)
		if *showSegs {
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "segment\t%s (ms)\tmedian (ms)\tspread\truns\tmodels\n", tbl.Stat)
			for _, r := range res.Segments {
				fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.0f%%\t%d\t%s\n", r.Key, r.Timing.Value(tbl.Stat), r.Timing.MedianMs,
					100*r.Timing.Spread(), len(r.Timing.SamplesMs), strings.Join(r.Models, " "))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			printLine()
		}
		if err := ev.WriteText(stdout); err != nil {
			return err
		}
		if *check {
			verdict := "PASS"
			if !*res.Passed {
				verdict = "FAIL"
			}
			for i, r := range repeats {
				printf("repeat %d (load %s): worst held-out error", i+1, r.LoadBefore)
				for _, c := range r.Stats {
					printf("  %s %.1f%%", c.Stat, 100*c.MaxAbsHeldOutErr)
				}
				printLine()
			}
			printf("check: every held-out prediction (%s) within %.0f%% in every repeat: %s\n", tbl.Stat, 100**tol, verdict)
		}
	}
	if *check && !*res.Passed {
		return fmt.Errorf("check failed: a held-out error above %.0f%% (see %s)", 100**tol, res.Report)
	}
	return nil
}

// loadArchList loads --spec, or every model of the comma-separated --model,
// with the shared width, resolution and classes flags.
func loadArchList(af archFlags) ([]*blocks.Arch, error) {
	if af.spec != "" || !strings.Contains(af.model, ",") {
		a, err := af.load()
		if err != nil {
			return nil, err
		}
		return []*blocks.Arch{a}, nil
	}
	var archs []*blocks.Arch
	seen := map[string]bool{}
	for _, n := range strings.Split(af.model, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		one := af
		one.model = n
		a, err := one.load()
		if err != nil {
			return nil, err
		}
		archs = append(archs, a)
	}
	return archs, nil
}

// reportPath returns flag, or hwcost/measure/LOCAL_REPORT.md of the repository.
func reportPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	var cands []string
	if root := os.Getenv("MULTIHW_ROOT"); root != "" {
		cands = append(cands, filepath.Join(root, "hwcost", "measure"))
	}
	cands = append(cands, filepath.Join("hwcost", "measure"))
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return filepath.Join(c, "LOCAL_REPORT.md"), nil
		}
	}
	return "", fmt.Errorf("cannot find the hwcost/measure directory for the report (tried %s): run from the repository root, set MULTIHW_ROOT, or give --report FILE", strings.Join(cands, ", "))
}
