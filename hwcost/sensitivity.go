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
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			cov.SetSym(i, j, po.Cov[i][j])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
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

// Sensitivity runs the draws.
func Sensitivity(cfg SensitivityConfig) (*SensitivityResult, error) {
	if len(cfg.Archs) == 0 {
		return nil, fmt.Errorf("sensitivity: no architectures")
	}
	if cfg.Draws == 0 {
		cfg.Draws = 2000
	}
	if cfg.Draws < 2 {
		return nil, fmt.Errorf("sensitivity: draws must be at least 2, got %d", cfg.Draws)
	}
	m := cfg.Metric
	if m == nil {
		names := cfg.Targets
		if len(names) == 0 {
			names = []string{"paper"}
		}
		mc := NewMetric().Targets(names...).Params(cfg.Params)
		if cfg.Reference != nil {
			mc = mc.Reference(cfg.Reference)
		}
		var err error
		if m, err = mc.Done(); err != nil {
			return nil, err
		}
	}
	ts, ref := m.targets, m.ref
	var err error
	ans := make([]*blocks.Analysis, len(cfg.Archs)+1)
	if ans[0], err = blocks.Analyze(ref, 0); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	res := &SensitivityResult{Reference: m.Reference(), Draws: cfg.Draws, Seed: cfg.Seed}
	archNames := make([]string, len(cfg.Archs))
	for i, a := range cfg.Archs {
		if ans[i+1], err = blocks.Analyze(a, 0); err != nil {
			return nil, err
		}
		archNames[i] = a.Name
		if archNames[i] == "" {
			archNames[i] = fmt.Sprintf("arch%d", i+1)
		}
	}
	d := NewDesign(ans)
	// samplers[i] nil: target i fixed.
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
				arch := ref
				if r > 0 {
					arch = cfg.Archs[r-1]
				}
				if err := addArchCost(t, arch, an, acc); err != nil {
					return nil, err
				}
				fixedMs[i][r] = t.Latency(acc)
			}
			continue
		}
		po := a.post
		if po == nil {
			res.Priors = append(res.Priors, t.Name())
		}
		cp := *a // the draws change a copy
		if samplers[i], err = newSampler(&cp, po); err != nil {
			return nil, err
		}
	}
	nt, na := len(ts), len(cfg.Archs)
	// vals[draw][arch][target], plus avg and max at indices nt, nt+1.
	vals := make([][][]float64, cfg.Draws+1)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e45))
	lat := make([]float64, len(ans))
	z := make([]float64, len(targetParams))
	var scratch designScratch
	for k := range cfg.Draws + 1 { // draw 0: the fitted parameters
		v := make([][]float64, na)
		for a := range v {
			v[a] = make([]float64, nt+2)
		}
		for i := range ts {
			if samplers[i] == nil {
				copy(lat, fixedMs[i])
			} else {
				s := samplers[i]
				if k == 0 {
					s.t.p = s.base
					s.t.setRates()
				} else {
					for tries := 0; ; tries++ {
						if err := s.draw(rng, z[:len(s.names)]); err == nil {
							break
						} else if tries > 100 {
							return nil, fmt.Errorf("sensitivity: %s: %w", s.t.Name(), err)
						}
					}
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
	col := func(a, m int) (fitted float64, xs []float64) {
		for k := 1; k <= cfg.Draws; k++ {
			xs = append(xs, vals[k][a][m])
		}
		return vals[0][a][m], xs
	}
	for a := range na {
		as := ArchSpread{Name: archNames[a], Normalized: map[string]Spread{}}
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
	for a := range na {
		for b := a + 1; b < na; b++ {
			for m, name := range metrics {
				mi := metricIndex(m)
				var below int
				for k := 1; k <= cfg.Draws; k++ {
					if vals[k][a][mi] < vals[k][b][mi] {
						below++
					}
				}
				res.Orderings = append(res.Orderings, Ordering{A: archNames[a], B: archNames[b], Metric: name,
					P: float64(below) / float64(cfg.Draws)})
			}
		}
	}
	return res, nil
}

func spreadOf(fitted float64, xs []float64) Spread {
	s := Spread{Fitted: fitted}
	s.Mean, s.SD = meanSD(xs)
	sort.Float64s(xs)
	q := func(p float64) float64 { return xs[int(math.Round(p*float64(len(xs)-1)))] }
	s.P05, s.P50, s.P95 = q(0.05), q(0.5), q(0.95)
	return s
}
