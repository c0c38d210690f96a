package hwcost

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/stats"
)

// The fit is a maximum a posteriori estimate in log space: it minimises
//
//	Σ_rows (log predicted − log measured)² / σ_obs² + Σ_k (θ_k / σ_k)²
//
// over θ_k = log(parameter_k / prior_k) of the free parameters below. Most
// targets have 5-8 usable rows for 6 free parameters, so the priors carry real
// weight: a parameter the rows do not constrain stays at its prior.
type freeParam struct {
	name  string
	sigma float64 // prior standard deviation of log(value/prior)
	apply func(p *Params, f float64)
}

var freeParams = []freeParam{
	// Peak rates are known to within a factor of ~3 from the hardware.
	{"peak_gmacs", math.Log(3), func(p *Params, f float64) { p.PeakGMACs *= f }},
	// Depthwise efficiency is the least known and the most hardware-specific.
	{"eff_dw", math.Log(3), func(p *Params, f float64) { p.EffDW *= f }},
	// Full and fused k×k convs share one factor: few rows have either.
	{"eff_conv,eff_fused", math.Log(2), func(p *Params, f float64) { p.EffConv *= f; p.EffFused *= f }},
	{"bandwidth_gbs", math.Log(3), func(p *Params, f float64) { p.BandwidthGBs *= f }},
	{"layer_overhead_us", math.Log(3), func(p *Params, f float64) { p.LayerOverheadUs *= f }},
	{"fixed_overhead_ms", math.Log(3), func(p *Params, f float64) { p.FixedOverheadMs *= f }},
}

// DefaultSigmaObs is the assumed log-space noise of one published latency: the
// same model on the same device differs by 15-25% across sources.
const DefaultSigmaObs = 0.2

// minFitRows is the fewest rows a target needs to be fitted (else it keeps its prior).
const minFitRows = 3

// Fitter fits the analytic targets to published latencies. Configure it with
// the chained methods and call Run.
type Fitter struct {
	anchors   []Anchor
	anchorsID string
	targets   []string
	sigmaObs  float64
	err       error
}

// NewFitter returns a fitter of all built-in targets on the embedded anchors.
func NewFitter() *Fitter {
	f := &Fitter{targets: TargetNames(), sigmaObs: DefaultSigmaObs, anchorsID: EmbeddedAnchorsID()}
	f.anchors, f.err = EmbeddedAnchors()
	return f
}

// Anchors replaces the latency data; id names it in the report.
func (f *Fitter) Anchors(a []Anchor, id string) *Fitter {
	f.anchors, f.anchorsID = a, id
	return f
}

// Targets restricts the fit to the named targets (groups allowed, see ExpandTargets).
func (f *Fitter) Targets(names ...string) *Fitter {
	f.targets, f.err = ExpandTargets(names)
	return f
}

// SigmaObs sets the assumed log-space noise of one measurement (default DefaultSigmaObs).
func (f *Fitter) SigmaObs(s float64) *Fitter {
	if !(s > 0) || math.IsInf(s, 0) {
		f.err = fmt.Errorf("fit: sigma_obs must be positive and finite, got %g", s)
	}
	f.sigmaObs = s
	return f
}

// ErrorStats summarises predictions against measurements.
type ErrorStats struct {
	// MedianAbsErr is the median of |predicted/measured − 1|.
	MedianAbsErr float64 `json:"median_abs_err"`
	// Spearman is the rank correlation of predicted and measured (NaN with
	// fewer than 3 rows or constant values).
	Spearman float64 `json:"spearman"`
	// PairAcc is the fraction of row pairs whose measured latencies differ by
	// at least DistinctRatio that the predictions order the same way (NaN
	// without such pairs). Unlike Spearman it ignores near-ties, which the
	// rounding of the published figures (often to 0.1 ms) makes noise.
	PairAcc float64 `json:"pair_acc"`
	Pairs   int     `json:"pairs"`
}

// DistinctRatio is the measured latency ratio from which two rows count as
// distinguishable in ErrorStats.PairAcc.
const DistinctRatio = 1.2

// FitRow is one architecture of a target's fit with its predictions.
type FitRow struct {
	AnchorRow
	// FittedMs is the prediction of the model fitted on all rows; HeldOutMs
	// that of the model fitted without this row's model (leave one model out).
	FittedMs  float64 `json:"fitted_ms"`
	HeldOutMs float64 `json:"held_out_ms"`
	// MACsMs and MACsHeldOutMs are the same for the plain-MACs baseline
	// (latency = fitted scale × MACs).
	MACsMs        float64 `json:"macs_ms"`
	MACsHeldOutMs float64 `json:"macs_held_out_ms"`
}

