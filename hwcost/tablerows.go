package hwcost

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/multihw/multihw/internal/checked"
	"github.com/multihw/multihw/internal/memlimit"
)

// Compiled rows: a Table reduced to the columns one evaluation needs.
//
// A Table row holds every target's whole cost vector (the paper's four
// analytic targets: 8 numbers, latency and weight bytes each), and its
// evaluation finishes each target through its Latency. For targets whose
// Latency is affine in the latency sum (affineLatency: all built-in, target
// file and measured targets) less is needed:
//
//   - a weighted sum of normalised latencies (AVG, the weighted mean, one
//     target alone) is linear in the per-target latency sums apart from the
//     spill of weights beyond on-chip memory, so the targets' latency
//     columns fold into one column c·L at build time, and only the weight
//     columns of targets with a parameter cache stay (one per distinct
//     column: targets of one precision share it);
//   - MAX and the full Scores need each target's latency sum, plus the same
//     weight columns, and never the weight bytes of targets without a cache.
//
// The folded column changes the order of the additions (Σ_p Σ_i c_i·L_pi
// instead of Σ_i c_i·Σ_p L_pi), which moves the result by a few units in the
// last place: the tests tie both forms to the generic path to 1e-12.
//
// Rows are stored as fixed-size arrays of 2, 4 or 8 values (wider forms in
// chunks of 8 columns), one slice per position whose length is the number of
// options, so a single comparison validates the choice and bounds the load.

// Row widths of the compiled forms.
type (
	row2 [2]float64
	row4 [4]float64
	row6 [6]float64
	row8 [8]float64
)

// compiled is one compiled form of a table (see above). It is immutable.
type compiled struct {
	k      int     // columns in use
	chunks []chunk // columns 8j..8j+7 in chunks[j]

	// Linear form (coef != nil): column 0 is Σ_i coef[i]·latency sum of
	// target i; the value is col0 + konst + Σ spill terms.
	linear bool
	konst  float64
	spill  []spillTerm

	// Per-target form: target i's latency sum is column i; wcol[i] is the
	// column of its weight bytes, or -1 when it has no parameter cache;
	// fixed, rate, free are the table's (see Table).
	wcol              []int
	fixed, rate, free []float64
	// five: the per-target form of four targets with one weight column
	// (the paper's four targets), in rows of 8: the four latencies, then
	// the weight bytes four times, so that a vector of four lanes holds
	// each half (sum5, sum5Vec, maxVec). lanes holds maxOf's constants by
	// lane for maxVec.
	five  bool
	lanes *maxLanes
}

// maxLanes holds, by target, the constants of maxOf's finish: a target
// without a parameter cache has rate and free 0 (its spill is +0).
type maxLanes struct {
	fixed, free, rate, invRef [4]float64
}

// chunk holds up to 8 columns of the compiled rows, per position, in rows
// of 2, 4, 6 or 8 (exactly one of the slices is set; padding columns are 0).
type chunk struct {
	r2 [][]row2
	r4 [][]row4
	r6 [][]row6
	r8 [][]row8
}

// spillTerm is coef·rate·max(0, column − free) of one cached target.
type spillTerm struct {
	col        int
	free, rate float64 // rate already multiplied by the target's coefficient
}

