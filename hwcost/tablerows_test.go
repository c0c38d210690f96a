package hwcost

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/memlimit"
)

// segRecorder is a target whose Latency is not affine (the compiled forms
// cannot express it): it counts segments, and records them so that a
// Measured target can be made for the same space.
type segRecorder struct{ segs map[string]Segment }

func (r *segRecorder) Name() string { return "recorder" }
func (r *segRecorder) Dims() int    { return 1 }
func (r *segRecorder) AddCost(s Segment, acc []float64) error {
	r.segs[s.Key()] = s
	acc[0]++
	return nil
}
func (r *segRecorder) Latency(acc []float64) float64 { return 1 + math.Sqrt(acc[0]) }

// tableMetrics are the metrics a search can build on sp: the paper's,
// MobileNetV4's and all built-in targets, single targets (one with a
// parameter cache), a target file (fp16 with its own parameter cache,
// eager runtime), weights with a zero, a measured target ("local" is one),
// and a target the compiled forms cannot express.
func tableMetrics(t *testing.T, sp macroSpace) map[string]*Metric {
	dir := t.TempDir()
	ps := DefaultParams().Targets["pixel4-edgetpu"]
	ps.OnChipMB, ps.RunsDeadOps, ps.Unfused = 3, true, true
	tf := &TargetFile{Target: "my-npu", Precision: FP16, Params: ps}
	file := filepath.Join(dir, "my-npu.json")
	if err := tf.Save(file); err != nil {
		t.Fatal(err)
	}
	ms := map[string]*Metric{
		"paper":          mustMetric(t, NewMetric()),
		"mnv4":           mustMetric(t, NewMetric().Targets("mnv4")),
		"all":            mustMetric(t, NewMetric().Targets("all")),
		"pixel4-edgetpu": mustMetric(t, NewMetric().Targets("pixel4-edgetpu")),
		"pixel4-cpu":     mustMetric(t, NewMetric().Targets("pixel4-cpu")),
		"paper+file":     mustMetric(t, NewMetric().Targets("paper", file)),
		"weights":        mustMetric(t, NewMetric().Weights(1, 0, 2, 3)),
	}
	// The measured target: every segment of the space (and of the
	// reference) timed as pixel4-gpu costs it on its own.
	rec := &segRecorder{segs: map[string]Segment{}}
	ms["not affine"] = mustMetric(t, NewMetric().Targets("pixel4-cpu").WithTargets(rec))
	sp.table(t, ms["not affine"])
	gpu := ms["paper"]
	meas := NewMeasured("measured", 0.7)
	lat := make([]float64, gpu.NumTargets())
	for _, s := range rec.segs {
		if err := gpu.SegmentLatencies(s, lat); err != nil {
			t.Fatal(err)
		}
		if err := meas.Set(s, lat[1]); err != nil {
			t.Fatal(err)
		}
	}
	ms["paper+measured"] = mustMetric(t, NewMetric().WithTargets(meas))
	return ms
}

