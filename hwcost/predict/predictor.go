package predict

import (
	"fmt"
	"math"
	"strings"
)

// Predictor predicts an architecture's latency on one device from a fitted
// set of measured architectures.
type Predictor interface {
	// Name is the predictor's name, as accepted by New.
	Name() string
	// Fit learns from measured architectures; it replaces any previous fit.
	Fit(train *Dataset) error
	// Predict returns the predicted latency of a (ms). It returns NaN before
	// Fit and for architectures that are not valid in the fitted space.
	Predict(a Arch) float64
}

// Names lists the predictors New accepts.
var Names = []string{"lookup", "structured"}

// New returns the predictor called name with its default configuration:
// "lookup" ([NewLookup]) or "structured" ([NewStructured] with seed). The
// lookup table is deterministic and ignores seed.
func New(name string, seed uint64) (Predictor, error) {
	switch name {
	case "lookup":
		return NewLookup(), nil
	case "structured":
		return NewStructured().Seed(seed), nil
	}
	return nil, fmt.Errorf("unknown predictor %q (valid: %s)", name, strings.Join(Names, ", "))
}

// Lookup is the TuNAS-style latency lookup table: one cost per (position, op),
// summed, plus a constant, fitted by least squares. It is the baseline.
type Lookup struct {
	space *Space
	beta  []float64 // [0] constant, then position-major op costs
}

// NewLookup returns an unfitted lookup table predictor.
func NewLookup() *Lookup { return &Lookup{} }

// Name implements Predictor.
func (*Lookup) Name() string { return "lookup" }

// lookupParams is the number of parameters of a lookup table on s.
func lookupParams(s *Space) int { return 1 + s.Positions*(len(s.Ops)-1) }

// lookupCol returns the column of (position, op) or -1 for the zero op.
func lookupCol(s *Space, pos, op int) int {
	if op == s.Zero {
		return -1
	}
	if op > s.Zero {
		op--
	}
	return 1 + pos*(len(s.Ops)-1) + op
}

func lookupRow(s *Space, a Arch) sparseRow {
	r := sparseRow{idx: []int32{0}, val: []float64{1}}
	for p, op := range a {
		if c := lookupCol(s, p, op); c >= 0 {
			r.idx = append(r.idx, int32(c))
			r.val = append(r.val, 1)
		}
	}
	return r
}

// checkTrainSize requires at least as many training architectures as a lookup
// table has parameters: fewer leave op costs undetermined.
func checkTrainSize(d *Dataset) error {
	if need := lookupParams(d.Space); d.Len() < need {
		return fmt.Errorf("%s: %d training architectures are too few: a lookup table on the %s space has %d parameters, need at least that many",
			d.Source, d.Len(), d.Space.Name, need)
	}
	return nil
}

// Fit implements Predictor.
func (l *Lookup) Fit(d *Dataset) error {
	if err := d.check(); err != nil {
		return err
	}
	if err := checkTrainSize(d); err != nil {
		return err
	}
	X := make([]sparseRow, d.Len())
	for i, a := range d.Archs {
		X[i] = lookupRow(d.Space, a)
	}
	beta, err := solveRidge(X, d.Latency, nil, nil, 0, lookupParams(d.Space))
	if err != nil {
		return fmt.Errorf("%s: lookup table fit: %w", d.Source, err)
	}
	l.space, l.beta = d.Space, beta
	return nil
}

// Predict implements Predictor.
func (l *Lookup) Predict(a Arch) float64 {
	if l.space == nil || l.space.Check(a) != nil {
		return math.NaN()
	}
	return lookupRow(l.space, a).dot(l.beta)
}

// Cost returns the fitted cost (ms) of op at position pos (0 for the zero op)
// and Constant the fitted constant: the table itself.
func (l *Lookup) Cost(pos, op int) float64 {
	if l.space == nil || pos < 0 || pos >= l.space.Positions || op < 0 || op >= len(l.space.Ops) {
		return math.NaN()
	}
	if c := lookupCol(l.space, pos, op); c >= 0 {
		return l.beta[c]
	}
	return 0
}

// Constant returns the fitted latency of the parts every architecture shares.
func (l *Lookup) Constant() float64 {
	if l.space == nil {
		return math.NaN()
	}
	return l.beta[0]
}
