package hwcost

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/optimize"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/stats"
)

// A new device from a few measurements (HELP's setting, Lee et al. NeurIPS
// 2021): Adapt fits an analytic target to N measured architectures of one
// device column. It starts from the closest known target — among the
// built-in targets and the reference devices (Library), the one whose model,
// up to a speed factor and a fixed overhead, best explains the N
// measurements — and takes that target's parameters as the prior centre of a
// MAP fit of all free parameters. Other devices' data enter only through the
// library; the device contributes its N rows and nothing else.

// Candidate is a known target Adapt can start from.
type Candidate struct {
	// Name is a built-in target or a reference device ("table:column").
	Name   string `json:"name"`
	Spec   Spec   `json:"-"`
	Params Params `json:"params"`
	// Columns are the device columns (devicedata) whose data the candidate
	// was fitted to: adapting one of them must not start from it.
	Columns []string `json:"columns,omitempty"`
	// Sources are the benchmark columns ("table:column") measured under the
	// runtime the candidate's parameters describe (its own rows, not a
	// prior's): Adapt learns from them how a table's devices treat dead ops.
	Sources []string `json:"sources,omitempty"`
}

// AdaptSigmaObs is the log-space noise Adapt assumes for one measurement.
const AdaptSigmaObs = 0.1

// AdaptCandidates is how many of the closest candidates Adapt fits in full.
// One: on HELP's nine meta-training devices (nb201-help, 10 rows, seeds
// 1-10; the development set, not the six test devices) the mean test-set
// Spearman is 0.9524 with one, and other ways to choose the prior stayed
// within the seeds' spread: the 3 closest fitted in full, the highest
// posterior density kept, 0.9545; the highest Laplace evidence of 3 or 5,
// 0.9543 and 0.9541; the candidates ranked by leave-one-out error of their
// speed fit, 0.9467 (one pixel3 seed fell to 0.40); the prior centre as the
// likelihood-weighted geometric mean of the 3 or 6 closest, 0.9533 and
// 0.9532.
var AdaptCandidates = 1

// MinAdaptRows is the fewest training rows Adapt accepts.
const MinAdaptRows = 3

// AdaptConfig configures Adapt.
type AdaptConfig struct {
	// Data is an embedded devicedata table name or a CSV path; Device a
	// column of it (exact, or a substring matching one column).
	Data, Device string
	// Train is the number of measured architectures to fit on, drawn at
	// random with Seed; the other measured ones are the test set.
	Train int
	Seed  uint64
	// Library overrides the candidates (default: Library()).
	Library []Candidate
	// Name names the fitted target (default "adapted-<column>").
	Name string
}

// AdaptResult is the outcome of Adapt. Spearman, MAPE and Within10 compare
// predictions with measurements on the test set.
type AdaptResult struct {
	Data   string `json:"data"`
	Device string `json:"device"`
	// Spearman, MAPE and Within10 score the test rows; Spearman is NaN
	// where it is undefined (a constant column or tied predictions).
	Spearman float64 `json:"spearman"`
	MAPE     float64 `json:"mape"`
	Within10 float64 `json:"within10"`
	NTrain   int     `json:"n_train"`
	NTest    int     `json:"n_test"`
	Seed     uint64  `json:"seed"`
	// Prior is the candidate the fit started from; Params the fitted values.
	Prior  string `json:"prior"`
	Params Params `json:"params"`
	// MACsSpearman is the test-set rank correlation of plain MACs.
	MACsSpearman float64 `json:"macs_spearman"`
	// PriorBound are the parameters the training rows left at their
	// prior's spread (Posterior.PriorBound): their values are the prior
	// target's, scaled, not the device's. E.g. NAS-Bench-201 networks have
	// no depthwise convolution, so eff_dw stays the prior's.
	PriorBound []string `json:"prior_bound"`
	// Target is the fitted target, ready to save (TargetFile.Save).
	Target *TargetFile `json:"-"`
}

// adaptRows is a device's measured architectures, compiled.
type adaptRows struct {
	source string
	// data is the table the rows come from (nil for whole architectures).
	data   *devicedata.Data
	column string
	design *Design
	meas   []float64
	macs   []float64
}

