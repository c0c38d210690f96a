package study

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

// costSpread draws the cost model's parameters from its fitted uncertainty
// (hwcost.Sensitivity, Rules.CostDraws draws seeded by Rules.CostSeed) and
// costs every distinct architecture of the summary under each draw. Each
// model's spread is named after the first model with its architecture
// (ModelResult.SpreadName); models of one architecture have one cost.
func (s *Summary) costSpread(m *hwcost.Metric) error {
	r := s.Plan.Config.Rules
	if r.CostDraws == 0 {
		return nil
	}
	first := map[string]string{}
	var archs []*blocks.Arch
	for i := range s.Models {
		mr := &s.Models[i]
		if mr.Arch == nil {
			continue
		}
		k := archKey(mr.Arch)
		if _, ok := first[k]; !ok {
			first[k] = mr.Name
			a := mr.Arch.Clone()
			a.Name = mr.Name
			archs = append(archs, a)
		}
		mr.SpreadName = first[k]
	}
	if len(archs) == 0 {
		return nil
	}
	sens, err := hwcost.Sensitivity(hwcost.SensitivityConfig{Metric: m, Archs: archs, Draws: r.CostDraws, Seed: r.CostSeed})
	if err != nil {
		return fmt.Errorf("study: cost spread: %w", err)
	}
	s.Spread = sens
	byName := map[string]hwcost.ArchSpread{}
	for _, a := range sens.Archs {
		byName[a.Name] = a
	}
	for i := range s.Models {
		mr := &s.Models[i]
		a, ok := byName[mr.SpreadName]
		if !ok {
			continue
		}
		mr.CostSpread = map[string]hwcost.Spread{MetricAvg: a.Avg, MetricMax: a.Max}
		for t, sp := range a.Normalized {
			mr.CostSpread[t] = sp
		}
	}
	return nil
}

// below returns P(latency of a < latency of b on metric) over the cost
// draws; ok is false without draws or when either is not in them.
func (s *Summary) below(a, b *ModelResult, metric string) (float64, bool) {
	if s.Spread == nil || a.SpreadName == "" || b.SpreadName == "" {
		return math.NaN(), false
	}
	for _, o := range s.Spread.Orderings {
		if o.Metric != metric {
			continue
		}
		switch {
		case o.A == a.SpreadName && o.B == b.SpreadName:
			return o.P, true
		case o.A == b.SpreadName && o.B == a.SpreadName:
			// P(a < b) = 1 − P(b < a): distinct architectures do not tie
			// under continuous draws (one architecture is one spread name).
			return 1 - o.P, true
		}
	}
	return math.NaN(), false
}