// TargetFit is the fit of one target.
type TargetFit struct {
	Target string   `json:"target"`
	Spec   Spec     `json:"-"`
	Rows   []FitRow `json:"rows"`
	Prior  Params   `json:"prior"`
	Fitted Params   `json:"fitted"`
	// Fit and HeldOut compare the analytic model's in-sample and
	// leave-one-model-out predictions with the measurements; MACs and
	// MACsHeldOut do the same for the plain-MACs baseline.
	Fit         ErrorStats `json:"fit"`
	HeldOut     ErrorStats `json:"held_out"`
	MACs        ErrorStats `json:"macs"`
	MACsHeldOut ErrorStats `json:"macs_held_out"`
	// MsPerGMAC is the baseline's fitted scale.
	MsPerGMAC float64    `json:"ms_per_gmac"`
	Excluded  []Excluded `json:"excluded"`
	// Note explains a target that could not be fitted.
	Note string `json:"note,omitempty"`
}

// FitResult is the outcome of Fitter.Run.
type FitResult struct {
	Anchors  string      `json:"anchors"`
	SigmaObs float64     `json:"sigma_obs"`
	Targets  []TargetFit `json:"targets"`
	// Params holds the fitted parameters (priors for targets not fitted).
	Params *ParamSet `json:"params"`
}

// Run fits every target. It is deterministic.
func (f *Fitter) Run() (*FitResult, error) {
	if f.err != nil {
		return nil, f.err
	}
	res := &FitResult{Anchors: f.anchorsID, SigmaObs: f.sigmaObs,
		Params: &ParamSet{Note: "fitted by `multihw cost fit` (see hwcost/FIT_REPORT.md)", Anchors: f.anchorsID,
			Targets: map[string]Params{}}}
	for _, name := range f.targets {
		spec, err := LookupSpec(name)
		if err != nil {
			return nil, err
		}
		tf, err := f.fitTarget(spec)
		if err != nil {
			return nil, fmt.Errorf("fit %s: %w", name, err)
		}
		res.Targets = append(res.Targets, *tf)
		res.Params.Targets[name] = tf.Fitted
	}
	return res, nil
}

// fitProblem evaluates the model of one target on its anchor rows.
type fitProblem struct {
	spec     Spec
	rows     []*blocks.Analysis
	logMeas  []float64
	sigmaObs float64
	t        *Analytic // scratch model whose parameters change during the fit
}

func (fp *fitProblem) params(theta []float64) Params {
	p := fp.spec.Prior
	for k, fpar := range freeParams {
		fpar.apply(&p, math.Exp(theta[k]))
	}
	return p
}

// predict sets the scratch model to theta and returns the latency of row i.
func (fp *fitProblem) setTheta(theta []float64) {
	fp.t.p = fp.params(theta)
	fp.t.setRates()
}

func (fp *fitProblem) predict(i int) float64 {
	var acc [2]float64
	an := fp.rows[i]
	for j := range an.Layers {
		fp.t.AddLayerCost(&an.Layers[j], acc[:])
	}
	return fp.t.Latency(acc[:])
}

// objective is the negative log posterior (up to constants) without row skip (-1: none).
func (fp *fitProblem) objective(theta []float64, skip int) float64 {
	for _, v := range theta {
		if math.IsNaN(v) || math.Abs(v) > 20 { // keep exp() finite
			return math.Inf(1)
		}
	}
	fp.setTheta(theta)
	var j float64
	for i := range fp.rows {
		if i == skip {
			continue
		}
		d := (math.Log(fp.predict(i)) - fp.logMeas[i]) / fp.sigmaObs
		j += d * d
	}
	for k, fpar := range freeParams {
		d := theta[k] / fpar.sigma
		j += d * d
	}
	return j
}

// minimize runs Nelder-Mead from the prior (θ = 0) and restarts it from the
// best point with a fresh unit simplex, stepping up and down each axis in
// turn, until two restarts in a row gain less than 1e-6. The max() of the
// roofline makes the objective piecewise smooth with flat directions (an
// efficiency that only matters once its layers turn compute-bound), where a
// single simplex stalls. It returns the best θ found.
func (fp *fitProblem) minimize(skip int) []float64 {
	f := func(x []float64) float64 { return fp.objective(x, skip) }
	problem := optimize.Problem{Func: f}
	x := make([]float64, len(freeParams))
	best := f(x)
	for restart, stall := 0, 0; restart < 20 && stall < 2; restart++ {
		step := 1.0
		if restart%2 == 1 {
			step = -1
		}
		verts := [][]float64{append([]float64(nil), x...)}
		vals := []float64{best}
		for i := range x {
			v := append([]float64(nil), x...)
			v[i] += step
			verts = append(verts, v)
			vals = append(vals, f(v))
		}
		settings := &optimize.Settings{FuncEvaluations: 3000,
			Converger: &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-9, Iterations: 200}}
		r, _ := optimize.Minimize(problem, x, settings, &optimize.NelderMead{InitialVertices: verts, InitialValues: vals})
		// A budget or convergence status still carries the best location.
		stall++
		if r != nil && r.F < best {
			if r.F < best-1e-6 {
				stall = 0
			}
			best, x = r.F, append(x[:0:0], r.X...)
		}
	}
	return x
}

