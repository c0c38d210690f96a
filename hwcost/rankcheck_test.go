package hwcost

import (
	"strings"
	"testing"
)

// The committed parameters carry the published-rows check of FIT_REPORT.md,
// and a metric turns the targets that rank worse than MACs into caveats.
// Expected values (FIT_REPORT.md, "Published rows"): pixel7-gpu held out
// 0.821 against MACs' 0.964 on 7 rows, P(worse) 100% under their 0.1 ms
// rounding (worse beyond rounding); iphone13-ane 0.873 against 0.927, P(worse)
// 76% (unresolved); pixel4-dsp 0.937 against 0.901 (better); pixel4-cpu 0.943
// both (tie).
func TestRankCheckCaveats(t *testing.T) {
	ps := DefaultParams()
	for _, c := range []struct {
		target, verdict string
		rows            int
		held, macs      float64
		resolved        bool
	}{
		{"pixel7-gpu", RankWorse, 7, 0.821, 0.964, true},
		{"iphone13-ane", RankWorse, 7, 0.873, 0.927, false},
		{"pixel4-dsp", RankBetter, 7, 0.937, 0.901, true},
		{"pixel4-cpu", RankTie, 6, 0.943, 0.943, true},
	} {
		rc := ps.Ranking[c.target]
		if rc == nil {
			t.Errorf("%s: no rank check in params.json", c.target)
			continue
		}
		if rc.Verdict != c.verdict || rc.Rows != c.rows || !near3(rc.HeldOutSpearman, c.held) || !near3(rc.MACsSpearman, c.macs) ||
			(rc.Verdict == RankWorse && rc.Resolved() != c.resolved) {
			t.Errorf("%s: rank check %+v, want %s on %d rows, %.3f vs %.3f (resolved %v)", c.target, rc, c.verdict, c.rows, c.held, c.macs, c.resolved)
		}
	}
	if rc := ps.Ranking["coral-edgetpu"]; rc != nil {
		t.Errorf("coral-edgetpu has no published rows, yet a rank check %+v", rc)
	}

	m, err := NewMetric().Targets("pixel4-cpu", "pixel7-gpu", "pixel4-dsp", "iphone13-ane").Done()
	if err != nil {
		t.Fatal(err)
	}
	cv := m.Caveats()
	if len(cv) != 2 || !strings.HasPrefix(cv[0], "pixel7-gpu: ") || !strings.HasPrefix(cv[1], "iphone13-ane: ") {
		t.Fatalf("caveats %q, want pixel7-gpu's then iphone13-ane's", cv)
	}
	if !strings.Contains(cv[0], "worse than plain MACs when each is held out (Spearman 0.821 against 0.964, beyond the rows' 0.1 ms rounding)") ||
		!strings.Contains(cv[1], "below plain MACs when each is held out (Spearman 0.873 against 0.927), which the rows' 0.1 ms rounding leaves unresolved (P(worse) 76%)") {
		t.Errorf("caveats %q", cv)
	}
	for _, targets := range [][]string{{"paper"}, {"pixel7-gpu"}} {
		ps := DefaultParams()
		if targets[0] == "pixel7-gpu" {
			ps = PriorParams() // priors carry no check: nothing to say
		}
		m, err := NewMetric().Params(ps).Targets(targets...).Done()
		if err != nil {
			t.Fatal(err)
		}
		if cv := m.Caveats(); len(cv) != 0 {
			t.Errorf("%v (%s): caveats %q, want none", targets, ps.Note, cv)
		}
	}
	// A parameter set without one of the targets (a fit of the others, e.g.
	// `cost fit --hardware pixel4-cpu`) gives it its prior: said, not silent.
	part := DefaultParams().Clone()
	delete(part.Targets, "pixel4-dsp")
	delete(part.Posteriors, "pixel4-dsp")
	delete(part.Ranking, "pixel4-dsp")
	m, err = NewMetric().Params(part).Targets("paper").Done()
	if err != nil {
		t.Fatal(err)
	}
	if cv := m.Caveats(); len(cv) != 1 || !strings.HasPrefix(cv[0], "pixel4-dsp: the parameter set holds no fit of it, so its prior parameters stand in") {
		t.Errorf("a set without pixel4-dsp: caveats %q", cv)
	}
}

func near3(a, b float64) bool { return a-b < 0.0005 && b-a < 0.0005 }

// A rank check in a parameter file is validated like the rest of it.
func TestParamsRankingValidated(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*ParamSet)
		want string
	}{
		{"unknown target", func(ps *ParamSet) { ps.Ranking["no-such-target"] = ps.Ranking["pixel7-gpu"] }, "rank check of no-such-target"},
		{"null", func(ps *ParamSet) { ps.Ranking["pixel7-gpu"] = nil }, "rank check of pixel7-gpu: null"},
		{"verdict", func(ps *ParamSet) { ps.Ranking["pixel7-gpu"] = &RankCheck{Rows: 7, Verdict: "awful"} }, `unknown verdict "awful"`},
		{"rows", func(ps *ParamSet) { ps.Ranking["pixel7-gpu"] = &RankCheck{Rows: 1, Verdict: RankTie} }, "1 rows"},
		{"range", func(ps *ParamSet) {
			ps.Ranking["pixel7-gpu"] = &RankCheck{Rows: 7, HeldOutSpearman: 3, Verdict: RankTie}
		}, "got 3"},
		{"delta", func(ps *ParamSet) {
			ps.Ranking["pixel7-gpu"] = &RankCheck{Rows: 7, MeanDelta: -2.5, Verdict: RankWorse}
		}, "mean_delta"},
		{"p", func(ps *ParamSet) { ps.Ranking["pixel7-gpu"] = &RankCheck{Rows: 7, PWorse: 1.5, Verdict: RankWorse} }, "p_worse 1.5"},
	} {
		ps := DefaultParams().Clone()
		c.edit(ps)
		if _, err := ParseParams(ps.JSON()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
