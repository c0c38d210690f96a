package predict

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/jsonsafe"
)

// randomArchs draws n architectures of s uniformly.
func randomArchs(s *Space, n int, rng *rand.Rand) []Arch {
	out := make([]Arch, n)
	for i := range out {
		a := make(Arch, s.Positions)
		for p := range a {
			a[p] = rng.IntN(len(s.Ops))
		}
		out[i] = a
	}
	return out
}

// tableLatency is a known lookup table: constant + Σ cost[pos][op] (0 for Zero).
type tableLatency struct {
	constant float64
	cost     [][]float64
}

func newTable(s *Space, rng *rand.Rand) tableLatency {
	t := tableLatency{constant: 2 + rng.Float64(), cost: make([][]float64, s.Positions)}
	for p := range t.cost {
		t.cost[p] = make([]float64, len(s.Ops))
		for op := range t.cost[p] {
			if op != s.Zero {
				t.cost[p][op] = 0.1 + rng.Float64()
			}
		}
	}
	return t
}

func (t tableLatency) of(a Arch) float64 {
	v := t.constant
	for p, op := range a {
		v += t.cost[p][op]
	}
	return v
}

func TestLookupRecoversKnownTable(t *testing.T) {
	for _, s := range []*Space{NB201, FBNet} {
		rng := rand.New(rand.NewPCG(3, 4))
		truth := newTable(s, rng)
		archs := randomArchs(s, 2*lookupParams(s), rng)
		d := &Dataset{Space: s, Archs: archs, Source: "synthetic " + s.Name}
		for _, a := range archs {
			d.Latency = append(d.Latency, truth.of(a))
		}
		l := NewLookup()
		if err := l.Fit(d); err != nil {
			t.Fatal(err)
		}
		if got := l.Constant(); math.Abs(got-truth.constant) > 1e-5 {
			t.Errorf("%s: constant %.8f, want %.8f", s.Name, got, truth.constant)
		}
		for p := range truth.cost {
			for op, want := range truth.cost[p] {
				if got := l.Cost(p, op); math.Abs(got-want) > 1e-5 {
					t.Errorf("%s: cost(%d, %s) = %.8f, want %.8f", s.Name, p, s.Ops[op], got, want)
				}
			}
		}
		// The structured predictor must represent the same table up to the
		// shrinkage of its penalised per-position deviations (it needs more
		// rows, as live and dead NB201 edges have separate costs).
		more := &Dataset{Space: s, Archs: randomArchs(s, 600, rng), Source: "synthetic " + s.Name}
		for _, a := range more.Archs {
			more.Latency = append(more.Latency, truth.of(a))
		}
		train, test, err := more.Split(400, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Evaluate(NewStructured().MaxRounds(0), train, test)
		if err != nil {
			t.Fatal(err)
		}
		if m.Spearman < 0.995 || m.RelRMSE > 0.01 {
			t.Errorf("%s: structured on an exact lookup table: %+v", s.Name, m)
		}
	}
}

// TestStructuredKnownModel: latencies from a model the structured predictor
// can express but a lookup table cannot (dead NB201 edges cost nothing, op
// costs do not depend on the edge) plus heavy-tailed noise. The structured
// predictor must find the noise-free latencies; the lookup table must not.
func TestStructuredKnownModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	opCost := []float64{0, 0.2, 1.0, 2.5, 0.6} // none, skip, 1x1, 3x3, pool
	clean := func(a Arch) float64 {
		v := 3.0
		for e, live := range NB201.Live(a) {
			if live {
				v += opCost[a[e]]
			}
		}
		return v
	}
	var archs []Arch
	for _, a := range randomArchs(NB201, 3000, rng) {
		if NB201Cell(a).Connected() {
			archs = append(archs, a)
		}
	}
	d := &Dataset{Space: NB201, Archs: archs, Source: "synthetic"}
	for _, a := range archs {
		v := clean(a) * (1 + 0.01*rng.NormFloat64())
		if rng.Float64() < 0.05 { // a few wild measurements, as on phones
			v *= 3 + 10*rng.Float64()
		}
		d.Latency = append(d.Latency, v)
	}
	train, test, err := d.Split(600, 7)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStructured().Seed(7)
	if err := st.Fit(train); err != nil {
		t.Fatal(err)
	}
	lk := NewLookup()
	if err := lk.Fit(train); err != nil {
		t.Fatal(err)
	}
	var se, seLookup float64
	for _, a := range test.Archs {
		c := clean(a)
		se += math.Pow(st.Predict(a)/c-1, 2)
		seLookup += math.Pow(lk.Predict(a)/c-1, 2)
	}
	rmse := math.Sqrt(se / float64(test.Len()))
	rmseLookup := math.Sqrt(seLookup / float64(test.Len()))
	t.Logf("relative RMSE against the noise-free latencies: structured %.4f, lookup %.4f", rmse, rmseLookup)
	if rmse > 0.01 {
		t.Errorf("structured predictor misses the known model: relative RMSE %.4f", rmse)
	}
	if rmseLookup < 3*rmse {
		t.Errorf("lookup table (%.4f) should be far worse than structured (%.4f) here", rmseLookup, rmse)
	}
}

