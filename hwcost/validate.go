package hwcost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/jobstate"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/internal/stats"
)

// Studies of Adapt over devices and seeds: the validation sections of the
// fit report (HELP's few-shot setting on NAS-Bench-201, the BRP-NAS devices,
// the analytic model form on FBNet-space networks).

// AdaptRow is Adapt on one device column, averaged over seeds.
type AdaptRow struct {
	Data   string `json:"data"`
	Device string `json:"device"`
	Train  int    `json:"n_train"`
	NTest  int    `json:"n_test"`
	Seeds  int    `json:"seeds"`
	// Spearman is the mean over seeds of the test-set rank correlation,
	// SpearmanSD its standard deviation over seeds; MAPE, Within10 and
	// MACsSpearman are means too.
	Spearman   float64 `json:"spearman"`
	SpearmanSD float64 `json:"spearman_sd"`
	// PerSeed is the test-set Spearman of each seed, in the study's order.
	PerSeed      []float64 `json:"spearman_per_seed"`
	MAPE         float64   `json:"mape"`
	Within10     float64   `json:"within10"`
	MACsSpearman float64   `json:"macs_spearman"`
	// Ceiling is, for a column of whole milliseconds, the Spearman a
	// predictor equal to the true latency would reach against the rounded
	// measurements (RoundingCeiling); NaN otherwise.
	Ceiling float64 `json:"ceiling"`
	// Overlap is the mean over seeds of the fitted Params.Overlap,
	// OverlapSeeds the number of seeds whose fit has Overlap > 0.
	Overlap      float64 `json:"overlap"`
	OverlapSeeds int     `json:"overlap_seeds"`
	// Priors counts the candidates the fits started from.
	Priors map[string]int `json:"priors"`
}

// AdaptStudy runs Adapt with library lib on each device with train rows and
// each seed (the seeds' fits on all cores, adaptPairs).
func AdaptStudy(lib []Candidate, data string, devices []string, train int, seeds []uint64) ([]AdaptRow, error) {
	return adaptStudy(lib, data, devices, train, seeds, nil)
}

// adaptStudy is AdaptStudy calling onFit (if not nil) after each fit with
// the number of the study's fits done so far.
func adaptStudy(lib []Candidate, data string, devices []string, train int, seeds []uint64, onFit func(done int)) ([]AdaptRow, error) {
	var out []AdaptRow
	for d, dev := range devices {
		rows, err := benchRows(data, dev)
		if err != nil {
			return nil, err
		}
		r := AdaptRow{Data: data, Device: rows.column, Train: train, Seeds: len(seeds), Priors: map[string]int{},
			Ceiling: math.NaN()}
		var devFit func(done int)
		if onFit != nil {
			devFit = func(done int) { onFit(d*len(seeds) + done) }
		}
		results, err := adaptPairs(rows, AdaptConfig{Data: data, Device: dev, Library: lib}, []int{train}, seeds, devFit)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dev, err)
		}
		var rhos []float64
		for _, res := range results {
			rhos = append(rhos, res.Spearman)
			r.MAPE += res.MAPE / float64(len(seeds))
			r.Within10 += res.Within10 / float64(len(seeds))
			r.MACsSpearman += res.MACsSpearman / float64(len(seeds))
			r.NTest = res.NTest
			r.Priors[res.Prior]++
			r.Overlap += res.Params.Overlap / float64(len(seeds))
			if res.Params.Overlap > 0 {
				r.OverlapSeeds++
			}
		}
		r.Spearman, r.SpearmanSD = meanSD(rhos)
		r.PerSeed = rhos
		if wholeMs(rows.meas) {
			r.Ceiling = RoundingCeiling(rows.meas, 1)
		}
		out = append(out, r)
	}
	return out, nil
}

func meanSD(x []float64) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, math.NaN()
	}
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(x)-1))
}

// wholeMs reports whether every value is a whole number of milliseconds.
func wholeMs(v []float64) bool {
	for _, x := range v {
		if x != math.Round(x) {
			return false
		}
	}
	return len(v) > 0
}

// RoundingCeiling estimates the rank correlation a perfect predictor reaches
// against measurements rounded to whole multiples of step: measured values
// tie within a step while the true latencies do not. It assumes the true
// latency uniform within its step and returns the mean, over 5 draws (seed
// 1), of Spearman(y + U(−step/2, step/2), y).
func RoundingCeiling(y []float64, step float64) float64 {
	rng := rand.New(rand.NewPCG(1, 0xce11))
	x := make([]float64, len(y))
	var s float64
	const draws = 5
	for range draws {
		for i, v := range y {
			x[i] = v + (rng.Float64()-0.5)*step
		}
		s += stats.Spearman(x, y)
	}
	return s / draws
}

