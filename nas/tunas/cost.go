package tunas

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
)

// Objectives combining the normalised latencies of a metric's targets; any
// other objective names a single target of the metric.
const (
	ObjectiveAvg      = hwcost.ObjectiveAvg
	ObjectiveMax      = hwcost.ObjectiveMax
	ObjectiveWeighted = hwcost.ObjectiveWeighted
)

// Cost is T(a) of the points of a space: the objective over the metric's
// normalised latencies of the deployed architecture space.Arch(point),
// computed from an hwcost.Table filled once per option and compiled for the
// objective (hwcost.Evaluator), so the table's part of an evaluation is a
// few dozen additions. It is not safe for concurrent use.
//
// Table positions: the stem (one option per width); per stage,
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
	eval      *hwcost.Evaluator // the objective, compiled
	choices   []int
	start     []int // table position of each stage's first block
	buf       []float64
}

// NewCost builds the cost of space's points under metric for objective
// ("avg", "max", "weighted" or one of the metric's targets).
func NewCost(space *nas.Space, metric *hwcost.Metric, objective string) (*Cost, error) {
	if err := space.Validate(); err != nil {
		return nil, err
	}
	c := &Cost{space: space, layout: space.Layout(), metric: metric, objective: objective}
	pos := 1 // after the stem
	for i := range space.Stages {
		c.start = append(c.start, pos)
		pos += space.Stages[i].MaxDepth()
	}
	var err error
	if c.target, err = metric.ObjectiveTarget(objective); err != nil {
		return nil, err
	}
	if err := c.fill(); err != nil {
		return nil, fmt.Errorf("cost table of space %q: %w", space.Name, err)
	}
	if c.eval, err = c.table.Evaluator(objective); err != nil {
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

// stageOps returns the number of (kind, kernel, expansion) combinations of
// stage st; opChoice the block choice of combination o at width option w.
func stageOps(st *nas.StageSpace) int { return len(st.Kinds) * len(st.Kernels) * len(st.Expansions) }

func opChoice(st *nas.StageSpace, o, w int) nas.BlockChoice {
	nK, nE := len(st.Kernels), len(st.Expansions)
	return nas.BlockChoice{Width: w, Kind: o / (nK * nE), Kernel: o / nE % nK, Expand: o % nE}
}

func opIndex(st *nas.StageSpace, c nas.BlockChoice) int {
	return (c.Kind*len(st.Kernels)+c.Kernel)*len(st.Expansions) + c.Expand
}

// fill costs every option of every position. Blocks come from the space's
// Site (the block Space.Arch deploys there, expansion-1 rule included), with
// the input width and size the walk gives them.
func (c *Cost) fill() error {
	s := c.space
	nPrev := len(s.Stem.Widths())
	opts := []int{nPrev}
	for i := range s.Stages {
		st := &s.Stages[i]
		nw, no := len(st.Widths()), stageOps(st)
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
	for w := range s.Stem.Widths() {
		if err := t.Set(0, w, hwcost.StemSegment(s.StemBlock(w), s.Channels, s.Resolution)); err != nil {
			return err
		}
	}
	seg := func(site nas.Site) hwcost.Segment { return hwcost.BlockSegment(site.Block, site.In, site.InSize) }
	nPrev = len(s.Stem.Widths())
	for i := range s.Stages {
		st, pos := &s.Stages[i], c.start[i]
		nw, no := len(st.Widths()), stageOps(st)
		for pm := range nPrev {
			for w := range nw {
				for o := range no {
					if err := t.Set(pos, (pm*nw+w)*no+o, seg(s.Site(i, 0, pm, opChoice(st, o, w)))); err != nil {
						return err
					}
				}
			}
		}
		for j := 1; j < st.MaxDepth(); j++ {
			for w := range nw {
				for o := range no {
					if err := t.Set(pos+j, w*(no+1)+o, seg(s.Site(i, j, w, opChoice(st, o, w)))); err != nil {
						return err
					}
				}
				// Option w*(no+1)+no: skipped, never set, costs nothing.
			}
		}
		nPrev = nw
	}
	last := &s.Stages[len(s.Stages)-1]
	for w := range nPrev {
		if err := t.Set(len(opts)-1, w, hwcost.HeadSegment(s.Head, s.Classes, last.Width(w), s.HeadSize())); err != nil {
			return err
		}
	}
	return nil
}

// choose fills c.choices for point p from its walk.
func (c *Cost) choose(p nas.Point) error {
	w, err := c.space.WalkLayout(p, &c.layout)
	if err != nil {
		return err
	}
	s, l := c.space, &c.layout
	c.choices[0] = w.StemWidth
	for i := range s.Stages {
		// Skipped blocks: the "skipped" option of the stage's width.
		st, pos := &s.Stages[i], c.start[i]
		wi, no := p[l.Stages[i].Width], stageOps(st)
		for j := 1; j < st.MaxDepth(); j++ {
			c.choices[pos+j] = wi*(no+1) + no
		}
	}
	for _, site := range w.Sites {
		st := &s.Stages[site.Stage]
		nw, no, o := l.Sizes[l.Stages[site.Stage].Width], stageOps(st), opIndex(st, site.Choice)
		if site.Index == 0 {
			c.choices[c.start[site.Stage]] = (site.InWidth*nw+site.Choice.Width)*no + o
		} else {
			c.choices[c.start[site.Stage]+site.Index] = site.Choice.Width*(no+1) + o
		}
	}
	c.choices[len(c.choices)-1] = w.OutWidth
	return nil
}

// T returns the cost of point p under the objective.
func (c *Cost) T(p nas.Point) (float64, error) {
	if err := c.choose(p); err != nil {
		return 0, err
	}
	return c.eval.Eval(c.choices, c.buf)
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
	out := Costs{Normalized: map[string]float64{}, Avg: sc.Avg, Max: sc.Max, Weighted: sc.Weighted}
	for i, n := range c.metric.TargetNames() {
		out.Normalized[n] = c.buf[i]
	}
	// T as T(p) computes it (the same value to rounding as the scores').
	if out.T, err = c.eval.Eval(c.choices, c.buf); err != nil {
		return Costs{}, err
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
