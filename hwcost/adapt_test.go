package hwcost

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/jsonsafe"
)

// A Design must cost every row exactly as ArchLatency costs the architecture.
func TestDesignMatchesArchLatency(t *testing.T) {
	var archs []*blocks.Arch
	for _, n := range []string{"mobilenet_v2", "multi_avg", "mnv4_conv_s"} {
		a, err := blocks.Model(n)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	archs = append(archs, cellNetworks(t, "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|",
		"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
		// Dead and used: 1→2 reads node 1, which the input never reaches.
		"|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")...)
	fb, err := blocks.ParseFBNetArch("1 2 3 8 4 5 6 7 0 1 2 3 8 8 8 4 5 6 7 0 1 2")
	if err != nil {
		t.Fatal(err)
	}
	archs = append(archs, blocks.FBNetNetwork(fb, blocks.FBNetCIFAR100))
	d := designOf(t, archs)
	for _, name := range []string{"pixel4-cpu", "pixel4-edgetpu"} {
		for _, mode := range runtimeModes {
			tg, err := Lookup(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := tg.Params()
			mode.apply(&p)
			tg, _ = NewAnalytic(tg.Spec(), p)
			got := make([]float64, d.Len())
			d.Latencies(tg, got, nil)
			for i, a := range archs {
				want, err := ArchLatency(tg, a, 0)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got[i]-want) > 1e-9*want {
					t.Errorf("%s %+v %s: design %.9g ms, ArchLatency %.9g", name, mode, a.Name, got[i], want)
				}
			}
		}
	}
}

// The prior over how a table's next device treats dead ops counts the
// candidates measured in that table only, by the rule of succession; a
// table given as a file counts the candidates whose columns it holds.
func TestDeadOpsPrior(t *testing.T) {
	with := func(source string, m runtimeMode) Candidate {
		c := Candidate{Sources: []string{source}}
		m.apply(&c.Params)
		return c
	}
	cands := []Candidate{
		with("t:a", runtimeMode{dead: true}), with("t:b", runtimeMode{dead: true, unfused: true}),
		with("t:c", runtimeMode{constant: true}), with("other:a", runtimeMode{}), {},
	}
	// In t: 3 devices, none removes dead ops, 2 run them, 1 runs the used
	// ones: P = (0+1)/6, (2+1)/6, (1+1)/6.
	want := [deadWays]float64{deadRemoved: 2 * math.Log(6), deadRun: 2 * math.Log(2), deadUsed: 2 * math.Log(3)}
	got := deadOpsPrior(cands, &adaptRows{source: "t"})
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("table t: penalty %d = %.6f, want %.6f", i, got[i], want[i])
		}
	}
	if got := deadOpsPrior(cands, &adaptRows{source: "none"}); got != ([deadWays]float64{}) {
		t.Errorf("a table no candidate was measured in: %v, want no penalty", got)
	}

	// The library knows HELP's table through its reference devices.
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	byName := deadOpsPrior(lib, &adaptRows{source: devicedata.NameHELPNB201})
	if !(byName[deadRun] < byName[deadUsed] && byName[deadUsed] < byName[deadRemoved]) {
		t.Errorf("nb201-help: penalties %v, want running dead ops most likely, removing them least", byName)
	}
	// The same measurements in a file of one's own (some of HELP's rows, its
	// reference columns, a device added) count the same devices; a column
	// whose values differ no longer counts its device.
	help, err := devicedata.HELPNB201()
	if err != nil {
		t.Fatal(err)
	}
	cols := make([]int, len(ReferenceColumns))
	for k, col := range ReferenceColumns {
		if cols[k], err = help.ColumnIndex(col); err != nil {
			t.Fatal(err)
		}
	}
	file := func(edit func(col string, row int, v float64) float64) *adaptRows {
		var b strings.Builder
		b.WriteString("arch_str," + strings.Join(ReferenceColumns, ",") + ",mine\n")
		for r := 0; r < help.Len(); r += 97 {
			b.WriteString(help.Cell(r).String())
			for k, col := range ReferenceColumns {
				v, _ := help.Value(r, cols[k])
				b.WriteString("," + strconv.FormatFloat(edit(col, r, v), 'g', -1, 64))
			}
			b.WriteString(",1\n")
		}
		path := filepath.Join(t.TempDir(), "mine.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := devicedata.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return &adaptRows{source: path, data: d, column: "mine"}
	}
	same := file(func(_ string, _ int, v float64) float64 { return v })
	if got := deadOpsPrior(lib, same); got != byName {
		t.Errorf("HELP's rows in a file: penalties %v, want those of nb201-help %v", got, byName)
	}
	changed := file(func(col string, r int, v float64) float64 {
		if col == "pixel3" && r == 97 {
			return v * 2
		}
		return v
	})
	if got := deadOpsPrior(lib, changed); got == byName {
		t.Errorf("a file whose pixel3 column differs from HELP's still counts reference:pixel3: %v", got)
	}
}