func (f *Fitter) fitTarget(spec Spec) (*TargetFit, error) {
	rows, ex, err := SelectAnchors(spec, f.anchors)
	if err != nil {
		return nil, err
	}
	tf := &TargetFit{Target: spec.Name, Spec: spec, Prior: spec.Prior, Fitted: spec.Prior, Excluded: ex}
	t, err := NewAnalytic(spec, spec.Prior)
	if err != nil {
		return nil, err
	}
	fp := &fitProblem{spec: spec, sigmaObs: f.sigmaObs, t: t}
	for _, r := range rows {
		an, err := blocks.Analyze(r.arch, 0)
		if err != nil {
			return nil, err
		}
		fp.rows = append(fp.rows, an)
		fp.logMeas = append(fp.logMeas, math.Log(r.MeasuredMs))
		tf.Rows = append(tf.Rows, FitRow{AnchorRow: r})
	}
	n := len(rows)
	// Plain-MACs baseline: latency = s · MACs with log s the mean log ratio.
	macsScale := func(skip int) float64 {
		var sum float64
		var k int
		for i, r := range rows {
			if i != skip {
				sum += math.Log(r.MeasuredMs / float64(r.MACs))
				k++
			}
		}
		return math.Exp(sum / float64(k))
	}
	if n < minFitRows {
		tf.Note = fmt.Sprintf("only %d usable rows (need %d): prior kept, no held-out figures", n, minFitRows)
		fp.setTheta(make([]float64, len(freeParams)))
		for i := range tf.Rows {
			tf.Rows[i].FittedMs = fp.predict(i)
			tf.Rows[i].HeldOutMs = math.NaN()
			tf.Rows[i].MACsHeldOutMs = math.NaN()
			if n > 0 {
				tf.Rows[i].MACsMs = macsScale(-1) * float64(rows[i].MACs)
			}
		}
		tf.Fit, tf.MACs = errorStats(tf.Rows, fitted), errorStats(tf.Rows, macsFitted)
		tf.HeldOut = ErrorStats{MedianAbsErr: math.NaN(), Spearman: math.NaN(), PairAcc: math.NaN()}
		tf.MACsHeldOut = tf.HeldOut
		return tf, nil
	}
	theta := fp.minimize(-1)
	tf.Fitted = fp.params(theta)
	fp.setTheta(theta)
	for i := range tf.Rows {
		tf.Rows[i].FittedMs = fp.predict(i)
	}
	s := macsScale(-1)
	tf.MsPerGMAC = s * 1e9
	for i := range tf.Rows {
		tf.Rows[i].MACsMs = s * float64(rows[i].MACs)
	}
	// Leave one model out: each row is one model (duplicates are merged).
	for i := range tf.Rows {
		th := fp.minimize(i)
		fp.setTheta(th)
		tf.Rows[i].HeldOutMs = fp.predict(i)
		tf.Rows[i].MACsHeldOutMs = macsScale(i) * float64(rows[i].MACs)
	}
	tf.Fit = errorStats(tf.Rows, fitted)
	tf.HeldOut = errorStats(tf.Rows, heldOut)
	tf.MACs = errorStats(tf.Rows, macsFitted)
	tf.MACsHeldOut = errorStats(tf.Rows, macsHeldOut)
	if err := tf.Fitted.Validate(); err != nil {
		return nil, fmt.Errorf("fitted parameters: %w", err)
	}
	return tf, nil
}

func fitted(r *FitRow) float64      { return r.FittedMs }
func heldOut(r *FitRow) float64     { return r.HeldOutMs }
func macsFitted(r *FitRow) float64  { return r.MACsMs }
func macsHeldOut(r *FitRow) float64 { return r.MACsHeldOutMs }

func errorStats(rows []FitRow, pred func(*FitRow) float64) ErrorStats {
	p := make([]float64, len(rows))
	m := make([]float64, len(rows))
	for i := range rows {
		p[i], m[i] = pred(&rows[i]), rows[i].MeasuredMs
	}
	st := ErrorStats{MedianAbsErr: stats.MedianAbsRatioError(p, m), Spearman: math.NaN(), PairAcc: math.NaN()}
	if len(rows) >= 3 {
		st.Spearman = stats.Spearman(p, m)
	}
	var good int
	for i := range m {
		for j := range m {
			if m[j] >= DistinctRatio*m[i] {
				st.Pairs++
				if p[j] > p[i] {
					good++
				}
			}
		}
	}
	if st.Pairs > 0 {
		st.PairAcc = float64(good) / float64(st.Pairs)
	}
	return st
}