func TestHuberIgnoresOutliers(t *testing.T) {
	// y = 1 + 2x with 10% of the points shifted by +100.
	var X []sparseRow
	var y []float64
	for i := 0; i < 200; i++ {
		x := float64(i%10) / 10
		X = append(X, sparseRow{idx: []int32{0, 1}, val: []float64{1, x}})
		v := 1 + 2*x + 0.001*math.Sin(float64(i))
		if i%10 == 3 {
			v += 100
		}
		y = append(y, v)
	}
	beta, _, err := fitHuber(X, y, nil, 0, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Least squares would be pulled to an intercept near 11.
	if math.Abs(beta[0]-1) > 0.05 || math.Abs(beta[1]-2) > 0.1 {
		t.Errorf("Huber fit β = %v, want ≈ [1 2]", beta)
	}
}

func TestCholeskySolve(t *testing.T) {
	// A = [[4 2] [2 3]], b = [2 1] → x = [0.5 0].
	a := []float64{4, 0, 2, 3}
	if err := cholesky(a, 2); err != nil {
		t.Fatal(err)
	}
	x := cholSolve(a, 2, []float64{2, 1})
	if math.Abs(x[0]-0.5) > 1e-12 || math.Abs(x[1]) > 1e-12 {
		t.Errorf("x = %v, want [0.5 0]", x)
	}
	if err := cholesky([]float64{-1}, 1); err == nil {
		t.Error("cholesky accepted a negative matrix")
	}
}

func TestDeterministic(t *testing.T) {
	d, err := Load(devicedata.NameBRPNAS, devicedata.SD855DSP)
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := d.Split(300, 11)
	if err != nil {
		t.Fatal(err)
	}
	var preds [2][]float64
	for k := range preds {
		p, _ := New("structured", 11)
		if err := p.Fit(train); err != nil {
			t.Fatal(err)
		}
		for _, a := range test.Archs[:500] {
			preds[k] = append(preds[k], p.Predict(a))
		}
	}
	for i := range preds[0] {
		if preds[0][i] != preds[1][i] {
			t.Fatalf("prediction %d differs between two fits with the same seed: %v vs %v", i, preds[0][i], preds[1][i])
		}
	}
}

func TestBadInput(t *testing.T) {
	d, err := Load(devicedata.NameBRPNAS, devicedata.SD855CPU)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Split(d.Len(), 1); err == nil || !strings.Contains(err.Error(), "leaves no test rows") {
		t.Errorf("Split(all rows): %v", err)
	}
	if _, _, err := d.Split(0, 1); err == nil {
		t.Error("Split(0) accepted")
	}
	small, _, err := d.Split(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		p, err := New(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Fit(small); err == nil || !strings.Contains(err.Error(), "too few") {
			t.Errorf("%s: fitting 10 rows: %v", name, err)
		}
		if v := p.Predict(d.Archs[0]); !math.IsNaN(v) {
			t.Errorf("%s: Predict before a successful Fit = %g, want NaN", name, v)
		}
	}
	if _, err := New("mlp", 1); err == nil || !strings.Contains(err.Error(), "structured") {
		t.Errorf("unknown predictor: %v", err)
	}
	if _, err := Load(devicedata.NameBRPNAS, "pixel9"); err == nil || !strings.Contains(err.Error(), devicedata.SD855GPU) {
		t.Errorf("unknown column: %v", err)
	}
	bad := &Dataset{Space: NB201, Archs: []Arch{{0, 1, 2}}, Latency: []float64{1}, Source: "bad"}
	if err := NewLookup().Fit(bad); err == nil || !strings.Contains(err.Error(), "6") {
		t.Errorf("short architecture: %v", err)
	}
	nan := &Dataset{Space: NB201, Archs: []Arch{{0, 1, 2, 3, 4, 0}}, Latency: []float64{math.NaN()}, Source: "nan"}
	if err := NewLookup().Fit(nan); err == nil || !strings.Contains(err.Error(), "latency") {
		t.Errorf("NaN latency: %v", err)
	}
	if err := NewStructured().Folds(1).Fit(d); err == nil {
		t.Error("1 fold accepted")
	}
	l := NewLookup()
	if err := l.Fit(small); err == nil {
		t.Error("expected error")
	}
	if v := l.Predict(Arch{9, 9, 9, 9, 9, 9}); !math.IsNaN(v) {
		t.Errorf("invalid arch predicted %g", v)
	}
}

// TestPixel4Targets is the acceptance target: with 900 training cells, the
// structured predictor reaches ρ ≥ 0.95 on held-out cells on the Snapdragon
// 855 CPU, GPU, DSP and the EdgeTPU, and beats the lookup table there.
func TestPixel4Targets(t *testing.T) {
	data, err := devicedata.Open(devicedata.NameBRPNAS)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range devicedata.Pixel4Targets {
		d, err := FromData(data, col)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compare(d, 900, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: lookup ρ %.4f, structured ρ %.4f (λ %g, %d trees), rel RMSE %.3f → %.3f, n_test %d",
			col, c.Lookup.Spearman, c.Structured.Spearman, c.Lambda, c.Trees, c.Lookup.RelRMSE, c.Structured.RelRMSE, c.Structured.NTest)
		if c.Structured.Spearman < 0.95 {
			t.Errorf("%s: structured ρ %.4f < 0.95", col, c.Structured.Spearman)
		}
		if c.Structured.Spearman <= c.Lookup.Spearman {
			t.Errorf("%s: structured ρ %.4f does not beat lookup %.4f", col, c.Structured.Spearman, c.Lookup.Spearman)
		}
		if c.Structured.NTest != d.Len()-900 || c.Structured.NTrain != 900 {
			t.Errorf("%s: n_train %d n_test %d, want 900 and %d", col, c.Structured.NTrain, c.Structured.NTest, d.Len()-900)
		}
	}
}

func TestWriteReport(t *testing.T) {
	rows := []Comparison{
		{File: devicedata.NameBRPNAS, Column: devicedata.SD855CPU, Lookup: Metrics{Spearman: 0.9}, Structured: Metrics{Spearman: 0.98}},
		{File: devicedata.NameHELPFBNet, Column: "pixel3", Note: "lookup sum", Lookup: Metrics{Spearman: 1}, Structured: Metrics{Spearman: 1}},
		{File: devicedata.NameHELPFBNet, Column: "pixel2", Lookup: Metrics{Spearman: 0.8}, Structured: Metrics{Spearman: 0.79}},
	}
	var b bytes.Buffer
	if err := WriteReport(&b, ReportConfig{Train: 900, Seed: 1}, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"**1 of 2**", "| " + devicedata.SD855CPU + " | 0.9000 | 0.9800 |", "| pixel3 | lookup sum |", "--train 900 --seed 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Of the two measured rows (pixel3's note excludes it) structured wins
	// the first (0.98 > 0.9) and loses the second (0.79 < 0.8).
	if wins, measured := StructuredWins(rows); wins != 1 || measured != 2 {
		t.Errorf("StructuredWins = %d of %d, want 1 of 2", wins, measured)
	}
	path := filepath.Join(t.TempDir(), "REPORT.md")
	if err := WriteReportFile(path, ReportConfig{Train: 900, Seed: 1}, rows); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != out {
		t.Errorf("WriteReportFile wrote %d bytes (%v), WriteReport %d", len(got), err, len(out))
	}
}

// TestDeadEdgesByToolchain checks what the structured model learns about
// each measurement campaign: BRP-NAS's compiled models drop NB201 edges that
// cannot run (their fitted cost is near 0), HELP's PyTorch models run every
// edge (a dead 3×3 conv costs about as much as a live one).
func TestDeadEdgesByToolchain(t *testing.T) {
	conv := int(devicedata.OpConv3x3)
	for _, c := range []struct {
		file, column string
		pruned       bool
	}{{devicedata.NameBRPNAS, devicedata.SD855CPU, true}, {devicedata.NameHELPNB201, "gold_6226", false}} {
		d, err := Load(c.file, c.column)
		if err != nil {
			t.Fatal(err)
		}
		train, _, err := d.Split(600, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := NewStructured().MaxRounds(0)
		if err := s.Fit(train); err != nil {
			t.Fatal(err)
		}
		live, dead := s.OpCost(0, conv, true), s.OpCost(0, conv, false)
		var b strings.Builder
		if err := s.Explain(&b); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %s: conv3x3 live %.3f ms, dead %.3f ms\n%s", c.file, c.column, live, dead, b.String())
		if c.pruned && math.Abs(dead) > 0.1*live {
			t.Errorf("%s: dead conv3x3 costs %.3f ms vs %.3f live; BRP-NAS should not pay for dead edges", c.column, dead, live)
		}
		if !c.pruned && dead < 0.5*live {
			t.Errorf("%s: dead conv3x3 costs %.3f ms vs %.3f live; HELP runs every edge", c.column, dead, live)
		}
		if !strings.Contains(b.String(), "nor_conv_3x3") || !strings.Contains(b.String(), "additions") {
			t.Errorf("Explain lacks op or term names:\n%s", b.String())
		}
	}
	if v := NewStructured().OpCost(0, 0, true); !math.IsNaN(v) {
		t.Errorf("OpCost before Fit = %g, want NaN", v)
	}
}

func TestMeanSE(t *testing.T) {
	m, se := meanSE([]float64{1, 2, 3, 4})
	// sd = sqrt(5/3), se = sd/2
	if m != 2.5 || math.Abs(se-math.Sqrt(5.0/3)/2) > 1e-12 {
		t.Errorf("meanSE = %g, %g", m, se)
	}
}

func TestSpaces(t *testing.T) {
	c, err := devicedata.ParseCell("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|")
	if err != nil {
		t.Fatal(err)
	}
	a := NB201Arch(c)
	if NB201Cell(a) != c || NB201.Check(a) != nil {
		t.Fatalf("NB201 round trip: %v", a)
	}
	if got := NB201.Names(a); got != "nor_conv_3x3 none none skip_connect none nor_conv_1x1" {
		t.Errorf("Names = %q", got)
	}
	// Node 1 is fed but unused and node 2 is never fed: only 0→3 runs, so the
	// output is connected, no intermediate node is computed, nothing is added.
	if got := NB201.Extra(a); got[0] != 1 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Errorf("Extra = %v, want [1 0 0 0]", got)
	}
	if err := FBNet.Check(Arch{0, 1}); err == nil {
		t.Error("FBNet accepted a 2-position arch")
	}
	// FBNet groups: non-first layers of a stage share shapes.
	if len(fbnetGroups) != FBNet.Positions || FBNet.numGroups() != 12 || fbnetGroups[2] != fbnetGroups[4] || fbnetGroups[1] == fbnetGroups[2] {
		t.Errorf("FBNet groups %v", fbnetGroups)
	}
}

// A constant measured column has no rank order: Score's Spearman is NaN,
// and printed as the commands print JSON (internal/jsonsafe) it is null, so
// `cost eval --json` prints the other figures instead of failing after the
// fit.
func TestScoreConstantColumn(t *testing.T) {
	m := Score([]float64{1, 2, 3, 4}, []float64{5, 5, 5, 5})
	if !math.IsNaN(m.Spearman) || m.NTest != 4 {
		t.Errorf("constant column: %+v", m)
	}
	b, err := jsonsafe.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"spearman":null`) {
		t.Errorf("JSON %s, %v: want a null spearman", b, err)
	}
}

// TestWriteReportDraws: with several draws of the training set the verdict
// counts the columns whose mean ρ gain's interval excludes 0 and lists the
// others; the tables show the mean and interval. Gains of +0.010, +0.012,
// +0.011 (mean 0.011, SD 0.001, t(0.975, 2) = 4.3027: ±0.00248) are resolved
// above 0; +0.002, −0.001, +0.0005 are not.
func TestWriteReportDraws(t *testing.T) {
	rows := []Comparison{
		{File: devicedata.NameBRPNAS, Column: devicedata.SD855CPU, Lookup: Metrics{Spearman: 0.9}, Structured: Metrics{Spearman: 0.91},
			Gains: []float64{0.010, 0.012, 0.011}},
		{File: devicedata.NameHELPFBNet, Column: "pixel2", Lookup: Metrics{Spearman: 0.8}, Structured: Metrics{Spearman: 0.802},
			Gains: []float64{0.002, -0.001, 0.0005}},
	}
	var b bytes.Buffer
	if err := WriteReport(&b, ReportConfig{Train: 900, Seed: 1, Seeds: 3}, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"--train 900 --seed 1 --seeds 3", "Over 3 draws of the training architectures (seeds 1..3)",
		"above 0 on **1 of 2** measured columns and below 0 on 0", "unresolved (the interval contains 0) on 1: fbnet-help pixel2 (+0.00050",
		"| +0.01100 [+0.00852, +0.01348] |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "One split per device") {
		t.Error("the one-split caveat with several draws")
	}
}
