package hwcost

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/parallel"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/report"
)

// How many measurements does a new device need? AdaptCurves runs Adapt at
// several training sizes, each with the same seeds. Adapt draws a seed's
// training rows as the first N of one permutation of the measured rows, so a
// seed's smaller training set is part of its larger one: the change from one
// size to the next is a paired difference over the seeds, with an interval of
// its own, and a gain inside the seeds' noise is reported as unresolved.

// CurvePoint is Adapt at one training size, over the curve's seeds. Means
// and intervals are over the seeds; NaN (JSON null) where a seed's Spearman
// is undefined (a constant column).
type CurvePoint struct {
	Train int `json:"n_train"`
	// NTest is the number of test rows (the measured rows not trained on).
	NTest int `json:"n_test"`
	// Spearman is the mean test-set rank correlation, SpearmanCI its 95%
	// Student-t interval (cut to [-1, 1]), PerSeed each seed's value in the
	// curve's order.
	Spearman   float64        `json:"spearman"`
	SpearmanCI stats.Interval `json:"spearman_ci95"`
	PerSeed    []float64      `json:"spearman_per_seed"`
	// Gain is the mean over the seeds of Spearman minus the previous size's
	// (paired by seed), GainCI its 95% interval; NaN at the first size.
	Gain   float64        `json:"gain"`
	GainCI stats.Interval `json:"gain_ci95"`
	// MAPE, Within10 and MACsSpearman are means over the seeds.
	MAPE         float64 `json:"mape"`
	Within10     float64 `json:"within10"`
	MACsSpearman float64 `json:"macs_spearman"`
}

// Curve is Adapt's test-set figures by training size for one device.
type Curve struct {
	Data   string       `json:"data"`
	Device string       `json:"device"`
	Seeds  []uint64     `json:"seeds"`
	Points []CurvePoint `json:"points"`
}

// MinCurveSeeds is the fewest seeds a curve takes: its intervals are over
// the seeds.
const MinCurveSeeds = 2

// AdaptCurves runs Adapt on each of the device columns of the benchmark
// table cfg.Data (cfg.Device, cfg.Train and cfg.Seed are ignored) at each
// training size in sizes (increasing) with each seed. Every column, size and
// seed is checked before the first fit; progress, if not nil, is called
// with each device before its fits (done 0) and after each of them, one call
// at a time.
func AdaptCurves(cfg AdaptConfig, devices []string, sizes []int, seeds []uint64, progress func(device string, done, total int)) ([]*Curve, error) {
	if len(devices) == 0 {
		return nil, fmt.Errorf("adapt curve: no device columns")
	}
	all := make([]*adaptRows, len(devices))
	for i, dev := range devices {
		rows, err := benchRows(cfg.Data, dev)
		if err != nil {
			return nil, err
		}
		if err := checkCurve(rows, sizes, seeds); err != nil {
			return nil, err
		}
		all[i] = rows
	}
	var curves []*Curve
	for i, rows := range all {
		var onFit func(done int)
		if progress != nil {
			total := len(sizes) * len(seeds)
			progress(devices[i], 0, total)
			onFit = func(done int) { progress(devices[i], done, total) }
		}
		cv, err := curveOf(rows, cfg, sizes, seeds, onFit)
		if err != nil {
			return nil, err
		}
		curves = append(curves, cv)
	}
	return curves, nil
}

// AdaptArchsCurve is AdaptCurves on measured whole architectures (see
// AdaptArchs).
func AdaptArchsCurve(source string, archs []*blocks.Arch, ms []float64, cfg AdaptConfig, sizes []int, seeds []uint64) (*Curve, error) {
	rows, err := archRows(source, archs, ms)
	if err != nil {
		return nil, err
	}
	if err := checkCurve(rows, sizes, seeds); err != nil {
		return nil, err
	}
	return curveOf(rows, cfg, sizes, seeds, nil)
}

// checkCurve refuses sizes and seeds a curve cannot use, before any fit.
func checkCurve(rows *adaptRows, sizes []int, seeds []uint64) error {
	if len(sizes) == 0 {
		return fmt.Errorf("adapt curve: no training sizes")
	}
	n := len(rows.meas)
	for i, s := range sizes {
		if i > 0 && s <= sizes[i-1] {
			return fmt.Errorf("adapt curve: training sizes must increase, got %d after %d", s, sizes[i-1])
		}
		if s < MinAdaptRows || s >= n {
			return fmt.Errorf("adapt curve: training size %d: %s of %s has %d measured architectures; sizes must be in [%d, %d] (the rest is the test set)",
				s, rows.column, rows.source, n, MinAdaptRows, n-1)
		}
	}
	if len(seeds) < MinCurveSeeds {
		return fmt.Errorf("adapt curve: %d seeds: need at least %d (the intervals are over the seeds)", len(seeds), MinCurveSeeds)
	}
	for i, s := range seeds {
		if slices.Contains(seeds[:i], s) {
			return fmt.Errorf("adapt curve: seed %d given twice (a repeated seed repeats a draw and narrows the interval falsely)", s)
		}
	}
	return nil
}

