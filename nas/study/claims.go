package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/multihw/multihw/hwcost"
)

// Verdict is the outcome of a claim under the study's decision rules.
type Verdict string

// Verdicts.
const (
	Held       Verdict = "held"
	NotHeld    Verdict = "not held"
	Unresolved Verdict = "not resolved"
)

// Position of a model relative to the Pareto front of one metric.
const (
	// OnFront: every other trained model is resolved worse on accuracy or
	// on cost, so nothing can dominate it.
	OnFront = "on"
	// OffFront: another model is resolved better on both accuracy and cost.
	OffFront = "off"
	// NearFront: neither (some model might dominate it within the noise).
	NearFront = "?"
)

// accOrder compares the accuracies of a and b: +1 when a is resolved more
// accurate (the difference exceeds Z standard errors and the NearAccuracy
// margin), −1 when resolved less accurate, 0 otherwise.
func (s *Summary) accOrder(a, b *ModelResult) int {
	d, se, ok := s.Compare(a, b)
	if !ok {
		return 0
	}
	margin := math.Max(s.Plan.Config.Rules.Z*se, s.Plan.Config.Rules.NearAccuracy/100)
	switch {
	case d > margin:
		return 1
	case d < -margin:
		return -1
	}
	return 0
}

// costOrder compares a's and b's latency on metric: +1 when a is resolved
// cheaper, −1 when resolved costlier, 0 otherwise (including the same
// architecture). With the cost model's draws an ordering is resolved when it
// holds in at least Rules.CostProbability of them; without draws, when the
// fitted latencies differ by more than Rules.CostTolerance (relative).
func (s *Summary) costOrder(a, b *ModelResult, metric string) int {
	if a.Unit != "" && a.Unit == b.Unit {
		return 0
	}
	r := s.Plan.Config.Rules
	if p, ok := s.below(a, b, metric); ok {
		switch {
		case p >= r.CostProbability:
			return 1
		case 1-p >= r.CostProbability:
			return -1
		}
		return 0
	}
	ca, cb := a.Cost[metric], b.Cost[metric]
	if !(ca > 0) || !(cb > 0) {
		return 0
	}
	switch rel := ca/cb - 1; {
	case rel < -r.CostTolerance:
		return 1
	case rel > r.CostTolerance:
		return -1
	}
	return 0
}

// Dominates reports whether b resolved-dominates a on metric: b is resolved
// more accurate and resolved cheaper.
func (s *Summary) Dominates(b, a *ModelResult, metric string) bool {
	return s.accOrder(b, a) == 1 && s.costOrder(b, a, metric) == 1
}

// FrontPosition places model a relative to the Pareto front of the trained
// models on metric: OnFront, OffFront (with the models that dominate it) or
// NearFront (with the models that might). Models of one architecture count
// once, under the first one's name (their unit).
func (s *Summary) FrontPosition(a *ModelResult, metric string) (pos string, by []string) {
	var maybe []string
	seen := map[string]bool{} // one model per architecture: the first of its unit
	for i := range s.Models {
		b := &s.Models[i]
		if b.Name == a.Name || !b.Trained() || (a.Unit != "" && b.Unit == a.Unit) || seen[b.Unit] {
			continue
		}
		seen[b.Unit] = true
		if s.Dominates(b, a, metric) {
			by = append(by, b.Name)
			continue
		}
		if s.accOrder(b, a) != -1 && s.costOrder(b, a, metric) != -1 {
			maybe = append(maybe, b.Name)
		}
	}
	switch {
	case len(by) > 0:
		return OffFront, by
	case len(maybe) == 0:
		return OnFront, nil
	}
	return NearFront, maybe
}

