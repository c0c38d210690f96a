package hwcost

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
)

// Parallel branches (Params.Overlap). A per-layer model sums the time of
// every op; a runtime that runs independent ops at the same time (TensorFlow's
// inter-op thread pool, several GPU streams) pays for a block with parallel
// branches less than that sum, down to its longest path. Networks with the
// same ops wired differently then differ in latency: on BRP-NAS's desktop
// column two NAS-Bench-201 cells with the same conv 1×1, conv 3×3 and conv 3×3
// take 5.8 ms when both 3×3 convs are in series and 4.3-4.5 ms when they are
// in parallel, which no per-layer model can tell apart.

// partGraph is the wiring of the ops of one plan part: the earlier ops each op
// reads (the part's input omitted).
type partGraph [][]int32

// newPartGraph returns the wiring of p and whether its ops are not one chain,
// i.e. whether some ops can run concurrently (the longest path through unit
// costs is shorter than the number of ops).
func newPartGraph(p blocks.Plan) (partGraph, bool) {
	g := make(partGraph, len(p.Ops))
	depth := make([]int, len(p.Ops))
	longest := 0
	for i, op := range p.Ops {
		for _, v := range op.Inputs {
			if v != blocks.PlanInput {
				g[i] = append(g[i], int32(v))
				depth[i] = max(depth[i], depth[v])
			}
		}
		depth[i]++
		longest = max(longest, depth[i])
	}
	return g, longest < len(p.Ops)
}

// hidden returns the sum of the ops' times ms(i) minus the longest path
// through them: the time running every op as soon as its inputs are ready,
// with as many workers as needed, saves over running them one at a time.
// fin is scratch space (nil allocates).
func (g partGraph) hidden(ms func(i int) float64, fin []float64) float64 {
	if cap(fin) < len(g) {
		fin = make([]float64, len(g))
	}
	fin = fin[:len(g)]
	var sum, crit float64
	for i, in := range g {
		var start float64
		for _, j := range in {
			start = max(start, fin[j])
		}
		m := ms(i)
		fin[i] = start + m
		sum += m
		crit = max(crit, fin[i])
	}
	return sum - crit
}

// planParts returns the plans of a's stem, blocks and head, checked against
// analysis an (one layer per op, in order).
func planParts(a *blocks.Arch, an *blocks.Analysis) ([]blocks.Plan, error) {
	np, err := a.Plan()
	if err != nil {
		return nil, err
	}
	parts := make([]blocks.Plan, 0, len(np.Blocks)+2)
	parts = append(append(append(parts, np.Stem), np.Blocks...), np.Head)
	n := 0
	for _, p := range parts {
		n += len(p.Ops)
	}
	if n != len(an.Layers) {
		return nil, fmt.Errorf("architecture %s: plan has %d ops, analysis %d layers", a.Name, n, len(an.Layers))
	}
	return parts, nil
}

// plan returns the op plan of the segment (valid once Layers succeeded).
func (s Segment) plan() blocks.Plan {
	switch s.Kind {
	case SegHead:
		return s.Head.Plan(s.InC, s.Classes)
	default:
		return s.Block.Plan(s.InC)
	}
}
