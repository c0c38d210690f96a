package measure

import (
	"math"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

// Two tiny architectures at 64 px that share their stem and first block.
const (
	tinyA = `name tiny_a
input 64x64x3
classes 10
stem cn_k3_s2_c16
ir_k3_s1_e2_c16
ir_k5_s2_e4_c24
er_k3_s1_e2_c24
uir_a3_k3_s2_e3_c32
head c64_h48`
	tinyB = `name tiny_b
input 64x64x3
classes 10
stem cn_k3_s2_c16
ir_k3_s1_e2_c16
ir_k3_s2_e6_c32
ir_k3_s1_e3_c32
cn_k1_s1_c48
head c96`
)

// TestMeasureTinyModels times two tiny models for real and checks the table:
// every segment and model recorded with the requested number of runs, the
// summed table predicts each whole model within tolerance, and a later
// Measure only times the segments that are missing.
func TestMeasureTinyModels(t *testing.T) {
	const runs = 25
	a, b := parseArch(t, tinyA), parseArch(t, tinyB)
	tbl := NewTable("go")
	m := New(testBackend(t)).Runs(runs).Warmup(1)
	if err := m.Measure(tbl, a); err != nil {
		t.Fatal(err)
	}
	first := map[string]*SegmentEntry{}
	for k, e := range tbl.Segments {
		first[k] = e
	}
	if err := m.Measure(tbl, a, b); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []*blocks.Arch{a, b} {
		if miss, err := tbl.Missing(arch); err != nil || len(miss) != 0 {
			t.Errorf("%s: missing segments %v (%v)", arch.Name, miss, err)
		}
		if e := tbl.Models[ModelKey(arch)]; e == nil || len(e.Timing.SamplesMs) != runs {
			t.Errorf("%s: whole-model entry %+v, want %d samples", arch.Name, e, runs)
		}
	}
	for k, e := range tbl.Segments {
		if len(e.Timing.SamplesMs) != runs || !(e.Timing.MinMs > 0) {
			t.Errorf("segment %s: %d samples, min %g ms", k, len(e.Timing.SamplesMs), e.Timing.MinMs)
		}
		if old, ok := first[k]; ok && old != e {
			t.Errorf("segment %s was measured again although the table had it", k)
		}
	}
	if n := len(tbl.Segments); n != 6+6-2 {
		t.Errorf("%d segments in the table, want 10 (6 + 6, 2 shared)", n)
	}
	if len(tbl.CallOverhead.SamplesMs) != 2*runs || tbl.Ops != "lowered, staged" {
		t.Errorf("call overhead has %d samples (want %d), ops %q", len(tbl.CallOverhead.SamplesMs), 2*runs, tbl.Ops)
	}
	// How well the summed segments predict the whole models depends on the
	// machine's load: BenchmarkTinyModelsTable measures it; here only that
	// the evaluation covers both models with finite figures.
	ev, err := tbl.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Models) != 2 || math.IsNaN(ev.MaxAbsErr) || math.IsInf(ev.MaxAbsErr, 0) {
		t.Errorf("evaluation of %d models, max error %v", len(ev.Models), ev.MaxAbsErr)
	}
	if err := m.Remeasure(true).Measure(tbl, a); err != nil {
		t.Fatal(err)
	}
	for k, old := range first {
		if tbl.Segments[k] == old {
			t.Errorf("Remeasure(true): segment %s kept its old entry", k)
		}
	}
}

