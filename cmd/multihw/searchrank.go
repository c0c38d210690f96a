package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/multihw/multihw/nas/tunas"
)

func init() {
	register(&command{name: "search rank", summary: "ranking quality of a trained supernet: one-shot vs stand-alone accuracy of N architectures (Kendall τ, Spearman, noise ceiling, top-k regret)", run: runSearchRank})
}

func runSearchRank(args []string) error {
	fs := newFlags("search rank", "--supernet DIR [--archs N] [--seeds S] [--repeated K] [--band B] [--epochs E | --steps N] [--out DIR] [--quick] [--json]")
	def := tunas.DefaultRank()
	supernetDir := fs.String("supernet", "", "output directory of a finished search (`multihw search --out`)")
	archs := fs.Int("archs", def.Archs, "architectures: the search's final one, MultiAVG/MAX if in the space, the baselines' winners (baseline-*.json), then uniform and in-band random ones (at least 4)")
	seeds := fs.Int("seeds", def.Seeds, "stand-alone seeds of the repeated architectures (the noise ceiling needs 2)")
	repeated := fs.Int("repeated", 0, "architectures trained with every seed (default: a third of --archs, at least 4)")
	band := fs.Float64("band", def.Band, "cost band |T/T0 - 1| <= B of the in-band random architectures and of τ inside the band")
	epochs := fs.Float64("epochs", def.Recipe.Epochs, "stand-alone training epochs (train.DefaultRecipe)")
	steps := fs.Int("steps", 0, "stand-alone training steps (overrides --epochs)")
	seed := fs.Uint64("seed", def.Seed, "seed of the random architectures and of the bootstrap")
	out := fs.String("out", "", "output directory (default: SUPERNET/rank); rerun the same command to resume")
	quick := fs.Bool("quick", false, "smoke run: 4 architectures, 2 seeds each, 40 training steps")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if *supernetDir == "" {
		return fmt.Errorf("search rank needs --supernet DIR (the output directory of a finished search)")
	}
	cfg := def
	if *quick {
		cfg = cfg.Quick()
	}
	for name, apply := range map[string]func(){
		"archs":    func() { cfg.Archs = *archs },
		"seeds":    func() { cfg.Seeds = *seeds },
		"repeated": func() { cfg.Repeated = *repeated },
		"band":     func() { cfg.Band = *band },
		"epochs":   func() { cfg.Recipe.Epochs, cfg.Recipe.Steps = *epochs, 0 },
		"steps":    func() { cfg.Recipe.Steps = *steps },
		"seed":     func() { cfg.Seed = *seed },
	} {
		if set[name] {
			apply()
		}
	}
	if *quick && set["archs"] && !set["repeated"] {
		cfg.Repeated = 0 // a third of the given number
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	r := tunas.NewRank(*supernetDir, cfg).Progress(os.Stderr)
	if *out != "" {
		r = r.Out(*out)
	}
	res, err := r.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; run the same command again to resume: %w", err)
		}
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s", res.Summary())
	return nil
}
