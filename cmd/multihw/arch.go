package main

import (
	"github.com/multihw/multihw/blocks"
)

func init() {
	register(&command{name: "models", summary: "list the reference models with MACs and params", run: runModels})
	register(&command{name: "arch", summary: "print an architecture's layer table and totals", run: runArch})
}

func runModels(args []string) error {
	fs := newFlags("models", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	rows, err := blocks.ModelRows()
	if err != nil {
		return err
	}
	return emit(*asJSON, rows, blocks.ModelTable(rows).Text)
}

func runArch(args []string) error {
	fs := newFlags("arch", "--model NAME | --spec FILE [--width W] [--resolution R] [--classes C] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	asJSON := fs.Bool("json", false, "print JSON")
	text := fs.Bool("text", false, "print the architecture's text form instead of the layer table")
	if err := parse(fs, args); err != nil {
		return err
	}
	arch, err := af.Load()
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
