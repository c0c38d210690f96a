package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/measure"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/plots/figset"
)

func init() {
	register(&command{name: "cost adapt", summary: "fit an analytic target to N measured architectures of a new device (benchmark column or `cost measure` table); score it on the rest; write a target file (--curve: how many measurements it needs)", run: runCostAdapt})
}

func runCostAdapt(args []string) error {
	fs := newFlags("cost adapt", "--data FILE|NAME|local --device COLUMN --train N [--seed S] [--name NAME] [--out TARGET.json] [--json]\n"+
		"       multihw cost adapt --data FILE|NAME|local --device COLUMN[,COLUMN...] --curve N,N,... [--seeds K] [--seed S] [--plot DIR] [--json]")
	data := fs.String("data", "", "embedded benchmark table ("+strings.Join(devicedata.LatencyNames(), ", ")+"), a CSV of the same format, "+
		"\"local\" (the whole-model timings of `multihw cost measure` for the current backend) or a `cost measure` table (.json)")
	device := fs.String("device", "", "device column (exact name, or a substring matching one column; with --curve a comma-separated list); not for local tables")
	train := fs.Int("train", 10, "number of measured architectures to fit on, drawn at random with --seed; the others are the test set")
	seed := fs.Uint64("seed", 1, "seed of the draw")
	name := fs.String("name", "", "name of the fitted target (default adapted-<column>)")
	out := fs.String("out", "", "write the fitted target here (JSON), usable as `multihw cost --hardware FILE` and `multihw search --targets FILE`")
	asJSON := fs.Bool("json", false, "print JSON: spearman, mape, within10, n_train, n_test, params, ... (with --curve: the curves)")
	curve := fs.String("curve", "", "how many measurements a device needs: fit at each of these training sizes (increasing) with --seeds seeds and print the test-set figures by size, with intervals over the seeds")
	seeds := fs.Int("seeds", 10, "with --curve: the number of seeds, --seed, --seed+1, ...")
	plotDir := fs.String("plot", "", "with --curve: also write adapt_curve.png/.svg to this directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("missing --data (one of %s, a CSV path, local, or a `cost measure` table)", strings.Join(devicedata.LatencyNames(), ", "))
	}
	local := *data == "local" || strings.HasSuffix(*data, ".json")
	if local && *device != "" {
		return fmt.Errorf("--device names a column of a benchmark table; %s is a `cost measure` table (one device: this machine)", *data)
	}
	if !local && *device == "" {
		d, err := devicedata.Open(*data)
		if err != nil {
			return err
		}
		return fmt.Errorf("missing --device; columns of %s: %s", *data, strings.Join(d.Table().Columns(), ", "))
	}
	cfg := hwcost.AdaptConfig{Data: *data, Device: *device, Train: *train, Seed: *seed, Name: *name}
	isCurve := flaglist.Given(fs)["curve"]
	if err := flaglist.Unused(fs,
		flaglist.Mode{Flags: []string{"train", "out", "name"}, Chosen: !isCurve, For: "a single fit; --curve fits at every size it lists and writes no target"},
		flaglist.Mode{Flags: []string{"seeds", "plot"}, Chosen: isCurve, For: "--curve"}); err != nil {
		return err
	}
	if isCurve {
		return runAdaptCurve(cfg, local, *curve, *seeds, *plotDir, *asJSON)
	}
	var res *hwcost.AdaptResult
	var err error
	if local {
		res, err = measure.Adapt(*data, cfg)
	} else {
		res, err = hwcost.Adapt(cfg)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		if err := res.Target.Save(*out); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s", res.Summary())
	if *out != "" {
		printf("wrote target %s to %s (use it as --hardware %s)\n", res.Target.Target, *out, *out)
	}
	return nil
}

// maxCurveSeeds bounds the --seeds of `cost adapt --curve` and `cost eval
// --all`: each seed is a fit per size or per device (seconds each).
const maxCurveSeeds = 1000

// checkPlotDir refuses a --plot DIR that exists and is not a directory before
// the work whose figure would go there.
func checkPlotDir(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("--plot %s exists and is not a directory", dir)
	}
	return nil
}

// runAdaptCurve is `cost adapt --curve`: the fit's test-set figures by
// training size for each device of cfg.Device (a comma-separated list on a
// benchmark table).
func runAdaptCurve(cfg hwcost.AdaptConfig, local bool, curve string, nSeeds int, plotDir string, asJSON bool) error {
	sizes, err := flaglist.Ints(curve, "curve")
	if err != nil {
		return err
	}
	if len(sizes) == 0 {
		return errors.New("--curve: no training sizes")
	}
	if nSeeds < hwcost.MinCurveSeeds || nSeeds > maxCurveSeeds {
		return fmt.Errorf("--seeds must be in [%d, %d] (the intervals are over the seeds), got %d", hwcost.MinCurveSeeds, maxCurveSeeds, nSeeds)
	}
	if err := checkPlotDir(plotDir); err != nil {
		return err
	}
	if cfg.Seed > math.MaxUint64-uint64(nSeeds-1) {
		return fmt.Errorf("--seed %d: %d seeds from it would pass the largest seed", cfg.Seed, nSeeds)
	}
	seeds := make([]uint64, nSeeds)
	for i := range seeds {
		seeds[i] = cfg.Seed + uint64(i)
	}
	pr := progress.New(os.Stderr)
	report := func(dev string, done, total int) {
		if pr.Due(done == 0 || done == total) {
			pr.Line(fmt.Sprintf("adapt curve: %s, %d sizes x %d seeds: %d of %d fits", dev, len(sizes), nSeeds, done, total), done < total)
		}
	}
	var curves []*hwcost.Curve
	if local {
		total := len(sizes) * nSeeds
		report(cfg.Data, 0, total)
		cv, err := measure.AdaptCurve(cfg.Data, cfg, sizes, seeds)
		if err != nil {
			return err
		}
		report(cfg.Data, total, total)
		curves = append(curves, cv)
	} else if curves, err = hwcost.AdaptCurves(cfg, flaglist.Split(cfg.Device), sizes, seeds, report); err != nil {
		return err
	}
	if plotDir != "" {
		d := figset.AdaptCurveData(curves...)
		if len(d.Curves) == 0 {
			return errors.New("--plot: no training size has a defined Spearman to draw (constant or tied test sets)")
		}
		fig, err := plots.AdaptCurve(d)
		if err != nil {
			return err
		}
		paths, err := plots.WriteFiles(plotDir, 1, fig)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", strings.Join(paths, ", "))
	}
	if asJSON {
		return printJSON(curves)
	}
	for i, cv := range curves {
		if i > 0 {
			printLine()
		}
		printf("%s", cv.Summary())
	}
	return nil
}