// Resolution returns the step the values are rounded to: the largest of
// 1, 0.1, 0.01 and 0.001 ms of which every value is a whole multiple, or 0
// when none is.
func Resolution(y []float64) float64 {
	for _, step := range []float64{1, 0.1, 0.01, 0.001} {
		ok := len(y) > 0
		for _, v := range y {
			if q := v / step; math.Abs(q-math.Round(q)) > 1e-6 {
				ok = false
				break
			}
		}
		if ok {
			return step
		}
	}
	return 0
}

// RoundingOrder asks whether predictor a ranks measurements y, rounded to
// multiples of step, worse than predictor b beyond what the rounding
// decides. Like RoundingCeiling it draws the true latencies uniform within
// their step (seed 1) and returns, over the draws, the share in which
// Spearman(a) < Spearman(b) and the mean of Spearman(a) − Spearman(b).
// Both are NaN (undefined) without draws or when a, b and y differ in length.
func RoundingOrder(a, b, y []float64, step float64, draws int) (pWorse, meanDiff float64) {
	if draws < 1 || len(a) != len(y) || len(b) != len(y) {
		return math.NaN(), math.NaN()
	}
	rng := rand.New(rand.NewPCG(1, 0xce11))
	x := make([]float64, len(y))
	for range draws {
		for i, v := range y {
			x[i] = v + (rng.Float64()-0.5)*step
		}
		d := stats.Spearman(a, x) - stats.Spearman(b, x)
		if d < 0 {
			pWorse++
		}
		meanDiff += d
	}
	return pWorse / float64(draws), meanDiff / float64(draws)
}

// Study settings of the fit report.
var (
	// HELPTestDevices are HELP's meta-test devices on NAS-Bench-201 with the
	// Spearman HELP reaches from 10 samples (HELP README, Table 2).
	HELPTestDevices = []string{"titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss"}
	HELPAnchors     = map[string]float64{"titan_rtx_256": 0.987, "gold_6226": 0.989, "fpga": 0.985, "pixel2": 0.802,
		"raspi4": 0.890, "eyeriss": 0.940}
	// HELPFLOPsMean is the mean Spearman of FLOPs alone in the same table.
	HELPFLOPsMean = 0.787
	// FBNetPhones are the measured phones of the FBNet table.
	FBNetPhones = []string{"pixel2", "samsung_a50", "samsung_s7", "essential_ph_1"}
	// StudySeeds are the seeds of every study (10).
	StudySeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	// HELPWideSeeds are the seeds of Studies.HELPWide: 1-100, StudySeeds
	// first.
	HELPWideSeeds = seedRange(1, 100)
)

// seedRange returns the seeds first, first+1, ..., last.
func seedRange(first, last uint64) []uint64 {
	var s []uint64
	for i := first; i <= last; i++ {
		s = append(s, i)
	}
	return s
}

// BRPNASDevices returns the 13 device columns of the BRP-NAS table.
func BRPNASDevices() ([]string, error) {
	d, err := devicedata.Open(devicedata.NameBRPNAS)
	if err != nil {
		return nil, err
	}
	return d.Table().Columns(), nil
}

// Studies are the adapt studies of the fit report.
type Studies struct {
	HELP []AdaptRow `json:"help"`
	// HELPMore repeats HELP's test devices with HELPMoreTrain networks, the
	// same seeds (each seed's 10 networks are among its HELPMoreTrain).
	HELPMore []AdaptRow `json:"help_more"`
	// HELPWide repeats HELP's 10-sample study over HELPWideSeeds: ten seeds
	// leave the six devices' mean within noise of its target, and a hundred
	// tell what the method reaches in expectation.
	HELPWide []AdaptRow `json:"help_wide"`
	BRPNAS   []AdaptRow `json:"brpnas"`
	// BRPNASLarge repeats the BRP-NAS devices below BenchTarget with
	// LargeTrain networks (seed 1): what the model form reaches with data.
	BRPNASLarge []AdaptRow `json:"brpnas_large"`
	FBNet       []AdaptRow `json:"fbnet"`
	// FBNetLarge repeats the FBNet phones with LargeTrain networks (seed 1).
	FBNetLarge []AdaptRow `json:"fbnet_large"`
}

// HELPMoreTrain is the training size of Studies.HELPMore.
const HELPMoreTrain = 20

// LargeTrain is the training size of Studies.BRPNASLarge and FBNetLarge.
const LargeTrain = 1000

// RunStudies runs the studies with library lib: HELP's test devices with 10
// samples (also over HELPWideSeeds) and with HELPMoreTrain, the BRP-NAS
// devices with 20, the FBNet phones with 20, each over StudySeeds, and the
// BRP-NAS devices below BenchTarget and the FBNet phones with LargeTrain (seed
// 1). It prints a line per study to pr and, within a study, the fits done
// (pr's period; nil: quiet): the studies take minutes.
func RunStudies(lib []Candidate, pr *progress.Printer) (*Studies, error) {
	return runStudies(lib, pr, nil)
}

