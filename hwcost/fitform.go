package hwcost

import (
	"math"
	"slices"
)

// A target fitted on a handful of published models alone cannot tell the
// roofline's cost terms apart: on Pixel 7 GPU rows, for instance, the
// per-layer overhead trades against the fixed overhead (the model with the
// fewest layers, MobileNetV1, decides the split: leave it out and the fit
// moves from 43 µs per layer and 4.2 ms per inference to 87 µs and 1.7 ms,
// and predicts MobileNetV1 as the fastest of seven models instead of the
// fourth). Such targets therefore choose between nested forms of the model,
// by leave-one-out prediction error on their own rows: the roofline keeps
// every term; the smaller forms drop the terms such rows identify least. The
// held-out figures repeat the choice inside each fold on the training rows
// only (nested leave-one-out), so a held-out row never takes part in
// choosing the form that predicts it. Targets with benchmark networks keep
// the roofline: thousands of networks separate its terms.

// fitForm is a model form: the roofline with some parameters held at values
// that switch their cost term off.
type fitForm struct {
	name string
	// drop are the targetParams the form holds; set gives them their values.
	drop []string
	set  func(p *Params)
}

// fitForms are the candidate forms, from the full roofline down; each drops
// more terms than the one before.
var fitForms = []fitForm{
	{name: "roofline"},
	// Per-op dispatch hidden behind execution (runtimes queue kernels
	// asynchronously) or folded into the per-inference overhead.
	{name: "no per-layer overhead", drop: []string{"layer_overhead_us", "eltwise_overhead_us"},
		set: func(p *Params) { p.LayerOverheadUs, p.EltwiseOverheadUs = 0, 0 }},
	// The MACs baseline plus a per-inference overhead: one MAC rate for
	// every op kind, no memory term, no per-layer overhead.
	{name: "MACs + fixed", drop: []string{"eff_conv", "eff_fused", "eff_dw", "eff_pool", "bandwidth_gbs",
		"layer_overhead_us", "eltwise_overhead_us"},
		set: func(p *Params) {
			p.EffConv, p.EffFused, p.EffDW, p.EffPool, p.EffFC = 1, 1, 1, 1, 1
			p.BandwidthGBs = MaxParam // no memory term
			p.LayerOverheadUs, p.EltwiseOverheadUs = 0, 0
		}},
}

// minSelectRows is the fewest published rows a target needs to choose its
// form: each fold of the nested leave-one-out still fits minFitRows.
const minSelectRows = minFitRows + 2

// formSE is how many standard errors of the paired difference a smaller
// form's leave-one-out error must be below the roofline's to replace it. The
// roofline is the default: it is the form validated on the benchmark
// networks (NAS-Bench-201 held-out Spearman ≥ 0.95 on four devices), and
// with 5-7 rows a smaller form's advantage must exceed the scatter of the
// comparison (the one-standard-error rule of Breiman et al., Classification
// and Regression Trees, 1984, §3.4.3, with the roofline in the place of the
// simplest model).
const formSE = 1.0

// newFormProblem returns the MAP problem of form fm: the form's held
// parameters are set in the centre and are not part of θ.
func newFormProblem(centre Params, sigma []float64, sources []*fitSource, fm fitForm, tie bool) *problem {
	if fm.set != nil {
		fm.set(&centre)
	}
	pr := newProblem(centre, sigma, sources)
	if tie {
		pr.tieEltwise()
	}
	if len(fm.drop) > 0 {
		pr.free = slices.DeleteFunc(pr.free, func(k int) bool { return slices.Contains(fm.drop, targetParams[k].name) })
		pr.layout()
		if tie && pr.pos[paramIndex("layer_overhead_us")] >= 0 {
			pr.pos[paramIndex("eltwise_overhead_us")] = pr.pos[paramIndex("layer_overhead_us")]
		}
	}
	return pr
}

// formSelector fits the forms of one target to subsets of its published
// rows (source 0 of every problem; the sources are shared) and chooses a
// form by leave-one-out error. Fits are cached by the rows left out.
type formSelector struct {
	prs []*problem
	pub *fitSource
	n   int
	all [][]float64 // each form's θ on all rows
	// cold starts the fits without some rows at the prior, so that no fit
	// depends on a row it leaves out, not even through its starting point.
	// Otherwise (one form: benchmark targets, whose thousands of rows make a
	// cold start slow) they start at the fit on all rows.
	cold  bool
	preds map[[3]int][]float64
}

func newFormSelector(prs []*problem, pub *fitSource, n int) *formSelector {
	s := &formSelector{prs: prs, pub: pub, n: n, cold: len(prs) > 1, preds: map[[3]int][]float64{}}
	for _, pr := range prs {
		s.all = append(s.all, pr.minimize(nil))
	}
	return s
}

// predict returns form k's predictions of every published row when fitted
// without rows a and b (-1: none; a < b).
func (s *formSelector) predict(k, a, b int) []float64 {
	key := [3]int{k, min(a, b), max(a, b)}
	if p, ok := s.preds[key]; ok {
		return p
	}
	pr := s.prs[k]
	th := s.all[k]
	if key[2] >= 0 {
		pr.out = make([]bool, s.n)
		for _, r := range key[1:] {
			if r >= 0 {
				pr.out[r] = true
			}
		}
		start := th
		if s.cold {
			start = nil
		}
		th = pr.minimize(start)
		pr.out = nil
	}
	pr.objective(th)
	p := slices.Clone(s.pub.pred)
	s.preds[key] = p
	return p
}

// looErrors returns form k's squared log errors of leave-one-out predictions
// of every row but out (-1: none).
func (s *formSelector) looErrors(k, out int) []float64 {
	var e []float64
	for j := range s.n {
		if j == out {
			continue
		}
		d := math.Log(s.predict(k, out, j)[j]) - s.pub.logMeas[j]
		e = append(e, d*d)
	}
	return e
}

// choose returns the form for the rows but out (-1: all rows): the roofline
// unless a smaller form's leave-one-out mean squared log error is lower by
// more than formSE standard errors of the paired difference; of several
// such forms, the one with the lowest error.
func (s *formSelector) choose(out int) int {
	e0 := s.looErrors(0, out)
	best, _ := meanSD(e0)
	bk := 0
	for k := 1; k < len(s.prs); k++ {
		ek := s.looErrors(k, out)
		d := make([]float64, len(ek))
		for i := range d {
			d[i] = ek[i] - e0[i]
		}
		m, sd := meanSD(d)
		if mk, _ := meanSD(ek); m < -formSE*sd/math.Sqrt(float64(len(d))) && mk < best {
			best, bk = mk, k
		}
	}
	return bk
}
