package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/progress"
)

func init() {
	register(&command{name: "cost", summary: "per-hardware latency, normalised latency, AVG and MAX of an architecture", run: runCost})
	register(&command{name: "cost fit", summary: "fit the hardware latency models to published latencies and benchmark networks; write params, reference devices and FIT_REPORT.md (with the adapt studies)", run: runCostFit})
}

func runCost(args []string) error {
	fs := newFlags("cost", "--model NAME | --spec FILE [--width W] [--resolution R] [--hardware LIST] [--reference NAME] [--reference-resolution R] [--weights LIST] [--params FILE|prior] [--layers] [--json]")
	var af archFlags
	af.register(fs)
	hw := fs.String("hardware", "paper", "comma-separated targets or groups (paper, mnv4, all); valid targets: "+strings.Join(hwcost.TargetNames(), ", "))
	ref := fs.String("reference", hwcost.DefaultReference, "reference model latencies are normalised to (see `multihw models`)")
	refRes := fs.Int("reference-resolution", 0, "input resolution of the reference (default: its own, 224 for mobilenet_v2)")
	weights := fs.String("weights", "", "comma-separated weights of the weighted average, one per target (default equal)")
	params := fs.String("params", "", "hardware parameters: a JSON file, \"prior\", or empty for the fitted defaults")
	layers := fs.Bool("layers", false, "also print the per-layer latency on each target")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	arch, err := af.load()
	if err != nil {
		return err
	}
	ps, refArch, err := loadCostBasis(*params, *ref)
	if err != nil {
		return err
	}
	if *refRes < 0 {
		return fmt.Errorf("--reference-resolution must be positive, got %d", *refRes)
	} else if *refRes > 0 {
		refArch.Resolution = *refRes
		refArch.Name = fmt.Sprintf("%s/%d", refArch.Name, *refRes)
	}
	cfg := hwcost.NewMetric().Targets(strings.Split(*hw, ",")...).Params(ps).Reference(refArch)
	if *weights != "" {
		var w []float64
		for _, s := range strings.Split(*weights, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return fmt.Errorf("--weights: %q is not a number", s)
			}
			w = append(w, v)
		}
		cfg = cfg.Weights(w...)
	}
	m, err := cfg.Done()
	if err != nil {
		return err
	}
	res, err := m.Evaluate(arch)
	if err != nil {
		return err
	}
	var bds []hwcost.Breakdown
	if *layers {
		if bds, err = m.Breakdowns(arch); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(struct {
			*hwcost.Result
			Params string             `json:"params"`
			Layers []hwcost.Breakdown `json:"layers,omitempty"`
		}{res, paramsName(*params, ps), bds})
	}
	name := res.Name
	if name == "" {
		name = "architecture"
	}
	printf("%s at %d px: %.1f M MACs, %.2f M params; reference %s; parameters: %s\n\n", name, res.Resolution,
		float64(res.MACs)/1e6, float64(res.Params)/1e6, res.Reference, paramsName(*params, ps))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\tlatency (ms)\treference (ms)\tnormalised\tweight\t\n")
	for _, t := range res.Targets {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n", t, res.LatencyMs[t], res.ReferenceMs[t], res.Normalized[t], res.Weights[t])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printf("\nAVG %.3f  MAX %.3f  weighted %.3f\n", res.Avg, res.Max, res.Weighted)
	if *layers {
		printLine()
		return writeBreakdowns(arch, bds)
	}
	return nil
}

// loadCostBasis loads the --params and --reference of the cost commands.
func loadCostBasis(params, ref string) (*hwcost.ParamSet, *blocks.Arch, error) {
	ps, err := hwcost.LoadParams(params)
	if err != nil {
		return nil, nil, err
	}
	refArch, err := blocks.Model(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("--reference: %w", err)
	}
	return ps, refArch, nil
}

func paramsName(flag string, ps *hwcost.ParamSet) string {
	switch flag {
	case "", "default":
		return "fitted (embedded params.json)"
	case "prior":
		return "priors"
	}
	return flag
}

