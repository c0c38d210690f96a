package measure

import (
	"fmt"
	"math"
	"slices"

	"github.com/multihw/multihw/blocks"

	"github.com/multihw/multihw/internal/stats"
)

// The sum of a model's segment timings differs from its whole-model timing by
// what the segments timed alone pay and the whole model does not, or the other
// way round: one graph call per segment (dispatch, variable and buffer
// handling) against one per model, and whatever else is constant per inference.
// The per-call cost is measured directly (a trivial graph, Table.CallOverhead);
// the rest is one constant fitted to the whole-model timings.

// FitOverhead fits the table's Overhead on the whole-model entries with the
// given keys (all entries when none are given) and returns it (the table is
// not changed): PerSegmentMs = −CallOverhead, and FixedMs the mean of
// measured − Σ (segment + PerSegmentMs) over the models, all timings taken
// with the table's statistic (Table.Stat). Without any
// whole-model entry FixedMs is the call overhead (one call per inference).
func (t *Table) FitOverhead(keys ...string) (Overhead, error) {
	if len(keys) == 0 {
		keys = t.ModelKeys()
	}
	call := t.CallOverhead.Value(t.Stat)
	o := Overhead{PerSegmentMs: -call, FixedMs: call}
	if len(keys) == 0 {
		return o, nil
	}
	var sum float64
	for _, k := range keys {
		r, err := t.residual(k, o.PerSegmentMs)
		if err != nil {
			return Overhead{}, err
		}
		sum += r
	}
	o.FixedMs = sum / float64(len(keys))
	o.Models = slices.Clone(keys)
	slices.Sort(o.Models)
	return o, nil
}

// residual is measured − Σ (segment + perSeg) of model k.
func (t *Table) residual(k string, perSeg float64) (float64, error) {
	e, ok := t.Models[k]
	if !ok {
		return 0, fmt.Errorf("measured table: no whole-model measurement %q (have: %v)", k, t.ModelKeys())
	}
	sum, n, err := t.SumMs(e.Arch)
	if err != nil {
		return 0, err
	}
	return e.Timing.Value(t.Stat) - (sum + float64(n)*perSeg), nil
}

// ModelFit compares the table's prediction of one model with its whole-model timing.
type ModelFit struct {
	Model      string `json:"model"`
	Name       string `json:"name"`
	Resolution int    `json:"resolution"`
	Segments   int    `json:"segments"`
	// Stat is the statistic of MeasuredMs, SumMs and the predictions.
	Stat Stat `json:"stat"`
	// MeasuredMs is the whole model's timing (statistic Stat), MedianMs its
	// median, Spread its (Q3−Q1)/median.
	MeasuredMs float64 `json:"measured_ms"`
	MedianMs   float64 `json:"median_ms"`
	Spread     float64 `json:"spread"`
	// SumMs is the sum of the segment timings, SegmentSpread the median of the
	// segments' spreads.
	SumMs         float64 `json:"sum_ms"`
	SegmentSpread float64 `json:"segment_spread"`
	// PredictedMs uses the overhead fitted on all evaluated models, HeldOutMs
	// the overhead fitted on the others (leave one model out).
	PredictedMs float64 `json:"predicted_ms"`
	HeldOutMs   float64 `json:"held_out_ms"`
	// Err and HeldOutErr are predicted/measured − 1.
	Err        float64 `json:"err"`
	HeldOutErr float64 `json:"held_out_err"`
}

// Evaluation is the accuracy of the summed table on whole-model timings.
type Evaluation struct {
	// Stat is the statistic of the timings compared.
	Stat Stat `json:"stat"`
	// Overhead is fitted on all evaluated models.
	Overhead Overhead   `json:"overhead"`
	Models   []ModelFit `json:"models"`
	// MaxAbsErr and MaxAbsHeldOutErr are the worst |Err| and |HeldOutErr|;
	// MedianAbsHeldOutErr the median |HeldOutErr|.
	MaxAbsErr           float64 `json:"max_abs_err"`
	MaxAbsHeldOutErr    float64 `json:"max_abs_held_out_err"`
	MedianAbsHeldOutErr float64 `json:"median_abs_held_out_err"`
}

