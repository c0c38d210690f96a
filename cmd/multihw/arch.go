package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/multihw/multihw/blocks"
)

func init() {
	register(&command{name: "models", summary: "list the reference models with MACs and params", run: runModels})
	register(&command{name: "arch", summary: "print an architecture's layer table and totals", run: runArch})
}

type modelRow struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Resolution  int     `json:"resolution"`
	Classes     int     `json:"classes"`
	MACs        int64   `json:"macs"`
	Params      int64   `json:"params"`
	Published   string  `json:"published_source"`
	PubMACs     float64 `json:"published_macs"`
	PubParams   float64 `json:"published_params"`
}

func runModels(args []string) error {
	fs := newFlags("models", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var rows []modelRow
	for _, r := range blocks.References {
		a := r.Arch()
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			return err
		}
		rows = append(rows, modelRow{Name: r.Name, Description: r.Description, Resolution: a.Resolution, Classes: a.Classes,
			MACs: an.MACs, Params: an.Params, Published: r.Source, PubMACs: r.PublishedMACs, PubParams: r.PublishedParams})
	}
	if *asJSON {
		return printJSON(rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\tinput\tclasses\tMACs (M)\tparams (M)\tpublished MACs / params\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.3f\t%.1f M / %.3f M\n", r.Name, r.Resolution, r.Classes,
			float64(r.MACs)/1e6, float64(r.Params)/1e6, r.PubMACs/1e6, r.PubParams/1e6)
	}
	return tw.Flush()
}

func runArch(args []string) error {
	fs := newFlags("arch", "--model NAME | --spec FILE [--width W] [--resolution R] [--classes C] [--json]")
	var af archFlags
	af.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	text := fs.Bool("text", false, "print the architecture's text form instead of the layer table")
	if err := parse(fs, args); err != nil {
		return err
	}
	arch, err := af.load()
	if err != nil {
		return err
	}
	if *text {
		printf("%s", arch.String())
		return nil
	}
	an, err := blocks.Analyze(arch, 0)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(struct {
			*blocks.Analysis
			Arch *blocks.Arch `json:"arch"`
		}{an, arch})
	}
	printf("%s", arch.String())
	printLine()
	return an.WriteTable(stdout)
}
