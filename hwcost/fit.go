package hwcost

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/stats"
)

// The fit is a maximum a posteriori estimate in log space: it minimises
//
//	Σ_sources Σ_rows (log predicted − log measured)² / σ_source² + Σ_k (θ_k / σ_k)²
//
// over θ_k = log(parameter_k / prior_k) of the free parameters below. The
// published rows are few (5-8 per target), so the priors carry real weight
// there; benchmark networks measured on the same silicon (NAS-Bench-201 on
// the Snapdragon 855, the Pixel 4's chip) add thousands of rows. Those were
// timed with another runtime than the published rows, so each benchmark
// source gets its own runtime parameters (multiplicative offsets on the MAC
// rate, bandwidth and overheads, runtimeParams) while the op efficiencies —
// how the silicon runs a dense k×k conv, a depthwise conv or a pooling
// relative to a 1×1 conv — are shared. The uncertainty of every parameter is
// the Laplace approximation of the posterior at the optimum (Posterior).
type freeParam struct {
	name  string
	sigma float64 // prior standard deviation of log(value/prior)
	field func(p *Params) *float64
}

var (
	ln2  = math.Log(2)
	ln3  = math.Log(3)
	ln10 = math.Log(10)
)

// targetParams are fitted for every target.
var targetParams = []freeParam{
	// Peak rates are known to within a factor of ~3 from the hardware.
	{"peak_gmacs", ln3, func(p *Params) *float64 { return &p.PeakGMACs }},
	// Full-conv efficiencies within ×2: the stem's (short GEMM) and the dense
	// convs on feature maps (fused IBN expansions), fitted separately.
	{"eff_conv", ln2, func(p *Params) *float64 { return &p.EffConv }},
	{"eff_fused", ln2, func(p *Params) *float64 { return &p.EffFused }},
	// Depthwise and pooling efficiencies are the least known.
	{"eff_dw", ln3, func(p *Params) *float64 { return &p.EffDW }},
	{"eff_pool", ln3, func(p *Params) *float64 { return &p.EffPool }},
	{"bandwidth_gbs", ln3, func(p *Params) *float64 { return &p.BandwidthGBs }},
	{"layer_overhead_us", ln3, func(p *Params) *float64 { return &p.LayerOverheadUs }},
	{"eltwise_overhead_us", ln3, func(p *Params) *float64 { return &p.EltwiseOverheadUs }},
	{"fixed_overhead_ms", ln3, func(p *Params) *float64 { return &p.FixedOverheadMs }},
}

// runtimeParams are the offsets of a benchmark source timed with another
// runtime on the target's silicon: kernels may differ by ×2 in speed, dispatch
// and invocation costs by ×10.
var runtimeParams = []freeParam{
	{"peak_gmacs", ln2, func(p *Params) *float64 { return &p.PeakGMACs }},
	{"bandwidth_gbs", ln2, func(p *Params) *float64 { return &p.BandwidthGBs }},
	{"layer_overhead_us", ln10, func(p *Params) *float64 { return &p.LayerOverheadUs }},
	{"eltwise_overhead_us", ln10, func(p *Params) *float64 { return &p.EltwiseOverheadUs }},
	{"fixed_overhead_ms", ln10, func(p *Params) *float64 { return &p.FixedOverheadMs }},
}

// FreeParamNames returns the names of the parameters fitted per target.
func FreeParamNames() []string {
	n := make([]string, len(targetParams))
	for i, p := range targetParams {
		n[i] = p.name
	}
	return n
}

// DefaultSigmaObs is the assumed log-space noise of one published latency: the
// same model on the same device differs by 15-25% across sources.
const DefaultSigmaObs = 0.2

// BenchSigmaObs is the assumed log-space noise of one benchmark measurement:
// repeated timings of one network in these benchmarks spread by 5-10%.
const BenchSigmaObs = 0.1

// DefaultBenchRows is how many measured benchmark networks of a source enter
// the fit (drawn with a fixed seed); the others are held out.
const DefaultBenchRows = 1000

// DefaultBenchSeed is the seed of the draw of those networks.
const DefaultBenchSeed = 1

// minFitRows is the fewest rows a target needs to be fitted (else it keeps its prior).
const minFitRows = 3

// Fitter fits the analytic targets to published latencies and benchmark
// measurements. Configure it with the chained methods and call Run.
type Fitter struct {
	anchors   []Anchor
	anchorsID string
	targets   []string
	sigmaObs  float64
	benchRows int
	benchSeed uint64
	noBench   bool
	err       error
}