// compile returns the compiled form of t: linear with coefficients coef
// (len NumTargets()), or per-target when coef is nil. It fails, with the
// reason, when a target's Latency is not affine (then the table's generic
// path evaluates) or the form would be too large.
func (t *Table) compile(coef []float64) (*compiled, error) {
	nt := len(t.m.targets)
	if !t.affine {
		return nil, fmt.Errorf("target %s has a latency model the compiled table cannot express (not affineLatency)", t.m.names[t.notAffine])
	}
	c := &compiled{linear: coef != nil, wcol: make([]int, nt), fixed: t.fixed, rate: t.rate, free: t.free}
	// Latency columns: one folded (linear) or one per target. Then weight
	// columns: one per distinct column among the targets that need one.
	first := nt
	if c.linear {
		first = 1
	}
	var wsrc []int // offset within a raw row of each weight column
	for i := range nt {
		c.wcol[i] = -1
		if t.rate[i] <= 0 || (c.linear && coef[i] == 0) {
			continue
		}
		o := t.at[i] + 1
		j := slices.IndexFunc(wsrc, func(s int) bool { return t.sameColumn(s, o) })
		if j < 0 {
			j, wsrc = len(wsrc), append(wsrc, o)
		}
		c.wcol[i] = first + j
	}
	c.k = first + len(wsrc)
	c.five = !c.linear && nt == 4 && c.k == 5
	if c.linear {
		for i := range nt {
			if coef[i] == 0 {
				continue
			}
			c.konst += coef[i] * t.fixed[i]
			if c.wcol[i] >= 0 {
				c.spill = append(c.spill, spillTerm{col: c.wcol[i], free: t.free[i], rate: coef[i] * t.rate[i]})
			}
		}
	}
	// Stored width: chunks of 8 columns, the last one rounded up to even.
	width := int64(8*((c.k-1)/8) + 2*((c.k-1)%8/2+1))
	if c.five {
		width, c.lanes = 8, t.maxLanes(c.wcol)
	}
	rows := int64(t.offs[len(t.nopts)] / t.m.dims)
	vals, ok := checked.Mul(rows, width)
	if !ok || vals > maxTableValues {
		return nil, fmt.Errorf("compiled cost table of %d rows × %d columns is too large (limit %d values)", rows, width, int64(maxTableValues))
	}
	if err := memlimit.Check("compiled cost table", vals*8); err != nil {
		return nil, err
	}
	// The rows, flat: row r's column j at r*width + j.
	flat := make([]float64, vals)
	r := 0
	for p, n := range t.nopts {
		for o := range n {
			raw := t.data[t.offs[p]+o*t.m.dims:]
			row := flat[int64(r)*width:]
			if c.linear {
				for i, a := range t.at {
					if coef[i] != 0 {
						row[0] += coef[i] * raw[a]
					}
				}
			} else {
				for i, a := range t.at {
					row[i] = raw[a]
				}
			}
			for j, o := range wsrc {
				row[first+j] = raw[o]
			}
			if c.five {
				row[5], row[6], row[7] = row[4], row[4], row[4]
			}
			r++
		}
	}
	for col := int64(0); col < width; col += 8 {
		var ch chunk
		switch min(8, width-col) {
		case 2:
			ch.r2 = rowsOf[row2](t.nopts, flat, width, col)
		case 4:
			ch.r4 = rowsOf[row4](t.nopts, flat, width, col)
		case 6:
			ch.r6 = rowsOf[row6](t.nopts, flat, width, col)
		default:
			ch.r8 = rowsOf[row8](t.nopts, flat, width, col)
		}
		c.chunks = append(c.chunks, ch)
	}
	return c, nil
}

// maxLanes returns the constants of maxOf's finish by target for the
// weight columns wcol of the form five.
func (t *Table) maxLanes(wcol []int) *maxLanes {
	l := &maxLanes{}
	for i, w := range wcol {
		l.fixed[i], l.invRef[i] = t.fixed[i], t.m.invRef[i]
		if w >= 0 {
			l.free[i], l.rate[i] = t.free[i], t.rate[i]
		}
	}
	return l
}

// rowsOf returns columns col.. of the flat rows (width values each) as rows
// of R, one slice per position.
func rowsOf[R row2 | row4 | row6 | row8](nopts []int, flat []float64, width, col int64) [][]R {
	all := make([]R, len(flat)/int(width))
	w := int64(len(all[0]))
	for r := range all {
		i := int64(r)*width + col
		all[r] = R(flat[i : i+w])
	}
	pos := make([][]R, len(nopts))
	start := 0
	for p, n := range nopts {
		pos[p] = all[start : start+n : start+n]
		start += n
	}
	return pos
}

// sameColumn reports whether raw columns a and b (offsets within a row) hold
// the same value in every row.
func (t *Table) sameColumn(a, b int) bool {
	for i := 0; i < len(t.data); i += t.m.dims {
		if t.data[i+a] != t.data[i+b] {
			return false
		}
	}
	return true
}

// sum writes into acc (len >= the stored width) the column sums of the
// chosen rows. It returns the first position whose choice is out of range,
// or -1. len(choices) must be the number of positions.
func (c *compiled) sum(choices []int, acc []float64) (bad int) {
	for j := range c.chunks {
		ch := &c.chunks[j]
		a := acc[8*j:]
		switch {
		case ch.r2 != nil:
			a = a[:2]
			a[0], a[1], bad = sum2(ch.r2, choices)
		case ch.r4 != nil:
			a = a[:4]
			a[0], a[1], a[2], a[3], bad = sum4(ch.r4, choices)
		case c.five:
			a = a[:5]
			a[0], a[1], a[2], a[3], a[4], bad = sum5Any(ch.r8, choices)
		case ch.r6 != nil:
			a = a[:6]
			a[0], a[1], a[2], a[3], a[4], a[5], bad = sum6(ch.r6, choices)
		default:
			a = a[:8]
			a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], bad = sum8(ch.r8, choices)
		}
		if bad >= 0 {
			return bad
		}
	}
	return -1
}

