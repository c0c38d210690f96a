package figset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/report"
)

// rankStudy is one `multihw search rank` output read for the report.
type rankStudy struct {
	name, dir string
	res       *tunas.RankResult
}

func readRanks(ranks []NamedDir) ([]rankStudy, error) {
	var studies []rankStudy
	for _, r := range ranks {
		res, err := tunas.ReadRank(filepath.Join(r.Dir, tunas.RankResultFile))
		if err != nil {
			return nil, err
		}
		studies = append(studies, rankStudy{name: r.Name, dir: r.Dir, res: res})
	}
	return studies, nil
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

// baselineResults reads the random and evolution baselines of the search in
// dir that have a winner and the controller's architecture.
func baselineResults(dir string) ([]tunas.BaselineResult, error) {
	var rows []tunas.BaselineResult
	for _, algo := range []string{tunas.AlgoRandom, tunas.AlgoEvolution} {
		var br tunas.BaselineResult
		if err := readJSONFile(filepath.Join(dir, tunas.BaselineFile(algo)), &br); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if br.Best != nil && br.Controller != nil {
			rows = append(rows, br)
		}
	}
	return rows, nil
}

// baselines writes the equal-budget comparison of every search that has
// baseline results: budgets, the winners' one-shot scores, and, where a
// ranking study of that search trained them, their stand-alone accuracies.
func (r *searchReport) baselines(runs []tunas.Run, studies []rankStudy) error {
	header := false
	for _, s := range runs {
		rows, err := baselineResults(s.Dir)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			continue
		}
		if !header {
			r.d.Heading(2, "Equal-budget baselines")
			r.d.Printf("Random search and regularised evolution on each trained supernet, with as many reward evaluations as the controller made after its warm-up (unless the budget column says otherwise), each scored on the validation batch of the controller's evaluation of the same rank: the same data, batch size and noise. The winners and the controller's final architecture are rescored on the whole validation split (one-shot), and trained stand-alone where a ranking study of the search includes them.\n\n")
			header = true
		}
		var rank *tunas.RankResult
		for _, st := range studies {
			if filepath.Clean(st.res.Supernet) == filepath.Clean(s.Dir) {
				rank = st.res
			}
		}
		r.baselineTable(s.Name, rows, rank)
	}
	return nil
}

// baselineTable writes one search's baselines against its controller, and
// the differences a ranking study resolves.
func (r *searchReport) baselineTable(name string, rows []tunas.BaselineResult, rank *tunas.RankResult) {
	r.d.Heading(3, "%s", name)
	standAlone := func(arch string) string {
		if rank == nil {
			return "(no ranking study)"
		}
		a, ok := rank.Arch(arch)
		if !ok {
			return "(not in the study)"
		}
		return fmt.Sprintf("%.2f%% (%d seed(s))", 100*a.Mean, len(a.StandAlone))
	}
	tb := report.NewTable("architecture", "queries (controller's)", "reward of its trial", "one-shot (validation split)", "T",
		"stand-alone test accuracy").RightFrom(1)
	c := rows[0].Controller
	tb.Row("controller (final)", fmt.Sprint(rows[0].ControllerEvaluations), "", fmt.Sprintf("%.4f", c.QValidation), fmt.Sprintf("%.3f", c.T), standAlone("final"))
	for _, br := range rows {
		tb.Row(br.Config.Algo+" best", fmt.Sprintf("%d (%d)", br.Queries, br.ControllerEvaluations), fmt.Sprintf("%.4f", br.Best.Reward),
			fmt.Sprintf("%.4f", br.Best.QValidation), fmt.Sprintf("%.3f", br.Best.T), standAlone(br.Config.Algo+"-best"))
	}
	r.d.Table(tb)
	r.d.Printf("\n")
	if rank == nil {
		return
	}
	for _, br := range rows {
		d, se, ok := rank.Compare("final", br.Config.Algo+"-best")
		if !ok {
			continue
		}
		verdict := "not resolved: within two standard errors of seed noise"
		if math.Abs(d) > 2*se {
			verdict = "resolved: beyond two standard errors of seed noise"
		}
		r.d.Printf("- Controller vs %s: %+.2f points of stand-alone test accuracy (standard error %.2f from the seed-to-seed SD): %s.\n", br.Config.Algo, 100*d, 100*se, verdict)
	}
	r.d.Printf("\n")
}