// runStudies is RunStudies taking and saving each device's row in ck (nil:
// none).
func runStudies(lib []Candidate, pr *progress.Printer, ck *jobstate.State) (*Studies, error) {
	st := &Studies{}
	run := studyRunner{lib: lib, pr: pr, start: time.Now(), ck: ck}
	brp, err := BRPNASDevices()
	if err != nil {
		return nil, err
	}
	steps := []struct {
		name, data string
		devices    func() []string
		train      int
		seeds      []uint64
		out        *[]AdaptRow
	}{
		{"HELP, 10 samples", devicedata.NameHELPNB201, func() []string { return HELPTestDevices }, 10, StudySeeds, &st.HELP},
		{"HELP, 20 samples", devicedata.NameHELPNB201, func() []string { return HELPTestDevices }, HELPMoreTrain, StudySeeds, &st.HELPMore},
		{"HELP, 10 samples, wide seeds", devicedata.NameHELPNB201, func() []string { return HELPTestDevices }, 10, HELPWideSeeds, &st.HELPWide},
		{"BRP-NAS, 20 samples", devicedata.NameBRPNAS, func() []string { return brp }, 20, StudySeeds, &st.BRPNAS},
		{"BRP-NAS below the target, large", devicedata.NameBRPNAS, func() []string {
			var below []string
			for _, r := range st.BRPNAS {
				if r.Spearman < BenchTarget {
					below = append(below, r.Device)
				}
			}
			return below
		}, LargeTrain, StudySeeds[:1], &st.BRPNASLarge},
		{"FBNet, 20 samples", devicedata.NameHELPFBNet, func() []string { return FBNetPhones }, 20, StudySeeds, &st.FBNet},
		{"FBNet, large", devicedata.NameHELPFBNet, func() []string { return FBNetPhones }, LargeTrain, StudySeeds[:1], &st.FBNetLarge},
	}
	for _, s := range steps {
		if *s.out, err = run.study(s.name, s.data, s.devices(), s.train, s.seeds); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// studyRunner runs the studies of RunStudies, printing their progress.
type studyRunner struct {
	lib   []Candidate
	pr    *progress.Printer
	start time.Time
	ck    *jobstate.State
}

// study runs one study device by device, each device's row saved in r.ck
// as it finishes (or taken from it).
func (r *studyRunner) study(name, data string, devices []string, train int, seeds []uint64) ([]AdaptRow, error) {
	total := len(devices) * len(seeds)
	at := func() string { return progress.Duration(time.Since(r.start).Seconds()) }
	var rows []AdaptRow
	saved := 0
	for d, dev := range devices {
		if row := (AdaptRow{}); r.ck.Get(rowPart(name, dev), &row) {
			rows = append(rows, row)
			saved++
			continue
		}
		got, err := adaptStudy(r.lib, data, []string{dev}, train, seeds, func(done int) {
			if r.pr.Due(false) {
				r.pr.Line(fmt.Sprintf("adapt study %s: %d of %d fits (%s)", name, d*len(seeds)+done, total, at()), true)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("adapt study %s: %w", name, err)
		}
		if err := r.ck.Put(rowPart(name, dev), got[0]); err != nil {
			return nil, err
		}
		rows = append(rows, got[0])
	}
	resumed := ""
	if saved > 0 {
		resumed = fmt.Sprintf(" (%d of %d devices from the state of an interrupted fit)", saved, len(devices))
	}
	r.pr.Line(fmt.Sprintf("adapt study %s: %d fits done at %s%s", name, total, at(), resumed), false)
	return rows, nil
}

// meanInterval is the 95% Student-t interval of meanOf over the study's
// seeds: for each seed the mean Spearman of the rows (optionally of the named
// devices only), then the interval of those means' mean. The seeds are
// independent draws of the training rows, so it is what another set of
// seeds could move meanOf by. NaN with fewer than 2 seeds.
func meanInterval(rows []AdaptRow, only []string) stats.Interval {
	var sel []AdaptRow
	for _, r := range rows {
		if only == nil || slices.Contains(only, r.Device) {
			sel = append(sel, r)
		}
	}
	if len(sel) == 0 {
		return stats.NaNInterval
	}
	perSeed := make([]float64, len(sel[0].PerSeed))
	for _, r := range sel {
		if len(r.PerSeed) != len(perSeed) {
			return stats.NaNInterval // rows of different seeds: no pairing
		}
		for k, v := range r.PerSeed {
			perSeed[k] += v / float64(len(sel))
		}
	}
	return stats.MeanInterval(perSeed, 0.95)
}

// meanOf returns the mean Spearman of the rows (optionally of the named devices only).
func meanOf(rows []AdaptRow, only []string) float64 {
	var s float64
	var n int
	for _, r := range rows {
		if only == nil || slices.Contains(only, r.Device) {
			s += r.Spearman
			n++
		}
	}
	return s / float64(n)
}
