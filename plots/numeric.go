package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
)

// ParetoFront returns the indices of the points that no other point beats on
// both cost (x, lower is better) and quality (y, higher is better), sorted by
// increasing x (and so increasing y). Among points with equal x only the best
// y can be on the front; exact duplicates appear once (the first index).
// NaN points are ignored. x and y must have the same length.
func ParetoFront(x, y []float64) ([]int, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("pareto front: %d x values but %d y values", len(x), len(y))
	}
	idx := make([]int, 0, len(x))
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if x[i] != x[j] {
			return x[i] < x[j]
		}
		return y[i] > y[j]
	})
	var front []int
	best := math.Inf(-1)
	for _, i := range idx {
		if y[i] > best {
			front = append(front, i)
			best = y[i]
		}
	}
	return front, nil
}

// Smooth returns the exponential moving average of v with the given weight in
// [0, 1): s_t = weight·s_{t−1} + (1−weight)·v_t, divided by 1 − weight^(t+1) to
// remove the bias towards the zero start (as TensorBoard does). Weight 0
// returns a copy of v. NaN values are skipped: they stay NaN in the output and
// do not enter the average.
func Smooth(v []float64, weight float64) ([]float64, error) {
	if !(weight >= 0 && weight < 1) {
		return nil, fmt.Errorf("smoothing weight %g must be in [0, 1)", weight)
	}
	out := make([]float64, len(v))
	var s, norm float64
	for i, x := range v {
		if math.IsNaN(x) {
			out[i] = math.NaN()
			continue
		}
		s = weight*s + (1-weight)*x
		norm = weight*norm + (1 - weight)
		out[i] = s / norm
	}
	return out, nil
}

// logTicks marks a logarithmic axis: labels at 1, 2, 5 × 10^k when the range
// spans less than two decades (otherwise only at powers of ten), minor ticks
// at the other integer multiples. Unlike plot.LogTicks it labels short ranges
// (2–40 ms gets 2, 5, 10, 20) and returns no ticks instead of panicking on a
// non-positive range.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) || math.IsInf(max, 0) {
		return nil
	}
	decades := math.Log10(max / min)
	labelled := func(m int) bool { return m == 1 }
	if decades < 2 {
		labelled = func(m int) bool { return m == 1 || m == 2 || m == 5 }
	}
	var ticks []plot.Tick
	for e := int(math.Floor(math.Log10(min))); e <= int(math.Ceil(math.Log10(max))); e++ {
		p := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled(m) {
				t.Label = formatTick(v)
			}
			ticks = append(ticks, t)
		}
	}
	// A range inside one 1-2-5 step gets its ends labelled instead.
	nl := 0
	for _, t := range ticks {
		if t.Label != "" {
			nl++
		}
	}
	if nl < 2 {
		ticks = append(ticks, plot.Tick{Value: min, Label: formatTick(min)}, plot.Tick{Value: max, Label: formatTick(max)})
	}
	return ticks
}

// formatTick prints v with at most 3 significant digits and no exponent for
// the usual ranges.
func formatTick(v float64) string {
	a := math.Abs(v)
	if a != 0 && (a < 1e-3 || a >= 1e6) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(roundSig(v, 3), 'f', -1, 64)
}

func roundSig(v float64, digits int) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

// niceTicks marks a linear axis with about 5–8 labelled ticks at 1, 2, 2.5 or
// 5 × 10^k and unlabelled minor ticks halfway between (gonum's default gives
// as few as two labels on short ranges).
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	span := max - min
	raw := span / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * p
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ticks []plot.Tick
	first := math.Ceil(min/step-1e-9) * step
	// Minor tick before the first major, if in range.
	if v := first - step/2; v >= min {
		ticks = append(ticks, plot.Tick{Value: v})
	}
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if v > max+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: formatStep(v, step)})
		if h := v + step/2; h <= max {
			ticks = append(ticks, plot.Tick{Value: h})
		}
	}
	return ticks
}

// formatStep prints v with as many decimals as the tick step needs.
func formatStep(v, step float64) string {
	if a := math.Abs(v); a >= 1e6 || (a != 0 && a < 1e-4) {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if math.Abs(v) >= 1e4 && math.Mod(step, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k" // 20000 → 20k
	}
	dec := 0
	for s := step; dec < 8 && math.Abs(s-math.Round(s)) > 1e-9*math.Max(1, s); dec++ {
		s *= 10
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}
