package tunas

import (
	"fmt"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
)

// Objectives combining the normalised latencies of a metric's targets; any
// other objective names a single target of the metric.
const (
	ObjectiveAvg      = "avg"
	ObjectiveMax      = "max"
	ObjectiveWeighted = "weighted"
)

// Cost is T(a) of the points of a space: the objective over the metric's
// normalised latencies of the deployed architecture space.Arch(point),
// computed from an hwcost.Table filled once per option, so an evaluation
// costs a few hundred additions. It is not safe for concurrent use.
//
// Table positions: the stem (one option per width multiplier); per stage,
// its first block (options: previous width × own width × kind × kernel ×
// expansion, its input width being the previous stage's choice) and each
// further block (own width × kind × kernel × expansion, plus "skipped" at no
// cost); the head (one option per last-stage width).
type Cost struct {
	space     *nas.Space
	layout    nas.Layout
	metric    *hwcost.Metric
	objective string
	target    int // for a single-target objective, its index; else -1
	table     *hwcost.Table
	choices   []int
	buf       []float64
}

// NewCost builds the cost of space's points under metric for objective
// ("avg", "max", "weighted" or one of the metric's targets).
func NewCost(space *nas.Space, metric *hwcost.Metric, objective string) (*Cost, error) {
	if err := space.Validate(); err != nil {
		return nil, err
	}
	c := &Cost{space: space, layout: space.Layout(), metric: metric, objective: objective, target: -1}
	switch objective {
	case ObjectiveAvg, ObjectiveMax, ObjectiveWeighted:
	default:
		c.target = slices.Index(metric.TargetNames(), objective)
		if c.target < 0 {
			return nil, fmt.Errorf("unknown objective %q (valid: %s, %s, %s, or one of the targets %s)",
				objective, ObjectiveAvg, ObjectiveMax, ObjectiveWeighted, strings.Join(metric.TargetNames(), ", "))
		}
	}
	if err := c.fill(); err != nil {
		return nil, fmt.Errorf("cost table of space %q: %w", space.Name, err)
	}
	c.choices = make([]int, c.table.Positions())
	c.buf = make([]float64, c.table.BufLen())
	return c, nil
}

// Metric returns the metric.
func (c *Cost) Metric() *hwcost.Metric { return c.metric }

// Objective returns the objective.
func (c *Cost) Objective() string { return c.objective }

func (c *Cost) act() blocks.Activation {
	if c.space.Act == blocks.ReLU {
		return ""
	}
	return c.space.Act
}

// ops returns the number of (kind, kernel, expansion) combinations of stage
// st and the block of combination o.
func stageOps(st *nas.StageSpace) int { return len(st.Kinds) * len(st.Kernels) * len(st.Expansions) }

func opBlock(st *nas.StageSpace, o, stride, out int, act blocks.Activation) blocks.Block {
	e := st.Expansions[o%len(st.Expansions)]
	o /= len(st.Expansions)
	k := st.Kernels[o%len(st.Kernels)]
	o /= len(st.Kernels)
	return blocks.Block{Kind: st.Kinds[o], Kernel: k, Stride: stride, Out: out, Expand: e, Act: act}
}

func (c *Cost) fill() error {
	s := c.space
	var opts []int
	nPrev := len(s.Stem.Multipliers)
	opts = append(opts, nPrev)
	for i := range s.Stages {
		st := &s.Stages[i]
		nw, no := len(st.Multipliers), stageOps(st)
		opts = append(opts, nPrev*nw*no)
		for range st.MaxDepth() - 1 {
			opts = append(opts, nw*(no+1))
		}
		nPrev = nw
	}
	opts = append(opts, nPrev)
	t, err := c.metric.NewTable(opts)
	if err != nil {
		return err
	}
	c.table = t
	act := c.act()
	size := s.Resolution
	stem := func(i int) blocks.Block {
		return blocks.Block{Kind: blocks.KindConv, Kernel: s.Stem.Kernel, Stride: s.Stem.Stride, Out: s.Stem.Width(i), Act: act}
	}
	for i := range s.Stem.Multipliers {
		if err := t.Set(0, i, hwcost.StemSegment(stem(i), s.Channels, size)); err != nil {
			return err
		}
	}
	size = (size + s.Stem.Stride - 1) / s.Stem.Stride
	prevWidth := s.Stem.Width
	nPrev = len(s.Stem.Multipliers)
	pos := 1
	for i := range s.Stages {
		st := &s.Stages[i]
		nw, no := len(st.Multipliers), stageOps(st)
		out := (size + st.Stride - 1) / st.Stride
		for pm := range nPrev {
			for w := range nw {
				for o := range no {
					b := opBlock(st, o, st.Stride, st.Width(w), act)
					if err := t.Set(pos, (pm*nw+w)*no+o, hwcost.BlockSegment(b, prevWidth(pm), size)); err != nil {
						return err
					}
				}
			}
		}
		for j := 1; j < st.MaxDepth(); j++ {
			for w := range nw {
				for o := range no {
					b := opBlock(st, o, 1, st.Width(w), act)
					if err := t.Set(pos+j, w*(no+1)+o, hwcost.BlockSegment(b, st.Width(w), out)); err != nil {
						return err
					}
				}
				// Option w*(no+1)+no: skipped, never set, costs nothing.
			}
		}
		pos += st.MaxDepth()
		size, prevWidth, nPrev = out, st.Width, nw
	}
	for w := range nPrev {
		if err := t.Set(pos, w, hwcost.HeadSegment(s.Head, s.Classes, prevWidth(w), size)); err != nil {
			return err
		}
	}
	return nil
}