// benchRows returns the measured rows of a device column of a benchmark
// table, or a clear error.
func benchRows(data, device string) (*adaptRows, error) {
	if data == devicedata.NameAccuracy {
		return nil, fmt.Errorf("%s holds accuracies, not latencies", data)
	}
	bt, err := loadBench(data)
	if err != nil {
		return nil, err
	}
	tab := bt.data.Table()
	ci, err := tab.ColumnIndex(device)
	if err != nil {
		return nil, err
	}
	col := tab.Columns()[ci]
	rows := tab.Measured(ci)
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: device column %q has no measured rows (every value is missing)", data, col)
	}
	ar := &adaptRows{source: data, data: bt.data, column: col, design: bt.design.Subset(rows)}
	for _, r := range rows {
		v, _ := tab.Value(r, ci)
		ar.meas = append(ar.meas, v)
		ar.macs = append(ar.macs, bt.macs[r])
	}
	return ar, nil
}

// Adapt fits a target to cfg.Train measured architectures of one device.
func Adapt(cfg AdaptConfig) (*AdaptResult, error) {
	rows, err := benchRows(cfg.Data, cfg.Device)
	if err != nil {
		return nil, err
	}
	return adaptTo(rows, cfg)
}

// rankedCandidate is a candidate target in one runtime mode with its best
// speed factor and fixed overhead (centre) and their squared log error.
type rankedCandidate struct {
	c      Candidate
	centre Params
	loss   float64
}

// rankCandidates ranks the candidates, each in every runtime mode, by the
// squared log error of their best speed factor and fixed overhead on the
// training rows, as deviance n·log(error) plus the mode's penalties
// (deadOpsPrior, given as prior; constantModePenalty): adaptTo fits the
// AdaptCandidates closest in full, and the one with the highest posterior
// density at its optimum wins.
func rankCandidates(cands []Candidate, prior [deadWays]float64, train *Design, trainMeas []float64) ([]rankedCandidate, error) {
	var rk []rankedCandidate
	for _, c := range cands {
		for _, mode := range runtimeModes {
			p := c.Params
			mode.apply(&p)
			scaled, loss, err := fitSpeed(c.Spec, p, train, trainMeas, true)
			if err != nil {
				return nil, err
			}
			pen := prior[mode.deadOps()]
			if mode.constant {
				pen += constantModePenalty
			}
			// n·log(loss) + pen.
			loss *= math.Exp(pen / float64(len(trainMeas)))
			if !math.IsInf(loss, 1) && !math.IsNaN(loss) {
				rk = append(rk, rankedCandidate{c, scaled, loss})
			}
		}
	}
	if len(rk) == 0 {
		return nil, errors.New("adapt: no candidate predicts the training rows")
	}
	slices.SortStableFunc(rk, func(a, b rankedCandidate) int { return cmp.Compare(a.loss, b.loss) })
	return rk, nil
}

func adaptTo(rows *adaptRows, cfg AdaptConfig) (*AdaptResult, error) {
	n := len(rows.meas)
	name := cfg.Name
	if name == "" {
		name = "adapted-" + sanitizeName(rows.column)
	}
	if err := CheckTargetName(name); err != nil { // before the fit: a file of it could not be read back
		return nil, fmt.Errorf("adapt: %w", err)
	}
	if cfg.Train < MinAdaptRows {
		return nil, fmt.Errorf("adapt: --train %d: need at least %d training architectures", cfg.Train, MinAdaptRows)
	}
	if cfg.Train >= n {
		return nil, fmt.Errorf("adapt: %s of %s has %d measured architectures: too few rows to train on %d and test on the rest",
			rows.column, rows.source, n, cfg.Train)
	}
	lib := cfg.Library
	if lib == nil {
		var err error
		if lib, err = Library(); err != nil {
			return nil, err
		}
	}
	var cands []Candidate
	for _, c := range lib {
		if !slices.Contains(c.Columns, rows.column) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, errors.New("adapt: no known target to start from")
	}
	perm := rand.New(rand.NewPCG(cfg.Seed, 0xada97)).Perm(n)
	trainIdx, testIdx := perm[:cfg.Train], perm[cfg.Train:]
	train := rows.design.Subset(trainIdx)
	trainMeas := pick(rows.meas, trainIdx)

	rk, err := rankCandidates(cands, deadOpsPrior(cands, rows), train, trainMeas)
	if err != nil {
		return nil, err
	}
	sigma := make([]float64, len(targetParams))
	for k, fp := range targetParams {
		sigma[k] = fp.sigma
	}
	var (
		spec     Spec
		fitted   Params
		post     *Posterior
		bestCand Candidate
		bestJ    = math.Inf(1)
	)
	for _, r := range rk[:min(AdaptCandidates, len(rk))] {
		sp := r.c.Spec
		sp.Name, sp.Group, sp.Bench, sp.PriorFrom = name, "adapted", nil, ""
		sp.Device = fmt.Sprintf("%s of %s", rows.column, rows.source)
		pr, theta, sp, err := fitCandidate(r, sp, sigma, rows.column, train, trainMeas)
		if err != nil {
			return nil, err
		}
		if j := pr.objective(theta); j < bestJ {
			p := pr.params(theta)
			if err := p.Validate(); err != nil {
				continue
			}
			bestJ, spec, fitted, bestCand = j, sp, p, r.c
			post = pr.laplace(theta, p)
		}
	}
	if math.IsInf(bestJ, 1) {
		return nil, errors.New("adapt: no candidate fits the training rows with valid parameters")
	}

	t, err := NewAnalytic(spec, fitted)
	if err != nil {
		return nil, err
	}
	test := rows.design.Subset(testIdx)
	testMeas := pick(rows.meas, testIdx)
	st := predictStats(test, testMeas, t)
	res := &AdaptResult{Data: rows.source, Device: rows.column, Spearman: st.Spearman, MAPE: st.MAPE, Within10: st.Within10,
		NTrain: cfg.Train, NTest: len(testIdx), Seed: cfg.Seed, Prior: bestCand.Name, Params: fitted,
		MACsSpearman: spearmanOf(pick(rows.macs, testIdx), testMeas), PriorBound: post.PriorBoundNames()}
	bound := "none"
	if len(res.PriorBound) > 0 {
		bound = strings.Join(res.PriorBound, ", ")
	}
	// The device's runtime is unknown (a benchmark column or a measured
	// table does not say it); the prior's runtime would describe another
	// chip. The precision is the prior's: the bytes per value the fit
	// modelled, which the fitted bandwidth assumes.
	res.Target = &TargetFile{Target: name, Device: spec.Device, Precision: spec.Precision,
		Params: fitted, Posterior: post,
		Note: fmt.Sprintf("multihw cost adapt --data %s --device %s --train %d --seed %d: prior %s (%s; its bytes per value, %s, kept); test set (%d architectures) spearman %.4f, mape %.4g, within10 %.3f; prior-bound (not decided by the %d measurements): %s",
			rows.source, rows.column, cfg.Train, cfg.Seed, bestCand.Name, bestCand.Spec.Runtime, spec.Precision, res.NTest, res.Spearman, res.MAPE, res.Within10,
			cfg.Train, bound)}
	return res, nil
}

