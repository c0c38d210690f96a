package hwcost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/multihw/multihw/blocks"
)

// Sensitivity propagates the fitted parameters' uncertainty to conclusions:
// it draws parameter sets from each target's posterior (Posterior: Gaussian
// in log space, with correlations), costs the architectures and the reference
// under every draw, and reports the spread of each normalised latency, of AVG
// and MAX, and the probability of each pairwise ordering. Targets fitted
// without a posterior (priors, "prior" parameter sets) are drawn from their
// prior widths; targets that are not analytic (a measured lookup table) are
// held fixed.

// SensitivityConfig configures Sensitivity.
type SensitivityConfig struct {
	// Metric gives the targets, their parameters and the reference; without
	// it they come from Targets, Params and Reference.
	Metric *Metric
	// Targets are target names, groups or target files (default: paper).
	Targets []string
	// Params are the built-in targets' parameters and posteriors (default
	// DefaultParams()).
	Params *ParamSet
	// Reference normalises latencies (default: DefaultReference).
	Reference *blocks.Arch
	// Archs are the architectures compared (at their own resolutions).
	Archs []*blocks.Arch
	// Draws is the number of parameter sets (default 2000); Seed makes the
	// draws reproducible.
	Draws int
	Seed  uint64
}

// Spread summarises a quantity over the draws; Fitted is its value under the
// fitted parameters.
type Spread struct {
	Fitted float64 `json:"fitted"`
	Mean   float64 `json:"mean"`
	SD     float64 `json:"sd"`
	P05    float64 `json:"p05"`
	P50    float64 `json:"p50"`
	P95    float64 `json:"p95"`
}

// ArchSpread is one architecture's normalised latencies over the draws.
type ArchSpread struct {
	Name       string            `json:"name"`
	Normalized map[string]Spread `json:"normalized"`
	Avg        Spread            `json:"avg"`
	Max        Spread            `json:"max"`
}

// Ordering is the probability over the draws that A's metric is below B's.
type Ordering struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Metric string  `json:"metric"` // "avg", "max" or a target name
	P      float64 `json:"p_a_below_b"`
}

// SensitivityResult is the outcome of Sensitivity.
type SensitivityResult struct {
	Targets   []string     `json:"targets"`
	Reference string       `json:"reference"`
	Draws     int          `json:"draws"`
	Seed      uint64       `json:"seed"`
	Archs     []ArchSpread `json:"archs"`
	Orderings []Ordering   `json:"orderings"`
	// Fixed lists the targets held fixed (not analytic), Priors those drawn
	// from their prior widths (no fitted posterior).
	Fixed  []string `json:"fixed,omitempty"`
	Priors []string `json:"priors,omitempty"`
	// Caveats is Metric.Caveats: the draws spread the parameters of a
	// model form, not the form itself, which for these targets ranks its
	// published rows worse than MACs.
	Caveats []string `json:"caveats,omitempty"`
}

// sampler draws the log-parameter vector of one target.
type sampler struct {
	t     *Analytic
	base  Params
	mean  []float64
	chol  *mat.Dense // L with L·Lᵀ = Cov (from the eigendecomposition)
	names []string
}

