package main

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/internal/flaglist"

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
	if *draws < 2 { // The library reads 0 as its default: an explicit 0 is a mistake here.
		return fmt.Errorf("--draws must be at least 2, got %d", *draws)
	}
	var archs []*blocks.Arch
	for _, m := range flaglist.Split(*models) {
		a, err := blocks.Model(m)
		if err != nil {
			return err
		}
		archs = append(archs, a)
	}
	for _, p := range flaglist.Split(*specs) {
		a, err := blocks.Load(p)
		if err != nil {
			return err
		}
		archs = append(archs, a)
	}
	if len(archs) == 0 {
		return fmt.Errorf("give the architectures with --model LIST and/or --spec LIST")
	}
	// The spreads and orderings are printed by name: a model given twice was
	// compared with itself ("P(A below A) = 0"). (Library callers, e.g. the
	// figures of runs that trained one architecture twice, read them by index.)
	names := make([]string, len(archs))
	for i, a := range archs {
		names[i] = a.Name
	}
	if n, dup := flaglist.Repeated(names); dup {
		return fmt.Errorf("architecture %q given twice (rename one of two different specs)", n)
	}
	ps, refArch, err := hwcost.LoadBasis(*params, *ref)
	if err != nil {
		return err
	}
	res, err := hwcost.Sensitivity(hwcost.SensitivityConfig{Targets: strings.Split(*hw, ","), Archs: archs, Reference: refArch,
		Params: ps, Draws: *draws, Seed: *seed})
	if err != nil {
		return err
	}
	return emit(*asJSON, res, res.Summary)
}
