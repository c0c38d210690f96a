package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

func init() {
	register(&command{name: "cost sensitivity", summary: "draw hardware parameters from the fits' uncertainty: spread of normalised latencies, AVG, MAX and pairwise ordering probabilities", run: runCostSensitivity})
}

func runCostSensitivity(args []string) error {
	fs := newFlags("cost sensitivity", "--model LIST | --spec LIST ... [--hardware LIST] [--params FILE|prior] [--reference NAME] [--draws N] [--seed S] [--json]")
	models := fs.String("model", "", "comma-separated reference models (see `multihw models`)")
	specs := fs.String("spec", "", "comma-separated architecture spec files (JSON or text form)")
	hw := fs.String("hardware", "paper", "comma-separated targets, groups or target files")
	params := fs.String("params", "", "hardware parameters: a JSON file, \"prior\", or empty for the fitted defaults")
	ref := fs.String("reference", hwcost.DefaultReference, "reference model latencies are normalised to")
	draws := fs.Int("draws", 2000, "parameter sets drawn")
	seed := fs.Uint64("seed", 1, "seed of the draws")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var archs []*blocks.Arch
	for _, m := range splitNonEmpty(*models) {
		a, err := blocks.Model(m)
		if err != nil {
			return err
		}
		archs = append(archs, a)
	}
	for _, p := range splitNonEmpty(*specs) {
		a, err := blocks.Load(p)
		if err != nil {
			return err
		}
		archs = append(archs, a)
	}
	if len(archs) == 0 {
		return fmt.Errorf("give the architectures with --model LIST and/or --spec LIST")
	}
	ps, refArch, err := loadCostBasis(*params, *ref)
	if err != nil {
		return err
	}
	res, err := hwcost.Sensitivity(hwcost.SensitivityConfig{Targets: strings.Split(*hw, ","), Archs: archs, Reference: refArch,
		Params: ps, Draws: *draws, Seed: *seed})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%d parameter draws (seed %d) from the fits' posteriors; normalised to %s. Fitted value [5%%, 95%%]:\n\n", res.Draws, res.Seed, res.Reference)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "architecture\t")
	for _, t := range res.Targets {
		fmt.Fprintf(tw, "%s\t", t)
	}
	fmt.Fprintf(tw, "AVG\tMAX\t\n")
	cell := func(s hwcost.Spread) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", s.Fitted, s.P05, s.P95) }
	for _, a := range res.Archs {
		fmt.Fprintf(tw, "%s\t", a.Name)
		for _, t := range res.Targets {
			fmt.Fprintf(tw, "%s\t", cell(a.Normalized[t]))
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", cell(a.Avg), cell(a.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Orderings) > 0 {
		printLine("\nP(A below B) over the draws:")
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "A\tB\tAVG\tMAX\t\n")
		byPair := map[[2]string]map[string]float64{}
		var order [][2]string
		for _, o := range res.Orderings {
			k := [2]string{o.A, o.B}
			if byPair[k] == nil {
				byPair[k] = map[string]float64{}
				order = append(order, k)
			}
			byPair[k][o.Metric] = o.P
		}
		for _, k := range order {
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t\n", k[0], k[1], byPair[k]["avg"], byPair[k]["max"])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range res.Priors {
		printf("%s has no fitted posterior: drawn from its prior widths\n", n)
	}
	for _, n := range res.Fixed {
		printf("%s is not an analytic target: held fixed\n", n)
	}
	return nil
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
