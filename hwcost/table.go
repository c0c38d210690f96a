package hwcost

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/multihw/multihw/internal/checked"
	"github.com/multihw/multihw/internal/memlimit"
)

// Tables (and their compiled forms) are refused above this many values,
// besides memlimit's check: a table is filled option by option, so a space
// this large could not be filled, and offsets stay within a 32-bit int.
const maxTableValues = math.MaxInt32

// Table is a precomputed cost table for a search: for each position of an
// architecture (the stem, each block slot, the head, or any grouping the caller
// chooses) and each option at that position, the combined cost vector of all
// the metric's targets. Evaluating a choice of one option per position sums the
// chosen vectors and finishes them into scores, without allocating.
//
// The meaning of positions and options is the caller's: a block's cost depends
// on its input width, i.e. on the previous stage's width choice, so an option
// index may encode (input width, block choice) pairs, or a whole stage. An
// option that is never Set costs nothing (a skipped block).
//
// Fill a table (Set) from one goroutine; once filled, Evaluate may run
// concurrently, each goroutine with its own buffer.
type Table struct {
	m     *Metric
	nopts []int
	offs  []int // offs[p]: start of position p in data
	data  []float64

	// The finish of every target's latency from flat arrays, when every
	// target's Latency has the form of affineLatency (the built-in targets):
	// lat[i] = acc[at[i]] + fixed[i] + rate[i]·max(0, acc[at[i]+1] − free[i]).
	// Otherwise notAffine is the first target that has not.
	affine            bool
	notAffine         int
	at                []int
	fixed, rate, free []float64

	// full is the per-target compiled form Evaluate uses (see compile),
	// made by the first Evaluate after a Set.
	full atomic.Pointer[fullForm]
}

// fullForm is Table.full: c nil when the table cannot be compiled.
type fullForm struct{ c *compiled }

// affineLatency is implemented by targets whose Latency(acc) is
// acc[0] + fixed + spill, spill = rate·(acc[1] − free) when rate > 0 and
// acc[1] > free, else 0 (rate 0 when Dims() is 1). Table evaluates such
// targets from flat arrays: a search evaluates millions of architectures.
type affineLatency interface {
	affineLatency() (fixed, rate, free float64)
}

// NewTable returns an empty table with options[p] options at position p.
func (m *Metric) NewTable(options []int) (*Table, error) {
	if len(options) == 0 {
		return nil, fmt.Errorf("cost table: no positions")
	}
	t := &Table{m: m, nopts: append([]int(nil), options...), offs: make([]int, len(options)+1)}
	for p, n := range options {
		if n <= 0 {
			return nil, fmt.Errorf("cost table: position %d must have at least one option, got %d", p, n)
		}
		end, ok := checked.Mul(int64(n), int64(m.dims))
		if ok {
			end, ok = checked.Add(int64(t.offs[p]), end)
		}
		if !ok || end > maxTableValues {
			return nil, fmt.Errorf("cost table: position %d (%d options of %d cost values each) takes the table beyond %d values",
				p, n, m.dims, int64(maxTableValues))
		}
		t.offs[p+1] = int(end)
	}
	if err := memlimit.Check("cost table", int64(t.offs[len(options)])*8); err != nil {
		return nil, err
	}
	t.data = make([]float64, t.offs[len(options)])
	t.affine, t.notAffine = true, -1
	for i, tg := range m.targets {
		a, ok := tg.(affineLatency)
		var fixed, rate, free float64
		if ok {
			fixed, rate, free = a.affineLatency()
		}
		// A rate needs the weight bytes as a second cost value.
		if !ok || (rate > 0 && m.offs[i+1]-m.offs[i] < 2) {
			t.affine, t.notAffine = false, i
			break
		}
		t.at = append(t.at, m.offs[i])
		t.fixed, t.rate, t.free = append(t.fixed, fixed), append(t.rate, rate), append(t.free, free)
	}
	return t, nil
}

// Metric returns the table's metric.
func (t *Table) Metric() *Metric { return t.m }

// Positions returns the number of positions.
func (t *Table) Positions() int { return len(t.nopts) }

// Options returns the number of options at position p (0 <= p <
// Positions(); like an index, it panics outside that range).
func (t *Table) Options(p int) int { return t.nopts[p] }

// BufLen is the length of the buffer Evaluate needs.
func (t *Table) BufLen() int { return t.m.bufLen() }

// bufLen is the scratch a table evaluation needs: the normalised latencies,
// then the column sums (at most one per cost value, the compiled forms'
// stored width rounded up to even).
func (m *Metric) bufLen() int { return len(m.targets) + m.dims + 1 }

func (t *Table) cell(pos, opt int) ([]float64, error) {
	if pos < 0 || pos >= len(t.nopts) {
		return nil, fmt.Errorf("cost table: position %d out of range [0, %d)", pos, len(t.nopts))
	}
	if opt < 0 || opt >= t.nopts[pos] {
		return nil, fmt.Errorf("cost table: option %d out of range [0, %d) at position %d", opt, t.nopts[pos], pos)
	}
	i := t.offs[pos] + opt*t.m.dims
	return t.data[i : i+t.m.dims], nil
}

