package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots/figset"
	"github.com/multihw/multihw/report"
	"github.com/multihw/multihw/train/data"
)

func init() {
	register(&command{name: "search", summary: "one-shot multi-hardware search (TuNAS supernet + REINFORCE); --algo random|evolution for baselines", run: runSearch})
}

func runSearch(args []string) error {
	fs := newFlags("search", "[--space NAME|FILE] [--objective avg|max|weighted|TARGET] [--targets LIST] [--t0 X] [--beta B] [--dataset SPEC] [--steps N] [--out DIR] [--resume] [--seed S] [--quick] [--json]\n       multihw search --algo random|evolution --supernet DIR [--queries N] [--json]")
	f := &tunas.Flags{}
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	switch f.Algo {
	case "tunas":
	case tunas.AlgoRandom, tunas.AlgoEvolution:
		bc, err := f.Baseline(fs)
		if err != nil {
			return err
		}
		res, err := tunas.RunBaseline(ctx, f.Supernet, bc, nil, nil, os.Stderr)
		if err != nil {
			return err
		}
		return emit(f.JSON, res, func() string { return res.Summary(f.Supernet) })
	default:
		return fmt.Errorf("unknown --algo %q (valid: tunas, random, evolution)", f.Algo)
	}
	cfg, err := f.Config(fs)
	if err != nil {
		return err
	}
	if f.Out != "" {
		if err := tunas.CheckOutputDir(f.Out); err != nil {
			return err
		}
	}
	s := tunas.New(cfg).Out(f.Out).Resume(f.Resume).Overwrite(f.Overwrite).Progress(os.Stderr).CheckpointEvery(0, time.Duration(f.CheckpointMinutes)*time.Minute)
	res, err := s.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && f.Out != "" {
			return fmt.Errorf("interrupted (checkpoint saved); continue with the same flags and --resume")
		}
		return err
	}
	return emit(f.JSON, res, func() string { return res.Summary(f.Out) })
}

func init() {
	register(&command{name: "search bench", summary: "supernet design measurements: sliced path graphs (build, first run, step) vs the maximal network a masked graph runs", run: runSearchBench})
	register(&command{name: "search ablation", summary: "how well supernet variants learn: one-shot accuracy of random paths after a uniform-policy training", run: runSearchAblation})
}

func runSearchBench(args []string) error {
	fs := newFlags("search bench", "[--width W] [--batch B] [--points N] [--repeats R] [--search-steps N] [--json]")
	var f tunas.BenchFlags
	f.Register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	rows, err := f.Run(os.Stderr)
	if err != nil {
		return err
	}
	return emit(*asJSON, rows, func() string { return tunas.BenchText(rows) })
}

func runSearchAblation(args []string) error {
	fs := newFlags("search ablation", "[--steps N] [--width W] [--batch B] [--points N] [--variants LIST] [--json]")
	var f tunas.AblationFlags
	f.Register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	ds, err := data.NewLoader(f.Dataset).Validation(0.1).Load()
	if err != nil {
		return err
	}
	rows, err := tunas.Ablation(context.Background(), f.Ablation(os.Stderr), ds)
	if err != nil {
		return err
	}
	return emit(*asJSON, rows, tunas.AblationTable(rows).Text)
}

func init() {
	register(&command{name: "search report", summary: "write the markdown report of searches, baselines and retrained models (nas/SEARCH_REPORT.md)", run: runSearchReport})
}

func runSearchReport(args []string) error {
	fs := newFlags("search report", "[--study DIR] [--search NAME=DIR,...] [--rank NAME=DIR,...] [--trained NAME=DIR,...] [--bench FILE] [--ablation FILE] [--commands FILE] [--out FILE]")
	var f figset.SearchReportFlags
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := f.Input()
	if err != nil {
		return err
	}
	md, err := figset.SearchReport(in)
	if err != nil {
		return err
	}
	if f.Out == "" {
		_, err = io.WriteString(stdout, md)
		return err
	}
	return report.WriteFile(f.Out, []byte(md))
}