func newSampler(t *Analytic, po *Posterior) (*sampler, error) {
	s := &sampler{t: t, base: t.Params()}
	if po == nil { // the prior widths, independent
		po = &Posterior{Names: FreeParamNames()}
		for k, fp := range targetParams {
			po.Mean = append(po.Mean, math.Log(*fp.field(&s.base)))
			row := make([]float64, len(targetParams))
			row[k] = fp.sigma * fp.sigma
			po.Cov = append(po.Cov, row)
		}
	}
	n := len(po.Names)
	var eig mat.EigenSym
	if !eig.Factorize(po.covariance(), true) {
		return nil, fmt.Errorf("posterior of %s: covariance cannot be factorised", t.Name())
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	s.chol = mat.NewDense(n, n, nil)
	for i := range n {
		for k := range n {
			s.chol.Set(i, k, vecs.At(i, k)*math.Sqrt(max(vals[k], 0)))
		}
	}
	s.mean, s.names = po.Mean, po.Names
	return s, nil
}

// draw sets the target to a parameter set drawn with rng.
func (s *sampler) draw(rng *rand.Rand, z []float64) error {
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	p := s.base
	for i, name := range s.names {
		v := s.mean[i]
		for k, zk := range z {
			v += s.chol.At(i, k) * zk
		}
		*targetParams[paramIndex(name)].field(&p) = math.Exp(v)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	s.t.p = p
	s.t.setRates()
	return nil
}

// MaxSensitivityDraws bounds SensitivityConfig.Draws: the draws' latencies
// are kept (draws × (architectures + 1) × targets values), and a million
// draws already resolve a probability to about 0.001.
const MaxSensitivityDraws = 1_000_000

// Sensitivity runs the draws.
func Sensitivity(cfg SensitivityConfig) (*SensitivityResult, error) {
	if len(cfg.Archs) == 0 {
		return nil, fmt.Errorf("sensitivity: no architectures")
	}
	if cfg.Draws == 0 {
		cfg.Draws = 2000
	}
	if cfg.Draws < 2 || cfg.Draws > MaxSensitivityDraws {
		return nil, fmt.Errorf("sensitivity: draws must be in [2, %d], got %d", MaxSensitivityDraws, cfg.Draws)
	}
	m, err := cfg.metric()
	if err != nil {
		return nil, err
	}
	res := &SensitivityResult{Reference: m.Reference(), Draws: cfg.Draws, Seed: cfg.Seed, Caveats: m.Caveats()}
	// ans[0] is the reference, ans[i+1] architecture i.
	archs := append([]*blocks.Arch{m.ref}, cfg.Archs...)
	ans := make([]*blocks.Analysis, len(archs))
	archNames := make([]string, len(cfg.Archs))
	for i, a := range archs {
		if ans[i], err = blocks.Analyze(a, 0); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("reference: %w", err)
			}
			return nil, err
		}
		if i > 0 {
			archNames[i-1] = a.Name
			if a.Name == "" {
				archNames[i-1] = fmt.Sprintf("arch%d", i)
			}
		}
	}
	samplers, fixedMs, err := res.samplers(m.targets, archs, ans)
	if err != nil {
		return nil, err
	}
	d, err := NewDesign(archs, ans)
	if err != nil {
		return nil, err
	}
	vals, err := drawRatios(d, samplers, fixedMs, len(cfg.Archs), cfg.Draws, cfg.Seed)
	if err != nil {
		return nil, err
	}
	res.summarize(vals, archNames)
	return res, nil
}

// metric returns the configured metric, or builds it from the targets,
// parameters and reference.
func (cfg *SensitivityConfig) metric() (*Metric, error) {
	if cfg.Metric != nil {
		return cfg.Metric, nil
	}
	names := cfg.Targets
	if len(names) == 0 {
		names = []string{"paper"}
	}
	mc := NewMetric().Targets(names...).Params(cfg.Params)
	if cfg.Reference != nil {
		mc = mc.Reference(cfg.Reference)
	}
	return mc.Done()
}

// samplers returns, per target, the sampler of its parameters, or nil and
// the fixed latencies of archs (analysed as ans) for a target that is not
// analytic; it records the fixed targets and those drawn from their priors.
func (res *SensitivityResult) samplers(ts []Target, archs []*blocks.Arch, ans []*blocks.Analysis) ([]*sampler, [][]float64, error) {
	samplers := make([]*sampler, len(ts))
	fixedMs := make([][]float64, len(ts))
	for i, t := range ts {
		res.Targets = append(res.Targets, t.Name())
		a, ok := t.(*Analytic)
		if !ok {
			res.Fixed = append(res.Fixed, t.Name())
			fixedMs[i] = make([]float64, len(ans))
			for r, an := range ans {
				acc := make([]float64, t.Dims())
				if err := addArchCost(t, archs[r], an, acc); err != nil {
					return nil, nil, err
				}
				fixedMs[i][r] = t.Latency(acc)
			}
			continue
		}
		if a.post == nil {
			res.Priors = append(res.Priors, t.Name())
		}
		cp := *a // the draws change a copy
		var err error
		if samplers[i], err = newSampler(&cp, a.post); err != nil {
			return nil, nil, err
		}
	}
	return samplers, fixedMs, nil
}

