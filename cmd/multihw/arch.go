package main

import (
	"errors"
	"strings"

	"github.com/multihw/multihw/blocks"
)

func init() {
	register(&command{name: "models", summary: "list the reference models with MACs and params", run: runModels})
	register(&command{name: "arch", summary: "print an architecture's text form with its layer table and totals as comments (a spec file as it stands)", run: runArch})
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
	fs := newFlags("arch", "--model NAME | --spec FILE [--width W] [--resolution R] [--classes C] [--text | --json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	asJSON := fs.Bool("json", false, "print JSON")
	text := fs.Bool("text", false, "print the architecture's text form alone, without the layer table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *text && *asJSON {
		return errors.New("--text and --json are two output forms: give one")
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
	// The table and totals as comments: the whole output reads back as the
	// same architecture (`multihw arch --model M > my.txt`, edit, --spec).
	var tb strings.Builder
	if err := an.WriteTable(&tb); err != nil {
		return err
	}
	printf("%s#\n", arch.String())
	for line := range strings.Lines(tb.String()) {
		if line = strings.TrimRight(line, " \n"); line == "" {
			printLine("#")
		} else {
			printLine("# " + line)
		}
	}
	return nil
}