// Evaluate fits the overhead on the whole-model entries with the given keys
// (all when none) and predicts each of them in sample and held out (overhead
// fitted on the other models; with a single model the held-out prediction uses
// the unfitted overhead, one call per inference).
func (t *Table) Evaluate(keys ...string) (*Evaluation, error) {
	if len(keys) == 0 {
		keys = t.ModelKeys()
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("measured table: no whole-model measurements to evaluate")
	}
	all, err := t.FitOverhead(keys...)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{Stat: t.Stat, Overhead: all}
	var absHeld []float64
	for _, k := range keys {
		e := t.Models[k]
		sum, n, err := t.SumMs(e.Arch)
		if err != nil {
			return nil, err
		}
		others := slices.DeleteFunc(slices.Clone(keys), func(s string) bool { return s == k })
		held := Overhead{PerSegmentMs: all.PerSegmentMs, FixedMs: t.CallOverhead.Value(t.Stat)}
		if len(others) > 0 {
			if held, err = t.FitOverhead(others...); err != nil {
				return nil, err
			}
		}
		var spreads []float64
		for _, s := range e.Segments {
			spreads = append(spreads, t.Segments[s].Timing.Spread())
		}
		f := ModelFit{Model: k, Name: e.Arch.Name, Resolution: e.Arch.Resolution, Segments: n, Stat: t.Stat,
			MeasuredMs: e.Timing.Value(t.Stat), MedianMs: e.Timing.MedianMs, Spread: e.Timing.Spread(), SumMs: sum, SegmentSpread: stats.Median(spreads),
			PredictedMs: all.FixedMs + sum + float64(n)*all.PerSegmentMs,
			HeldOutMs:   held.FixedMs + sum + float64(n)*held.PerSegmentMs}
		f.Err = f.PredictedMs/f.MeasuredMs - 1
		f.HeldOutErr = f.HeldOutMs/f.MeasuredMs - 1
		ev.MaxAbsErr = math.Max(ev.MaxAbsErr, math.Abs(f.Err))
		ev.MaxAbsHeldOutErr = math.Max(ev.MaxAbsHeldOutErr, math.Abs(f.HeldOutErr))
		absHeld = append(absHeld, math.Abs(f.HeldOutErr))
		ev.Models = append(ev.Models, f)
	}
	ev.MedianAbsHeldOutErr = stats.Median(absHeld)
	return ev, nil
}

// WithStat returns a shallow copy of t that uses statistic st (entries are
// shared, not copied): to compare statistics on the same timings.
func (t *Table) WithStat(st Stat) *Table {
	c := *t
	c.Stat = st
	return &c
}

// StatComparison is the accuracy of the summed table under one statistic.
type StatComparison struct {
	Stat                Stat    `json:"stat"`
	MaxAbsErr           float64 `json:"max_abs_err"`
	MaxAbsHeldOutErr    float64 `json:"max_abs_held_out_err"`
	MedianAbsHeldOutErr float64 `json:"median_abs_held_out_err"`
	// HeldOutErr is per model, in the order of the keys.
	HeldOutErr []float64 `json:"held_out_err"`
}

// CompareStats evaluates the models with the given keys (all when none) under
// every statistic of Stats.
func (t *Table) CompareStats(keys ...string) ([]StatComparison, error) {
	var out []StatComparison
	for _, st := range Stats {
		ev, err := t.WithStat(st).Evaluate(keys...)
		if err != nil {
			return nil, err
		}
		c := StatComparison{Stat: st, MaxAbsErr: ev.MaxAbsErr, MaxAbsHeldOutErr: ev.MaxAbsHeldOutErr, MedianAbsHeldOutErr: ev.MedianAbsHeldOutErr}
		for _, f := range ev.Models {
			c.HeldOutErr = append(c.HeldOutErr, f.HeldOutErr)
		}
		out = append(out, c)
	}
	return out, nil
}

// Measurements returns the table's whole-model measurements, in key order:
// each model's architecture and its timing (ms, the table's statistic). They
// are what `multihw cost adapt --data local` fits an analytic target to.
func (t *Table) Measurements() ([]*blocks.Arch, []float64) {
	var archs []*blocks.Arch
	var ms []float64
	for _, k := range t.ModelKeys() {
		e := t.Models[k]
		archs = append(archs, e.Arch)
		ms = append(ms, e.Timing.Value(t.Stat))
	}
	return archs, ms
}