// dataRSS returns the weighted sum of squared log errors of pr's rows at
// theta: the data term of the objective, without the priors.
func (pr *problem) dataRSS(theta []float64) float64 {
	pr.objective(theta)
	var j float64
	for _, s := range pr.sources {
		for i, p := range s.pred {
			d := math.Log(p) - s.logMeas[i]
			j += s.weight[i] * d * d
		}
	}
	return j
}

// fitCandidate fits every parameter to the training rows with candidate r's
// scaled parameters as the prior centre (spec sp). An Overlap in r's centre
// was chosen on the speed fit alone: it is kept only if the full fit with it
// still beats the full fit from the centre without it by overlapPenalty.
func fitCandidate(r rankedCandidate, sp Spec, sigma []float64, column string, train *Design, trainMeas []float64) (*problem, []float64, Spec, error) {
	fit := func(centre Params) (*problem, []float64, Spec, error) {
		s := sp
		s.Prior = centre
		src, err := newFitSource(column, train, trainMeas, AdaptSigmaObs, s, centre)
		if err != nil {
			return nil, nil, s, err
		}
		pr := newProblem(centre, sigma, []*fitSource{src})
		return pr, pr.minimize(nil), s, nil
	}
	pr, theta, s, err := fit(r.centre)
	if err != nil || r.centre.Overlap == 0 {
		return pr, theta, s, err
	}
	p := r.c.Params
	modeOf(r.centre).apply(&p)
	c0, _, err := fitSpeed(r.c.Spec, p, train, trainMeas, false)
	if err != nil {
		return nil, nil, s, err
	}
	pr0, theta0, s0, err := fit(c0)
	if err != nil {
		return nil, nil, s, err
	}
	n := float64(len(trainMeas))
	if n*math.Log(pr.dataRSS(theta))+overlapPenalty >= n*math.Log(pr0.dataRSS(theta0)) {
		return pr0, theta0, s0, nil
	}
	return pr, theta, s, nil
}

// runtimeMode is how a runtime treats dead ops and the BatchNorm and
// activation of convolutions (the Params fields of the same names).
type runtimeMode struct{ dead, constant, unfused bool }

// runtimeModes are the modes a device is tried in: a graph compiler, an
// eager framework that fuses BatchNorm and activation (CPU libraries), one
// that does not (GPU kernels), and a pruning pass that does not fold
// constants. The pruning mode comes last, so that it wins no tie with the
// modes before it (networks without dead ops, e.g. FBNet-space ones, cost
// the same in every mode but the unfused one).
var runtimeModes = []runtimeMode{{}, {dead: true}, {dead: true, unfused: true}, {constant: true}}

