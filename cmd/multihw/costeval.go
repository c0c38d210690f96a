package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/predict"
	"github.com/multihw/multihw/internal/flaglist"
)

func init() {
	register(&command{name: "cost eval", summary: "fit a latency predictor on N measured architectures, score it on the rest (--all: REPORT.md)", run: runCostEval})
}

func runCostEval(args []string) error {
	fs := newFlags("cost eval", "--data FILE|NAME --device COLUMN [--train N] [--seed S] [--predictor NAME] [--explain] [--json]\n"+
		"       multihw cost eval --all [--train N] [--seed S] [--seeds K] [--out FILE] [--json]")
	data := fs.String("data", devicedata.NameBRPNAS, "embedded file ("+strings.Join(devicedata.Names(), ", ")+") or CSV path, plain or .gz")
	device := fs.String("device", "", "device column (exact name, or a substring matching one column)")
	train := fs.Int("train", 900, "number of training architectures, drawn at random among the measured ones")
	seed := fs.Uint64("seed", 1, "seed of the draw and of the predictor")
	name := fs.String("predictor", "structured", "predictor: "+strings.Join(predict.Names, ", "))
	all := fs.Bool("all", false, "compare lookup and structured on every device of nb201-brpnas, nb201-help, fbnet-help and write a markdown report")
	out := fs.String("out", "", "report path for --all (default: hwcost/predict/REPORT.md of the repository)")
	seeds := fs.Int("seeds", 5, "with --all: draws of the training set per device (seeds --seed, --seed+1, ...), for the ρ gain's interval")
	explain := fs.Bool("explain", false, "also print the fitted structured model (op costs per group of positions)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *all {
		if *seeds < 1 || *seeds > maxCurveSeeds {
			return fmt.Errorf("--seeds must be in [1, %d], got %d", maxCurveSeeds, *seeds)
		}
		return runCostEvalAll(predict.ReportConfig{Train: *train, Seed: *seed, Seeds: *seeds, Progress: os.Stderr}, *out, *asJSON)
	}
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: []string{"seeds", "out"}, For: "--all"}); err != nil {
		return err
	}
	if *device == "" {
		d, err := devicedata.Open(*data)
		if err != nil {
			return err
		}
		return fmt.Errorf("missing --device; columns of %s: %s", *data, strings.Join(d.Table().Columns(), ", "))
	}
	p, err := predict.New(*name, *seed)
	if err != nil {
		return fmt.Errorf("--predictor: %w", err)
	}
	if *train < 1 {
		return fmt.Errorf("--train must be positive, got %d", *train)
	}
	h, err := predict.FitHoldout(p, *data, *device, *train, *seed)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(h.Metrics)
	}
	printf("%s", h.Summary())
	if s, ok := p.(*predict.Structured); ok && *explain {
		return s.Explain(stdout)
	}
	return nil
}

func runCostEvalAll(cfg predict.ReportConfig, out string, asJSON bool) error {
	out, rows, err := predict.Report(cfg, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", out)
	if asJSON {
		return printJSON(rows)
	}
	wins, measured := predict.StructuredWins(rows)
	printf("structured beats lookup on %d of %d measured device columns; see %s\n", wins, measured, out)
	return nil
}
