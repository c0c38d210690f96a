package main

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/measure"
)

func init() {
	register(&command{name: "cost adapt", summary: "fit an analytic target to N measured architectures of a new device (benchmark column or `cost measure` table); score it on the rest; write a target file", run: runCostAdapt})
}

func runCostAdapt(args []string) error {
	fs := newFlags("cost adapt", "--data FILE|NAME|local --device COLUMN --train N [--seed S] [--name NAME] [--out TARGET.json] [--json]")
	data := fs.String("data", "", "embedded benchmark table ("+strings.Join(devicedata.LatencyNames(), ", ")+"), a CSV of the same format, "+
		"\"local\" (the whole-model timings of `multihw cost measure` for the current backend) or a `cost measure` table (.json)")
	device := fs.String("device", "", "device column (exact name, or a substring matching one column); not used with local tables")
	train := fs.Int("train", 10, "number of measured architectures to fit on, drawn at random with --seed; the others are the test set")
	seed := fs.Uint64("seed", 1, "seed of the draw")
	name := fs.String("name", "", "name of the fitted target (default adapted-<column>)")
	out := fs.String("out", "", "write the fitted target here (JSON), usable as `multihw cost --hardware FILE` and `multihw search --targets FILE`")
	asJSON := fs.Bool("json", false, "print JSON: spearman, mape, within10, n_train, n_test, params, ...")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("missing --data (one of %s, a CSV path, local, or a `cost measure` table)", strings.Join(devicedata.LatencyNames(), ", "))
	}
	cfg := hwcost.AdaptConfig{Data: *data, Device: *device, Train: *train, Seed: *seed, Name: *name}
	var res *hwcost.AdaptResult
	var err error
	if *data == "local" || strings.HasSuffix(*data, ".json") {
		res, err = measure.Adapt(*data, cfg)
	} else {
		if *device == "" {
			d, err := devicedata.Open(*data)
			if err != nil {
				return err
			}
			return fmt.Errorf("missing --device; columns of %s: %s", *data, strings.Join(d.Table().Columns(), ", "))
		}
		res, err = hwcost.Adapt(cfg)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		if err := res.Target.Save(*out); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s", res.Summary())
	if *out != "" {
		printf("wrote target %s to %s (use it as --hardware %s)\n", res.Target.Target, *out, *out)
	}
	return nil
}