// ranks writes one subsection per ranking study: the statistics, the
// architectures, a one-shot vs stand-alone scatter plot, and the findings in
// plain sentences (tunas.RankResult.Findings).
func (r *searchReport) ranks(studies []rankStudy) error {
	if len(studies) == 0 {
		return nil
	}
	r.d.Heading(2, "Ranking quality of the supernet")
	r.d.Printf("`multihw search rank`: N architectures of the search's space (its final one, MultiAVG/MAX as points of the space, the baselines' winners, uniform random ones and random ones within the cost band) scored by the trained supernet on the whole validation split (one-shot), then trained stand-alone at the search's proxy setting (dataset, proxy width, adaptation) and evaluated on the test split. Kendall's τ_b and Spearman's ρ between the two, with percentile bootstrap 95%% intervals over architectures; the noise ceiling is τ between two stand-alone seeds; top-k regret is the best stand-alone accuracy of all N minus the best among the k the supernet ranks highest.\n\n")
	tb := report.NewTable("study", "search", "N", "Kendall τ [95% CI]", "Spearman ρ [95% CI]", "noise ceiling τ (n)", "seed SD (points)",
		"τ in band (n)", "top-1 / top-3 regret (points)", "recipe").RightFrom(2).Left(3, 4, 5, 7, 8, 9)
	for _, st := range studies {
		res := st.res
		regret := map[int]string{1: "n/a", 3: "n/a"}
		for _, k := range res.TopK {
			regret[k.K] = fmt.Sprintf("%.2f", 100*float64(k.Regret))
		}
		length := fmt.Sprintf("%g epochs", res.Config.Recipe.Epochs)
		if res.Config.Recipe.Steps > 0 {
			length = fmt.Sprintf("%d steps", res.Config.Recipe.Steps)
		}
		tb.Row(st.name, res.Supernet, fmt.Sprint(res.N), fmtStat(float64(res.KendallTau))+" "+fmtCI(res.KendallTauCI),
			fmtStat(float64(res.Spearman))+" "+fmtCI(res.SpearmanCI),
			fmt.Sprintf("%s %s (%d)", fmtStat(float64(res.NoiseCeilingTau)), fmtCI(res.NoiseCeilingCI), res.NoiseCeilingN), fmtStat(100*float64(res.SeedSD)),
			fmt.Sprintf("%s %s (%d)", fmtStat(float64(res.BandTau)), fmtCI(res.BandCI), res.BandN), regret[1]+" / "+regret[3],
			fmt.Sprintf("%s, %s, batch %d", res.Config.Recipe.Optimizer, length, res.Config.Recipe.BatchSize))
	}
	r.d.Table(tb)
	r.d.Printf("\n")
	for _, st := range studies {
		if err := r.rankStudy(st); err != nil {
			return err
		}
	}
	return nil
}

// rankStudy writes one ranking study's findings, its architectures and the
// one-shot vs stand-alone scatter plot.
func (r *searchReport) rankStudy(st rankStudy) error {
	res := st.res
	r.d.Heading(3, "%s (%s)", st.name, st.dir)
	for _, f := range res.Findings() {
		r.d.Printf("- %s\n", f)
	}
	r.d.Printf("\n")
	tb := report.NewTable("architecture", "source", "T", "in band", "one-shot", "stand-alone test (per seed)").RightFrom(2).Left(3, 5)
	groups := map[string]*plots.PointGroup{}
	var order []string
	for _, a := range res.Archs {
		seeds := make([]string, len(a.StandAlone))
		for i, v := range a.StandAlone {
			seeds[i] = fmt.Sprintf("%.2f%%", 100*v)
		}
		band := ""
		if a.InBand {
			band = "yes"
		}
		tb.Row(a.Name, a.Source, fmt.Sprintf("%.3f", a.T), band, fmt.Sprintf("%.2f%%", 100*a.OneShot), strings.Join(seeds, ", "))
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
	r.d.Table(tb)
	r.d.Printf("\n")
	if !r.figures() {
		return nil
	}
	d := plots.ScatterData{Name: "rank_" + st.name, Title: fmt.Sprintf("%s: one-shot vs stand-alone accuracy (τ %s)", st.name, fmtStat(float64(res.KendallTau))),
		XLabel: "one-shot accuracy, validation split (%)", YLabel: "stand-alone test accuracy, mean over seeds (%)"}
	for _, src := range order {
		d.Groups = append(d.Groups, *groups[src])
	}
	f, err := plots.Scatter(d)
	if err != nil {
		return err
	}
	r.add(f, st.name+": one-shot vs stand-alone accuracy")
	return nil
}
