package nb201

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/stats"
)

// AllConv3x3 is the default reference cell: nor_conv_3x3 on all six edges,
// the most expensive regular cell of the space.
const AllConv3x3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"

// Objective names. Any other objective is a single target column.
const (
	ObjAVG      = "avg"      // mean of the normalised latencies
	ObjMAX      = "max"      // worst normalised latency
	ObjWeighted = "weighted" // weighted mean (weights normalised to sum 1)
)

// Datasets maps the dataset names accepted by [Builder.Dataset] to accuracy
// columns.
var Datasets = map[string]string{
	"cifar10":    devicedata.AccCIFAR10,
	"cifar100":   devicedata.AccCIFAR100,
	"imagenet16": devicedata.AccImageNet16,
}

// DatasetNames lists the keys of [Datasets], sorted.
func DatasetNames() []string {
	n := make([]string, 0, len(Datasets))
	for k := range Datasets {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// Builder configures a [Bench]. Its zero value is not usable: start from [New].
type Builder struct {
	latency   string
	targets   []string
	reference string
	dataset   string
	objective string
	weights   []float64
}

// New returns a builder with the defaults: the embedded BRP-NAS latencies on
// the Snapdragon 855 CPU, GPU, DSP and the EdgeTPU ([devicedata.Pixel4Targets]),
// the all-conv3x3 reference cell, CIFAR-10 accuracy and the AVG objective.
func New() *Builder {
	return &Builder{
		latency:   devicedata.NameBRPNAS,
		targets:   slices.Clone(devicedata.Pixel4Targets),
		reference: AllConv3x3,
		dataset:   "cifar10",
		objective: ObjAVG,
	}
}

// Latency sets the latency table: an embedded name (nb201-brpnas, nb201-help)
// or a CSV path in the same format.
func (b *Builder) Latency(nameOrPath string) *Builder { b.latency = nameOrPath; return b }

// Targets sets the latency columns (exact names or substrings matching one
// column, see [devicedata.Table.ColumnIndex]).
func (b *Builder) Targets(columns ...string) *Builder { b.targets = slices.Clone(columns); return b }

// Reference sets the reference cell (an arch_str) every latency is divided by.
func (b *Builder) Reference(archStr string) *Builder { b.reference = archStr; return b }

// Dataset sets the accuracy: one of [DatasetNames].
func (b *Builder) Dataset(name string) *Builder { b.dataset = name; return b }

// Objective sets the cost T: [ObjAVG], [ObjMAX], [ObjWeighted] or one target
// (its column name or a substring matching exactly one of the targets, e.g.
// "dsp" among the default targets).
func (b *Builder) Objective(name string) *Builder { b.objective = name; return b }

// Weights sets the per-target weights of [ObjWeighted], in target order; they
// must be non-negative with a positive sum and are normalised to sum 1, so a
// weighted cost is comparable with AVG.
func (b *Builder) Weights(w ...float64) *Builder { b.weights = slices.Clone(w); return b }

// Bench is NAS-Bench-201 with one accuracy and a multi-hardware cost per
// cell: r_h = latency_h(cell) / latency_h(reference) on each target h and the
// objective's T(cell) combining them. Cells missing a measurement on any
// target (or an accuracy) are not candidates. A Bench is immutable.
type Bench struct {
	latency   string
	targets   []string // resolved column names
	reference devicedata.Cell
	dataset   string
	accColumn string
	objective string    // avg, max, weighted or a target column
	single    int       // target index of a single-target objective, else -1
	weights   []float64 // normalised; nil unless weighted
	notes     []string

	// Indexed by devicedata.Cell.Code; acc is NaN for non-candidates.
	acc   []float64
	rel   [][]float64 // [code][target]
	cost  []float64
	index []int // official NAS-Bench-201 index, -1 if unknown

	candidates int
	excluded   int
	minCode    int // a candidate of minimum cost
}

// Build loads the tables and computes every cell's accuracy and costs.
func (b *Builder) Build() (*Bench, error) {
	accCol, ok := Datasets[strings.ToLower(b.dataset)]
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (valid: %s)", b.dataset, strings.Join(DatasetNames(), ", "))
	}
	ref, err := devicedata.ParseCell(b.reference)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	if len(b.targets) == 0 {
		return nil, fmt.Errorf("no targets: give at least one latency column")
	}
	lat, err := devicedata.OpenNB201(b.latency)
	if err != nil {
		return nil, err
	}
	acc, err := devicedata.Accuracy()
	if err != nil {
		return nil, err
	}
	bn := &Bench{latency: b.latency, reference: ref, dataset: strings.ToLower(b.dataset), accColumn: accCol, single: -1}
	var rel [][]float64 // [target][row of lat]
	for _, name := range b.targets {
		i, err := lat.ColumnIndex(name)
		if err != nil {
			return nil, fmt.Errorf("target: %w", err)
		}
		col := lat.Columns()[i]
		if slices.Contains(bn.targets, col) {
			return nil, fmt.Errorf("target %q given twice (as %q)", col, name)
		}
		r, err := lat.Relative(col, ref)
		if err != nil {
			return nil, fmt.Errorf("reference %s: %w", ref, err)
		}
		bn.targets = append(bn.targets, col)
		rel = append(rel, r)
		if note := lat.ColumnNote(col); note != "" {
			bn.notes = append(bn.notes, fmt.Sprintf("target %s: %s", col, note))
		}
	}
	if err := bn.setObjective(b.objective, b.weights); err != nil {
		return nil, err
	}
	accVals, err := acc.Column(accCol)
	if err != nil {
		return nil, err
	}
	bn.acc = make([]float64, devicedata.NumCells)
	bn.cost = make([]float64, devicedata.NumCells)
	bn.rel = make([][]float64, devicedata.NumCells)
	bn.index = make([]int, devicedata.NumCells)
	for code := range bn.acc {
		bn.acc[code], bn.cost[code], bn.index[code] = math.NaN(), math.NaN(), -1
	}
	bn.minCode = -1
	for row := 0; row < lat.Len(); row++ {
		c := lat.Cell(row)
		code := c.Code()
		bn.index[code] = lat.Index(row)
		ar, ok := acc.Row(c)
		if !ok || math.IsNaN(accVals[ar]) {
			continue
		}
		r := make([]float64, len(rel))
		missing := false
		for k := range rel {
			r[k] = rel[k][row]
			missing = missing || math.IsNaN(r[k]) || math.IsInf(r[k], 0)
		}
		if missing {
			continue
		}
		bn.acc[code], bn.rel[code], bn.cost[code] = accVals[ar], r, bn.combine(r)
		bn.candidates++
		if bn.minCode < 0 || bn.cost[code] < bn.cost[bn.minCode] {
			bn.minCode = code
		}
	}
	bn.excluded = devicedata.NumCells - bn.candidates
	if bn.candidates == 0 {
		return nil, fmt.Errorf("no cell has a measurement on every target (%s) in %s", strings.Join(bn.targets, ", "), lat.Source())
	}
	return bn, nil
}

// setObjective resolves the objective name (after the targets).
func (bn *Bench) setObjective(name string, weights []float64) error {
	lower := strings.ToLower(name)
	if lower != ObjWeighted && len(weights) > 0 {
		return fmt.Errorf("weights given for objective %q; they only apply to %q", name, ObjWeighted)
	}
	switch lower {
	case ObjAVG, ObjMAX:
		bn.objective = lower
		return nil
	case ObjWeighted:
		if len(weights) != len(bn.targets) {
			return fmt.Errorf("objective weighted: %d weights for %d targets (%s)", len(weights), len(bn.targets), strings.Join(bn.targets, ", "))
		}
		for i, w := range weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return fmt.Errorf("objective weighted: weight %d (%s) is %g, want a finite value >= 0", i, bn.targets[i], w)
			}
		}
		if bn.weights = stats.Proportions(weights); bn.weights == nil {
			return fmt.Errorf("objective weighted: the weights sum to 0, want > 0")
		}
		bn.objective = ObjWeighted
		return nil
	}
	// A single target: exact column name first, then a unique substring.
	if i := slices.Index(bn.targets, name); i >= 0 {
		bn.objective, bn.single = name, i
		return nil
	}
	var matches []int
	for i, t := range bn.targets {
		if name != "" && strings.Contains(strings.ToLower(t), lower) {
			matches = append(matches, i)
		}
	}
	if len(matches) == 1 {
		bn.objective, bn.single = bn.targets[matches[0]], matches[0]
		return nil
	}
	what := "matches none of the targets"
	if len(matches) > 1 {
		what = "matches several targets"
	}
	return fmt.Errorf("objective %q %s; want avg, max, weighted or one target: %s", name, what, strings.Join(bn.targets, ", "))
}

