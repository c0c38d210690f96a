package hwcost

import "fmt"

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
		t.offs[p+1] = t.offs[p] + n*m.dims
	}
	t.data = make([]float64, t.offs[len(options)])
	return t, nil
}

// Metric returns the table's metric.
func (t *Table) Metric() *Metric { return t.m }

// Positions returns the number of positions.
func (t *Table) Positions() int { return len(t.nopts) }

// Options returns the number of options at position p.
func (t *Table) Options(p int) int { return t.nopts[p] }

// BufLen is the length of the buffer Evaluate needs.
func (t *Table) BufLen() int { return len(t.m.targets) + t.m.dims }

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
// rest is scratch). It does not allocate.
func (t *Table) Evaluate(choices []int, buf []float64) (Scores, error) {
	nt, d := len(t.m.targets), t.m.dims
	if len(choices) != len(t.nopts) {
		return Scores{}, fmt.Errorf("cost table: %d choices for %d positions", len(choices), len(t.nopts))
	}
	if len(buf) < nt+d {
		return Scores{}, fmt.Errorf("cost table: buffer has %d entries, need %d", len(buf), nt+d)
	}
	acc := buf[nt : nt+d]
	clear(acc)
	for p, c := range choices {
		if uint(c) >= uint(t.nopts[p]) {
			return Scores{}, fmt.Errorf("cost table: option %d out of range [0, %d) at position %d", c, t.nopts[p], p)
		}
		row := t.data[t.offs[p]+c*d : t.offs[p]+c*d+d]
		for i, v := range row {
			acc[i] += v
		}
	}
	return t.m.finish(acc, buf[:nt]), nil
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