// Set sets the cost of option opt at position pos to the summed cost of the
// given segments (none: a skipped block), replacing what was there.
func (t *Table) Set(pos, opt int, segs ...Segment) error {
	c, err := t.cell(pos, opt)
	if err != nil {
		return err
	}
	v := make([]float64, len(c))
	for _, s := range segs {
		for i, tg := range t.m.targets {
			if err := tg.AddCost(s, v[t.m.offs[i]:t.m.offs[i+1]]); err != nil {
				return fmt.Errorf("cost table: position %d option %d: %w", pos, opt, err)
			}
		}
	}
	copy(c, v)
	t.full.Store(nil)
	return nil
}

// Cost returns a copy of the combined cost vector of option opt at position pos.
func (t *Table) Cost(pos, opt int) ([]float64, error) {
	c, err := t.cell(pos, opt)
	if err != nil {
		return nil, err
	}
	return append([]float64(nil), c...), nil
}

// Evaluate returns the scores of the architecture that takes option
// choices[p] at each position p. buf must have at least BufLen() entries; on
// return buf[:NumTargets()] holds the normalised latency on each target (the
// rest is scratch). It does not allocate, except for the compiled form the
// first call after a Set makes. A search that needs one objective evaluates
// faster with an Evaluator.
func (t *Table) Evaluate(choices []int, buf []float64) (Scores, error) {
	if err := t.checkArgs(choices, buf); err != nil {
		return Scores{}, err
	}
	f := t.full.Load()
	if f == nil {
		c, _ := t.compile(nil) // nil: the generic path (the reason is Evaluator's to report)
		f = &fullForm{c}
		t.full.Store(f)
	}
	if f.c == nil {
		return t.evaluateGeneric(choices, buf)
	}
	nt := len(t.m.targets)
	acc, r := buf[nt:], buf[:nt]
	if c := f.c; c.five && hasSum5Vec && len(choices) >= 2 {
		// The normalised latencies by lane (maxVec's), then the scores.
		if bad := normVec(c.chunks[0].r8, choices, c.lanes, (*[4]float64)(r)); bad >= 0 {
			return Scores{}, rangeErr(choices, t.nopts, bad)
		}
		return t.m.scores(r), nil
	}
	if bad := f.c.sum(choices, acc); bad >= 0 {
		return Scores{}, rangeErr(choices, t.nopts, bad)
	}
	f.c.latencies(acc, r)
	return t.m.normalize(r), nil
}

func (t *Table) checkArgs(choices []int, buf []float64) error {
	if len(choices) != len(t.nopts) {
		return fmt.Errorf("cost table: %d choices for %d positions", len(choices), len(t.nopts))
	}
	if n := t.BufLen(); len(buf) < n {
		return fmt.Errorf("cost table: buffer has %d entries, need %d", len(buf), n)
	}
	return nil
}

func rangeErr(choices, nopts []int, bad int) error {
	return fmt.Errorf("cost table: option %d out of range [0, %d) at position %d", choices[bad], nopts[bad], bad)
}

// evaluateGeneric is Evaluate from the table's rows: the sum of whole cost
// vectors finished by each target's Latency. It is the path of targets the
// compiled forms cannot express; arguments are checked by the caller.
func (t *Table) evaluateGeneric(choices []int, buf []float64) (Scores, error) {
	nt, d := len(t.m.targets), t.m.dims
	acc := buf[nt : nt+d]
	if bad := t.sum(choices, acc); bad >= 0 {
		return Scores{}, rangeErr(choices, t.nopts, bad)
	}
	return t.m.finish(acc, buf[:nt]), nil
}

// sum writes into acc the sum of the chosen rows. It returns the first
// position whose choice is out of range, or -1.
func (t *Table) sum(choices []int, acc []float64) (bad int) {
	d := len(acc)
	clear(acc)
	for p, c := range choices {
		if uint(c) >= uint(t.nopts[p]) {
			return p
		}
		row := t.data[t.offs[p]+c*d : t.offs[p]+c*d+d]
		for i, v := range row {
			acc[i] += v
		}
	}
	return -1
}

// Latencies writes the latency (ms) per target of the chosen options into ms
// (len NumTargets()); buf is scratch of at least BufLen() entries.
func (t *Table) Latencies(choices []int, buf, ms []float64) error {
	nt := len(t.m.targets)
	if len(ms) != nt {
		return fmt.Errorf("cost table: latency buffer has %d entries for %d targets", len(ms), nt)
	}
	if _, err := t.Evaluate(choices, buf); err != nil {
		return err
	}
	for i := range ms {
		ms[i] = buf[i] * t.m.refMs[i]
	}
	return nil
}