// combine returns the objective's cost of normalised latencies r.
func (bn *Bench) combine(r []float64) float64 {
	switch {
	case bn.single >= 0:
		return r[bn.single]
	case bn.objective == ObjMAX:
		return slices.Max(r)
	case bn.objective == ObjWeighted:
		var s float64
		for k, v := range r {
			s += bn.weights[k] * v
		}
		return s
	}
	return mean(r)
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// WithObjective returns a Bench over the same tables with another objective
// (weights only for [ObjWeighted]); the receiver is unchanged.
func (bn *Bench) WithObjective(name string, weights ...float64) (*Bench, error) {
	nb := *bn
	nb.single, nb.weights = -1, nil
	if err := nb.setObjective(name, weights); err != nil {
		return nil, err
	}
	nb.cost = make([]float64, len(bn.cost))
	nb.minCode = -1
	for code := range nb.cost {
		nb.cost[code] = math.NaN()
		if r := bn.rel[code]; r != nil {
			nb.cost[code] = nb.combine(r)
			if nb.minCode < 0 || nb.cost[code] < nb.cost[nb.minCode] {
				nb.minCode = code
			}
		}
	}
	return &nb, nil
}

// Notes returns, per target that is not a real measurement (a simulator
// estimate, see [devicedata.Table.ColumnNote]), a line saying so.
func (bn *Bench) Notes() []string { return slices.Clone(bn.notes) }

// Targets returns the resolved target column names.
func (bn *Bench) Targets() []string { return slices.Clone(bn.targets) }

// Objective returns the objective: avg, max, weighted or a target column.
func (bn *Bench) Objective() string { return bn.objective }

// Weights returns the normalised weights of a weighted objective (else nil).
func (bn *Bench) Weights() []float64 { return slices.Clone(bn.weights) }

// Dataset returns the dataset name and ReferenceCell the reference cell.
func (bn *Bench) Dataset() string { return bn.dataset }

// ReferenceCell returns the cell every latency is normalised to.
func (bn *Bench) ReferenceCell() devicedata.Cell { return bn.reference }

// Candidates returns the number of candidate cells and Excluded the number of
// cells left out for a missing measurement (out of [devicedata.NumCells]).
func (bn *Bench) Candidates() int { return bn.candidates }

// Excluded returns the number of cells that are not candidates.
func (bn *Bench) Excluded() int { return bn.excluded }

// MinCost returns the cheapest candidate under the objective.
func (bn *Bench) MinCost() Eval {
	e, _ := bn.Lookup(mustCell(bn.minCode))
	return e
}

func mustCell(code int) devicedata.Cell {
	c, err := devicedata.CellFromCode(code)
	if err != nil {
		panic(err) // codes come from Cell.Code: always in range
	}
	return c
}

// Eval is a candidate cell with its accuracy and costs.
type Eval struct {
	Cell    devicedata.Cell `json:"-"`
	ArchStr string          `json:"arch_str"`
	// Index is the official NAS-Bench-201 index (-1 if the table has none).
	Index int `json:"nb201_index"`
	// Accuracy is the test accuracy in percent.
	Accuracy float64 `json:"accuracy"`
	// Normalized maps each target to r = latency / latency(reference);
	// Relative holds the same values in target order.
	Normalized map[string]float64 `json:"normalized"`
	Relative   []float64          `json:"-"`
	AVG        float64            `json:"avg"`
	MAX        float64            `json:"max"`
	// Cost is the objective's T.
	Cost float64 `json:"cost"`
}

// Lookup returns the evaluation of cell c; ok is false when c is not a
// candidate.
func (bn *Bench) Lookup(c devicedata.Cell) (e Eval, ok bool) {
	if !c.Valid() {
		return Eval{}, false
	}
	code := c.Code()
	r := bn.rel[code]
	if r == nil {
		return Eval{}, false
	}
	e = Eval{Cell: c, ArchStr: c.String(), Index: bn.index[code], Accuracy: bn.acc[code],
		Normalized: make(map[string]float64, len(r)), Relative: slices.Clone(r),
		AVG: mean(r), MAX: slices.Max(r), Cost: bn.cost[code]}
	for k, t := range bn.targets {
		e.Normalized[t] = r[k]
	}
	return e, true
}

// Describe is a one-line summary of the bench's configuration.
func (bn *Bench) Describe() string {
	obj := bn.objective
	if bn.weights != nil {
		ws := make([]string, len(bn.weights))
		for i, w := range bn.weights {
			ws[i] = strconv.FormatFloat(w, 'g', 4, 64)
		}
		obj += " (" + strings.Join(ws, ", ") + ")"
	}
	return fmt.Sprintf("%s accuracy, objective %s over %d targets of %s, reference %s; %d candidate cells, %d excluded (missing measurement)",
		bn.dataset, obj, len(bn.targets), bn.latency, bn.reference, bn.candidates, bn.excluded)
}
