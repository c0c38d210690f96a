package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
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
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	printRank(res)
	return nil
}

func printRank(res *tunas.RankResult) {
	printf("%-16s %-9s %7s %5s %9s %s\n", "architecture", "source", "T", "band", "one-shot", "stand-alone (test, per seed)")
	for _, a := range res.Archs {
		band := ""
		if a.InBand {
			band = "yes"
		}
		printf("%-16s %-9s %7.3f %5s %9.4f", a.Name, a.Source, a.T, band, a.OneShot)
		for _, v := range a.StandAlone {
			printf(" %.4f", v)
		}
		printLine()
	}
	f := fmtStat
	printf("n = %d: Kendall τ %s [%s, %s], Spearman %s [%s, %s] (95%% bootstrap intervals)\n", res.N,
		f(float64(res.KendallTau)), f(float64(res.KendallTauCI.Lo)), f(float64(res.KendallTauCI.Hi)),
		f(float64(res.Spearman)), f(float64(res.SpearmanCI.Lo)), f(float64(res.SpearmanCI.Hi)))
	printf("noise ceiling (τ between seeds 1 and 2, %d architectures): %s [%s, %s]; seed-to-seed SD %s\n", res.NoiseCeilingN,
		f(float64(res.NoiseCeilingTau)), f(float64(res.NoiseCeilingCI.Lo)), f(float64(res.NoiseCeilingCI.Hi)), f(float64(res.SeedSD)))
	printf("inside the ±%g cost band (%d architectures): τ %s [%s, %s]\n", res.Config.Band, res.BandN,
		f(float64(res.BandTau)), f(float64(res.BandCI.Lo)), f(float64(res.BandCI.Hi)))
	for _, r := range res.TopK {
		printf("top-%d regret: %s\n", r.K, f(float64(r.Regret)))
	}
	printf("%.0f s\n", res.Seconds)
}

// rankStudy is one `multihw search rank` output read for the report.
type rankStudy struct {
	name, dir string
	res       *tunas.RankResult
}

// rankGroupNames are the scatter plot's groups (plots.Scatter styles
// "search" red, "reference" grey; the others take the extra colours).
var rankGroupNames = map[string]string{"search": "search", "reference": "reference", "baseline": "baseline winners",
	"uniform": "uniform random", "band": "random in the cost band"}

// fmtStat formats a statistic that may be undefined ("n/a").
func fmtStat(v float64) string { return stats.Float(v).String() }

func fmtCI(ci stats.Interval) string {
	return "[" + fmtStat(float64(ci.Lo)) + ", " + fmtStat(float64(ci.Hi)) + "]"
}

// baselineSection writes the equal-budget comparison of every search that
// has baseline results: budgets, the winners' one-shot scores, and, where a
// ranking study of that search trained them, their stand-alone accuracies.
func baselineSection(b *strings.Builder, runs []tunas.Run, studies []rankStudy) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	header := false
	for _, s := range runs {
		var rows []tunas.BaselineResult
		for _, algo := range []string{tunas.AlgoRandom, tunas.AlgoEvolution} {
			var br tunas.BaselineResult
			if err := readJSONFile(filepath.Join(s.Dir, tunas.BaselineFile(algo)), &br); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				return err
			}
			if br.Best != nil && br.Controller != nil {
				rows = append(rows, br)
			}
		}
		if len(rows) == 0 {
			continue
		}
		if !header {
			p("## Equal-budget baselines\n\n")
			p("Random search and regularised evolution on each trained supernet, with as many reward evaluations as the controller made after its warm-up (unless the budget column says otherwise), each scored on the validation batch of the controller's evaluation of the same rank: the same data, batch size and noise. The winners and the controller's final architecture are rescored on the whole validation split (one-shot), and trained stand-alone where a ranking study of the search includes them.\n\n")
			header = true
		}
		var study *tunas.RankResult
		for _, st := range studies {
			if filepath.Clean(st.res.Supernet) == filepath.Clean(s.Dir) {
				study = st.res
			}
		}
		p("### %s\n\n| architecture | queries (controller's) | reward of its trial | one-shot (validation split) | T | stand-alone test accuracy |\n|---|---:|---:|---:|---:|---:|\n", s.Name)
		standAlone := func(name string) string {
			if study == nil {
				return "(no ranking study)"
			}
			a, ok := study.Arch(name)
			if !ok {
				return "(not in the study)"
			}
			return fmt.Sprintf("%.2f%% (%d seed(s))", 100*a.Mean, len(a.StandAlone))
		}
		c := rows[0].Controller
		p("| controller (final) | %d | | %.4f | %.3f | %s |\n", rows[0].ControllerEvaluations, c.QValidation, c.T, standAlone("final"))
		for _, br := range rows {
			p("| %s best | %d (%d) | %.4f | %.4f | %.3f | %s |\n", br.Config.Algo, br.Queries, br.ControllerEvaluations, br.Best.Reward, br.Best.QValidation, br.Best.T,
				standAlone(br.Config.Algo+"-best"))
		}
		p("\n")
		if study != nil {
			for _, br := range rows {
				d, se, ok := study.Compare("final", br.Config.Algo+"-best")
				if !ok {
					continue
				}
				verdict := "not resolved: within two standard errors of seed noise"
				if math.Abs(d) > 2*se {
					verdict = "resolved: beyond two standard errors of seed noise"
				}
				p("- Controller vs %s: %+.2f points of stand-alone test accuracy (standard error %.2f from the seed-to-seed SD): %s.\n", br.Config.Algo, 100*d, 100*se, verdict)
			}
			p("\n")
		}
	}
	return nil
}