// Fits merge rows that cost alike: two cells whose layers differ only in
// which dead ops are used cost alike unless the runtime runs the used ones.
func TestDesignMergesByMode(t *testing.T) {
	// The 3×3 conv reads node 1, which the input never reaches: used in the
	// first cell (1→2 into node 2, passed on by 2→3), unused in the second
	// (0→1 into node 1, which feeds only none edges).
	d := designOf(t, cellNetworks(t, "|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|",
		"|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|"))
	// The layer counts, before "|" (the parallel parts differ: the wiring).
	layers := func(r int, unused bool) string {
		k, _, _ := strings.Cut(d.rowKey(r, unused), "|")
		return k
	}
	if layers(0, false) != layers(1, false) || layers(0, true) == layers(1, true) {
		t.Errorf("layer counts without Unused %q, %q; with it %q, %q", layers(0, false), layers(1, false),
			layers(0, true), layers(1, true))
	}
	tg, err := Lookup("pixel4-cpu", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range runtimeModes {
		p := tg.Params()
		mode.apply(&p)
		at, _ := NewAnalytic(tg.Spec(), p)
		ms := make([]float64, 2)
		d.Latencies(at, ms, nil)
		ok := math.Abs(ms[0]/ms[1]-1) < 1e-12 // equal but for the sums' order
		if mode.constant {
			ok = ms[0] > ms[1]*(1+1e-6)
		}
		if !ok {
			t.Errorf("mode %+v: %v ms, want equal unless the used dead conv runs", mode, ms)
		}
	}
}

// cellNetworks returns the NAS-Bench-201 CIFAR-10 networks of the cells.
func cellNetworks(t *testing.T, cells ...string) []*blocks.Arch {
	t.Helper()
	var archs []*blocks.Arch
	for _, s := range cells {
		c, err := blocks.ParseCell(s)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, blocks.NB201Network(c, blocks.NB201CIFAR10))
	}
	return archs
}

