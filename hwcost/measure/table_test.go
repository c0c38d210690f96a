package measure

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

func TestTimingStats(t *testing.T) {
	tm, err := NewTiming([]float64{5, 1, 4, 2, 3, 10, 6, 7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	// Type-7 quantiles of 1..10: p50 = 5.5, p25 = 3.25, p75 = 7.75, p10 = 1.9.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"median", tm.MedianMs, 5.5}, {"q1", tm.Q1Ms, 3.25}, {"q3", tm.Q3Ms, 7.75}, {"p10", tm.P10Ms, 1.9},
		{"min", tm.MinMs, 1}, {"max", tm.MaxMs, 10}, {"spread", tm.Spread(), 4.5 / 5.5},
		{"Value(p10)", tm.Value(StatP10), 1.9}, {"Value(p25)", tm.Value(StatP25), 3.25}, {"Value(min)", tm.Value(StatMin), 1}} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	if tm.SamplesMs[0] != 5 {
		t.Errorf("samples not kept in order: %v", tm.SamplesMs)
	}
	for _, bad := range [][]float64{nil, {1, -1}, {math.NaN()}, {math.Inf(1)}} {
		if _, err := NewTiming(bad); err == nil {
			t.Errorf("NewTiming(%v): no error", bad)
		}
	}
	if _, err := ParseStat("mean"); err == nil || !strings.Contains(err.Error(), "p10") {
		t.Errorf("ParseStat(mean): got %v, want an error listing the valid statistics", err)
	}
}

// synthetic returns a table with made-up timings for every segment and the
// whole model of each arch: segment i of a model takes base·(1+i%3) ms, the
// whole model the sum minus a known call overhead per segment plus fixed ms.
func synthetic(t *testing.T, fixed, call float64, archs ...*blocks.Arch) *Table {
	t.Helper()
	tbl := NewTable("go")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ct, _ := NewTiming([]float64{call, call, call})
	tbl.CallOverhead = ct
	for _, a := range archs {
		segs, err := hwcost.Segments(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i, s := range segs {
			v := 0.5 * float64(1+i%3) * float64(s.InSize) / 16
			if e, ok := tbl.Segments[s.Key()]; ok {
				v = e.Timing.MedianMs
			}
			tm, _ := NewTiming([]float64{v * 1.1, v, v * 0.9, v})
			if err := tbl.SetSegment(s, tm, at); err != nil {
				t.Fatal(err)
			}
			sum += tbl.Segments[s.Key()].Timing.Value(tbl.Stat)
		}
		whole := sum - float64(len(segs))*call + fixed
		tm, _ := NewTiming([]float64{whole, whole})
		if err := tbl.SetModel(a, tm, at); err != nil {
			t.Fatal(err)
		}
	}
	tbl.Updated = at
	return tbl
}

func TestFitRecoversOverhead(t *testing.T) {
	a := parseArch(t, chainSpec)
	b := a.Clone()
	b.Name, b.Resolution = "chain32", 32
	tbl := synthetic(t, 0.7, 0.05, a, b)
	o, err := tbl.FitOverhead()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(o.FixedMs-0.7) > 1e-9 || math.Abs(o.PerSegmentMs+0.05) > 1e-9 {
		t.Errorf("fitted overhead %+v, want fixed 0.7, per segment -0.05", o)
	}
	tbl.Overhead = o
	ev, err := tbl.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if ev.MaxAbsErr > 1e-9 || ev.MaxAbsHeldOutErr > 1e-9 || len(ev.Models) != 2 {
		t.Errorf("exact synthetic data: worst error %g in sample, %g held out (%d models)", ev.MaxAbsErr, ev.MaxAbsHeldOutErr, len(ev.Models))
	}
	// Whole model 10% slower than the rule: the fit shares the difference.
	e := tbl.Models[ModelKey(b)]
	for i := range e.Timing.SamplesMs {
		e.Timing.SamplesMs[i] *= 1.1
	}
	e.Timing, _ = NewTiming(e.Timing.SamplesMs)
	ev, _ = tbl.Evaluate()
	if !(ev.MaxAbsHeldOutErr > ev.MaxAbsErr && ev.MaxAbsErr > 0.01) {
		t.Errorf("perturbed data: held-out error %g should exceed in-sample %g > 1%%", ev.MaxAbsHeldOutErr, ev.MaxAbsErr)
	}
	if _, err := tbl.Evaluate("nope@1"); err == nil || !strings.Contains(err.Error(), "nope@1") {
		t.Errorf("unknown model key: got %v", err)
	}
}

func TestTableJSONRoundTripAndAtomicSave(t *testing.T) {
	a := parseArch(t, chainSpec)
	tbl := synthetic(t, 0.3, 0.02, a)
	var err error
	if tbl.Overhead, err = tbl.FitOverhead(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "local-go.json")
	if err := tbl.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tbl) {
		a, _ := got.JSON()
		b, _ := tbl.JSON()
		t.Errorf("round trip changed the table:\n%s\nvs\n%s", a, b)
	}
	p1, err1 := tbl.Predict(a)
	p2, err2 := got.Predict(a)
	if err1 != nil || err2 != nil || p1 != p2 {
		t.Errorf("predictions differ after the round trip: %g (%v) vs %g (%v)", p1, err1, p2, err2)
	}
	// A second save replaces the file and leaves no temporary file behind.
	tbl.Stat = StatMedian
	if err := tbl.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 || entries[0].Name() != "local-go.json" {
		t.Errorf("directory after two saves holds %v, want only local-go.json", entries)
	}
	// --table naming another file: refused, the file kept.
	other := filepath.Join(dir, "config.json")
	_ = os.WriteFile(other, []byte(`{"theme": "dark"}`), 0o644)
	if err := tbl.Save(other); err == nil || !strings.Contains(err.Error(), "not a latency table") {
		t.Errorf("saving over another file: %v", err)
	}
	if b, _ := os.ReadFile(other); string(b) != `{"theme": "dark"}` {
		t.Errorf("the other file changed: %q", b)
	}
	if again, err := Load(path); err != nil || again.Stat != StatMedian {
		t.Errorf("reloaded after the second save: stat %v, err %v", again.Stat, err)
	}
}

func TestParseTableErrors(t *testing.T) {
	a := parseArch(t, chainSpec)
	good, err := synthetic(t, 0.3, 0.02, a).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTable(good); err != nil {
		t.Fatalf("good table: %v", err)
	}
	segs, _ := hwcost.Segments(a, 0)
	key := segs[1].Key()
	for _, c := range []struct{ name, old, new, want string }{
		{"format", FormatID, "other/1", "format"},
		{"unknown field", `"backend":`, `"bakend":`, "bakend"},
		{"key mismatch", `"` + key + `":`, `"block other in 1x1":`, "block other in 1x1"},
		{"stat", `"stat": "p10"`, `"stat": "mean"`, "mean"},
		{"negative median", `"median_ms": `, `"median_ms": -`, "invalid timing"},
		{"segment kind", `"kind": "block"`, `"kind": "layer"`, "layer"},
	} {
		bad := strings.Replace(string(good), c.old, c.new, 1)
		if bad == string(good) {
			t.Fatalf("%s: test edit %q not found", c.name, c.old)
		}
		if _, err := ParseTable([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestTargetMatchesPredictAndNamesMissing(t *testing.T) {
	a := parseArch(t, chainSpec)
	tbl := synthetic(t, 0.3, 0.02, a)
	tbl.Overhead, _ = tbl.FitOverhead()
	tg, err := tbl.Target("local")
	if err != nil {
		t.Fatal(err)
	}
	want, err := tbl.Predict(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hwcost.ArchLatency(tg, a, 0)
	if err != nil || math.Abs(got-want) > 1e-9 {
		t.Errorf("hwcost.ArchLatency = %g (%v), Table.Predict = %g", got, err, want)
	}
	other := a.Clone()
	other.Blocks[1].Kernel = 3
	_, err = hwcost.ArchLatency(tg, other, 0)
	if err == nil || !strings.Contains(err.Error(), "ir_k3_s2_e3_c16_nr6") || !strings.Contains(err.Error(), "multihw cost measure") {
		t.Errorf("unmeasured block: got %v, want an error naming the segment and the command", err)
	}
	if _, err := tbl.Predict(other); err == nil || !strings.Contains(err.Error(), "--spec FILE --resolution 16") {
		t.Errorf("Predict of an unmeasured block: got %v, want the measuring command", err)
	}
}

// TestLocalTarget uses the registered "local" target through hwcost's metric,
// reading the table from $MULTIHW_LOCAL_TABLE.
func TestLocalTarget(t *testing.T) {
	t.Setenv(EnvTable, filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("GOMLX_BACKEND", "go")
	_, err := hwcost.NewMetric().Targets("local").Done()
	if err == nil || !strings.Contains(err.Error(), "multihw cost measure") {
		t.Errorf("no table: got %v, want an error saying how to measure", err)
	}
	ref, _ := blocks.Model("mobilenet_v2")
	ref.Resolution = 32 // Small made-up entries; the reference is at its own resolution.
	a := parseArch(t, chainSpec)
	tbl := synthetic(t, 0.3, 0.02, a, ref)
	path := filepath.Join(t.TempDir(), "local-go.json")
	if err := tbl.Save(path); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTable, path)
	m, err := hwcost.NewMetric().Targets("local", "pixel4-cpu").Reference(ref).Done()
	if err != nil {
		t.Fatal(err)
	}
	if names := m.TargetNames(); !reflect.DeepEqual(names, []string{"local", "pixel4-cpu"}) {
		t.Errorf("targets %v, want [local pixel4-cpu]", names)
	}
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tbl.Predict(a)
	wantRef, _ := tbl.Predict(ref)
	if math.Abs(res.LatencyMs["local"]-want) > 1e-9 || math.Abs(res.Normalized["local"]-want/wantRef) > 1e-9 {
		t.Errorf("local: %g ms (normalised %g), want %g ms (%g)", res.LatencyMs["local"], res.Normalized["local"], want, want/wantRef)
	}
	// A Go table of single-graph timings (before cost measure staged the
	// networks) is refused as this machine's target and as `adapt --data
	// local`; a staged one is taken.
	for _, ops := range []string{"lowered", "lowered" + stagedMode} {
		tbl.Ops = ops
		if err := tbl.Save(path); err != nil {
			t.Fatal(err)
		}
		_, err := hwcost.NewMetric().Targets("local").Reference(ref).Done()
		_, _, _, aerr := measurements("local", &hwcost.AdaptConfig{})
		if stale := ops == "lowered"; stale != (err != nil && strings.Contains(err.Error(), "single graphs")) ||
			stale != (aerr != nil && strings.Contains(aerr.Error(), "single graphs")) {
			t.Errorf("ops %q: local target %v, adapt %v", ops, err, aerr)
		}
	}
}

func TestBackendKeyAndPath(t *testing.T) {
	for cfg, want := range map[string]string{"": "go", "go": "go", "go:parallelism=2": "go_parallelism=2",
		"onnx": "onnx", "onnx:/a/b/libonnxruntime.so.1": "onnx", "onnxruntime": "onnx",
		"xla:cpu": "xla-cpu", "xla": "xla-cpu", "xla:cuda,mem=0.5": "xla-cuda", "stablehlo:cpu": "xla-cpu"} {
		if got := BackendKey(cfg); got != want {
			t.Errorf("BackendKey(%q) = %q, want %q", cfg, got, want)
		}
	}
	if got := KeyOf("xla:cpu", testBackend(t)); got != "go" {
		t.Errorf("KeyOf(xla:cpu, fallen back to go) = %q, want go", got)
	}
	t.Setenv(EnvTable, "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if p, err := DefaultPath("go"); err != nil || p != "/x/cache/multihw/local-go.json" {
		t.Errorf("DefaultPath(go) = %q, %v", p, err)
	}
	t.Setenv(EnvTable, "/y/t.json")
	if p, _ := DefaultPath("go"); p != "/y/t.json" {
		t.Errorf("DefaultPath with %s set = %q", EnvTable, p)
	}
}

func TestLoadOrNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	tbl, err := LoadOrNew(path, "onnx")
	if err != nil || tbl.Backend != "onnx" || len(tbl.Segments) != 0 {
		t.Fatalf("missing file: %v %+v", err, tbl)
	}
	if err := synthetic(t, 0, 0, parseArch(t, chainSpec)).Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrNew(path, "onnx"); err == nil || !strings.Contains(err.Error(), `"go"`) {
		t.Errorf("table of another backend: got %v", err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrNew(path, "go"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: got %v, want an error naming it", err)
	}
}