// rankSection writes one subsection per ranking study: the statistics, the
// architectures, a one-shot vs stand-alone scatter plot, and the findings in
// plain sentences (tunas.RankResult.Findings).
func rankSection(b *strings.Builder, studies []rankStudy, figures bool, link func(name, caption string) string) ([]*plots.Figure, error) {
	if len(studies) == 0 {
		return nil, nil
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Ranking quality of the supernet\n\n")
	p("`multihw search rank`: N architectures of the search's space (its final one, MultiAVG/MAX as points of the space, the baselines' winners, uniform random ones and random ones within the cost band) scored by the trained supernet on the whole validation split (one-shot), then trained stand-alone at the search's proxy setting (dataset, proxy width, adaptation) and evaluated on the test split. Kendall's τ_b and Spearman's ρ between the two, with percentile bootstrap 95%% intervals over architectures; the noise ceiling is τ between two stand-alone seeds; top-k regret is the best stand-alone accuracy of all N minus the best among the k the supernet ranks highest.\n\n")
	p("| study | search | N | Kendall τ [95%% CI] | Spearman ρ [95%% CI] | noise ceiling τ (n) | seed SD (points) | τ in band (n) | top-1 / top-3 regret (points) | recipe |\n|---|---|---:|---|---|---|---:|---|---|---|\n")
	for _, st := range studies {
		r := st.res
		regret := map[int]string{1: "n/a", 3: "n/a"}
		for _, k := range r.TopK {
			regret[k.K] = fmt.Sprintf("%.2f", 100*float64(k.Regret))
		}
		length := fmt.Sprintf("%g epochs", r.Config.Recipe.Epochs)
		if r.Config.Recipe.Steps > 0 {
			length = fmt.Sprintf("%d steps", r.Config.Recipe.Steps)
		}
		p("| %s | %s | %d | %s %s | %s %s | %s %s (%d) | %s | %s %s (%d) | %s / %s | %s, %s, batch %d |\n", st.name, r.Supernet, r.N,
			fmtStat(float64(r.KendallTau)), fmtCI(r.KendallTauCI), fmtStat(float64(r.Spearman)), fmtCI(r.SpearmanCI),
			fmtStat(float64(r.NoiseCeilingTau)), fmtCI(r.NoiseCeilingCI), r.NoiseCeilingN, fmtStat(100*float64(r.SeedSD)),
			fmtStat(float64(r.BandTau)), fmtCI(r.BandCI), r.BandN, regret[1], regret[3],
			r.Config.Recipe.Optimizer, length, r.Config.Recipe.BatchSize)
	}
	p("\n")
	var figs []*plots.Figure
	for _, st := range studies {
		r := st.res
		p("### %s (%s)\n\n", st.name, st.dir)
		for _, f := range r.Findings() {
			p("- %s\n", f)
		}
		p("\n| architecture | source | T | in band | one-shot | stand-alone test (per seed) |\n|---|---|---:|---|---:|---|\n")
		groups := map[string]*plots.PointGroup{}
		var order []string
		for _, a := range r.Archs {
			seeds := make([]string, len(a.StandAlone))
			for i, v := range a.StandAlone {
				seeds[i] = fmt.Sprintf("%.2f%%", 100*v)
			}
			band := ""
			if a.InBand {
				band = "yes"
			}
			p("| %s | %s | %.3f | %s | %.2f%% | %s |\n", a.Name, a.Source, a.T, band, 100*a.OneShot, strings.Join(seeds, ", "))
			g, ok := groups[a.Source]
			if !ok {
				g = &plots.PointGroup{Name: rankGroupNames[a.Source]}
				if g.Name == "" {
					g.Name = a.Source
				}
				groups[a.Source] = g
				order = append(order, a.Source)
			}
			g.X, g.Y = append(g.X, 100*a.OneShot), append(g.Y, 100*a.Mean)
			label := ""
			if a.Source != "uniform" && a.Source != "band" {
				label = a.Name
			}
			g.Labels = append(g.Labels, label)
		}
		p("\n")
		if figures {
			d := plots.ScatterData{Name: "rank_" + st.name, Title: fmt.Sprintf("%s: one-shot vs stand-alone accuracy (τ %s)", st.name, fmtStat(float64(r.KendallTau))),
				XLabel: "one-shot accuracy, validation split (%)", YLabel: "stand-alone test accuracy, mean over seeds (%)"}
			for _, src := range order {
				d.Groups = append(d.Groups, *groups[src])
			}
			f, err := plots.Scatter(d)
			if err != nil {
				return nil, err
			}
			figs = append(figs, f)
			p("%s", link(f.Name, st.name+": one-shot vs stand-alone accuracy"))
		}
	}
	return figs, nil
}