// choose fills c.choices for point p.
func (c *Cost) choose(p nas.Point) error {
	if err := c.space.CheckPoint(p); err != nil {
		return err
	}
	s, l := c.space, &c.layout
	c.choices[0] = p[l.StemWidth]
	prev, nPrev := p[l.StemWidth], len(s.Stem.Multipliers)
	pos := 1
	for i := range s.Stages {
		st, sl := &s.Stages[i], &l.Stages[i]
		nw, no := len(st.Multipliers), stageOps(st)
		w := p[sl.Width]
		depth := st.Depths[p[sl.Depth]]
		for j, d := range sl.Blocks {
			o := (p[d[0]]*len(st.Kernels)+p[d[1]])*len(st.Expansions) + p[d[2]]
			switch {
			case j == 0:
				c.choices[pos] = (prev*nw+w)*no + o
			case j < depth:
				c.choices[pos+j] = w*(no+1) + o
			default:
				c.choices[pos+j] = w*(no+1) + no
			}
		}
		pos += len(sl.Blocks)
		prev, nPrev = w, nw
	}
	_ = nPrev
	c.choices[pos] = prev
	return nil
}

// T returns the cost of point p under the objective.
func (c *Cost) T(p nas.Point) (float64, error) {
	if err := c.choose(p); err != nil {
		return 0, err
	}
	sc, err := c.table.Evaluate(c.choices, c.buf)
	if err != nil {
		return 0, err
	}
	return c.pick(sc), nil
}

func (c *Cost) pick(sc hwcost.Scores) float64 {
	switch {
	case c.target >= 0:
		return c.buf[c.target]
	case c.objective == ObjectiveMax:
		return sc.Max
	case c.objective == ObjectiveWeighted:
		return sc.Weighted
	}
	return sc.Avg
}

// Costs is the cost breakdown of one architecture.
type Costs struct {
	// Normalized is the normalised latency on each target (by name).
	Normalized map[string]float64 `json:"normalized"`
	Avg        float64            `json:"avg"`
	Max        float64            `json:"max"`
	Weighted   float64            `json:"weighted"`
	// T is the objective's value.
	T float64 `json:"t"`
}

// Breakdown returns the per-target normalised latencies and scores of p.
func (c *Cost) Breakdown(p nas.Point) (Costs, error) {
	if err := c.choose(p); err != nil {
		return Costs{}, err
	}
	sc, err := c.table.Evaluate(c.choices, c.buf)
	if err != nil {
		return Costs{}, err
	}
	out := Costs{Normalized: map[string]float64{}, Avg: sc.Avg, Max: sc.Max, Weighted: sc.Weighted, T: c.pick(sc)}
	for i, n := range c.metric.TargetNames() {
		out.Normalized[n] = c.buf[i]
	}
	return out, nil
}

// ArchCosts returns the cost breakdown of any architecture (e.g. a reference
// model) under the same metric and objective, by the generic path.
func (c *Cost) ArchCosts(a *blocks.Arch) (Costs, error) {
	buf := make([]float64, c.metric.NumTargets())
	sc, err := c.metric.Scores(a, buf)
	if err != nil {
		return Costs{}, err
	}
	out := Costs{Normalized: map[string]float64{}, Avg: sc.Avg, Max: sc.Max, Weighted: sc.Weighted}
	for i, n := range c.metric.TargetNames() {
		out.Normalized[n] = buf[i]
	}
	switch {
	case c.target >= 0:
		out.T = buf[c.target]
	case c.objective == ObjectiveMax:
		out.T = sc.Max
	case c.objective == ObjectiveWeighted:
		out.T = sc.Weighted
	default:
		out.T = sc.Avg
	}
	return out, nil
}
