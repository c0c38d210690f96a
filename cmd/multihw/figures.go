package main

import (
	"os"

	"github.com/multihw/multihw/plots/figset"
)

func init() {
	register(&command{name: "figures", summary: "write every figure of the project's data and runs as PNG and SVG (package plots/figset)", run: runFigures})
}

// runFigures is a thin CLI over package plots/figset, which notebook 05 uses too.
func runFigures(args []string) error {
	fs := newFlags("figures", "--out DIR [--runs DIR] [--only LIST] [--hardware LIST] [--reference NAME] [--scale S] [--seed N] [--png-only] [--list] [--json]")
	var f figset.Flags
	f.Register(fs)
	asJSON := fs.Bool("json", false, "print the files written and the sources skipped as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.List {
		for _, s := range figset.Sources() {
			printf("%-17s %s\n", s.Name, s.Summary)
		}
		return nil
	}
	set, err := f.Set(os.Stderr)
	if err != nil {
		return err
	}
	res, err := set.Make()
	if err != nil {
		return err
	}
	write := res.Write
	if f.PNGOnly {
		write = res.WritePNG
	}
	written, err := write(f.Out, f.Scale)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(struct {
			Out     string        `json:"out"`
			Figures []figset.File `json:"figures"`
			Skipped []figset.Skip `json:"skipped"`
		}{f.Out, written, res.Skipped})
	}
	formats := "PNG + SVG"
	if f.PNGOnly {
		formats = "PNG"
	}
	printf("%d figures (%s) in %s", len(written), formats, f.Out)
	if len(res.Skipped) > 0 {
		printf("; %d sources skipped", len(res.Skipped))
	}
	printLine()
	return nil
}
