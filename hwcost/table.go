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

	// The finishing step of Evaluate without interface calls, when every
	// target's Latency has the form of affineLatency (the built-in targets):
	// lat[i] = acc[at[i]] + fixed[i] + rate[i]·max(0, acc[at[i]+1] − free[i]).
	affine            bool
	at                []int
	fixed, rate, free []float64
}

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
		t.offs[p+1] = t.offs[p] + n*m.dims
	}
	t.data = make([]float64, t.offs[len(options)])
	t.affine = true
	for i, tg := range m.targets {
		a, ok := tg.(affineLatency)
		if !ok {
			t.affine = false
			break
		}
		fixed, rate, free := a.affineLatency()
		t.at = append(t.at, m.offs[i])
		t.fixed, t.rate, t.free = append(t.fixed, fixed), append(t.rate, rate), append(t.free, free)
	}
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
	bad := -1
	if d == 8 {
		bad = t.sum8(choices, acc)
	} else {
		bad = t.sum(choices, acc)
	}
	if bad >= 0 {
		return Scores{}, fmt.Errorf("cost table: option %d out of range [0, %d) at position %d", choices[bad], t.nopts[bad], bad)
	}
	r := buf[:nt]
	if !t.affine {
		return t.m.finish(acc, r), nil
	}
	for i, o := range t.at {
		lat := acc[o] + t.fixed[i]
		if t.rate[i] > 0 && acc[o+1] > t.free[i] {
			lat += (acc[o+1] - t.free[i]) * t.rate[i]
		}
		r[i] = lat
	}
	return t.m.normalize(r), nil
}

// sum8 is sum for 8 cost dimensions (the paper's four analytic targets),
// with the accumulators in registers: the generic loop keeps them in memory,
// where each add waits for the previous store. (A 4-wide vector version
// with GOEXPERIMENT=simd measured 2.8x slower than this loop, and two rows
// per iteration into two sets of accumulators 1.2x slower: spills.)
func (t *Table) sum8(choices []int, acc []float64) (bad int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 float64
	for p, c := range choices {
		if uint(c) >= uint(t.nopts[p]) {
			return p
		}
		i := t.offs[p] + c*8
		r := (*[8]float64)(t.data[i : i+8])
		a0 += r[0]
		a1 += r[1]
		a2 += r[2]
		a3 += r[3]
		a4 += r[4]
		a5 += r[5]
		a6 += r[6]
		a7 += r[7]
	}
	acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = a0, a1, a2, a3, a4, a5, a6, a7
	return -1
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