// constantModePenalty is the margin by which the pruning mode
// (RunsConstantOps) must lower n·log(squared log error) of the training
// rows below the other modes' to be chosen. It refines the compiled mode only on the few training
// cells that have dead ops whose result is used, and the plain minimum
// picked it where it does not hold: on HELP's meta-training devices (the
// development set; nb201-help, 10 rows, seeds 1-10) the mean test-set
// Spearman is 0.9521 without a margin, 0.9555 with 2·log 10 (overlap's
// margin) and 0.9512 when only candidates fitted in that mode may use it.
var constantModePenalty = 2 * math.Log(10)

// deadOps is how the mode treats dead ops (ops off every input-output
// path): deadRemoved, deadRun or deadUsed.
func (m runtimeMode) deadOps() int {
	switch {
	case m.constant:
		return deadUsed
	case m.dead:
		return deadRun
	}
	return deadRemoved
}

// The three ways a runtime treats dead ops: a compiler removes them (and
// folds constants), an eager runtime runs them all, a pruning pass without
// constant folding runs those whose result is used.
const (
	deadRemoved = iota
	deadRun
	deadUsed
	deadWays
)

// deadOpsPrior is what a benchmark table's other devices say about how its
// next device treats dead ops: for each way (runtimeMode.deadOps) the
// deviance −2·log P, with P the posterior predictive of the candidates
// measured in the rows' table (measuredIn; Laplace's rule of succession,
// (k+1)/(n+3)), or zeros when no candidate was. A table's devices share its
// measurement pipeline (HELP ran every NAS-Bench-201 cell the same way on
// all its devices: 8 of its 9 meta-training devices run dead ops), which 10
// rows of a new device rarely settle alone: with 10 rows, eyeriss (which
// runs them) took another mode in 18 of 100 seeds (Spearman 0.81-0.89
// against 0.95-0.996). Chosen on the development set (HELP's meta-training
// devices, each left out of the prior it is adapted with; nb201-help, 10
// rows, seeds 1-40): mean Spearman 0.9522 without it, 0.9559 with it, 0.9558
// with it in place of constantModePenalty for tables with such devices.
func deadOpsPrior(cands []Candidate, rows *adaptRows) [deadWays]float64 {
	var count [deadWays]float64
	var n float64
	for _, c := range cands {
		if rows.measuredIn(c) {
			count[modeOf(c.Params).deadOps()]++
			n++
		}
	}
	var pen [deadWays]float64
	if n == 0 {
		return pen
	}
	for i, k := range count {
		pen[i] = -2 * math.Log((k+1)/(n+deadWays))
	}
	return pen
}

// measuredIn reports whether one of candidate c's sources was measured in
// the rows' table: the same embedded table by name, or a column of it
// holding the same values in a table given as a file (HELP's CSV by path,
// or with a column of one's own device added).
func (rows *adaptRows) measuredIn(c Candidate) bool {
	for _, s := range c.Sources {
		table, column, _ := cutSource(s)
		if table == rows.source {
			return true
		}
		if rows.data == nil {
			continue
		}
		if d, err := devicedata.Open(table); err == nil && devicedata.SameMeasurements(rows.data, d, column) {
			return true
		}
	}
	return false
}

// apply sets p's runtime fields to mode m.
func (m runtimeMode) apply(p *Params) {
	p.RunsDeadOps, p.RunsConstantOps, p.Unfused = m.dead, m.constant, m.unfused
}

// modeOf is the runtime mode p's fields describe.
func modeOf(p Params) runtimeMode {
	return runtimeMode{dead: p.RunsDeadOps, constant: p.RunsConstantOps, unfused: p.Unfused}
}