// writeBreakdowns prints one row per layer and one column per target.
func writeBreakdowns(arch *blocks.Arch, bds []hwcost.Breakdown) error {
	if len(bds) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\top\t")
	for _, bd := range bds {
		fmt.Fprintf(tw, "%s (ms)\t", bd.Target)
	}
	fmt.Fprintf(tw, "\n")
	for i, l := range bds[0].Layers {
		fmt.Fprintf(tw, "%s\t%s\t", l.Name, l.Op)
		for _, bd := range bds {
			mark := ""
			if bd.Layers[i].Bound == hwcost.MemoryBound {
				mark = "m"
			}
			fmt.Fprintf(tw, "%.4f%s\t", bd.Layers[i].Ms, mark)
		}
		fmt.Fprintf(tw, "\n")
	}
	for _, row := range []struct {
		name string
		get  func(hwcost.Breakdown) float64
	}{{"fixed overhead", func(b hwcost.Breakdown) float64 { return b.FixedMs }},
		{"weight streaming", func(b hwcost.Breakdown) float64 { return b.SpillMs }},
		{"total", func(b hwcost.Breakdown) float64 { return b.TotalMs }}} {
		fmt.Fprintf(tw, "%s\t\t", row.name)
		for _, bd := range bds {
			fmt.Fprintf(tw, "%.4f\t", row.get(bd))
		}
		fmt.Fprintf(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printLine("(m: memory-bound layer)")
	return nil
}

func runCostFit(args []string) error {
	fs := newFlags("cost fit", "[--anchors FILE] [--hardware LIST] [--bench-rows N] [--no-studies] [--out DIR] [--dry-run] [--json]")
	anchorsPath := fs.String("anchors", "", "latency anchors CSV (default: the copy embedded in hwcost, hwcost/data/latency_anchors.csv)")
	hw := fs.String("hardware", "all", "targets to fit (comma-separated, groups paper, mnv4, all)")
	benchRows := fs.Int("bench-rows", hwcost.DefaultBenchRows, "benchmark networks per source in the fit (the rest are held out)")
	noStudies := fs.Bool("no-studies", false, "skip the reference devices and the adapt studies (the report's validation sections; about 2 minutes)")
	out := fs.String("out", "", "directory for params.json, reference_devices.json, FIT_REPORT.md and fit_pairs.csv (default: the hwcost package of the repository: $MULTIHW_ROOT/hwcost or ./hwcost)")
	dry := fs.Bool("dry-run", false, "fit and print, but write nothing")
	asJSON := fs.Bool("json", false, "print the fit result (per-target figures, rows and predicted-vs-measured pairs) as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := hwcost.NewFitter().Targets(strings.Split(*hw, ",")...).BenchRows(*benchRows)
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
	pr := progress.New(os.Stderr)
	start := time.Now()
	pr.Line(fmt.Sprintf("fitting %s ...", *hw), false)
	res, err := f.Run()
	if err != nil {
		return err
	}
	var refs *hwcost.ReferenceSet
	var studies *hwcost.Studies
	if !*noStudies {
		pr.Line(fmt.Sprintf("fitted in %s; reference devices ...", progress.Duration(time.Since(start).Seconds())), false)
		if refs, err = hwcost.FitReferenceDevices(hwcost.ReferenceRows, res.Params); err != nil {
			return err
		}
		pr.Line(fmt.Sprintf("reference devices done at %s; adapt studies (HELP, BRP-NAS, FBNet; %d seeds) ...",
			progress.Duration(time.Since(start).Seconds()), len(hwcost.StudySeeds)), false)
		if studies, err = hwcost.RunStudies(hwcost.LibraryFrom(res.Params, refs)); err != nil {
			return err
		}
		pr.Line(fmt.Sprintf("studies done at %s", progress.Duration(time.Since(start).Seconds())), false)
	}
	report, err := res.Report(refs, studies)
	if err != nil {
		return err
	}
	if !*dry {
		dir := *out
		if dir == "" {
			if dir, err = defaultHWCostDir(); err != nil {
				return err
			}
		}
		files := []struct {
			name string
			data []byte
		}{{"params.json", res.Params.JSON()}, {"FIT_REPORT.md", []byte(report)}, {"fit_pairs.csv", res.PairsCSV()}}
		if refs != nil {
			files = append(files, struct {
				name string
				data []byte
			}{"reference_devices.json", refs.JSON()})
		} else {
			fmt.Fprintln(os.Stderr, "--no-studies: FIT_REPORT.md has no validation sections and reference_devices.json is unchanged")
		}
		for _, fl := range files {
			p := filepath.Join(dir, fl.name)
			if err := atomicfile.WriteFile(p, fl.data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s\n", p)
		}
	}
	if *asJSON {
		return printJSON(struct {
			*hwcost.FitResult
			Studies *hwcost.Studies `json:"studies,omitempty"`
		}{res, studies})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\trows\tfit err\tfit rho\theld-out err\theld-out rho\tMACs held-out err\tMACs rho\tbench held-out rho\t\n")
	for _, t := range res.Targets {
		bench := ""
		for _, b := range t.Bench {
			bench += fmt.Sprintf("%.4f ", b.HeldOut.Spearman)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.3f\t%.1f%%\t%.3f\t%.1f%%\t%.3f\t%s\t\n", t.Target, len(t.Rows), 100*t.Fit.MedianAbsErr,
			t.Fit.Spearman, 100*t.HeldOut.MedianAbsErr, t.HeldOut.Spearman, 100*t.MACsHeldOut.MedianAbsErr, t.MACs.Spearman, bench)
	}
	return tw.Flush()
}

// defaultHWCostDir finds the hwcost package directory of the repository.
func defaultHWCostDir() (string, error) {
	var cands []string
	if root := os.Getenv("MULTIHW_ROOT"); root != "" {
		cands = append(cands, filepath.Join(root, "hwcost"))
	}
	cands = append(cands, "hwcost")
	for _, c := range cands {
		if st, err := os.Stat(filepath.Join(c, "params.json")); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("cannot find the hwcost package directory (tried %s): run from the repository root, set MULTIHW_ROOT, or give --out", strings.Join(cands, ", "))
}