// curveOf fits every (size, seed) pair (adaptPairs) and summarises them;
// its callers have checked sizes and seeds (checkCurve).
func curveOf(rows *adaptRows, cfg AdaptConfig, sizes []int, seeds []uint64, onFit func(done int)) (*Curve, error) {
	res, err := adaptPairs(rows, cfg, sizes, seeds, onFit)
	if err != nil {
		return nil, fmt.Errorf("adapt curve: %w", err)
	}
	cv := &Curve{Data: rows.source, Device: rows.column, Seeds: seeds}
	for i, size := range sizes {
		p := CurvePoint{Train: size, Gain: math.NaN(), GainCI: stats.NaNInterval}
		for _, r := range res[i*len(seeds) : (i+1)*len(seeds)] {
			p.NTest = r.NTest
			p.PerSeed = append(p.PerSeed, r.Spearman)
			p.MAPE += r.MAPE / float64(len(seeds))
			p.Within10 += r.Within10 / float64(len(seeds))
			p.MACsSpearman += r.MACsSpearman / float64(len(seeds))
		}
		p.Spearman = stat.Mean(p.PerSeed, nil)
		// A rank correlation lies in [-1, 1]; the t interval does not know.
		p.SpearmanCI = stats.MeanInterval(p.PerSeed, 0.95)
		p.SpearmanCI.Lo, p.SpearmanCI.Hi = max(p.SpearmanCI.Lo, -1), min(p.SpearmanCI.Hi, 1)
		if i > 0 {
			d := make([]float64, len(seeds))
			for k := range d {
				d[k] = p.PerSeed[k] - cv.Points[i-1].PerSeed[k]
			}
			p.Gain, p.GainCI = stat.Mean(d, nil), stats.MeanInterval(d, 0.95)
		}
		cv.Points = append(cv.Points, p)
	}
	return cv, nil
}

// adaptPairs runs adaptTo for every (size, seed) pair, size-major, split
// over the cores (internal/parallel): the fits are independent and only read rows and the
// library, and each result goes to its pair's index, so the results do not
// depend on the order the fits finish in. onFit, if not nil, is called with
// the number of fits done after each, one call at a time.
func adaptPairs(rows *adaptRows, cfg AdaptConfig, sizes []int, seeds []uint64, onFit func(done int)) ([]*AdaptResult, error) {
	if cfg.Library == nil {
		lib, err := Library()
		if err != nil {
			return nil, err
		}
		cfg.Library = lib
	}
	res := make([]*AdaptResult, len(sizes)*len(seeds))
	errs := make([]error, len(res))
	var (
		mu   sync.Mutex
		done int
	)
	parallel.Ranges(len(res), runtime.GOMAXPROCS(0), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			c := cfg
			c.Train, c.Seed = sizes[k/len(seeds)], seeds[k%len(seeds)]
			res[k], errs[k] = adaptTo(rows, c)
			if onFit != nil {
				mu.Lock()
				done++
				onFit(done)
				mu.Unlock()
			}
		}
	})
	for k, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%d training rows, seed %d: %w", sizes[k/len(seeds)], seeds[k%len(seeds)], err)
		}
	}
	return res, nil
}

// SeedsLabel is the seeds as text: "1-10" for a run of consecutive seeds.
func (cv *Curve) SeedsLabel() string {
	s := cv.Seeds
	consecutive := len(s) > 2
	for i := 1; i < len(s) && consecutive; i++ {
		consecutive = s[i] == s[i-1]+1
	}
	if consecutive {
		return fmt.Sprintf("%d-%d", s[0], s[len(s)-1])
	}
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ",")
}

// Table is the curve as a table: per training size the mean Spearman with
// its interval, the paired gain over the previous size with its interval
// ("unresolved" when the interval contains 0), MAPE, share within ±10% and
// the MACs baseline's Spearman.
func (cv *Curve) Table() *report.Table {
	tb := report.NewTable("n train", "n test", "spearman", "95% CI", "gain", "95% CI", "", "MAPE", "within ±10%", "MACs ρ").RightFrom(0).Left(6)
	ci := func(c stats.Interval, sign string) string {
		return fmt.Sprintf("[%"+sign+".4f, %"+sign+".4f]", float64(c.Lo), float64(c.Hi))
	}
	for _, p := range cv.Points {
		gain, gainCI, verdict := "", "", ""
		if !math.IsNaN(p.Gain) {
			gain, gainCI = fmt.Sprintf("%+.4f", p.Gain), ci(p.GainCI, "+")
			if p.GainCI.Contains(0) || math.IsNaN(float64(p.GainCI.Lo)) {
				verdict = "unresolved"
			}
		}
		tb.Row(fmt.Sprint(p.Train), fmt.Sprint(p.NTest), fmt.Sprintf("%.4f", p.Spearman), ci(p.SpearmanCI, ""), gain, gainCI, verdict,
			fmt.Sprintf("%.1f%%", 100*p.MAPE), fmt.Sprintf("%.1f%%", 100*p.Within10), fmt.Sprintf("%.4f", p.MACsSpearman))
	}
	return tb
}

// Summary is a heading line and the Table.
func (cv *Curve) Summary() string {
	return fmt.Sprintf("%s of %s: test-set Spearman by number of training architectures, seeds %s "+
		"(mean and 95%% interval over the seeds; gain: the change from the previous size, paired by seed)\n%s",
		cv.Device, cv.Data, cv.SeedsLabel(), cv.Table().Text())
}
