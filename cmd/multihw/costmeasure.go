package main

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/measure"
)

func init() {
	register(&command{name: "cost measure", summary: "time real inference of models and their blocks here; build the `local` lookup table (--check: 5-model accuracy report)", run: runCostMeasure})
}

func runCostMeasure(args []string) error {
	fs := newFlags("cost measure", "--model NAME[,NAME...] | --spec FILE | --check [--resolution R] [--width W] [--backend B] [--table FILE] [--runs N] [--warmup N] [--remeasure] [--stat S] [--repeat N] [--report FILE] [--segments] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	var mf measure.Flags
	mf.Register(fs, "multihw cost measure "+strings.Join(args, " "))
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.Prepare(&af); err != nil {
		return err
	}
	res, err := mf.Job.Run()
	if err != nil {
		return err
	}
	if *asJSON {
		err = printJSON(res)
	} else {
		err = res.WriteText(stdout, mf.Segments)
	}
	if err != nil {
		return err
	}
	if res.Passed != nil && !*res.Passed {
		return fmt.Errorf("check failed: a held-out error above %.0f%% (see %s)", 100*mf.Job.Tolerance, res.Report)
	}
	return nil
}
