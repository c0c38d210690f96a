// Package stats holds the few statistics the project reports about cost
// models, predictors and the search: rank correlations (Spearman, Kendall's
// τ_b), bootstrap confidence intervals, top-k regret and ratio errors.
package stats

import (
	"math"
	"sort"
)

// Ranks returns the 1-based ranks of x, ties sharing their average rank.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// Pearson returns the linear correlation of x and y (NaN if either is constant
// or the lengths differ).
func Pearson(x, y []float64) float64 {
	n := len(x)
	if n != len(y) || n < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman returns the rank correlation of x and y (Pearson on average ranks).
func Spearman(x, y []float64) float64 { return Pearson(Ranks(x), Ranks(y)) }

// Median returns the median of x (NaN for empty input). x is not modified.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// MedianAbsRatioError returns median |pred/meas − 1|.
func MedianAbsRatioError(pred, meas []float64) float64 {
	e := make([]float64, len(pred))
	for i := range pred {
		e[i] = math.Abs(pred[i]/meas[i] - 1)
	}
	return Median(e)
}

// Proportions returns w scaled to sum to 1, or nil when no value of w is
// positive. w's values must be finite and non-negative (the caller says
// which is not). The values are taken relative to the largest first, so
// weights near MaxFloat64 do not overflow the sum to +Inf (which turned
// every proportion into 0) and tiny ones keep their ratios.
func Proportions(w []float64) []float64 {
	var top float64
	for _, v := range w {
		top = max(top, v)
	}
	if !(top > 0) {
		return nil
	}
	var sum float64
	for _, v := range w {
		sum += v / top
	}
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = v / top / sum
	}
	return out
}
