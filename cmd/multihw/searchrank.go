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
	var f tunas.RankFlags
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := f.Config(fs)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	r := tunas.NewRank(f.Supernet, cfg).Progress(os.Stderr)
	if f.Out != "" {
		r = r.Out(f.Out)
	}
	res, err := r.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; run the same command again to resume: %w", err)
		}
		return err
	}
	return emit(f.JSON, res, res.Summary)
}