// drawRatios returns vals[draw][arch][target] (draw 0: the fitted
// parameters), the latency relative to the reference, with AVG and MAX over
// the targets at indices len(samplers) and len(samplers)+1.
func drawRatios(d *Design, samplers []*sampler, fixedMs [][]float64, na, draws int, seed uint64) ([][][]float64, error) {
	nt := len(samplers)
	vals := make([][][]float64, draws+1)
	rng := rand.New(rand.NewPCG(seed, 0x5e45))
	lat := make([]float64, na+1)
	z := make([]float64, len(targetParams))
	var scratch designScratch
	for k := range draws + 1 {
		v := make([][]float64, na)
		for a := range v {
			v[a] = make([]float64, nt+2)
		}
		for i, s := range samplers {
			if s == nil {
				copy(lat, fixedMs[i])
			} else {
				if err := s.set(rng, z, k == 0); err != nil {
					return nil, err
				}
				d.Latencies(s.t, lat, &scratch)
			}
			for a := range na {
				v[a][i] = lat[a+1] / lat[0]
			}
		}
		for a := range na {
			var sum, mx float64
			for i := range nt {
				sum += v[a][i]
				mx = max(mx, v[a][i])
			}
			v[a][nt], v[a][nt+1] = sum/float64(nt), mx
		}
		vals[k] = v
	}
	return vals, nil
}

// set gives the sampler's target its fitted parameters (fitted) or a draw.
func (s *sampler) set(rng *rand.Rand, z []float64, fitted bool) error {
	if fitted {
		s.t.p = s.base
		s.t.setRates()
		return nil
	}
	for tries := 0; ; tries++ {
		err := s.draw(rng, z[:len(s.names)])
		if err == nil {
			return nil
		}
		if tries > 100 {
			return fmt.Errorf("sensitivity: %s: %w", s.t.Name(), err)
		}
	}
}

// summarize turns the draws into each architecture's spreads and the
// pairwise ordering probabilities.
func (res *SensitivityResult) summarize(vals [][][]float64, archNames []string) {
	nt, draws := len(res.Targets), len(vals)-1
	col := func(a, m int) (fitted float64, xs []float64) {
		for k := 1; k <= draws; k++ {
			xs = append(xs, vals[k][a][m])
		}
		return vals[0][a][m], xs
	}
	for a, name := range archNames {
		as := ArchSpread{Name: name, Normalized: map[string]Spread{}}
		for i, n := range res.Targets {
			as.Normalized[n] = spreadOf(col(a, i))
		}
		as.Avg, as.Max = spreadOf(col(a, nt)), spreadOf(col(a, nt+1))
		res.Archs = append(res.Archs, as)
	}
	metrics := append([]string{"avg", "max"}, res.Targets...)
	metricIndex := func(m int) int {
		switch m {
		case 0:
			return nt
		case 1:
			return nt + 1
		}
		return m - 2
	}
	for a := range archNames {
		for b := a + 1; b < len(archNames); b++ {
			for m, name := range metrics {
				mi := metricIndex(m)
				var below int
				for k := 1; k <= draws; k++ {
					if vals[k][a][mi] < vals[k][b][mi] {
						below++
					}
				}
				res.Orderings = append(res.Orderings, Ordering{A: archNames[a], B: archNames[b], Metric: name,
					P: float64(below) / float64(draws)})
			}
		}
	}
}

func spreadOf(fitted float64, xs []float64) Spread {
	s := Spread{Fitted: fitted}
	s.Mean, s.SD = meanSD(xs)
	sort.Float64s(xs)
	q := func(p float64) float64 { return xs[int(math.Round(p*float64(len(xs)-1)))] }
	s.P05, s.P50, s.P95 = q(0.05), q(0.5), q(0.95)
	return s
}