// objectiveOf picks objective obj from scores s and normalised latencies r.
func objectiveOf(m *Metric, obj string, s Scores, r []float64) float64 {
	switch obj {
	case ObjectiveAvg:
		return s.Avg
	case ObjectiveMax:
		return s.Max
	case ObjectiveWeighted:
		return s.Weighted
	}
	i, _ := m.ObjectiveTarget(obj)
	return r[i]
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestEvaluatorMatchesGenericPath ties the compiled forms (Evaluator for
// every objective, Table.Evaluate) to the generic path without tables
// (Metric.Scores on blocks.Analyze of the architecture) and to the table's
// own generic path, to 1e-12, on random architectures of the tiny and the
// paper-like space, for every metric of tableMetrics.
func TestEvaluatorMatchesGenericPath(t *testing.T) {
	for _, space := range []string{"small", "full"} {
		sp := smallSpace()
		if space == "full" {
			sp = fullSpace()
		}
		for name, m := range tableMetrics(t, sp) {
			if space == "full" && (name == "all" || name == "not affine") {
				continue // the largest metric and the fallback: the small space suffices
			}
			t.Run(space+"/"+name, func(t *testing.T) { checkEvaluators(t, sp, m, name != "not affine", 40) })
		}
	}
}

func checkEvaluators(t *testing.T, sp macroSpace, m *Metric, compiles bool, n int) {
	tab := sp.table(t, m)
	objectives := append([]string{ObjectiveAvg, ObjectiveMax, ObjectiveWeighted}, m.TargetNames()...)
	fast := make([]*Evaluator, len(objectives))
	gen := make([]*Evaluator, len(objectives))
	for k, obj := range objectives {
		var err error
		if fast[k], err = tab.Evaluator(obj); err != nil {
			t.Fatal(err)
		}
		if g, why := fast[k].Generic(); g == compiles {
			t.Fatalf("%s: generic path %v (%s), want %v", obj, g, why, !compiles)
		}
		if gen[k], err = tab.evaluator(obj, true); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewSource(3))
	idx := make([]int, tab.Positions())
	buf := make([]float64, tab.BufLen())
	want := make([]float64, m.NumTargets())
	for range n {
		c := sp.random(rng)
		sp.encode(c, idx)
		ws, err := m.Scores(sp.arch(c), want)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tab.Evaluate(idx, buf)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range m.TargetNames() {
			if !near(buf[i], want[i]) {
				t.Fatalf("Evaluate: %s %.15g, generic %.15g", n, buf[i], want[i])
			}
		}
		if !near(s.Avg, ws.Avg) || !near(s.Max, ws.Max) || !near(s.Weighted, ws.Weighted) {
			t.Fatalf("Evaluate: %+v, generic %+v", s, ws)
		}
		for k, obj := range objectives {
			w := objectiveOf(m, obj, ws, want)
			v, err := fast[k].Eval(idx, buf)
			if err != nil {
				t.Fatal(err)
			}
			g, err := gen[k].Eval(idx, buf)
			if err != nil {
				t.Fatal(err)
			}
			if !near(v, w) || !near(g, w) {
				t.Fatalf("%s: evaluator %.15g, table's generic path %.15g, generic %.15g", obj, v, g, w)
			}
		}
	}
}

// TestCompiledColumns checks what the compiled forms keep: one folded
// latency column for AVG, the weighted mean and single targets, per-target
// latency columns for MAX, and weight columns only for targets with a
// parameter cache, one per distinct column.
func TestCompiledColumns(t *testing.T) {
	sp := smallSpace()
	ms := tableMetrics(t, sp)
	for _, tc := range []struct {
		metric, objective string
		k                 int
	}{
		{"paper", ObjectiveAvg, 2},          // folded + pixel4-edgetpu's weights
		{"paper", ObjectiveMax, 5},          // 4 targets + pixel4-edgetpu's weights
		{"paper", "pixel4-cpu", 1},          // no cache
		{"paper", "pixel4-edgetpu", 2},      // its cache
		{"weights", ObjectiveWeighted, 2},   //
		{"all", ObjectiveMax, 12},           // 11 targets + one int8 weight column for three caches
		{"all", ObjectiveAvg, 2},            //
		{"paper+file", ObjectiveAvg, 3},     // int8 and fp16 (with dead ops) weights differ
		{"paper+measured", ObjectiveMax, 6}, // 5 targets + 1
	} {
		tab := sp.table(t, ms[tc.metric])
		e, err := tab.Evaluator(tc.objective)
		if err != nil {
			t.Fatal(err)
		}
		if e.c == nil || e.c.k != tc.k {
			t.Errorf("%s %s: compiled %+v, want %d columns", tc.metric, tc.objective, e.c, tc.k)
		}
	}
}

// TestEvaluatorFallback: a table too large to compile within the memory
// limit is evaluated by the generic path, says so, and gives the same values.
func TestEvaluatorFallback(t *testing.T) {
	sp := smallSpace()
	m := mustMetric(t, NewMetric())
	tab := sp.table(t, m)
	fast := map[string]*Evaluator{}
	for _, obj := range []string{ObjectiveAvg, ObjectiveMax} {
		var err error
		if fast[obj], err = tab.Evaluator(obj); err != nil {
			t.Fatal(err)
		}
	}
	memlimit.SetLimit(1024)
	defer memlimit.SetLimit(0)
	for obj, f := range fast {
		e, err := tab.Evaluator(obj)
		if err != nil {
			t.Fatal(err)
		}
		g, why := e.Generic()
		if !g || !strings.Contains(why, "compiled cost table") {
			t.Fatalf("%s under a 1 KiB limit: generic %v (%s)", obj, g, why)
		}
		rng := rand.New(rand.NewSource(5))
		idx := make([]int, tab.Positions())
		buf := make([]float64, tab.BufLen())
		for range 50 {
			sp.encode(sp.random(rng), idx)
			v, err := e.Eval(idx, buf)
			if err != nil {
				t.Fatal(err)
			}
			w, err := f.Eval(idx, buf)
			if err != nil {
				t.Fatal(err)
			}
			if !near(v, w) {
				t.Fatalf("%s: fallback %.15g, compiled %.15g", obj, v, w)
			}
		}
	}
	// A new table this large is refused with the estimate.
	var tooLarge *memlimit.TooLargeError
	if _, err := m.NewTable([]int{1000, 1000}); !errors.As(err, &tooLarge) {
		t.Errorf("table above the memory limit: got %v", err)
	}
}

func TestTableSizes(t *testing.T) {
	m := mustMetric(t, NewMetric())
	for _, opts := range [][]int{
		{math.MaxInt / 4, 2}, // the product with 8 cost values overflows
		{1 << 27, 1 << 27},   // 2³⁰ values each: the sum passes the limit (2³¹ − 1)
	} {
		if _, err := m.NewTable(opts); err == nil || !strings.Contains(err.Error(), "beyond") {
			t.Errorf("options %v: got %v", opts, err)
		}
	}
}

func TestEvaluatorErrors(t *testing.T) {
	sp := smallSpace()
	ms := tableMetrics(t, sp)
	for _, name := range []string{"paper", "all", "not affine"} {
		tab := sp.table(t, ms[name])
		if _, err := tab.Evaluator("toaster"); err == nil || !strings.Contains(err.Error(), `unknown objective "toaster"`) {
			t.Errorf("unknown objective: got %v", err)
		}
		for _, obj := range []string{ObjectiveAvg, ObjectiveMax} {
			e, err := tab.Evaluator(obj)
			if err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("%s %s", name, obj)
			idx := make([]int, tab.Positions())
			sp.encode(sp.random(rand.New(rand.NewSource(1))), idx)
			buf := make([]float64, e.BufLen())
			if n := testing.AllocsPerRun(100, func() { _, _ = e.Eval(idx, buf) }); n != 0 {
				t.Errorf("%s: Eval allocates %g times per call", what, n)
			}
			if _, err := e.Eval(idx[:3], buf); err == nil {
				t.Errorf("%s: short choice vector: no error", what)
			}
			if _, err := e.Eval(idx, buf[:2]); err == nil {
				t.Errorf("%s: short buffer: no error", what)
			}
			for _, p := range []int{0, 2, len(idx) - 1} {
				for _, bad := range []int{-1, tab.Options(p), math.MaxInt} {
					c := append([]int(nil), idx...)
					c[p] = bad
					if _, err := e.Eval(c, buf); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at position %d", p)) {
						t.Errorf("%s: option %d at position %d: got %v", what, bad, p, err)
					}
				}
			}
		}
	}
}

// TestTableSetAfterEvaluate: Evaluate sees a Set made after it compiled
// itself; an Evaluator keeps the table as it was when made.
func TestTableSetAfterEvaluate(t *testing.T) {
	sp := smallSpace()
	m := mustMetric(t, NewMetric())
	tab := sp.table(t, m)
	idx := make([]int, tab.Positions())
	sp.encode(sp.random(rand.New(rand.NewSource(2))), idx)
	buf := make([]float64, tab.BufLen())
	before, err := tab.Evaluate(idx, buf)
	if err != nil {
		t.Fatal(err)
	}
	e, err := tab.Evaluator(ObjectiveAvg)
	if err != nil {
		t.Fatal(err)
	}
	// The head of the chosen width, now at 8× the resolution: costlier.
	last := len(idx) - 1
	h := HeadSegment(macroHead, 1001, sp.width(256, idx[last]), 56)
	if err := tab.Set(last, idx[last], h); err != nil {
		t.Fatal(err)
	}
	after, err := tab.Evaluate(idx, buf)
	if err != nil {
		t.Fatal(err)
	}
	if !(after.Avg > before.Avg) {
		t.Errorf("Evaluate after Set: AVG %g, before %g", after.Avg, before.Avg)
	}
	if v, err := e.Eval(idx, buf); err != nil || !near(v, before.Avg) {
		t.Errorf("Evaluator made before the Set: %g (%v), want %g", v, err, before.Avg)
	}
	e2, err := tab.Evaluator(ObjectiveAvg)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e2.Eval(idx, buf); err != nil || !near(v, after.Avg) {
		t.Errorf("Evaluator made after the Set: %g (%v), want %g", v, err, after.Avg)
	}
}

// TestVectorSumsMatchScalar ties the vector sums of the form five (the
// paper's four targets: sum5Vec, maxVec) to the scalar ones (sum5, then
// maxOf) bit for bit, on random architectures of the paper-like space and
// on their prefixes of 2 and 3 positions (the loop's first rows, its odd
// tail), and checks that an out-of-range choice at any position is reported
// at that position by both. Some of the architectures must spill weights
// beyond the EdgeTPU's on-chip memory and some not, so both cases of the
// spill term are compared.
func TestVectorSumsMatchScalar(t *testing.T) {
	if !hasSum5Vec {
		t.Skip("no vector sums in this build (GOEXPERIMENT=simd on amd64 with AVX2): sum5 is the only path")
	}
	spills := checkVectorSums(t, mustMetric(t, NewMetric()))
	t.Logf("%d of 500 architectures spill", spills)
	if spills < 50 || spills > 450 {
		t.Errorf("%d of 500 architectures spill: one case of the spill term is hardly tested", spills)
	}
}

// checkVectorSums is TestVectorSumsMatchScalar on metric m; it returns how
// many of the random architectures spill weights on a target.
func checkVectorSums(t *testing.T, m *Metric) (spills int) {
	sp := fullSpace()
	tab := sp.table(t, m)
	e, err := tab.Evaluator(ObjectiveMax)
	if err != nil {
		t.Fatal(err)
	}
	c := e.c
	if c == nil || !c.five {
		t.Fatalf("the paper's MAX is not the form five: %+v", c)
	}
	pos := c.chunks[0].r8
	bits := math.Float64bits
	rng := rand.New(rand.NewSource(5))
	idx := make([]int, tab.Positions())
	check := func(choices []int) (spill bool) {
		t.Helper()
		var s [6]float64
		var bad int
		s[0], s[1], s[2], s[3], s[4], bad = sum5(pos, choices)
		v0, v1, v2, v3, v4, vbad := sum5Vec(pos, choices)
		if bad != vbad {
			t.Fatalf("%v: bad position %d scalar, %d vector", choices, bad, vbad)
		}
		mv, mbad := maxVec(pos, choices, c.lanes)
		if mbad != bad {
			t.Fatalf("%v: bad position %d scalar, %d maxVec", choices, bad, mbad)
		}
		if bad >= 0 {
			return false
		}
		for j, v := range []float64{v0, v1, v2, v3, v4} {
			if bits(v) != bits(s[j]) {
				t.Fatalf("%v: column %d sums to %.17g in vectors, %.17g in scalars", choices, j, v, s[j])
			}
		}
		if want := c.maxOf(&s, m.invRef); bits(mv) != bits(want) {
			t.Fatalf("%v: maxVec %.17g, maxOf %.17g", choices, mv, want)
		}
		for i, r := range c.lanes.rate {
			spill = spill || (r > 0 && s[4] > c.lanes.free[i])
		}
		return spill
	}
	for range 500 {
		sp.encode(sp.random(rng), idx)
		if check(idx) {
			spills++
		}
		check(idx[:2])
		check(idx[:3])
	}
	for p := range idx {
		for _, b := range []int{-1, tab.Options(p), 1 << 40} {
			sp.encode(sp.random(rng), idx)
			idx[p] = b
			check(idx)
			v, err := e.Eval(idx, make([]float64, e.BufLen()))
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at position %d", p)) {
				t.Fatalf("choice %d at position %d: Eval %v, %v", b, p, v, err)
			}
		}
	}
	return spills
}