// The accumulators of sum2, sum4 and sum8 are scalars, not arrays: the
// compiler keeps arrays in memory, where each addition waits for a store.

// sum2 sums the chosen rows, alternating between two sets of accumulators:
// with one set, each addition waits for the previous one (4 cycles), which
// bounded the evaluation more than its loads did.
func sum2(pos [][]row2, choices []int) (s0, s1 float64, bad int) {
	pos = pos[:len(choices)]
	var a0, a1, b0, b1 float64
	p := 0
	for ; p < len(choices)-1; p += 2 {
		r, q := pos[p], pos[p+1]
		c, d := choices[p], choices[p+1]
		if uint(c) >= uint(len(r)) {
			return 0, 0, p
		}
		if uint(d) >= uint(len(q)) {
			return 0, 0, p + 1
		}
		x, y := &r[c], &q[d]
		a0 += x[0]
		a1 += x[1]
		b0 += y[0]
		b1 += y[1]
	}
	if p < len(choices) {
		r, c := pos[p], choices[p]
		if uint(c) >= uint(len(r)) {
			return 0, 0, p
		}
		x := &r[c]
		a0 += x[0]
		a1 += x[1]
	}
	return a0 + b0, a1 + b1, -1
}

// sum4 is sum2 for rows of 4.
func sum4(pos [][]row4, choices []int) (s0, s1, s2, s3 float64, bad int) {
	pos = pos[:len(choices)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	p := 0
	for ; p < len(choices)-1; p += 2 {
		r, q := pos[p], pos[p+1]
		c, d := choices[p], choices[p+1]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, p
		}
		if uint(d) >= uint(len(q)) {
			return 0, 0, 0, 0, p + 1
		}
		x, y := &r[c], &q[d]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		b0 += y[0]
		b1 += y[1]
		b2 += y[2]
		b3 += y[3]
	}
	if p < len(choices) {
		r, c := pos[p], choices[p]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, p
		}
		x := &r[c]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
	}
	return a0 + b0, a1 + b1, a2 + b2, a3 + b3, -1
}

// sum6 is sum2 for rows of 6, with two sets of accumulators for the first 4
// columns and one for the last 2: 12 accumulators spill out of the 15 free
// registers (3 of them went through the stack: 10% slower than this).
func sum6(pos [][]row6, choices []int) (s0, s1, s2, s3, s4, s5 float64, bad int) {
	pos = pos[:len(choices)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	p := 0
	for ; p < len(choices)-1; p += 2 {
		r, q := pos[p], pos[p+1]
		c, d := choices[p], choices[p+1]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, 0, 0, p
		}
		if uint(d) >= uint(len(q)) {
			return 0, 0, 0, 0, 0, 0, p + 1
		}
		x, y := &r[c], &q[d]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		s4 += x[4]
		s5 += x[5]
		b0 += y[0]
		b1 += y[1]
		b2 += y[2]
		b3 += y[3]
		s4 += y[4]
		s5 += y[5]
	}
	if p < len(choices) {
		r, c := pos[p], choices[p]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, 0, 0, p
		}
		x := &r[c]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		s4 += x[4]
		s5 += x[5]
	}
	return a0 + b0, a1 + b1, a2 + b2, a3 + b3, s4, s5, -1
}

// sum5 is sum2 for the first 5 columns of rows of 8 (the form five: the
// last three columns repeat the fifth).
func sum5(pos [][]row8, choices []int) (s0, s1, s2, s3, s4 float64, bad int) {
	pos = pos[:len(choices)]
	var a0, a1, a2, a3, a4, b0, b1, b2, b3, b4 float64
	p := 0
	for ; p < len(choices)-1; p += 2 {
		r, q := pos[p], pos[p+1]
		c, d := choices[p], choices[p+1]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, 0, p
		}
		if uint(d) >= uint(len(q)) {
			return 0, 0, 0, 0, 0, p + 1
		}
		x, y := &r[c], &q[d]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		a4 += x[4]
		b0 += y[0]
		b1 += y[1]
		b2 += y[2]
		b3 += y[3]
		b4 += y[4]
	}
	if p < len(choices) {
		r, c := pos[p], choices[p]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, 0, p
		}
		x := &r[c]
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		a4 += x[4]
	}
	return a0 + b0, a1 + b1, a2 + b2, a3 + b3, a4 + b4, -1
}