// Claim is one of the paper's claims judged on the study.
type Claim struct {
	Number    int     `json:"number"`
	Statement string  `json:"statement"`
	Verdict   Verdict `json:"verdict"`
	// Rule says how the verdict is decided; Reason what decided it here.
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// Header and Rows are the evidence as a table.
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// RulesText describes the decision rules the claims use, in sentences.
func (s *Summary) RulesText() []string {
	r := s.Plan.Config.Rules
	out := []string{
		fmt.Sprintf("Accuracy: the test accuracy of each model is the mean over its seeds; the standard error of a difference of two means is s_p·√(1/k_a + 1/k_b), with s_p the seed-to-seed SD pooled over all models with two or more seeds (%s). A difference is resolved when it exceeds %g standard errors%s; smaller differences are unresolved.",
			pooledText(s), r.Z, nearText(r)),
	}
	if s.Spread != nil {
		out = append(out, fmt.Sprintf("Cost: a latency ordering of two models on a metric (a target, AVG or MAX) is resolved when it holds in at least %.0f%% of %d parameter sets drawn from the cost models' fitted uncertainty (hwcost.Sensitivity, as `multihw cost sensitivity`; seed %d)%s.",
			100*r.CostProbability, s.Spread.Draws, s.Spread.Seed, priorText(s.Spread)))
	} else {
		out = append(out, fmt.Sprintf("Cost: without draws of the cost model's parameters (cost draws 0), a latency ordering is resolved when the fitted normalised latencies differ by more than %.0f%%: the cost model's own uncertainty is not included.",
			100*r.CostTolerance))
	}
	out = append(out,
		"Dominance: model B dominates model A on a metric when B is resolved more accurate and resolved cheaper. A model is *on* the Pareto front when every other trained model is resolved less accurate or resolved costlier; *off* it when another model dominates it; otherwise its position is not resolved (*?*).",
		"The comparisons are not corrected for multiplicity: with many pairs, a few resolved differences can come from noise.")
	return out
}

func priorText(sr *hwcost.SensitivityResult) string {
	out := ""
	if len(sr.Priors) > 0 {
		out += fmt.Sprintf("; %s drawn from prior widths (no fitted posterior)", strings.Join(sr.Priors, ", "))
	}
	if len(sr.Fixed) > 0 {
		out += fmt.Sprintf("; %s held fixed (not analytic)", strings.Join(sr.Fixed, ", "))
	}
	return out
}

func pooledText(s *Summary) string {
	if math.IsNaN(s.PooledSD) {
		return "unknown: no model has two seeds yet, so no difference is resolved"
	}
	return fmt.Sprintf("%.2f points with %d degrees of freedom", 100*s.PooledSD, s.PooledDF)
}

func nearText(r Rules) string {
	if r.NearAccuracy > 0 {
		return fmt.Sprintf(" and %.2f points (the margin of \"near\" the front)", r.NearAccuracy)
	}
	return ""
}

// models returns the trained models of a group that pass keep.
func (s *Summary) trained(keep func(*ModelResult) bool) []*ModelResult {
	var out []*ModelResult
	for i := range s.Models {
		if m := &s.Models[i]; m.Trained() && keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// positionCell is a table cell: the model's latency on metric (in bold when
// bold) and its position relative to the front.
func (s *Summary) positionCell(m *ModelResult, metric string, bold bool) (string, string) {
	pos, by := s.FrontPosition(m, metric)
	v := fmt.Sprintf("%.3f", m.Cost[metric])
	if bold {
		v = "**" + v + "**"
	}
	cell := v + " " + pos
	if pos == OffFront {
		cell += " (by " + strings.Join(shorten(by, 2), ", ") + ")"
	}
	return pos, cell
}

func shorten(names []string, n int) []string {
	if len(names) <= n {
		return names
	}
	return append(names[:n:n], fmt.Sprintf("+%d", len(names)-n))
}

// Claims judges the paper's three claims on the study (see RulesText):
//
//  1. One multi-hardware model is on or near the Pareto front on every
//     target at once, in the average and the worst case: held when some
//     multi-target searched model is on the front of every target, AVG and
//     MAX; not held when every one is off the front somewhere; otherwise
//     not resolved.
//  2. Single-hardware models are poor on the other targets: held when
//     every single-target model is off the front on at least one other
//     target; not held when one is on the front of every other target;
//     otherwise not resolved.
//  3. Multi-hardware search gives a better trade-off than single-hardware
//     search, compared at equal search budget (the single-target searches
//     against the multi-target searches at the T0 matched to the same
//     reference model): held when, on both AVG and MAX, a multi-target model
//     dominates a single-target one and none is dominated by one; not held
//     when on AVG or MAX a single-target model dominates a multi-target one
//     and none is dominated the other way; otherwise not resolved.
func (s *Summary) Claims() []Claim {
	return []Claim{s.claim1(), s.claim2(), s.claim3()}
}

func (s *Summary) claim1() Claim {
	c := Claim{Number: 1, Statement: "One multi-hardware model is on or near the accuracy-latency Pareto front on every target at once, in the average and in the worst case.",
		Rule: "Held when some multi-target searched model is *on* the front of every target, of AVG and of MAX; not held when every multi-target searched model is *off* the front of at least one of them; otherwise not resolved."}
	c.Header = append([]string{"model"}, s.Metrics...)
	cands := s.trained(func(m *ModelResult) bool { return m.Group == GroupMulti })
	var allOn []string
	allOff := len(cands) > 0
	for _, m := range cands {
		row := []string{m.Name}
		on, off := true, false
		for _, metric := range s.Metrics {
			pos, cell := s.positionCell(m, metric, false)
			row = append(row, cell)
			on = on && pos == OnFront
			off = off || pos == OffFront
		}
		if on {
			allOn = append(allOn, m.Name)
		}
		allOff = allOff && off
		c.Rows = append(c.Rows, row)
	}
	for _, m := range s.trained(func(m *ModelResult) bool { return m.Group == GroupReference }) {
		row := []string{m.Name + " (reference)"}
		for _, metric := range s.Metrics {
			_, cell := s.positionCell(m, metric, false)
			row = append(row, cell)
		}
		c.Rows = append(c.Rows, row)
	}
	switch {
	case len(cands) == 0:
		c.Verdict, c.Reason = Unresolved, "no multi-target searched model has been retrained yet"
	case len(allOn) > 0:
		c.Verdict, c.Reason = Held, fmt.Sprintf("%s on the front of all %d metrics", strings.Join(allOn, ", "), len(s.Metrics))
	case allOff:
		c.Verdict, c.Reason = NotHeld, fmt.Sprintf("each of the %d multi-target searched models is dominated on at least one metric", len(cands))
	default:
		c.Verdict, c.Reason = Unresolved, fmt.Sprintf("no multi-target searched model is resolved on the front of every metric, and at least one of the %d is nowhere resolved off it", len(cands))
	}
	return c
}

func (s *Summary) claim2() Claim {
	c := Claim{Number: 2, Statement: "Single-hardware models are poor on the other targets.",
		Rule: "Held when every single-target searched model is *off* the front of at least one target other than its own; not held when one is *on* the front of every other target; otherwise not resolved. The latency cells mark in bold a latency above the single-target searches' T0 (informational)."}
	c.Header = append([]string{"model (its target)"}, s.Targets...)
	cands := s.trained(func(m *ModelResult) bool { return m.Group == GroupSingle })
	allPoor := len(cands) > 0
	var transfers, poor []string
	for _, m := range cands {
		own := m.Search.Objective
		row := []string{fmt.Sprintf("%s (%s)", m.Name, own)}
		isPoor, onAll := false, true
		for _, t := range s.Targets {
			pos, cell := s.positionCell(m, t, m.Cost[t] > m.Search.T0Value)
			if t == own {
				cell += " (own)"
			} else {
				isPoor = isPoor || pos == OffFront
				onAll = onAll && pos == OnFront
			}
			row = append(row, cell)
		}
		if isPoor {
			poor = append(poor, m.Name)
		}
		if onAll {
			transfers = append(transfers, m.Name)
		}
		allPoor = allPoor && isPoor
		c.Rows = append(c.Rows, row)
	}
	switch {
	case len(cands) == 0:
		c.Verdict, c.Reason = Unresolved, "no single-target searched model has been retrained yet"
	case len(transfers) > 0:
		c.Verdict, c.Reason = NotHeld, fmt.Sprintf("%s on the front of every other target", strings.Join(transfers, ", "))
	case allPoor:
		c.Verdict, c.Reason = Held, fmt.Sprintf("all %d single-target models are dominated on another target", len(cands))
	default:
		c.Verdict, c.Reason = Unresolved, fmt.Sprintf("%d of %d single-target models are resolved off the front of another target%s; the others are neither off the front elsewhere nor on it everywhere", len(poor), len(cands), listText(poor))
	}
	return c
}

// equalBudget returns the multi-target models compared with the
// single-target ones in claim 3: those searched at the T0 matched to the
// single-target searches' reference model, or every multi-target model if
// there are none.
func (s *Summary) equalBudget() []*ModelResult {
	model, _, _ := strings.Cut(s.Plan.Config.SingleT0.Match, "@")
	m := s.trained(func(m *ModelResult) bool {
		return m.Group == GroupMulti && model != "" && strings.HasPrefix(m.Search.T0.Match, model)
	})
	if len(m) == 0 {
		m = s.trained(func(m *ModelResult) bool { return m.Group == GroupMulti })
	}
	return m
}

func (s *Summary) claim3() Claim {
	c := Claim{Number: 3, Statement: "Multi-hardware search gives a better accuracy-latency trade-off than single-hardware search.",
		Rule: "At equal search budget: the single-target searches against the multi-target searches at the T0 matched to the same reference model. Held when, on AVG and on MAX, some multi-target model dominates some single-target model and no single-target model dominates a multi-target one; not held when, on AVG or on MAX, a single-target model dominates a multi-target one and no multi-target model dominates a single-target one; otherwise not resolved."}
	c.Header = []string{"metric", "multi-target model", "single-target model", "accuracy difference (points ± SE)", "latency multi / single", "dominance"}
	multi := s.equalBudget()
	single := s.trained(func(m *ModelResult) bool { return m.Group == GroupSingle })
	if len(multi) == 0 || len(single) == 0 {
		c.Verdict, c.Reason = Unresolved, "the multi-target and single-target models have not both been retrained yet"
		return c
	}
	verdicts := map[string]int{}
	var reasons []string
	for _, metric := range []string{MetricAvg, MetricMax} {
		mDom, sDom := 0, 0
		for _, m := range multi {
			for _, sm := range single {
				d, se, _ := s.Compare(m, sm)
				dom := "none resolved"
				switch {
				case s.Dominates(m, sm, metric):
					dom, sDom = "multi dominates", sDom+1
				case s.Dominates(sm, m, metric):
					dom, mDom = "single dominates", mDom+1
				}
				c.Rows = append(c.Rows, []string{strings.ToUpper(metric), m.Name, sm.Name, fmt.Sprintf("%+.2f ± %.2f", 100*d, 100*se),
					fmt.Sprintf("%.3f / %.3f", m.Cost[metric], sm.Cost[metric]), dom})
			}
		}
		switch {
		case sDom > 0 && mDom == 0:
			verdicts[metric] = 1
		case mDom > 0 && sDom == 0:
			verdicts[metric] = -1
		}
		reasons = append(reasons, fmt.Sprintf("%s: %d pairs where a multi-target model dominates, %d where a single-target model does", strings.ToUpper(metric), sDom, mDom))
	}
	c.Reason = strings.Join(reasons, "; ")
	switch {
	case verdicts[MetricAvg] == 1 && verdicts[MetricMax] == 1:
		c.Verdict = Held
	case verdicts[MetricAvg] == -1 || verdicts[MetricMax] == -1:
		c.Verdict = NotHeld
	default:
		c.Verdict = Unresolved
	}
	return c
}

// listText is " (a, b)" for a non-empty list, "" otherwise.
func listText(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}
