package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/fma"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/repo"
)

func init() {
	register(&command{name: "cost", summary: "per-hardware latency, normalised latency, AVG and MAX of an architecture", run: runCost})
	register(&command{name: "cost fit", summary: "fit the hardware latency models to published latencies and benchmark networks; write params, reference devices and FIT_REPORT.md (with the adapt studies)", run: runCostFit})
}

func runCost(args []string) error {
	fs := newFlags("cost", "--model NAME | --spec FILE [--width W] [--resolution R] [--hardware LIST] [--reference NAME] [--reference-resolution R] [--weights LIST] [--params FILE|prior] [--layers] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	var mf hwcost.MetricFlags
	mf.Register(fs)
	layers := fs.Bool("layers", false, "also print the per-layer latency on each target")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	arch, err := af.Load()
	if err != nil {
		return err
	}
	m, err := mf.Metric()
	if err != nil {
		return err
	}
	res, err := m.Evaluate(arch)
	if err != nil {
		return err
	}
	c := &hwcost.Costing{Result: res, Params: hwcost.ParamsLabel(mf.Params), Caveats: m.Caveats()}
	if c.PriorBound, err = m.PriorBound(arch); err != nil {
		return err
	}
	if *layers {
		if c.Layers, err = m.Breakdowns(arch); err != nil {
			return err
		}
	}
	return emit(*asJSON, c, c.Summary)
}

func runCostFit(args []string) error {
	fs := newFlags("cost fit", "[--anchors FILE] [--hardware LIST] [--bench-rows N] [--bench-seed S] [--no-studies] [--out DIR] [--dry-run] [--json]")
	anchorsPath := fs.String("anchors", "", "latency anchors CSV (default: the copy embedded in hwcost, hwcost/data/latency_anchors.csv)")
	hw := fs.String("hardware", "all", "targets to fit (comma-separated, groups paper, mnv4, all)")
	benchRows := fs.Int("bench-rows", hwcost.DefaultBenchRows, "benchmark networks per source in the fit (the rest are held out)")
	benchSeed := fs.Uint64("bench-seed", hwcost.DefaultBenchSeed, "seed of the draw of those networks (another draw shows how much the held-out figures move with it)")
	noStudies := fs.Bool("no-studies", false, "skip the reference devices and the adapt studies (the report's validation sections; about 8 minutes on 2 cores, with a progress line per study)")
	out := fs.String("out", "", "directory for params.json, reference_devices.json, FIT_REPORT.md and fit_pairs.csv (default: the hwcost package of the repository: $MULTIHW_ROOT/hwcost or ./hwcost)")
	dry := fs.Bool("dry-run", false, "fit and print, but write nothing")
	asJSON := fs.Bool("json", false, "print the fit result (per-target figures, rows and predicted-vs-measured pairs) as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := hwcost.NewFitter().Targets(strings.Split(*hw, ",")...).BenchRows(*benchRows).BenchSeed(*benchSeed)
	if *anchorsPath != "" {
		data, err := memlimit.ReadFile(*anchorsPath, "latency anchors", 64<<20)
		if err != nil {
			return fmt.Errorf("--anchors: %w", err)
		}
		rows, err := hwcost.ReadAnchors(strings.NewReader(string(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", *anchorsPath, err)
		}
		f = f.Anchors(rows, hwcost.AnchorsID(*anchorsPath, data))
	}
	if fma.Fused {
		fmt.Fprintln(os.Stderr, "cost fit: this binary fuses multiply-adds (built with GOAMD64=v3 or above): its fit differs from a GOAMD64=v1 build's, "+
			"which wrote the committed files, in the last digits (a held-out prediction by up to 0.3%; make build uses v1)")
	}
	dir, state := *out, ""
	if !*dry {
		if dir == "" {
			params, err := repo.Find("hwcost/params.json", "--out")
			if err != nil {
				return err
			}
			dir = filepath.Dir(params)
		}
		state = filepath.Join(dir, hwcost.FitStateFile) // a killed fit resumes from it
	}
	cal, err := hwcost.Calibrate(f, *hw, !*noStudies, state, os.Stderr)
	if err != nil {
		return err
	}
	if !*dry {
		if err := cal.WriteFiles(dir, os.Stderr); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(cal)
	}
	_, err = io.WriteString(stdout, cal.Summary().Text())
	return err
}