// NewFitter returns a fitter of all built-in targets on the embedded anchors
// and benchmark data.
func NewFitter() *Fitter {
	f := &Fitter{targets: TargetNames(), sigmaObs: DefaultSigmaObs, anchorsID: EmbeddedAnchorsID(), benchRows: DefaultBenchRows,
		benchSeed: DefaultBenchSeed}
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

// SigmaObs sets the assumed log-space noise of one published latency (default DefaultSigmaObs).
func (f *Fitter) SigmaObs(s float64) *Fitter {
	if !(s > 0) || math.IsInf(s, 0) {
		f.err = fmt.Errorf("fit: sigma_obs must be positive and finite, got %g", s)
	}
	f.sigmaObs = s
	return f
}

// BenchRows sets how many benchmark networks per source enter the fit
// (default DefaultBenchRows; the rest are held out).
func (f *Fitter) BenchRows(n int) *Fitter {
	if n < minFitRows {
		f.err = fmt.Errorf("fit: bench rows must be at least %d, got %d", minFitRows, n)
	}
	f.benchRows = n
	return f
}

// BenchSeed sets the seed of the draw of the benchmark networks that enter
// the fit (default DefaultBenchSeed): refitting with other seeds shows how
// much the held-out figures move with the draw.
func (f *Fitter) BenchSeed(s uint64) *Fitter {
	f.benchSeed = s
	return f
}

// NoBench fits on the published rows only (the targets without published
// rows keep their priors).
func (f *Fitter) NoBench() *Fitter {
	f.noBench = true
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
	// HeldOutForm is the form chosen without this row.
	HeldOutForm string `json:"held_out_form,omitempty"`
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
	// Posterior is the parameters' uncertainty (Laplace), with the prior
	// widths the fit used.
	Posterior *Posterior `json:"posterior,omitempty"`
	// Fit and HeldOut compare the analytic model's in-sample and
	// leave-one-model-out predictions with the published rows; MACs and
	// MACsHeldOut do the same for the plain-MACs baseline.
	Fit         ErrorStats `json:"fit"`
	HeldOut     ErrorStats `json:"held_out"`
	MACs        ErrorStats `json:"macs"`
	MACsHeldOut ErrorStats `json:"macs_held_out"`
	// MsPerGMAC is the baseline's fitted scale.
	MsPerGMAC float64 `json:"ms_per_gmac"`
	// Bench holds the benchmark sources of the fit with their held-out figures.
	Bench []BenchFit `json:"bench,omitempty"`
	// Form is the model form fitted (fitForms: "roofline" unless the target,
	// fitted on published rows alone, chose a smaller one); Roofline is then
	// the roofline form's fit (ParamSet.Roofline).
	Form     string  `json:"form"`
	Roofline *Params `json:"roofline,omitempty"`
	// Transfer describes the priors taken from another target's fit
	// (Spec.PriorFrom).
	Transfer *Transfer  `json:"transfer,omitempty"`
	Excluded []Excluded `json:"excluded"`
	// Note explains a target that could not be fitted.
	Note string `json:"note,omitempty"`
}

// Transfer records how a target's priors came from another target's fit.
type Transfer struct {
	From string `json:"from"`
	// Names are the transferred parameters; SpecPrior their values in
	// specs.go, Centre the values taken from From's fit, SigmaPrior and
	// Sigma the prior widths (log space) before and after.
	Names      []string  `json:"names"`
	SpecPrior  []float64 `json:"spec_prior"`
	Centre     []float64 `json:"centre"`
	SigmaPrior []float64 `json:"sigma_prior"`
	Sigma      []float64 `json:"sigma"`
}

// TransferSigma is the log-space width added to the posterior of the target a
// prior is transferred from: a different chip of the same family.
var TransferSigma = math.Log(1.5)

// FitResult is the outcome of Fitter.Run.
type FitResult struct {
	Anchors   string      `json:"anchors"`
	SigmaObs  float64     `json:"sigma_obs"`
	BenchRows int         `json:"bench_rows"`
	BenchSeed uint64      `json:"bench_seed"`
	Targets   []TargetFit `json:"targets"`
	// Params holds the fitted parameters (priors for targets not fitted) and
	// their posteriors.
	Params *ParamSet `json:"params"`
}

// Run fits every target. It is deterministic.
func (f *Fitter) Run() (*FitResult, error) {
	if f.err != nil {
		return nil, f.err
	}
	res := &FitResult{Anchors: f.anchorsID, SigmaObs: f.sigmaObs, BenchRows: f.benchRows, BenchSeed: f.benchSeed,
		Params: &ParamSet{Note: fittedNote + " (see hwcost/FIT_REPORT.md)", Anchors: f.anchorsID,
			Targets: map[string]Params{}, Posteriors: map[string]*Posterior{}}}
	if f.noBench {
		res.BenchRows = 0
	}
	done := map[string]*TargetFit{}
	var fit func(name string) (*TargetFit, error)
	fit = func(name string) (*TargetFit, error) {
		if tf, ok := done[name]; ok {
			return tf, nil
		}
		spec, err := LookupSpec(name)
		if err != nil {
			return nil, err
		}
		var from *TargetFit
		if spec.PriorFrom != "" {
			if from, err = fit(spec.PriorFrom); err != nil {
				return nil, err
			}
		}
		tf, err := f.fitTarget(spec, from)
		if err != nil {
			return nil, fmt.Errorf("fit %s: %w", name, err)
		}
		done[name] = tf
		return tf, nil
	}
	for _, name := range f.targets {
		tf, err := fit(name)
		if err != nil {
			return nil, err
		}
		res.Targets = append(res.Targets, *tf)
		res.Params.Targets[name] = tf.Fitted
		if tf.Posterior != nil {
			res.Params.Posteriors[name] = tf.Posterior
		}
		if tf.Roofline != nil {
			if res.Params.Roofline == nil {
				res.Params.Roofline = map[string]Params{}
			}
			res.Params.Roofline[name] = *tf.Roofline
		}
		if rc := tf.rankCheck(); rc != nil {
			if res.Params.Ranking == nil {
				res.Params.Ranking = map[string]*RankCheck{}
			}
			res.Params.Ranking[name] = rc
		}
	}
	return res, nil
}

// fitSource is one set of measurements of a target: the published rows, or
// the benchmark networks of one device column.
type fitSource struct {
	name    string
	design  *Design   // one row per distinct architecture cost
	logMeas []float64 // mean log measured latency of the merged rows
	weight  []float64 // measurements merged into each row
	sigma   float64
	offset  int // index in θ of the runtime offsets; -1: none
	t       *Analytic
	pred    []float64
	scratch designScratch
}

// newFitSource merges rows of d that cost alike (their squared log errors
// add up to the error of the mean, plus a constant): rows with identical
// layer counts and, when the prior runs parallel branches concurrently
// (Params.Overlap), identical parallel parts.
func newFitSource(name string, d *Design, measured []float64, sigma float64, spec Spec, prior Params) (*fitSource, error) {
	s := &fitSource{name: name, sigma: sigma, offset: -1}
	index := map[string]int{}
	var keep []int
	for r := range d.rows {
		k := d.rowKey(r, prior.RunsConstantOps && !prior.RunsDeadOps)
		if prior.Overlap == 0 {
			k, _, _ = strings.Cut(k, "|")
		}
		i, ok := index[k]
		if !ok {
			i = len(keep)
			index[k] = i
			keep = append(keep, r)
			s.logMeas = append(s.logMeas, 0)
			s.weight = append(s.weight, 0)
		}
		s.logMeas[i] += math.Log(measured[r])
		s.weight[i]++
	}
	for i := range s.logMeas {
		s.logMeas[i] /= s.weight[i]
	}
	s.design = d.Subset(keep)
	s.pred = make([]float64, s.design.Len())
	var err error
	s.t, err = NewAnalytic(spec, prior)
	return s, err
}

// problem is the MAP estimate of one target's parameters.
type problem struct {
	centre  Params    // prior centre
	sigma   []float64 // prior widths of targetParams
	sources []*fitSource
	n       int    // len(θ)
	out     []bool // published rows (source 0) left out; nil: none
	// pos[k] is the entry of θ that parameter k of targetParams follows: its
	// own when free, another's when tied to it, -1 when held at the centre
	// (a form without its term, fitForm).
	pos []int
	// free lists the free parameters in θ order.
	free []int
}

// tieEltwise makes the overhead of ops without weights follow the
// per-layer overhead at its prior ratio: without benchmark networks the rows'
// few additions and poolings cannot tell the two apart.
func (pr *problem) tieEltwise() {
	e, l := paramIndex("eltwise_overhead_us"), paramIndex("layer_overhead_us")
	pr.free = slices.DeleteFunc(pr.free, func(k int) bool { return k == e })
	pr.layout()
	pr.pos[e] = pr.pos[l]
}

// layout assigns θ entries: the free parameters, then each source's offsets.
func (pr *problem) layout() {
	pr.pos = make([]int, len(targetParams))
	for k := range pr.pos {
		pr.pos[k] = -1
	}
	for i, k := range pr.free {
		pr.pos[k] = i
	}
	pr.n = len(pr.free)
	for _, s := range pr.sources {
		if s.offset >= 0 {
			s.offset = pr.n
			pr.n += len(runtimeParams)
		}
	}
}

func paramIndex(name string) int {
	for k, fp := range targetParams {
		if fp.name == name {
			return k
		}
	}
	panic("hwcost: unknown parameter " + name)
}

func newProblem(centre Params, sigma []float64, sources []*fitSource) *problem {
	pr := &problem{centre: centre, sigma: sigma, sources: sources}
	for k := range targetParams {
		pr.free = append(pr.free, k)
	}
	pr.layout()
	return pr
}

// params returns the target parameters at θ.
func (pr *problem) params(theta []float64) Params {
	p := pr.centre
	for k, fp := range targetParams {
		if pr.pos[k] >= 0 {
			*fp.field(&p) *= math.Exp(theta[pr.pos[k]])
		}
	}
	return p
}

// sourceParams returns the parameters source s is costed with at θ.
func (pr *problem) sourceParams(theta []float64, s *fitSource) Params {
	p := pr.params(theta)
	if s.offset >= 0 {
		for j, rp := range runtimeParams {
			*rp.field(&p) *= math.Exp(theta[s.offset+j])
		}
	}
	return p
}

// objective is twice the negative log posterior, up to a constant.
func (pr *problem) objective(theta []float64) float64 {
	for _, v := range theta {
		if math.IsNaN(v) || math.Abs(v) > 20 { // keep exp() finite
			return math.Inf(1)
		}
	}
	var j float64
	for si, s := range pr.sources {
		s.t.p = pr.sourceParams(theta, s)
		s.t.setRates()
		s.design.Latencies(s.t, s.pred, &s.scratch)
		for r, p := range s.pred {
			if si == 0 && pr.out != nil && pr.out[r] {
				continue
			}
			d := (math.Log(p) - s.logMeas[r]) / s.sigma
			j += s.weight[r] * d * d
		}
	}
	for i, k := range pr.free {
		d := theta[i] / pr.sigma[k]
		j += d * d
	}
	for _, s := range pr.sources {
		if s.offset >= 0 {
			for k, rp := range runtimeParams {
				d := theta[s.offset+k] / rp.sigma
				j += d * d
			}
		}
	}
	if math.IsNaN(j) {
		return math.Inf(1)
	}
	return j
}

// minimize runs Nelder-Mead from x0 (nil: the prior, θ = 0) and restarts it
// from the best point with a fresh simplex, stepping up and down each axis in
// turn by 1, 0.3 and 0.1 (log units), until a whole cycle of steps gains less
// than 1e-6. The max() of the roofline makes the objective piecewise smooth
// with flat directions (an efficiency that only matters once its layers turn
// compute-bound), where a single simplex stalls, and thousands of benchmark
// rows make it steep in others, where a large simplex cannot move. It
// returns the best θ found.
func (pr *problem) minimize(x0 []float64) []float64 {
	f := pr.objective
	problem := optimize.Problem{Func: f}
	x := make([]float64, pr.n)
	copy(x, x0)
	best := f(x)
	steps := []float64{1, -1, 0.3, -0.3, 0.1, -0.1}
	for restart, stall := 0, 0; restart < 6*len(steps) && stall < len(steps); restart++ {
		step := steps[restart%len(steps)]
		verts := [][]float64{append([]float64(nil), x...)}
		vals := []float64{best}
		for i := range x {
			v := append([]float64(nil), x...)
			v[i] += step
			verts = append(verts, v)
			vals = append(vals, f(v))
		}
		settings := &optimize.Settings{FuncEvaluations: 300 * pr.n,
			Converger: &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-9, Iterations: 20 * pr.n}}
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

// Posterior is the Laplace approximation of a fit's posterior over the log
// parameters: Gaussian with mean log(Params) and covariance Cov, over the
// parameters Names (targetParams, or those of them the fit's form fits).
// Prior holds the prior widths the fit used.
type Posterior struct {
	Names []string    `json:"names"`
	Mean  []float64   `json:"mean"`  // log of the fitted values
	Cov   [][]float64 `json:"cov"`   // covariance of the log values
	Prior []float64   `json:"prior"` // prior standard deviations (log space)
}

// SD returns the posterior standard deviation of parameter k (log space).
func (po *Posterior) SD(k int) float64 { return math.Sqrt(po.Cov[k][k]) }

// Index returns the position of parameter name in po, -1 when the fit's form
// held it.
func (po *Posterior) Index(name string) int { return slices.Index(po.Names, name) }

// Constrained reports whether the data narrowed parameter k's prior to less
// than half its width.
func (po *Posterior) Constrained(k int) bool { return po.SD(k) < 0.5*po.Prior[k] }

// PriorBound reports whether the data left parameter k's prior width almost
// as it was (above 90%).
func (po *Posterior) PriorBound(k int) bool { return po.SD(k) >= 0.9*po.Prior[k] }

// laplace returns the posterior at θ: the objective is twice the negative log
// posterior, so the covariance is 2·H⁻¹ with H its Hessian (central
// differences). The roofline's kinks can make H indefinite in directions the
// data do not see; its eigenvalues are raised to the least curvature the
// priors alone give, so such directions keep their prior width.
func (pr *problem) laplace(theta []float64, p Params) *Posterior {
	var h mat.SymDense
	fd.Hessian(&h, pr.objective, theta, &fd.Settings{Formula: fd.Central, Step: 1e-3})
	floor := math.Inf(1)
	for _, k := range pr.free {
		floor = min(floor, 2/(pr.sigma[k]*pr.sigma[k]))
	}
	for _, rp := range runtimeParams {
		floor = min(floor, 2/(rp.sigma*rp.sigma))
	}
	var eig mat.EigenSym
	// The posterior covers the parameters the form fits (all, for the
	// roofline); held ones are not uncertain but absent.
	var keep []int
	po := &Posterior{}
	for k, fp := range targetParams {
		if pr.pos[k] >= 0 {
			keep = append(keep, k)
			po.Names = append(po.Names, fp.name)
			po.Mean = append(po.Mean, math.Log(*fp.field(&p)))
		}
	}
	cov := mat.NewSymDense(pr.n, nil)
	if eig.Factorize(&h, true) {
		vals := eig.Values(nil)
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		for i := range vals {
			vals[i] = 2 / max(vals[i], floor)
		}
		for i := range pr.n {
			for j := i; j < pr.n; j++ {
				var s float64
				for k, v := range vals {
					s += vecs.At(i, k) * v * vecs.At(j, k)
				}
				cov.SetSym(i, j, s)
			}
		}
	} else { // Cannot happen for a finite symmetric matrix; keep the priors.
		for i, k := range pr.free {
			cov.SetSym(i, i, pr.sigma[k]*pr.sigma[k])
		}
	}
	// A tied parameter moves with the one it follows (correlation 1).
	po.Cov = make([][]float64, len(keep))
	for i, ki := range keep {
		po.Cov[i] = make([]float64, len(keep))
		for j, kj := range keep {
			po.Cov[i][j] = cov.At(pr.pos[ki], pr.pos[kj])
		}
		po.Prior = append(po.Prior, pr.sigma[pr.free[pr.pos[ki]]])
	}
	return po
}

func (f *Fitter) fitTarget(spec Spec, from *TargetFit) (*TargetFit, error) {
	rows, ex, err := SelectAnchors(spec, f.anchors)
	if err != nil {
		return nil, err
	}
	tf := &TargetFit{Target: spec.Name, Spec: spec, Prior: spec.Prior, Fitted: spec.Prior, Excluded: ex}
	centre := spec.Prior
	sigma := make([]float64, len(targetParams))
	for k, fp := range targetParams {
		sigma[k] = fp.sigma
	}
	if from != nil && from.Posterior != nil {
		tf.Transfer = transferPriors(&centre, sigma, from)
	}
	tf.Prior = centre
	for _, r := range rows {
		tf.Rows = append(tf.Rows, FitRow{AnchorRow: r})
	}
	sources, benches, err := f.fitSources(spec, rows, centre)
	if err != nil {
		return nil, err
	}
	pub := sources[0]
	n, nBench := len(rows), len(benches)
	// Forms (fitform.go): targets on a few published rows alone choose one.
	forms := fitForms[:1]
	if nBench == 0 && n >= minSelectRows {
		forms = fitForms
	}
	prs := make([]*problem, len(forms))
	for k, fm := range forms {
		prs[k] = newFormProblem(centre, sigma, sources, fm, nBench == 0)
	}
	if n < minFitRows && nBench == 0 {
		tf.keepPrior(prs[0], pub, rows, centre)
		return tf, nil
	}
	sel := newFormSelector(prs, pub, n)
	form := 0
	if len(forms) > 1 {
		form = sel.choose(-1)
	}
	pr, theta := prs[form], sel.all[form]
	tf.Form = forms[form].name
	if form != 0 {
		p := prs[0].params(sel.all[0])
		tf.Roofline = &p
	}
	tf.Fitted = pr.params(theta)
	if err := tf.Fitted.Validate(); err != nil {
		return nil, fmt.Errorf("fitted parameters: %w", err)
	}
	tf.Posterior = pr.laplace(theta, tf.Fitted)
	pr.objective(theta) // sets every source's predictions at the optimum
	for i := range tf.Rows {
		tf.Rows[i].FittedMs = pub.pred[i]
	}
	for bi, bs := range benches {
		src := sources[1+bi]
		tf.Bench = append(tf.Bench, bs.score(pr.sourceParams(theta, src), src.t.spec))
	}
	if n > 0 {
		s := macsScale(rows, -1)
		tf.MsPerGMAC = s * 1e9
		for i := range tf.Rows {
			tf.Rows[i].MACsMs = s * float64(rows[i].MACs)
		}
	}
	// Leave one model out: each published row is one model (duplicates are
	// merged); the benchmark rows stay in. The form is chosen again without
	// the held-out row (nested leave-one-out).
	for i := range tf.Rows {
		if n-1 < minFitRows && nBench == 0 {
			tf.Rows[i].HeldOutMs = math.NaN()
		} else {
			k := 0
			if len(forms) > 1 {
				k = sel.choose(i)
			}
			tf.Rows[i].HeldOutMs = sel.predict(k, i, -1)[i]
			tf.Rows[i].HeldOutForm = forms[k].name
		}
		tf.Rows[i].MACsHeldOutMs = macsScale(rows, i) * float64(rows[i].MACs)
	}
	if n == 0 {
		nan := ErrorStats{MedianAbsErr: math.NaN(), Spearman: math.NaN(), PairAcc: math.NaN()}
		tf.Fit, tf.HeldOut, tf.MACs, tf.MACsHeldOut = nan, nan, nan, nan
		return tf, nil
	}
	tf.Fit = errorStats(tf.Rows, fitted)
	tf.HeldOut = errorStats(tf.Rows, heldOut)
	tf.MACs = errorStats(tf.Rows, macsFitted)
	tf.MACsHeldOut = errorStats(tf.Rows, macsHeldOut)
	return tf, nil
}

// fitSources returns the sources of a target's fit: its published rows
// (source 0, possibly empty) and, unless the fitter leaves them out, each
// benchmark column's fitted networks, with the column's split.
func (f *Fitter) fitSources(spec Spec, rows []AnchorRow, centre Params) ([]*fitSource, []*benchSplit, error) {
	archs := make([]*blocks.Arch, len(rows))
	ans := make([]*blocks.Analysis, len(rows))
	meas := make([]float64, len(rows))
	for i, r := range rows {
		var err error
		archs[i] = r.arch
		if ans[i], err = blocks.Analyze(r.arch, 0); err != nil {
			return nil, nil, err
		}
		meas[i] = r.MeasuredMs
	}
	design, err := NewDesign(archs, ans)
	if err != nil {
		return nil, nil, err
	}
	pub, err := newFitSource("published", design, meas, f.sigmaObs, spec, centre)
	if err != nil {
		return nil, nil, err
	}
	// newFitSource merges equal rows; anchors are one row per architecture
	// already, so source 0's rows are the anchors in order.
	if pub.design.Len() != len(rows) {
		return nil, nil, fmt.Errorf("published rows of %s: %d architectures cost alike", spec.Name, len(rows)-pub.design.Len()+1)
	}
	sources := []*fitSource{pub}
	var benches []*benchSplit
	if f.noBench {
		return sources, nil, nil
	}
	for _, bc := range spec.Bench {
		bs, err := splitBench(bc, f.benchRows, f.benchSeed)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark %s: %w", bc, err)
		}
		bspec := spec
		bspec.Precision = bc.Precision
		src, err := newFitSource(bc.String(), bs.fit, bs.fitMeas, BenchSigmaObs, bspec, centre)
		if err != nil {
			return nil, nil, err
		}
		if !bc.SameRuntime {
			src.offset = 0 // assigned by newProblem
		}
		sources = append(sources, src)
		benches = append(benches, bs)
	}
	return sources, benches, nil
}

// macsScale is the geometric mean of measured ms per MAC over rows, row skip
// left out (-1: none): the MACs baseline's one parameter.
func macsScale(rows []AnchorRow, skip int) float64 {
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

// keepPrior fills tf for a target with too few rows to fit: the prior's
// predictions, no held-out figures.
func (tf *TargetFit) keepPrior(pr *problem, pub *fitSource, rows []AnchorRow, centre Params) {
	n := len(rows)
	tf.Note = fmt.Sprintf("only %d usable rows (need %d): prior kept, no held-out figures", n, minFitRows)
	theta := make([]float64, pr.n)
	pr.objective(theta)
	for i := range tf.Rows {
		tf.Rows[i].FittedMs = pub.pred[i]
		tf.Rows[i].HeldOutMs = math.NaN()
		tf.Rows[i].MACsHeldOutMs = math.NaN()
		if n > 0 {
			tf.Rows[i].MACsMs = macsScale(rows, -1) * float64(rows[i].MACs)
		}
	}
	tf.Fit, tf.MACs = errorStats(tf.Rows, fitted), errorStats(tf.Rows, macsFitted)
	tf.HeldOut = ErrorStats{MedianAbsErr: math.NaN(), Spearman: math.NaN(), PairAcc: math.NaN()}
	tf.MACsHeldOut = tf.HeldOut
	tf.Fitted = centre
}

// transferredParams are the parameters a target takes from the fit of its
// Spec.PriorFrom: the op efficiencies, properties of the architecture family.
var transferredParams = []string{"eff_conv", "eff_fused", "eff_dw", "eff_pool"}

// transferPriors centres the transferred parameters of centre on from's fit
// and widens from's posterior by TransferSigma.
func transferPriors(centre *Params, sigma []float64, from *TargetFit) *Transfer {
	tr := &Transfer{From: from.Target}
	for k, fp := range targetParams {
		if !slices.Contains(transferredParams, fp.name) {
			continue
		}
		j := from.Posterior.Index(fp.name)
		if j < 0 { // from's form held it: nothing to transfer
			continue
		}
		v := fp.field(centre)
		tr.Names = append(tr.Names, fp.name)
		tr.SpecPrior = append(tr.SpecPrior, *v)
		tr.SigmaPrior = append(tr.SigmaPrior, sigma[k])
		*v = *fp.field(&from.Fitted)
		sd := from.Posterior.SD(j)
		sigma[k] = math.Sqrt(sd*sd + TransferSigma*TransferSigma)
		tr.Centre = append(tr.Centre, *v)
		tr.Sigma = append(tr.Sigma, sigma[k])
	}
	return tr
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

// MeanTolerance is how far (in log space) a posterior's mean may sit from the
// log of the parameter it describes: the files write both at full precision,
// and 1e-6 leaves room for a hand-rounded copy.
const MeanTolerance = 1e-6

// Matches checks the posterior against the parameters it was fitted with.
// Its mean is the log of each fitted value, so a file whose parameters were
// edited without refitting would have its draws centred on the old values
// (sensitivity printed a fitted value outside its own interval); and a
// standard deviation so wide that one of it takes a parameter out of its
// valid range would leave draws and prior-bound widths meaningless.
func (po *Posterior) Matches(p Params) error {
	for i, name := range po.Names {
		fp := targetParams[paramIndex(name)]
		v := *fp.field(&p)
		if !(v > 0) || math.Abs(math.Log(v)-po.Mean[i]) > MeanTolerance {
			return fmt.Errorf("posterior: parameter %s is %g but the posterior's mean is log(%g): the parameters were changed without refitting (refit, or remove the posterior to draw from the prior widths)",
				name, v, math.Exp(po.Mean[i]))
		}
		for _, sign := range []float64{-1, 1} {
			q := p
			*fp.field(&q) = math.Exp(po.Mean[i] + sign*po.SD(i))
			if err := q.Validate(); err != nil {
				return fmt.Errorf("posterior: parameter %s's standard deviation %g (log space) is too wide: %w", name, po.SD(i), err)
			}
		}
	}
	return nil
}

// covariance returns Cov as a symmetric matrix (its upper triangle).
func (po *Posterior) covariance() *mat.SymDense {
	n := len(po.Names)
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			cov.SetSym(i, j, po.Cov[i][j])
		}
	}
	return cov
}

// maxLogVariance bounds a posterior variance (log space): one standard
// deviation of ln(MaxParam/MinRate) already spans every valid value.
var maxLogVariance = math.Pow(math.Log(MaxParam/MinRate), 2)

// Validate checks the shapes and values of a posterior read from a file.
func (po *Posterior) Validate() error {
	n := len(po.Names)
	if n == 0 || len(po.Mean) != n || len(po.Prior) != n || len(po.Cov) != n {
		return fmt.Errorf("posterior: %d names, %d means, %d prior widths, %d covariance rows", n, len(po.Mean), len(po.Prior), len(po.Cov))
	}
	for i, row := range po.Cov {
		if len(row) != n {
			return fmt.Errorf("posterior: covariance row %d has %d entries, want %d", i, len(row), n)
		}
	}
	for i, name := range po.Names {
		if !slices.Contains(FreeParamNames(), name) {
			return fmt.Errorf("posterior: unknown parameter %q (valid: %s)", name, strings.Join(FreeParamNames(), ", "))
		}
		if slices.Index(po.Names, name) != i {
			return fmt.Errorf("posterior: parameter %s named twice", name)
		}
		if !(po.Cov[i][i] >= 0) || math.IsInf(po.Cov[i][i], 0) || math.IsNaN(po.Mean[i]) || math.IsInf(po.Mean[i], 0) {
			return fmt.Errorf("posterior: parameter %s: mean %g, variance %g", name, po.Mean[i], po.Cov[i][i])
		}
		if po.Cov[i][i] > maxLogVariance {
			return fmt.Errorf("posterior: parameter %s: variance %g exceeds %.4g (a standard deviation of ln(%g/%g), the whole valid range)", name, po.Cov[i][i], maxLogVariance, MaxParam, MinRate)
		}
		if !(po.Prior[i] >= 0) || math.IsInf(po.Prior[i], 0) {
			return fmt.Errorf("posterior: parameter %s: prior width %g must be finite and non-negative", name, po.Prior[i])
		}
		for j := range n {
			if math.IsNaN(po.Cov[i][j]) || math.IsInf(po.Cov[i][j], 0) || math.Abs(po.Cov[i][j]-po.Cov[j][i]) > 1e-9*(1+math.Abs(po.Cov[i][j])) {
				return fmt.Errorf("posterior: covariance not symmetric and finite at (%d, %d)", i, j)
			}
		}
	}
	// |Cov[i][j]| ≤ √(Cov[i][i]·Cov[j][j]) holds for every positive
	// semi-definite matrix; checked first, it also keeps the eigensolver
	// below from entries it cannot scale.
	for i := range n {
		for j := range i {
			if lim := math.Sqrt(po.Cov[i][i] * po.Cov[j][j]); math.Abs(po.Cov[i][j]) > lim*(1+1e-9)+1e-12 {
				return fmt.Errorf("posterior: covariance (%d, %d) = %g exceeds the product of the standard deviations %g: not positive semi-definite", i, j, po.Cov[i][j], lim)
			}
		}
	}
	// A covariance must be positive semi-definite: the sampler would
	// otherwise drop its negative directions without a word. The tolerance
	// allows the rounding of a matrix written with %g.
	var eig mat.EigenSym
	if !eig.Factorize(po.covariance(), false) {
		return fmt.Errorf("posterior: the covariance cannot be factorised")
	}
	vals := eig.Values(nil)
	if lo, hi := slices.Min(vals), slices.Max(vals); lo < -1e-9*max(hi, 0) {
		return fmt.Errorf("posterior: the covariance is not positive semi-definite (eigenvalue %g, largest %g)", lo, hi)
	}
	return nil
}