// TestMeasureStaged: on the pure-Go backend with the lowered ops the
// measurer times the networks as train.Inference runs them (convnet.Staged),
// whole models and segments alike, and says so in the table; with the native
// ops it times the graphs; a table of one kind refuses timings of the other.
func TestMeasureStaged(t *testing.T) {
	a := parseArch(t, tinyA)
	segs, err := hwcost.Segments(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := New(testBackend(t)).Warmup(1)
	p, err := m.compileModel(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if p.staged == nil {
		t.Error("the whole model is timed as a graph, not staged")
	}
	for _, s := range segs {
		q, err := m.compileSegment(s, 0)
		if err != nil {
			t.Fatal(err)
		}
		if q.staged == nil {
			t.Errorf("segment %s is timed as a graph, not staged", s.Key())
		}
		q.close()
	}
	// Nothing to stage (no depthwise, no full convolution of 16 outputs or
	// more): the graph is timed, as train.Inference runs it.
	plain := parseArch(t, "name plain\ninput 16x16x3\nclasses 4\nstem cn_k3_s2_c8\ncn_k3_s1_c8\nhead c16_h0_d0")
	g, err := m.compileModel(plain, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	if g.staged != nil {
		t.Error("a network with nothing to stage: staged")
	}
	native := New(testBackend(t)).Lowered(false).Warmup(1)
	q, err := native.compileModel(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	if q.staged != nil || native.mode() != "native" || m.mode() != "lowered, staged" {
		t.Errorf("native ops: staged %v, modes %q and %q", q.staged != nil, native.mode(), m.mode())
	}
	tbl := NewTable("go")
	if err := native.Runs(1).Measure(tbl, a); err != nil {
		t.Fatal(err)
	}
	if err := m.Runs(1).Measure(tbl, a); err == nil || !strings.Contains(err.Error(), "lowered, staged") {
		t.Errorf("staged timings into a table of graph timings: %v", err)
	}
}

// BenchmarkTinyModelsTable measures the two tiny models and their segments
// (25 timed runs each) and reports how far the table's summed segments
// (with the fitted call overhead) are from the measured whole models: the
// largest |predicted/measured − 1| over both. Tiny graphs last about a
// millisecond, so a loaded machine shows in this figure; a table off by a
// segment or a broken fit shows as tens of percent on an idle one.
//
//	go test ./hwcost/measure -run '^$' -bench TinyModelsTable -benchtime 1x
func BenchmarkTinyModelsTable(b *testing.B) {
	a, c := parseArch(b, tinyA), parseArch(b, tinyB)
	for range b.N {
		tbl := NewTable("go")
		if err := New(testBackend(b)).Runs(25).Warmup(1).Measure(tbl, a, c); err != nil {
			b.Fatal(err)
		}
		ev, err := tbl.Evaluate()
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range ev.Models {
			b.Logf("%s: whole %.3f ms (%s), Σ segments %.3f ms, predicted %.3f ms (%+.1f%%), held out %+.1f%%",
				f.Model, f.MeasuredMs, f.Stat, f.SumMs, f.PredictedMs, 100*f.Err, 100*f.HeldOutErr)
		}
		b.ReportMetric(100*ev.MaxAbsErr, "max-err-%")
	}
}

func TestMeasurerErrors(t *testing.T) {
	if err := New(nil).Err(); err == nil {
		t.Errorf("nil backend: no error")
	}
	be := testBackend(t)
	for name, m := range map[string]*Measurer{"runs 0": New(be).Runs(0), "warmup 0": New(be).Warmup(0)} {
		if err := m.Measure(NewTable("go"), parseArch(t, tinyA)); err == nil || !strings.Contains(err.Error(), "at least 1") {
			t.Errorf("%s: got %v", name, err)
		}
	}
	m := New(be).Runs(1).Warmup(1)
	if err := m.Measure(nil, parseArch(t, tinyA)); err == nil {
		t.Errorf("nil table: no error")
	}
	if err := m.Measure(NewTable("go")); err == nil {
		t.Errorf("no architectures: no error")
	}
	bad := parseArch(t, tinyA)
	bad.Blocks[1].Kernel = 4
	if err := m.Measure(NewTable("go"), bad); err == nil || !strings.Contains(err.Error(), "block 1") {
		t.Errorf("even kernel: got %v, want an error naming block 1", err)
	}
	native := NewTable("go")
	if err := m.Measure(native, parseArch(t, tinyA)); err != nil {
		t.Fatal(err)
	}
	if err := New(be).Runs(1).Warmup(1).Lowered(false).Measure(native, parseArch(t, tinyB)); err == nil || !strings.Contains(err.Error(), "native") {
		t.Errorf("mixing lowered and native ops in one table: got %v", err)
	}
	if _, err := m.Model(bad); err == nil {
		t.Errorf("Model(invalid arch): no error")
	}
}

// TestMeasureSegments fills a table with segments alone (as for a search
// space): duplicates timed once, present ones skipped, invalid ones rejected.
func TestMeasureSegments(t *testing.T) {
	ibn := blocks.Block{Kind: blocks.KindIBN, Kernel: 3, Stride: 2, Expand: 3, Out: 24}
	s1 := hwcost.BlockSegment(ibn, 16, 32)
	s2 := hwcost.BlockSegment(ibn, 24, 32)
	tbl := NewTable("go")
	m := New(testBackend(t)).Runs(3).Warmup(1)
	if err := m.MeasureSegments(tbl, s1, s1); err != nil {
		t.Fatal(err)
	}
	old := tbl.Segments[s1.Key()]
	if len(tbl.Segments) != 1 || old == nil || len(old.Timing.SamplesMs) != 3 {
		t.Fatalf("after measuring one segment twice: %d entries, %+v", len(tbl.Segments), old)
	}
	if err := m.MeasureSegments(tbl, s1, s2); err != nil {
		t.Fatal(err)
	}
	if len(tbl.Segments) != 2 || tbl.Segments[s1.Key()] != old || len(tbl.Models) != 0 {
		t.Errorf("second call: %d entries (want 2), first entry replaced: %v, %d models", len(tbl.Segments), tbl.Segments[s1.Key()] != old, len(tbl.Models))
	}
	bad := hwcost.BlockSegment(blocks.Block{Kind: blocks.KindIBN, Kernel: 2, Stride: 1, Expand: 1, Out: 8}, 8, 8)
	if err := m.MeasureSegments(tbl, bad); err == nil || !strings.Contains(err.Error(), "kernel") {
		t.Errorf("even kernel: got %v", err)
	}
}
