package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/multihw/multihw/internal/flaglist"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/plots/figset"
)

func init() {
	register(&command{name: "figures", summary: "write every figure of the project's data and runs as PNG and SVG (package plots/figset)", run: runFigures})
}

// runFigures is a thin CLI over package plots/figset, which notebook 05 uses too.
func runFigures(args []string) error {
	fs := newFlags("figures", "--out DIR [--runs DIR] [--only LIST] [--hardware LIST] [--reference NAME] [--scale S] [--seed N] [--png-only] [--list] [--json]")
	out := fs.String("out", "", "output directory (created if needed); every figure is written as NAME.png and NAME.svg")
	runs := fs.String("runs", "", "directory searched for runs: searches (DIR/.../search.json) and training runs (DIR/.../result.json), e.g. DIR/avg, DIR/train/NAME")
	only := fs.String("only", "", "comma-separated sources to run (see --list; default all)")
	hw := fs.String("hardware", "paper", "targets of the latency figures (comma-separated, groups paper, mnv4, all)")
	ref := fs.String("reference", hwcost.DefaultReference, "reference model of the normalised latencies")
	scale := fs.Float64("scale", 1, "pixel scale of the PNGs (2: twice the pixels, same layout)")
	seed := fs.Uint64("seed", 1, "seed of the predictor's training draw")
	pngOnly := fs.Bool("png-only", false, "write NAME.png only (e.g. small images for a README: --scale 0.7)")
	list := fs.Bool("list", false, "list the figure sources and exit")
	asJSON := fs.Bool("json", false, "print the files written and the sources skipped as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *list {
		for _, s := range figset.Sources() {
			printf("%-17s %s\n", s.Name, s.Summary)
		}
		return nil
	}
	if *out == "" {
		return fmt.Errorf("missing --out DIR")
	}
	if !(*scale > 0 && *scale <= 8) {
		return fmt.Errorf("--scale must be in (0, 8], got %g", *scale)
	}
	set := figset.New().Runs(*runs).Targets(flaglist.Split(*hw)...).Reference(*ref).Seed(*seed).Progress(os.Stderr)
	if strings.TrimSpace(*only) != "" {
		set.Only(flaglist.Split(*only)...)
	}
	res, err := set.Make()
	if err != nil {
		return err
	}
	write := res.Write
	if *pngOnly {
		write = res.WritePNG
	}
	written, err := write(*out, *scale)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(struct {
			Out     string        `json:"out"`
			Figures []figset.File `json:"figures"`
			Skipped []figset.Skip `json:"skipped"`
		}{*out, written, res.Skipped})
	}
	formats := "PNG + SVG"
	if *pngOnly {
		formats = "PNG"
	}
	printf("%d figures (%s) in %s", len(written), formats, *out)
	if len(res.Skipped) > 0 {
		printf("; %d sources skipped", len(res.Skipped))
	}
	printLine()
	return nil
}