// designOf compiles the architectures, each analysed at its own resolution.
func designOf(t *testing.T, archs []*blocks.Arch) *Design {
	t.Helper()
	ans := make([]*blocks.Analysis, len(archs))
	for i, a := range archs {
		var err error
		if ans[i], err = blocks.Analyze(a, 0); err != nil {
			t.Fatal(err)
		}
	}
	d, err := NewDesign(archs, ans)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The roofline's treatment of the benchmark primitives, by hand.
func TestAnalyticBenchOps(t *testing.T) {
	spec, _ := LookupSpec("pixel4-dsp")
	p := Params{PeakGMACs: 100, EffConv: 0.5, EffFused: 0.25, EffDW: 0.2, EffFC: 1, EffPool: 0.1, BandwidthGBs: 1e6,
		LayerOverheadUs: 10, EltwiseOverheadUs: 3, FixedOverheadMs: 1}
	tg, err := NewAnalytic(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	// Peak 100 GMAC/s = 1e8 MAC/ms; bandwidth high enough to be irrelevant.
	for _, tc := range []struct {
		l    blocks.Layer
		want float64
	}{
		// Stem conv on 3 channels: eff_conv. 1e8 MACs / (1e8 · 0.5) = 2 ms + 10 µs.
		{blocks.Layer{Op: blocks.OpConv, InC: 3, MACs: 1e8, Params: 1, Weights: 1}, 2.01},
		// The same conv on 16 channels: eff_fused. 1e8 / (1e8 · 0.25) = 4 ms.
		{blocks.Layer{Op: blocks.OpConv, InC: 16, MACs: 1e8, Params: 1, Weights: 1}, 4.01},
		// 3×3 average pooling of 1e7 outputs: 9e7 additions at eff_pool: 9 ms + 3 µs.
		{blocks.Layer{Op: blocks.OpPool, Kernel: 3, InSize: 8, OutSize: 8, OutElems: 1e7}, 9.003},
		// An addition: eltwise overhead only.
		{blocks.Layer{Op: blocks.OpAdd, InElems: 2, OutElems: 1}, 0.003},
		// A dead conv: removed.
		{blocks.Layer{Op: blocks.OpConv, InC: 16, MACs: 1e8, Dead: true}, 0},
	} {
		if got, _ := tg.LayerMs(&tc.l); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s (in %d, dead %v): %.6f ms, want %.6f", tc.l.Op, tc.l.InC, tc.l.Dead, got, tc.want)
		}
	}
	// Eager runtimes run dead ops; unfused ones add BatchNorm and ReLU
	// kernels after a conv with BatchNorm (Params > Weights): 2 × 3 µs.
	p.RunsDeadOps, p.Unfused = true, true
	tg, _ = NewAnalytic(spec, p)
	l := blocks.Layer{Op: blocks.OpConv, InC: 16, MACs: 1e8, Dead: true, Params: 5, Weights: 2, Activated: true}
	if got, _ := tg.LayerMs(&l); math.Abs(got-4.016) > 1e-9 {
		t.Errorf("eager unfused dead conv: %.6f ms, want 4.016", got)
	}
	// A pruning pass without constant folding runs the dead conv whose
	// result is used (4 ms + 10 µs) and removes the unused one.
	p.RunsDeadOps, p.Unfused, p.RunsConstantOps = false, false, true
	tg, _ = NewAnalytic(spec, p)
	for _, unused := range []bool{false, true} {
		l := blocks.Layer{Op: blocks.OpConv, InC: 16, MACs: 1e8, Dead: true, Unused: unused, Params: 1, Weights: 1}
		got, b := tg.LayerMs(&l)
		want := 4.01
		if unused {
			want = 0
		}
		if math.Abs(got-want) > 1e-9 || (b == Removed) != unused {
			t.Errorf("pruned, unfolded, dead conv (unused %v): %.6f ms (%s), want %.6f", unused, got, b, want)
		}
	}
}

// Adapt must recover a device generated by a known model: the library holds
// that model with its rates and overheads off by factors Adapt can fit.
func TestAdaptRecoversSyntheticDevice(t *testing.T) {
	archs, ms, lib := syntheticDevice(t)
	res, err := AdaptArchs("synthetic", archs, ms, AdaptConfig{Train: 20, Seed: 4, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	if res.Spearman < 0.99 || res.MAPE > 0.03 || res.NTrain != 20 || res.NTest != len(archs)-20 || res.Prior != "off" {
		t.Errorf("synthetic device: %+v", res)
	}
	if res.Target == nil || res.Target.Validate() != nil || res.Target.Posterior == nil {
		t.Fatalf("target file: %+v", res.Target)
	}
	// The synthetic device's runtime is unknown: the prior's is not copied
	// into the file as if it were the device's.
	if res.Target.Runtime != "" || !strings.Contains(res.Target.Note, "prior off") {
		t.Errorf("target file runtime %q, note %q", res.Target.Runtime, res.Target.Note)
	}
}

// HELP's test devices with 10 samples (two seeds here; the report has ten).
// raspi4's latencies follow the ops whose result is used (Cell.Used), not
// the live ones: its runtime prunes without folding constants, and only a
// fit in that mode ranks it well (0.885-0.895 in the others).
func TestAdaptHELPDevices(t *testing.T) {
	for _, dev := range []string{"fpga", "pixel2", "raspi4", "eyeriss"} {
		var sum float64
		for s := uint64(1); s <= 2; s++ {
			res, err := Adapt(AdaptConfig{Data: devicedata.NameHELPNB201, Device: dev, Train: 10, Seed: s})
			if err != nil {
				t.Fatal(err)
			}
			// NAS-Bench-201 has 5^6 = 15,625 cells, each measured on
			// HELP's devices: 10 fit the target, the other 15,615 score it.
			if res.NTrain != 10 || res.NTest != 15615 {
				t.Errorf("%s: %d train, %d test", dev, res.NTrain, res.NTest)
			}
			if strings.Contains(res.Prior, dev) {
				t.Errorf("%s started from %s, fitted on its own column", dev, res.Prior)
			}
			// raspi4 runs the dead ops whose result is used, the others
			// all of them (eyeriss seed 2 took a compiled mode before
			// deadOpsPrior: Spearman 0.825).
			if got, want := modeOf(res.Params).deadOps(), map[bool]int{true: deadUsed, false: deadRun}[dev == "raspi4"]; got != want {
				t.Errorf("%s seed %d: fitted treating dead ops as %d, want %d", dev, s, got, want)
			}
			sum += res.Spearman
		}
		if want := map[string]float64{"fpga": 0.99, "pixel2": 0.85, "raspi4": 0.94, "eyeriss": 0.98}[dev]; sum/2 < want {
			t.Errorf("%s: mean Spearman %.4f over 2 seeds, want ≥ %.2f", dev, sum/2, want)
		}
	}
}

func TestAdaptBadInput(t *testing.T) {
	dir := t.TempDir()
	// A device column with no measured value (the second).
	csv := "nb201_index,arch_str,dev_a,dev_empty\n"
	for i, c := range blocks.AllCells()[:40] { // no nb201_index: AllCells is not in the official order
		csv += strings.Join([]string{"", c.String(), strconv.Itoa(1 + i), ""}, ",") + "\n"
	}
	path := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  AdaptConfig
		want string
	}{
		{AdaptConfig{Data: devicedata.NameHELPNB201, Device: "toaster", Train: 10}, "toaster"},
		{AdaptConfig{Data: "no-such-table", Device: "x", Train: 10}, "no such file"},
		{AdaptConfig{Data: devicedata.NameAccuracy, Device: "cifar10", Train: 10}, "accuracies"},
		{AdaptConfig{Data: path, Device: "dev_empty", Train: 10}, "no measured rows"},
		{AdaptConfig{Data: path, Device: "dev_a", Train: 40}, "too few rows"},
		{AdaptConfig{Data: path, Device: "dev_a", Train: 2}, "at least 3"},
		// Names a written target file could not be read back with.
		{AdaptConfig{Data: path, Device: "dev_a", Train: 10, Name: "a,b"}, `target name "a,b" must be non-empty, without commas`},
		{AdaptConfig{Data: path, Device: "dev_a", Train: 10, Name: "pixel4-cpu"}, `name "pixel4-cpu" is taken by a built-in target`},
	} {
		if _, err := Adapt(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
	// Nor is such a file written (`cost adapt --name a,b --out` wrote one).
	tf := &TargetFile{Target: "a,b"}
	out := filepath.Join(dir, "a.json")
	if err := tf.Save(out); err == nil || !strings.Contains(err.Error(), "without commas") {
		t.Errorf("saving a target named a,b: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a target file named a,b was written")
	}
	if _, err := AdaptArchs("x", nil, nil, AdaptConfig{Train: 3}); err == nil || !strings.Contains(err.Error(), "no measured") {
		t.Errorf("no archs: %v", err)
	}
	// A `cost measure` table's latencies are bounded as a CSV's cells are.
	a, _ := blocks.Model("mobilenet_v2")
	archs := []*blocks.Arch{a, a, a, a}
	for _, v := range []float64{0, 1e-300, 2e9, math.NaN()} {
		ms := []float64{1, 2, 3, v}
		if _, err := AdaptArchs("local", archs, ms, AdaptConfig{Train: 3}); err == nil || !strings.Contains(err.Error(), "must be in [1e-06, 1e+09] ms") {
			t.Errorf("latency %g: %v", v, err)
		}
	}
}

// A device whose measured latencies are all equal has no rank order: the
// test set's Spearman (and the MACs baseline's) is undefined, reported as
// NaN and printed as JSON null (as the commands print, internal/jsonsafe),
// not an encoding failure after the fit.
func TestAdaptConstantColumn(t *testing.T) {
	csv := "nb201_index,arch_str,flat\n"
	for _, c := range blocks.AllCells()[:30] {
		csv += strings.Join([]string{"", c.String(), "5"}, ",") + "\n"
	}
	path := filepath.Join(t.TempDir(), "flat.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Adapt(AdaptConfig{Data: path, Device: "flat", Train: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(res.Spearman) || !math.IsNaN(res.MACsSpearman) {
		t.Errorf("constant column: spearman %v, MACs spearman %v, want NaN", res.Spearman, res.MACsSpearman)
	}
	b, err := jsonsafe.Marshal(res)
	if err != nil {
		t.Fatalf("JSON of the result: %v", err)
	}
	if !strings.Contains(string(b), `"spearman":null`) || !strings.Contains(string(b), `"macs_spearman":null`) {
		t.Errorf("JSON %s: want null Spearman figures", b)
	}
}

func TestRoundingCeiling(t *testing.T) {
	var distinct, paired []float64
	for i := range 100 {
		distinct = append(distinct, float64(i))
		paired = append(paired, float64(i/2))
	}
	// Jitter below half a step keeps distinct whole values in order.
	if c := RoundingCeiling(distinct, 1); c != 1 {
		t.Errorf("distinct values: ceiling %g, want 1", c)
	}
	// Pairs of tied values: the jitter orders within ties, which the rounded
	// ranks cannot; Spearman drops a little below 1.
	if c := RoundingCeiling(paired, 1); !(c < 1 && c > 0.99) {
		t.Errorf("tied pairs: ceiling %g, want in (0.99, 1)", c)
	}
}
