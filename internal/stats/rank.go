package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// KendallTauB returns Kendall's τ_b of x and y, the rank correlation that
// corrects for ties (Kendall 1945; scipy.stats.kendalltau's default):
//
//	τ_b = (n_c − n_d) / √((n_0 − n_1)(n_0 − n_2))
//
// with n_c and n_d the concordant and discordant pairs, n_0 = n(n−1)/2, and
// n_1, n_2 the pairs tied in x and in y. A pair tied in x or y is neither
// concordant nor discordant. Accuracies measured on a finite set tie often,
// which τ_a (gonum's stat.Kendall, which also counts ties as concordant)
// does not handle. NaN if the lengths differ, n < 2, or x or y is constant.
func KendallTauB(x, y []float64) float64 {
	n := len(x)
	if n != len(y) || n < 2 {
		return math.NaN()
	}
	var nc, nd, tx, ty float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx, dy := x[j]-x[i], y[j]-y[i]
			switch {
			case dx == 0 && dy == 0:
				tx++
				ty++
			case dx == 0:
				tx++
			case dy == 0:
				ty++
			case (dx > 0) == (dy > 0):
				nc++
			default:
				nd++
			}
		}
	}
	n0 := float64(n*(n-1)) / 2
	den := math.Sqrt((n0 - tx) * (n0 - ty))
	if den == 0 {
		return math.NaN()
	}
	return (nc - nd) / den
}

// Interval is a confidence interval (NaN bounds, null in JSON, when it is
// undefined).
type Interval struct {
	Lo Float `json:"lo"`
	Hi Float `json:"hi"`
}

// NaNInterval is the undefined interval.
var NaNInterval = Interval{Float(math.NaN()), Float(math.NaN())}

// Contains reports whether v lies in the interval.
func (ci Interval) Contains(v float64) bool { return v >= float64(ci.Lo) && v <= float64(ci.Hi) }

// Bootstrap returns the percentile bootstrap confidence interval at level
// (e.g. 0.95) of a statistic of n paired observations: reps resamples of n
// indices drawn with replacement from a stream seeded by seed, the statistic
// of each (stat receives the indices), and the (1−level)/2 and (1+level)/2
// quantiles of those values (linear interpolation). Resamples whose
// statistic is NaN (e.g. every index the same, so no ranking) are dropped;
// if more than half are, the interval is NaN. (Efron & Tibshirani 1993,
// ch. 13.)
func Bootstrap(n, reps int, level float64, seed uint64, stat func(idx []int) float64) Interval {
	nan := NaNInterval
	if n < 2 || reps < 1 || !(level > 0 && level < 1) {
		return nan
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	idx := make([]int, n)
	vals := make([]float64, 0, reps)
	for range reps {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		if v := stat(idx); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if 2*len(vals) < reps {
		return nan
	}
	sort.Float64s(vals)
	return Interval{Lo: Float(quantile((1-level)/2, vals)), Hi: Float(quantile((1+level)/2, vals))}
}

// MedianRatioInterval is the 95% percentile bootstrap interval (2000
// resamples, seed 1) of Median(num)/Median(den) over paired timings: entry i
// of each is resampled together (they were measured at the same place of an
// interleaved or alternating run, so a slow stretch stays paired as it was
// measured). NaN with fewer than 2 pairs.
func MedianRatioInterval(num, den []float64) Interval {
	n := min(len(num), len(den))
	return Bootstrap(n, 2000, 0.95, 1, func(idx []int) float64 {
		return Median(Pick(num, idx)) / Median(Pick(den, idx))
	})
}

func quantile(p float64, sorted []float64) float64 {
	return stat.Quantile(p, stat.LinInterp, sorted, nil)
}

// Pick returns x at the given indices (a bootstrap resample).
func Pick(x []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out
}

// TopKRegret is how much of truth the k best by score miss: the largest
// truth overall minus the largest truth among the k items of highest score
// (ties in score broken by index, so the result is deterministic). Ranking
// architectures by a proxy (one-shot accuracy) and training the top k, it is
// the accuracy lost against training all of them. NaN for empty input, k < 1
// or mismatched lengths.
func TopKRegret(score, truth []float64, k int) float64 {
	n := len(score)
	if n == 0 || n != len(truth) || k < 1 {
		return math.NaN()
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	best := math.Inf(-1)
	for _, i := range order[:min(k, n)] {
		best = math.Max(best, truth[i])
	}
	return slices.Max(truth) - best
}

// Float is a float64 whose JSON form is null when it is NaN (a statistic
// that is undefined, e.g. a correlation over fewer than two values):
// encoding/json refuses NaN.
type Float float64

// String formats f with three decimals, "n/a" when it is NaN.
func (f Float) String() string {
	if math.IsNaN(float64(f)) {
		return "n/a"
	}
	return strconv.FormatFloat(float64(f), 'f', 3, 64)
}

// MarshalJSON writes null for NaN and ±Inf.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// BinomialInterval is the Clopper-Pearson ("exact") confidence interval at
// level (e.g. 0.95) of a proportion observed as k successes in n trials, e.g.
// an accuracy measured on n test images: the Beta(k, n−k+1) and
// Beta(k+1, n−k) quantiles (Clopper & Pearson 1934), 0 and 1 at the ends. It
// says how far the n images let the measured rate stray from the model's
// true rate on the distribution they were drawn from; it says nothing of the
// training seed's spread. NaN with n < 1, k outside [0, n] or a level
// outside (0, 1).
func BinomialInterval(k, n int, level float64) Interval {
	if n < 1 || k < 0 || k > n || !(level > 0 && level < 1) {
		return NaNInterval
	}
	a := (1 - level) / 2
	ci := Interval{Lo: 0, Hi: 1}
	if k > 0 {
		ci.Lo = Float(distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(a))
	}
	if k < n {
		ci.Hi = Float(distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - a))
	}
	return ci
}

// MeanInterval is the Student-t confidence interval at level (e.g. 0.95) of
// the mean of x, independent draws: mean ± t_{(1+level)/2, n−1}·s/√n. NaN
// with fewer than 2 values or a level outside (0, 1).
func MeanInterval(x []float64, level float64) Interval {
	n := len(x)
	if n < 2 || !(level > 0 && level < 1) {
		return NaNInterval
	}
	mean, sd := stat.MeanStdDev(x, nil)
	h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1+level)/2) * sd / math.Sqrt(float64(n))
	return Interval{Lo: Float(mean - h), Hi: Float(mean + h)}
}
