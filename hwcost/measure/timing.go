package measure

import (
	"fmt"
	"math"
	"slices"
)

// Stat is the statistic of the timed runs a Table's lookup uses.
type Stat string

// Statistics. On an idle machine they nearly agree. On a shared one the
// median of a long run (a whole model) grows with the neighbours' load much
// more than that of a short one (a block), which the scheduler often lets
// finish unpreempted, so the summed medians miss the whole-model median by
// whatever the load happens to be; low percentiles estimate the unloaded
// latency and stay additive (see LOCAL_REPORT.md for figures).
const (
	StatMedian Stat = "median"
	StatP25    Stat = "p25"
	StatP10    Stat = "p10"
	StatMin    Stat = "min"
)

// Stats lists the statistics.
var Stats = []Stat{StatMedian, StatP25, StatP10, StatMin}

// DefaultStat is the statistic of new tables.
const DefaultStat = StatP10

// ParseStat checks a statistic name ("" = DefaultStat).
func ParseStat(s string) (Stat, error) {
	if s == "" {
		return DefaultStat, nil
	}
	for _, st := range Stats {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown statistic %q (valid: median, p25, p10, min)", s)
}

// Timing summarises repeated wall-clock timings of one inference graph.
type Timing struct {
	// MedianMs is the median; Q1Ms and Q3Ms the quartiles (p25, p75), P10Ms
	// the 10th percentile; MinMs and MaxMs the extremes.
	MedianMs float64 `json:"median_ms"`
	Q1Ms     float64 `json:"q1_ms"`
	Q3Ms     float64 `json:"q3_ms"`
	P10Ms    float64 `json:"p10_ms"`
	MinMs    float64 `json:"min_ms"`
	MaxMs    float64 `json:"max_ms"`
	// SamplesMs are the timed runs in the order they were taken.
	SamplesMs []float64 `json:"samples_ms"`
}

// NewTiming summarises samples (ms); it needs at least one finite,
// non-negative sample.
func NewTiming(samplesMs []float64) (Timing, error) {
	if len(samplesMs) == 0 {
		return Timing{}, fmt.Errorf("timing: no samples")
	}
	for _, v := range samplesMs {
		if !(v >= 0) || math.IsInf(v, 0) {
			return Timing{}, fmt.Errorf("timing: sample %g ms is not a finite non-negative number", v)
		}
	}
	s := slices.Clone(samplesMs)
	slices.Sort(s)
	return Timing{MedianMs: quantile(s, 0.5), Q1Ms: quantile(s, 0.25), Q3Ms: quantile(s, 0.75), P10Ms: quantile(s, 0.1),
		MinMs: s[0], MaxMs: s[len(s)-1], SamplesMs: slices.Clone(samplesMs)}, nil
}

// Value returns the statistic st of the timing (the median for an unknown st).
func (t Timing) Value(st Stat) float64 {
	switch st {
	case StatP25:
		return t.Q1Ms
	case StatP10:
		return t.P10Ms
	case StatMin:
		return t.MinMs
	}
	return t.MedianMs
}

// Spread is the interquartile range relative to the median, (Q3−Q1)/median:
// 0.1 means the middle half of the runs lie within a 10% band.
func (t Timing) Spread() float64 {
	if t.MedianMs == 0 {
		return 0
	}
	return (t.Q3Ms - t.Q1Ms) / t.MedianMs
}

// quantile of sorted s by linear interpolation between order statistics
// (type 7 of Hyndman & Fan, the default of R and NumPy).
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	h := q * float64(len(s)-1)
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}