// sum8 sums rows of 8 with one set of accumulators: 16 would not fit in the
// 15 free SSE registers, and 8 independent chains already keep the two
// floating-point adders busy.
func sum8(pos [][]row8, choices []int) (s0, s1, s2, s3, s4, s5, s6, s7 float64, bad int) {
	pos = pos[:len(choices)]
	for p, c := range choices {
		r := pos[p]
		if uint(c) >= uint(len(r)) {
			return 0, 0, 0, 0, 0, 0, 0, 0, p
		}
		x := &r[c]
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
		s4 += x[4]
		s5 += x[5]
		s6 += x[6]
		s7 += x[7]
	}
	return s0, s1, s2, s3, s4, s5, s6, s7, -1
}

// sum5Any is sum5Vec where the CPU has it, else sum5: the same sums.
func sum5Any(pos [][]row8, choices []int) (s0, s1, s2, s3, s4 float64, bad int) {
	if hasSum5Vec && len(choices) >= 2 {
		return sum5Vec(pos, choices)
	}
	return sum5(pos, choices)
}

// linearValue finishes the linear form from the column sums.
func (c *compiled) linearValue(acc []float64) float64 {
	v := acc[0] + c.konst
	for _, s := range c.spill {
		v += spill(acc[s.col], s.free, s.rate)
	}
	return v
}

// spill is rate·(w − free) when w > free, else 0, without a branch: whether
// an architecture's weights fit on chip is a coin toss in a search, and a
// mispredicted branch costs more than the whole expression. (rate·0 is 0:
// the sums equal those of a branch.)
func spill(w, free, rate float64) float64 { return max(w-free, 0) * rate }

// latencies finishes the per-target form: the latency (ms) of each target
// into r (len NumTargets()).
func (c *compiled) latencies(acc, r []float64) {
	for i, w := range c.wcol {
		lat := acc[i] + c.fixed[i]
		if w >= 0 {
			lat += spill(acc[w], c.free[i], c.rate[i])
		}
		r[i] = lat
	}
}

// maxOf is latencies then normalize's maximum for column sums s (per-target
// form, at most 6 columns), with the same operations, so the value is
// identical.
func (c *compiled) maxOf(s *[6]float64, invRef []float64) float64 {
	m := math.Inf(-1)
	for i, w := range c.wcol {
		lat := s[i] + c.fixed[i]
		if w >= 0 {
			lat += spill(s[w], c.free[i], c.rate[i])
		}
		if v := lat * invRef[i]; v > m {
			m = v
		}
	}
	return m
}

// Objectives an Evaluator computes besides a single target's normalised
// latency: the fields of Scores.
const (
	ObjectiveAvg      = "avg"
	ObjectiveMax      = "max"
	ObjectiveWeighted = "weighted"
)

// ObjectiveTarget checks an objective: it returns the index of the target a
// single-target objective names, or -1 for ObjectiveAvg, ObjectiveMax and
// ObjectiveWeighted.
func (m *Metric) ObjectiveTarget(objective string) (int, error) {
	switch objective {
	case ObjectiveAvg, ObjectiveMax, ObjectiveWeighted:
		return -1, nil
	}
	for i, n := range m.names {
		if n == objective {
			return i, nil
		}
	}
	return -1, fmt.Errorf("unknown objective %q (valid: %s, %s, %s, or one of the targets %s)",
		objective, ObjectiveAvg, ObjectiveMax, ObjectiveWeighted, strings.Join(m.names, ", "))
}

// Evaluator computes one objective of a table's architectures: the mean,
// maximum or weighted mean of the normalised latencies (ObjectiveAvg,
// ObjectiveMax, ObjectiveWeighted) or the normalised latency on one target
// (its name). It reads the table as it was when the Evaluator was made, is
// immutable, and may be used from several goroutines, each with its own
// buffer.
//
// For AVG, the weighted mean and single targets it sums one folded latency
// column plus the weight bytes of cached targets; for MAX the per-target
// latency sums (see compile). Tables with targets the compiled forms cannot
// express, or too large to compile, are evaluated by the generic path
// (Generic says why); both give the same values to rounding.
type Evaluator struct {
	m         *Metric
	nopts     []int
	c         *compiled
	gen       *Table // the generic path: a snapshot of the table, when c is nil
	why       string
	objective string
	target    int // single-target objective: its index; else -1
}

