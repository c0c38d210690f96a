package hwcost

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/blocks"
)

// macroSpace is a MultiAVG-like search space used to exercise Table the way a
// search does: a stem width, 5 stages of 1-4 blocks with a per-stage width
// multiplier, and per block a kind, kernel and expansion (optional blocks may
// be skipped). A block's cost depends on its input width, so the option index
// of a stage's first block encodes (previous width, own width, op) and that of
// later blocks (own width, op or skip).
type macroSpace struct {
	mults   []float64
	kinds   []blocks.Kind
	kernels []int
	expands []float64
}

var (
	stageBase    = []int{16, 32, 64, 128, 256} // TuNAS MobileNetV3-like bases after the 16-wide stem
	stageStrides = []int{2, 2, 2, 1, 2}
)

const blocksPerStage = 4

func fullSpace() macroSpace {
	return macroSpace{mults: []float64{0.5, 0.625, 0.75, 1, 1.25, 1.5, 2}, kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused},
		kernels: []int{3, 5}, expands: []float64{1, 2, 3, 4, 5, 6}}
}

func (sp macroSpace) nops() int { return len(sp.kinds) * len(sp.kernels) * len(sp.expands) }

func (sp macroSpace) width(base int, mi int) int {
	return blocks.MakeDivisible(float64(base)*sp.mults[mi], 8)
}

func (sp macroSpace) op(i, stride, out int) blocks.Block {
	e := sp.expands[i%len(sp.expands)]
	i /= len(sp.expands)
	k := sp.kernels[i%len(sp.kernels)]
	i /= len(sp.kernels)
	return blocks.Block{Kind: sp.kinds[i], Kernel: k, Stride: stride, Out: out, Expand: e}
}

// choice is one point of the space: stem multiplier, stage multipliers, and per
// block an op index or -1 (skipped; never for the first block of a stage).
type choice struct {
	stem  int
	stage [5]int
	ops   [5][blocksPerStage]int
}

func (sp macroSpace) random(rng *rand.Rand) choice {
	var c choice
	c.stem = rng.Intn(len(sp.mults))
	for s := range 5 {
		c.stage[s] = rng.Intn(len(sp.mults))
		for j := range blocksPerStage {
			c.ops[s][j] = rng.Intn(sp.nops())
			if j > 0 && rng.Intn(3) == 0 {
				c.ops[s][j] = -1
			}
		}
	}
	return c
}

var macroHead = blocks.Head{Conv: 960, Hidden: 1280}

// arch decodes a choice into an architecture (the generic path's input).
func (sp macroSpace) arch(c choice) *blocks.Arch {
	a := &blocks.Arch{Name: "macro", Resolution: 224, Channels: 3, Classes: 1001, Head: macroHead,
		Stem: blocks.Block{Kind: blocks.KindConv, Kernel: 3, Stride: 2, Out: sp.width(16, c.stem)}}
	for s := range 5 {
		w := sp.width(stageBase[s], c.stage[s])
		for j, o := range c.ops[s] {
			if o < 0 {
				continue
			}
			st := 1
			if j == 0 {
				st = stageStrides[s]
			}
			a.Blocks = append(a.Blocks, sp.op(o, st, w))
		}
	}
	return a
}

// table fills a cost table: position 0 the stem, then 4 per stage, then the head.
func (sp macroSpace) table(t testing.TB, m *Metric) *Table {
	nm, no := len(sp.mults), sp.nops()
	opts := []int{nm}
	for range 5 {
		opts = append(opts, nm*nm*no)
		for range blocksPerStage - 1 {
			opts = append(opts, nm*(no+1))
		}
	}
	opts = append(opts, nm)
	tab, err := m.NewTable(opts)
	if err != nil {
		t.Fatal(err)
	}
	set := func(pos, opt int, segs ...Segment) {
		if err := tab.Set(pos, opt, segs...); err != nil {
			t.Fatal(err)
		}
	}
	stem := func(mi int) blocks.Block {
		return blocks.Block{Kind: blocks.KindConv, Kernel: 3, Stride: 2, Out: sp.width(16, mi)}
	}
	for mi := range nm {
		set(0, mi, StemSegment(stem(mi), 3, 224))
	}
	size, pos := 112, 1
	prevBase := 16
	for s := range 5 {
		in := size
		out := (size + stageStrides[s] - 1) / stageStrides[s]
		for pm := range nm {
			for mi := range nm {
				for o := range no {
					b := sp.op(o, stageStrides[s], sp.width(stageBase[s], mi))
					set(pos, (pm*nm+mi)*no+o, BlockSegment(b, sp.width(prevBase, pm), in))
				}
			}
		}
		for j := 1; j < blocksPerStage; j++ {
			for mi := range nm {
				w := sp.width(stageBase[s], mi)
				for o := range no {
					set(pos+j, mi*(no+1)+o, BlockSegment(sp.op(o, 1, w), w, out))
				}
				// option mi*(no+1)+no: skipped, zero cost
			}
		}
		pos += blocksPerStage
		size, prevBase = out, stageBase[s]
	}
	for mi := range nm {
		set(pos, mi, HeadSegment(macroHead, 1001, sp.width(256, mi), size))
	}
	return tab
}

