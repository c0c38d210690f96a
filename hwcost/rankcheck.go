package hwcost

import (
	"fmt"
	"math"
)

// RankCheck is how a fitted target orders its published rows when each is
// held out (leave one model out), against plain MACs: the check of
// FIT_REPORT.md's "Published rows" table, kept in params.json so that
// `multihw cost` and `multihw search` can say where a target's model orders
// architectures less reliably than MACs would (Metric.Caveats).
type RankCheck struct {
	Rows            int     `json:"rows"`
	HeldOutSpearman float64 `json:"held_out_spearman"`
	MACsSpearman    float64 `json:"macs_spearman"`
	// Verdict is better, tie or worse: the held-out ρ against MACs' ρ,
	// rankTie apart.
	Verdict string `json:"verdict"`
	// For a worse verdict on rows rounded to RoundingMs: PWorse is the
	// share of draws of the true latencies within the rounding in which the
	// model ranks worse than MACs, MeanDelta the mean difference of the ρs
	// (RoundingOrder); below resolvedP the rows cannot tell the two apart.
	RoundingMs float64 `json:"rounding_ms,omitempty"`
	PWorse     float64 `json:"p_worse,omitempty"`
	MeanDelta  float64 `json:"mean_delta,omitempty"`
}

// rankTie is the difference of Spearman ρs below which the verdict is a tie.
const rankTie = 0.005

// Verdicts of a RankCheck.
const (
	RankBetter = "better"
	RankTie    = "tie"
	RankWorse  = "worse"
)

// rankCheck returns t's RankCheck, or nil when either ρ is undefined (no
// published rows, or fewer than two).
func (t *TargetFit) rankCheck() *RankCheck {
	if math.IsNaN(t.HeldOut.Spearman) || math.IsNaN(t.MACs.Spearman) {
		return nil
	}
	rc := &RankCheck{Rows: len(t.Rows), HeldOutSpearman: t.HeldOut.Spearman, MACsSpearman: t.MACs.Spearman, Verdict: RankTie}
	switch d := t.HeldOut.Spearman - t.MACs.Spearman; {
	case d > rankTie:
		rc.Verdict = RankBetter
	case d < -rankTie:
		rc.Verdict = RankWorse
		var held, macs, y []float64
		for _, r := range t.Rows {
			held = append(held, r.HeldOutMs)
			macs = append(macs, r.MACsHeldOutMs)
			y = append(y, r.MeasuredMs)
		}
		if rc.RoundingMs = Resolution(y); rc.RoundingMs > 0 {
			rc.PWorse, rc.MeanDelta = RoundingOrder(held, macs, y, rc.RoundingMs, roundingDraws)
		}
	}
	return rc
}

// Resolved reports whether a worse verdict holds beyond the rows' rounding
// (always, for rows that are not rounded).
func (rc *RankCheck) Resolved() bool {
	return rc.RoundingMs == 0 || rc.PWorse >= resolvedP
}

// Validate checks the figures a parameter file holds.
func (rc *RankCheck) Validate() error {
	for _, v := range []float64{rc.HeldOutSpearman, rc.MACsSpearman} {
		if !(v >= -1 && v <= 1) {
			return fmt.Errorf("rank check: a Spearman ρ must be in [-1, 1], got %g", v)
		}
	}
	if !(rc.MeanDelta >= -2 && rc.MeanDelta <= 2) {
		return fmt.Errorf("rank check: mean_delta (a difference of ρs) must be in [-2, 2], got %g", rc.MeanDelta)
	}
	if rc.Rows < 2 {
		return fmt.Errorf("rank check: %d rows, want at least 2", rc.Rows)
	}
	if !(rc.PWorse >= 0 && rc.PWorse <= 1) || !(rc.RoundingMs >= 0 && rc.RoundingMs <= 1) {
		return fmt.Errorf("rank check: p_worse %g must be in [0, 1] and rounding_ms %g in [0, 1]", rc.PWorse, rc.RoundingMs)
	}
	switch rc.Verdict {
	case RankBetter, RankTie, RankWorse:
		return nil
	}
	return fmt.Errorf("rank check: unknown verdict %q (want %s, %s or %s)", rc.Verdict, RankBetter, RankTie, RankWorse)
}

// caveat says, for a target whose model ranks its held-out rows worse than
// MACs, what that means for its latencies; "" otherwise.
func (rc *RankCheck) caveat(target string) string {
	if rc == nil || rc.Verdict != RankWorse {
		return ""
	}
	var how string
	switch {
	case rc.RoundingMs > 0 && rc.Resolved():
		how = fmt.Sprintf("worse than plain MACs when each is held out (Spearman %.3f against %.3f, beyond the rows' %g ms rounding)",
			rc.HeldOutSpearman, rc.MACsSpearman, rc.RoundingMs)
	case rc.RoundingMs > 0:
		how = fmt.Sprintf("below plain MACs when each is held out (Spearman %.3f against %.3f), which the rows' %g ms rounding "+
			"leaves unresolved (P(worse) %.0f%%)", rc.HeldOutSpearman, rc.MACsSpearman, rc.RoundingMs, 100*rc.PWorse)
	default:
		how = fmt.Sprintf("worse than plain MACs when each is held out (Spearman %.3f against %.3f)", rc.HeldOutSpearman, rc.MACsSpearman)
	}
	return fmt.Sprintf("%s: its model ranks the target's %d published models %s, so the order it gives architectures is less "+
		"certain than its latencies suggest (hwcost/FIT_REPORT.md)", target, rc.Rows, how)
}

// Caveats returns, for the metric's built-in targets whose fitted model
// ranks its published rows worse than plain MACs held out (RankCheck), or
// which the parameter set did not fit (their priors stood in), one sentence
// each, in the metric's target order.
func (m *Metric) Caveats() []string {
	var out []string
	for _, t := range m.targets {
		a, ok := t.(*Analytic)
		if !ok {
			continue
		}
		if a.unfitted {
			out = append(out, fmt.Sprintf("%s: the parameter set holds no fit of it, so its prior parameters stand in "+
				"(not fitted to any measurement; refit it, or use the embedded parameters)", t.Name()))
		}
		if c := a.rank.caveat(t.Name()); c != "" {
			out = append(out, c)
		}
	}
	return out
}