// fitSpeed fits a speed factor s (every layer's time × s) and the fixed
// overhead of p to the rows and returns the scaled parameters and the sum of
// squared log errors. With overlap, it also chooses p's Overlap on the grid
// OverlapGrid (when the rows have parallel branches), a value other than p's
// only if it lowers n·log(squared log error) by more than overlapPenalty.
func fitSpeed(spec Spec, p Params, d *Design, meas []float64, overlap bool) (Params, float64, error) {
	base := p
	base.FixedOverheadMs, base.Overlap = 0, 0
	t, err := NewAnalytic(spec, base)
	if err != nil {
		return p, math.Inf(1), err
	}
	layer := make([]float64, d.Len())
	d.Latencies(t, layer, nil)
	// hidden[i]: what running row i's parallel branches concurrently saves
	// at Overlap 1 (latency is linear in Overlap).
	hidden := make([]float64, d.Len())
	grid := []float64{p.Overlap}
	if overlap && len(d.parts) > 0 {
		base.Overlap = 1
		t, _ = NewAnalytic(spec, base)
		d.Latencies(t, hidden, nil)
		for i := range hidden {
			hidden[i] = layer[i] - hidden[i]
		}
		grid = OverlapGrid
	}
	q, best := p, math.Inf(1)
	for _, o := range grid {
		loss := func(x []float64) float64 {
			s, f := math.Exp(x[0]), math.Exp(x[1])
			var j float64
			for i, l := range layer {
				e := math.Log(s*(l-o*hidden[i])+f) - math.Log(meas[i])
				j += e * e
			}
			if math.IsNaN(j) {
				return math.Inf(1)
			}
			return j
		}
		x0 := []float64{0, math.Log(max(p.FixedOverheadMs, 1e-3))}
		r, err := optimize.Minimize(optimize.Problem{Func: loss}, x0, &optimize.Settings{FuncEvaluations: 2000}, &optimize.NelderMead{})
		x := x0
		if err == nil || r != nil {
			if r != nil && r.F < loss(x0) {
				x = r.X
			}
		}
		l := loss(x)
		if o != p.Overlap {
			// n·log(RSS) + overlapPenalty: RSS × exp(overlapPenalty/n).
			l *= math.Exp(overlapPenalty / float64(len(meas)))
		}
		if l < best {
			s, f := math.Exp(x[0]), math.Exp(x[1])
			best, q = l, p
			q.PeakGMACs /= s
			q.BandwidthGBs /= s
			q.LayerOverheadUs *= s
			q.EltwiseOverheadUs *= s
			q.FixedOverheadMs = f
			q.Overlap = o
		}
	}
	return q, best, nil
}

// overlapPenalty is what a nonzero overlap adds to the deviance n·log(RSS)
// of n rows: the description length of one choice among the grid's 10
// nonzero values, 2·log 10 (minimum description length; the Bayesian
// information criterion's log n, 2.3-3.0 for 10-20 rows, picked spurious
// overlaps more often on HELP's meta-training devices, where no runtime
// overlaps: mean adapt Spearman with 10 rows 0.9520 against 0.9524 with this
// penalty and 0.9532 never overlapping).
var overlapPenalty = 2 * math.Log(float64(len(OverlapGrid)-1))

// OverlapGrid are the values of Params.Overlap Adapt chooses from.
var OverlapGrid = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}

func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

func spearmanOf(x, y []float64) float64 {
	if len(x) < 3 {
		return math.NaN()
	}
	return stats.Spearman(x, y)
}

// sanitizeName keeps letters, digits, '-', '_' and '.' of s.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// AdaptArchs is Adapt on measured whole architectures (e.g. the models timed
// by `multihw cost measure`, package hwcost/measure): archs[i] took ms[i]
// milliseconds on the device named source. cfg.Data and cfg.Device are
// ignored.
func AdaptArchs(source string, archs []*blocks.Arch, ms []float64, cfg AdaptConfig) (*AdaptResult, error) {
	rows, err := archRows(source, archs, ms)
	if err != nil {
		return nil, err
	}
	return adaptTo(rows, cfg)
}

// archRows compiles measured whole architectures: archs[i] took ms[i]
// milliseconds on the device named source.
func archRows(source string, archs []*blocks.Arch, ms []float64) (*adaptRows, error) {
	if len(archs) != len(ms) {
		return nil, fmt.Errorf("adapt: %d architectures, %d latencies", len(archs), len(ms))
	}
	if len(archs) == 0 {
		return nil, fmt.Errorf("adapt: %s has no measured architectures", source)
	}
	rows := &adaptRows{source: source, column: source}
	ans := make([]*blocks.Analysis, len(archs))
	for i, a := range archs {
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			return nil, fmt.Errorf("adapt: %s: %w", source, err)
		}
		if !(ms[i] >= devicedata.MinValue && ms[i] <= devicedata.MaxValue) { // as a table's cells
			return nil, fmt.Errorf("adapt: %s: latency of %s must be in [%g, %g] ms, got %g", source, a.Name,
				float64(devicedata.MinValue), float64(devicedata.MaxValue), ms[i])
		}
		ans[i] = an
		rows.meas = append(rows.meas, ms[i])
		rows.macs = append(rows.macs, float64(an.MACs))
	}
	var err error
	if rows.design, err = NewDesign(archs, ans); err != nil {
		return nil, fmt.Errorf("adapt: %s: %w", source, err)
	}
	return rows, nil
}