// Evaluator returns the evaluator of objective on the table's current
// contents.
func (t *Table) Evaluator(objective string) (*Evaluator, error) {
	return t.evaluator(objective, false)
}

// evaluator is Evaluator; generic forces the generic path (for the tests
// that tie the two paths together).
func (t *Table) evaluator(objective string, generic bool) (*Evaluator, error) {
	nt := len(t.m.targets)
	e := &Evaluator{m: t.m, nopts: t.nopts, objective: objective, target: -1}
	coef := make([]float64, nt)
	switch objective {
	case ObjectiveAvg:
		for i := range coef {
			coef[i] = t.m.invRef[i] / float64(nt)
		}
	case ObjectiveWeighted:
		for i := range coef {
			coef[i] = t.m.weights[i] * t.m.invRef[i]
		}
	case ObjectiveMax:
		coef = nil // per-target form
	default:
		var err error
		if e.target, err = t.m.ObjectiveTarget(objective); err != nil {
			return nil, fmt.Errorf("cost table: %w", err)
		}
		coef[e.target] = t.m.invRef[e.target]
	}
	var err error
	if generic {
		err = fmt.Errorf("generic path requested")
	} else {
		e.c, err = t.compile(coef)
	}
	if err != nil {
		e.why = err.Error()
		// A snapshot of the rows: the table may be Set again.
		e.gen = &Table{m: t.m, nopts: t.nopts, offs: t.offs, data: append([]float64(nil), t.data...)}
	}
	return e, nil
}

// Objective returns the evaluator's objective.
func (e *Evaluator) Objective() string { return e.objective }

// Generic reports whether the evaluator uses the generic path, and why.
func (e *Evaluator) Generic() (bool, string) { return e.c == nil, e.why }

// BufLen is the length of the buffer Eval needs (the table's BufLen).
func (e *Evaluator) BufLen() int { return e.m.bufLen() }

// Eval returns the objective's value for the architecture that takes option
// choices[p] at each position p. buf is scratch of at least BufLen()
// entries. It does not allocate.
func (e *Evaluator) Eval(choices []int, buf []float64) (float64, error) {
	if len(choices) != len(e.nopts) {
		return 0, fmt.Errorf("cost table: %d choices for %d positions", len(choices), len(e.nopts))
	}
	if n := e.BufLen(); len(buf) < n {
		return 0, fmt.Errorf("cost table: buffer has %d entries, need %d", len(buf), n)
	}
	if e.c == nil {
		sc, err := e.gen.evaluateGeneric(choices, buf)
		switch {
		case err != nil:
			return 0, err
		case e.target >= 0:
			return buf[e.target], nil
		case e.objective == ObjectiveMax:
			return sc.Max, nil
		case e.objective == ObjectiveWeighted:
			return sc.Weighted, nil
		}
		return sc.Avg, nil
	}
	c := e.c
	if ch := &c.chunks[0]; c.linear && ch.r2 != nil {
		// The search's usual case: one folded column and one weight column.
		s0, s1, bad := sum2(ch.r2, choices)
		if bad >= 0 {
			return 0, rangeErr(choices, e.nopts, bad)
		}
		v := s0 + c.konst
		for _, sp := range c.spill { // sp.col is 1
			v += spill(s1, sp.free, sp.rate)
		}
		return v, nil
	}
	if ch := &c.chunks[0]; e.objective == ObjectiveMax && c.five {
		// MAX of the paper's four targets: the sums stay in registers, and
		// only the maximum is computed, with the same operations as
		// latencies and normalize.
		if hasSum5Vec && len(choices) >= 2 {
			m, bad := maxVec(ch.r8, choices, c.lanes)
			if bad >= 0 {
				return 0, rangeErr(choices, e.nopts, bad)
			}
			return m, nil
		}
		var s [6]float64
		var bad int
		s[0], s[1], s[2], s[3], s[4], bad = sum5(ch.r8, choices)
		if bad >= 0 {
			return 0, rangeErr(choices, e.nopts, bad)
		}
		return c.maxOf(&s, e.m.invRef), nil
	}
	nt := len(e.m.targets)
	acc := buf[nt:]
	if bad := c.sum(choices, acc); bad >= 0 {
		return 0, rangeErr(choices, e.nopts, bad)
	}
	if c.linear {
		return c.linearValue(acc), nil
	}
	r := buf[:nt]
	c.latencies(acc, r)
	return e.m.normalize(r).Max, nil
}