// encode maps a choice to the table's option indices.
func (sp macroSpace) encode(c choice, idx []int) {
	nm, no := len(sp.mults), sp.nops()
	idx[0] = c.stem
	pos, prev := 1, c.stem
	for s := range 5 {
		idx[pos] = (prev*nm+c.stage[s])*no + c.ops[s][0]
		for j := 1; j < blocksPerStage; j++ {
			o := c.ops[s][j]
			if o < 0 {
				o = no
			}
			idx[pos+j] = c.stage[s]*(no+1) + o
		}
		pos += blocksPerStage
		prev = c.stage[s]
	}
	idx[pos] = c.stage[4]
}

func smallSpace() macroSpace {
	return macroSpace{mults: []float64{0.5, 1, 2}, kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused},
		kernels: []int{3, 5}, expands: []float64{1, 3, 6}}
}

func TestTableMatchesGenericPath(t *testing.T) {
	// "all": 11 targets, compiled rows in two chunks (8 + 4 columns); the
	// paper's four targets: 8 cost dimensions, one chunk of 6 (see compile).
	for _, targets := range []string{"all", "paper"} {
		t.Run(targets, func(t *testing.T) { testTableMatchesGenericPath(t, targets) })
	}
}

func testTableMatchesGenericPath(t *testing.T, targets string) {
	sp := smallSpace()
	m := mustMetric(t, NewMetric().Targets(targets))
	tab := sp.table(t, m)
	if targets == "paper" && m.Dims() != 8 {
		t.Fatalf("the paper's targets have %d cost dimensions, want 8", m.Dims())
	}
	rng := rand.New(rand.NewSource(7))
	idx := make([]int, tab.Positions())
	buf := make([]float64, tab.BufLen())
	gen := make([]float64, m.NumTargets())
	ms := make([]float64, m.NumTargets())
	maxEval, err := tab.Evaluator(ObjectiveMax)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 60 {
		c := sp.random(rng)
		sp.encode(c, idx)
		// The MAX evaluator (for the paper's targets its own path, which
		// keeps the sums in registers) does the same operations as
		// Evaluate: the same value, bit for bit.
		mx, err := maxEval.Eval(idx, buf)
		if err != nil {
			t.Fatal(err)
		}
		s1, err := tab.Evaluate(idx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if mx != s1.Max {
			t.Fatalf("choice %d: MAX evaluator %.17g, Evaluate's Max %.17g", n, mx, s1.Max)
		}
		// Evaluate's vector finish (the form five, normVec) against the
		// compiled form's scalar one: the same floats.
		if f := tab.full.Load(); f != nil && f.c != nil {
			nt := m.NumTargets()
			scalar := make([]float64, len(buf))
			if bad := f.c.sum(idx, scalar[nt:]); bad >= 0 {
				t.Fatal(bad)
			}
			f.c.latencies(scalar[nt:], scalar[:nt])
			if want := m.normalize(scalar[:nt]); want != s1 || !slices.Equal(scalar[:nt], buf[:nt]) {
				t.Fatalf("choice %d: Evaluate %+v %v, scalar finish %+v %v", n, s1, buf[:nt], want, scalar[:nt])
			}
		}
		a := sp.arch(c)
		s2, err := m.Scores(a, gen)
		if err != nil {
			t.Fatal(err)
		}
		for i := range gen {
			if math.Abs(buf[i]/gen[i]-1) > 1e-9 {
				t.Fatalf("choice %d, %s: table %g, generic %g", n, m.TargetNames()[i], buf[i], gen[i])
			}
		}
		if math.Abs(s1.Avg/s2.Avg-1) > 1e-9 || math.Abs(s1.Max/s2.Max-1) > 1e-9 || math.Abs(s1.Weighted/s2.Weighted-1) > 1e-9 {
			t.Fatalf("choice %d: table %+v, generic %+v", n, s1, s2)
		}
		if err := tab.Latencies(idx, buf, ms); err != nil {
			t.Fatal(err)
		}
		if err := m.Latencies(a, gen); err != nil {
			t.Fatal(err)
		}
		for i := range ms {
			if math.Abs(ms[i]/gen[i]-1) > 1e-9 {
				t.Fatalf("choice %d: table latency %g ms, generic %g ms", n, ms[i], gen[i])
			}
		}
	}
}

func TestTableNoAllocAndErrors(t *testing.T) {
	sp := smallSpace()
	m := mustMetric(t, NewMetric())
	tab := sp.table(t, m)
	idx := make([]int, tab.Positions())
	sp.encode(sp.random(rand.New(rand.NewSource(1))), idx)
	buf := make([]float64, tab.BufLen())
	if n := testing.AllocsPerRun(100, func() { _, _ = tab.Evaluate(idx, buf) }); n != 0 {
		t.Errorf("Evaluate allocates %g times per call", n)
	}
	if _, err := tab.Evaluate(idx[:3], buf); err == nil {
		t.Error("short choice vector: no error")
	}
	if _, err := tab.Evaluate(idx, buf[:2]); err == nil {
		t.Error("short buffer: no error")
	}
	bad := append([]int(nil), idx...)
	bad[2] = tab.Options(2)
	if _, err := tab.Evaluate(bad, buf); err == nil || !strings.Contains(err.Error(), "position 2") {
		t.Errorf("option out of range: got %v", err)
	}
	bad[2] = -1
	if _, err := tab.Evaluate(bad, buf); err == nil {
		t.Error("negative option: no error")
	}
	if err := tab.Set(0, 99, StemSegment(blocks.Block{Kind: blocks.KindConv, Kernel: 3, Stride: 2, Out: 8}, 3, 224)); err == nil {
		t.Error("Set out of range: no error")
	}
	if err := tab.Set(1, 0, BlockSegment(blocks.Block{Kind: blocks.KindIBN, Kernel: 4, Stride: 1, Out: 8, Expand: 1}, 8, 8)); err == nil ||
		!strings.Contains(err.Error(), "kernel") {
		t.Errorf("even kernel: got %v", err)
	}
	if _, err := m.NewTable([]int{3, 0}); err == nil {
		t.Error("position without options: no error")
	}
}

// benchChoices returns n random points of the full space, encoded for tab and decoded.
func benchChoices(b *testing.B, sp macroSpace, tab *Table, n int) ([][]int, []*blocks.Arch) {
	rng := rand.New(rand.NewSource(1))
	idx := make([][]int, n)
	archs := make([]*blocks.Arch, n)
	for i := range n {
		c := sp.random(rng)
		idx[i] = make([]int, tab.Positions())
		sp.encode(c, idx[i])
		archs[i] = sp.arch(c)
	}
	return idx, archs
}

// evaluatePrev is Table.Evaluate as it was before the compiled forms (issue
// 13): whole rows of the paper's 8 cost values summed in 8 registers, each
// target finished from flat arrays. It stays here to measure the compiled
// forms against it side by side (BenchmarkTable), with the normalisation it
// used.
func evaluatePrev(t *Table, choices []int, buf []float64) (Scores, error) {
	nt, d := len(t.m.targets), t.m.dims
	if err := t.checkArgs(choices, buf); err != nil {
		return Scores{}, err
	}
	if d != 8 || !t.affine {
		return Scores{}, fmt.Errorf("evaluatePrev: only for 8 cost values of affine targets")
	}
	var a0, a1, a2, a3, a4, a5, a6, a7 float64
	for p, c := range choices {
		if uint(c) >= uint(t.nopts[p]) {
			return Scores{}, rangeErr(choices, t.nopts, p)
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
	acc := buf[nt : nt+d]
	acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = a0, a1, a2, a3, a4, a5, a6, a7
	r := buf[:nt]
	for i, o := range t.at {
		lat := acc[o] + t.fixed[i]
		if t.rate[i] > 0 && acc[o+1] > t.free[i] {
			lat += (acc[o+1] - t.free[i]) * t.rate[i]
		}
		r[i] = lat
	}
	// Metric.normalize as it was (it now takes the maximum without a branch).
	m := t.m
	var sc Scores
	sc.Max = math.Inf(-1)
	for i := range r {
		x := r[i] * m.invRef[i]
		r[i] = x
		sc.Avg += x
		sc.Weighted += m.weights[i] * x
		if x > sc.Max {
			sc.Max = x
		}
	}
	sc.Avg /= float64(len(r))
	return sc, nil
}

// BenchmarkTable evaluates the paper's four targets by table lookups on a
// MultiAVG-like space (22 positions, 7 width multipliers, 24 block ops):
// the search's objectives AVG and MAX (Evaluator) and all scores at once
// (Table.Evaluate), each side by side with the previous implementation
// (evaluatePrev) on the same architectures: blocks of 64 evaluations
// alternate between the two (which goes first alternates too), so both see
// the same load. It reports each one's time per evaluation, the new one's
// evaluations/s and the ratio. BenchmarkGeneric is the path without tables.
func BenchmarkTable(b *testing.B) {
	sp := fullSpace()
	m := mustMetric(b, NewMetric())
	tab := sp.table(b, m)
	idx, _ := benchChoices(b, sp, tab, 1024)
	buf := make([]float64, tab.BufLen())
	prev := func(c []int) (float64, error) {
		s, err := evaluatePrev(tab, c, buf)
		return s.Avg + s.Max, err
	}
	for _, obj := range []string{ObjectiveAvg, ObjectiveMax, "scores"} {
		var eval func(c []int) (float64, error)
		if obj == "scores" {
			eval = func(c []int) (float64, error) {
				s, err := tab.Evaluate(c, buf)
				return s.Avg + s.Max, err
			}
		} else {
			e, err := tab.Evaluator(obj)
			if err != nil {
				b.Fatal(err)
			}
			if gen, why := e.Generic(); gen {
				b.Fatalf("%s: generic path: %s", obj, why)
			}
			eval = func(c []int) (float64, error) { return e.Eval(c, buf) }
		}
		b.Run(obj, func(b *testing.B) { sideBySide(b, idx, eval, prev) })
	}
}

// sideBySide times fast and prev on alternating blocks of 64 evaluations of
// idx and reports the median block of each (per evaluation): the machine is
// shared, and a block the scheduler interrupts would otherwise count.
func sideBySide(b *testing.B, idx [][]int, fast, prev func([]int) (float64, error)) {
	const block = 64
	var tf, tp []time.Duration
	var sink float64
	run := func(f func([]int) (float64, error), j int) time.Duration {
		start := time.Now()
		for _, c := range idx[j : j+block] {
			v, err := f(c)
			if err != nil {
				b.Fatal(err)
			}
			sink += v
		}
		return time.Since(start)
	}
	n := 0
	for b.Loop() {
		j := n * block % len(idx)
		if n%2 == 0 {
			tf = append(tf, run(fast, j))
			tp = append(tp, run(prev, j))
		} else {
			tp = append(tp, run(prev, j))
			tf = append(tf, run(fast, j))
		}
		n++
	}
	if sink == 0 {
		b.Fatal("no work")
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds()) / block
	}
	f, p := median(tf), median(tp)
	b.ReportMetric(1e9/f, "evals/s")
	b.ReportMetric(f, "ns/eval")
	b.ReportMetric(p, "prev-ns/eval")
	b.ReportMetric(p/f, "speedup")
}

// BenchmarkGeneric evaluates the same architectures through Metric.Scores
// (blocks.Analyze + per-layer sums).
func BenchmarkGeneric(b *testing.B) {
	sp := fullSpace()
	m := mustMetric(b, NewMetric())
	_, archs := benchChoices(b, sp, sp.table(b, m), 1024)
	buf := make([]float64, m.NumTargets())
	b.ReportAllocs()
	b.ResetTimer()
	var sink float64
	for i := 0; b.Loop(); i++ {
		s, err := m.Scores(archs[i&1023], buf)
		if err != nil {
			b.Fatal(err)
		}
		sink += s.Avg + s.Max
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	if sink == 0 {
		b.Fatal("no work")
	}
}
