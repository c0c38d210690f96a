package hwcost

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

func TestTargetFile(t *testing.T) {
	dir := t.TempDir()
	tf := &TargetFile{Target: "my-phone", Device: "a phone", Precision: FP32, Params: DefaultParams().Targets["pixel4-cpu"],
		Posterior: DefaultParams().Posteriors["pixel4-cpu"]}
	path := filepath.Join(dir, "my-phone.json")
	if err := tf.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTargetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Saving again replaces a target file, never another file.
	if err := tf.Save(path); err != nil {
		t.Errorf("replacing a target file: %v", err)
	}
	other := filepath.Join(dir, "notes.json")
	_ = os.WriteFile(other, []byte(`{"notes": "precious"}`), 0o644)
	if err := tf.Save(other); err == nil || !strings.Contains(err.Error(), "not a target file") {
		t.Errorf("saving over another JSON file: %v", err)
	}
	if back.Params != tf.Params || back.Target != tf.Target || back.Posterior == nil {
		t.Errorf("round trip: %+v", back)
	}
	// A target file is a target like any other: named in a metric, it costs
	// what its parameters say.
	m, err := NewMetric().Targets("pixel4-cpu", path).Done()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := blocks.Model("multi_avg")
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	// Same parameters, precision fp32 instead of int8: only the memory-bound
	// layers differ, and the file's target is named as the file says.
	if _, ok := res.Normalized["my-phone"]; !ok || res.Normalized["pixel4-cpu"] == 0 {
		t.Errorf("metric with a target file: %+v", res.Normalized)
	}
	for _, tc := range []struct {
		content, want string
	}{
		{`{"target": "x", "precision": "int8", "params": {`, "parsing target file"},
		{`{"target": "x", "precision": "int8", "params": {}, "colour": 1}`, `unknown key "colour"`},
		{`{"target": "x", "Precision": "int8", "params": {}}`, `did you mean "precision"`},
		{`{"target": "x", "target": "y", "precision": "int8", "params": {}}`, `key "target" given twice`},
		{`{"target": "x", "precision": "int8", "params": {}} {}`, "after top-level value"},
		{`{"target": "x", "precision": "int4", "params": {}}`, "unknown precision"},
		{`{"target": "x", "precision": "int8", "params": {"peak_gmacs": 1}}`, "must be in [1e-12, 1e+30]"},
		{`{"target": "pixel4-cpu", "precision": "int8", "params": {}}`, "taken by a built-in"},
		{`{"target": "a b", "precision": "int8", "params": {}}`, "without commas, spaces"},
	} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := NewMetric().Targets(p).Done(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.content, err, tc.want)
		}
	}
	if _, err := NewMetric().Targets(filepath.Join(dir, "missing.json")).Done(); err == nil || !strings.Contains(err.Error(), "reading target file") {
		t.Errorf("missing file: %v", err)
	}
	// A file whose name IsTargetFile does not recognise is an unknown target,
	// and the error says how to name it.
	t.Chdir(dir)
	if err := os.WriteFile("phone", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetric().Targets("phone").Done(); err == nil || !strings.Contains(err.Error(), `unknown hardware target "phone"`) || !strings.Contains(err.Error(), "(./phone)") {
		t.Errorf("file named without .json: %v", err)
	}
	if _, err := LoadTargetFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("device as target file: %v", err)
	}
}

func TestSensitivity(t *testing.T) {
	var archs []*blocks.Arch
	for _, n := range []string{"multi_avg", "multi_max", "mobilenet_v3_large_min"} {
		a, _ := blocks.Model(n)
		archs = append(archs, a)
	}
	cfg := SensitivityConfig{Archs: archs, Draws: 300, Seed: 7}
	r1, err := Sensitivity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Sensitivity(cfg)
	if r1.Archs[0].Avg != r2.Archs[0].Avg {
		t.Errorf("same seed, different draws: %+v vs %+v", r1.Archs[0].Avg, r2.Archs[0].Avg)
	}
	cfg.Seed = 8
	if r3, _ := Sensitivity(cfg); r3.Archs[0].Avg == r1.Archs[0].Avg {
		t.Errorf("another seed, same draws")
	}
	// The fitted value is the metric under the fitted parameters.
	m, _ := NewMetric().Done()
	want, _ := m.Evaluate(archs[0])
	if got := r1.Archs[0].Avg.Fitted; math.Abs(got-want.Avg) > 1e-12 {
		t.Errorf("fitted AVG %g, metric says %g", got, want.Avg)
	}
	s := r1.Archs[0].Max
	if !(s.P05 <= s.P50 && s.P50 <= s.P95 && s.SD > 0) {
		t.Errorf("spread %+v", s)
	}
	// One ordering per pair and metric (avg, max, 4 targets).
	if len(r1.Orderings) != 3*6 {
		t.Errorf("%d orderings, want 18", len(r1.Orderings))
	}
	for _, o := range r1.Orderings {
		if o.P < 0 || o.P > 1 {
			t.Errorf("ordering %+v", o)
		}
	}
	// Zero-width posteriors: every draw is the fit.
	ps := DefaultParams().Clone()
	ps.Posteriors = map[string]*Posterior{}
	for n, po := range DefaultParams().Posteriors {
		z := *po
		z.Cov = make([][]float64, len(po.Cov))
		for i := range z.Cov {
			z.Cov[i] = make([]float64, len(po.Cov))
		}
		ps.Posteriors[n] = &z
	}
	r0, err := Sensitivity(SensitivityConfig{Archs: archs, Params: ps, Draws: 10})
	if err != nil {
		t.Fatal(err)
	}
	if a := r0.Archs[1].Avg; a.SD > 1e-12 || math.Abs(a.Mean-a.Fitted) > 1e-9 {
		t.Errorf("zero posterior: spread %+v", a)
	}
	if _, err := Sensitivity(SensitivityConfig{}); err == nil {
		t.Error("no architectures: no error")
	}
	// The paper targets rank their rows as well as MACs; pixel7-gpu does
	// not, and the draws do not spread that (Metric.Caveats).
	if len(r1.Caveats) != 0 {
		t.Errorf("paper targets: caveats %q", r1.Caveats)
	}
	r7, err := Sensitivity(SensitivityConfig{Archs: archs, Targets: []string{"pixel7-gpu"}, Draws: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r7.Caveats) != 1 || !strings.Contains(r7.Summary(), "caveat: pixel7-gpu: ") {
		t.Errorf("pixel7-gpu: caveats %q", r7.Caveats)
	}
}

// TestPosteriorValidate: every committed posterior passes; each malformed
// one is refused with an error naming the problem (a target file or
// parameter file is read by it).
func TestPosteriorValidate(t *testing.T) {
	for n, po := range DefaultParams().Posteriors {
		if err := po.Validate(); err != nil {
			t.Errorf("committed posterior of %s: %v", n, err)
		}
	}
	good := func() *Posterior {
		return &Posterior{Names: []string{"peak_gmacs", "bandwidth_gbs"}, Mean: []float64{1, 2},
			Cov: [][]float64{{1, 0.5}, {0.5, 1}}, Prior: []float64{1, 1}}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Posterior)
		want string
	}{
		{func(p *Posterior) { p.Names[1] = "colour" }, `unknown parameter "colour"`},
		{func(p *Posterior) { p.Names[1] = "peak_gmacs" }, "named twice"},
		{func(p *Posterior) { p.Mean = p.Mean[:1] }, "1 means"},
		{func(p *Posterior) { p.Cov[1] = p.Cov[1][:1] }, "covariance row 1"},
		{func(p *Posterior) { p.Cov[0][1] = 0.7 }, "not symmetric"},
		{func(p *Posterior) { p.Cov[0][1], p.Cov[1][0] = math.Inf(1), math.Inf(1) }, "not symmetric and finite"},
		// [[1, 2], [2, 1]] has the eigenvalues 3 and -1; |2| > √(1·1).
		{func(p *Posterior) { p.Cov[0][1], p.Cov[1][0] = 2, 2 }, "covariance (1, 0) = 2 exceeds the product of the standard deviations 1"},
		// Every pair within its bound, and still (1, -1, 1)ᵀ·C·(1, -1, 1) =
		// 3 - 2·(0.9 + 0.9 + 0.9) = -2.4 < 0: the eigenvalues are 1.9, 1.9
		// and -0.8.
		{func(p *Posterior) {
			p.Names, p.Mean, p.Prior = append(p.Names, "eff_dw"), append(p.Mean, 0), append(p.Prior, 1)
			p.Cov = [][]float64{{1, 0.9, -0.9}, {0.9, 1, 0.9}, {-0.9, 0.9, 1}}
		}, "not positive semi-definite (eigenvalue -0.8"},
		// Entries the eigensolver cannot scale (it panicked) and rows
		// shorter than those after them (an index out of range).
		{func(p *Posterior) { p.Cov[1][1] = 1e308 }, "variance 1e+308 exceeds"},
		{func(p *Posterior) { p.Cov[1] = nil }, "covariance row 1 has 0 entries"},
		{func(p *Posterior) { p.Cov[0][0] = -1 }, "variance -1"},
		{func(p *Posterior) { p.Mean[0] = math.NaN() }, "mean NaN"},
		{func(p *Posterior) { p.Prior[1] = -0.5 }, "prior width -0.5"},
	} {
		p := good()
		tc.edit(p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
	}
}

// TestPosteriorMatchesParams: a posterior describes the parameters it was
// fitted with (its mean is their log). A target or parameter file whose
// parameters were edited without it drew around the old values (sensitivity
// printed a fitted value outside its own interval); a posterior too wide for
// the parameters' range gave infinite prior-bound widths. Both are refused
// when the file is read; every committed posterior matches.
func TestPosteriorMatchesParams(t *testing.T) {
	def := DefaultParams()
	for n, po := range def.Posteriors {
		if err := po.Matches(def.Targets[n]); err != nil {
			t.Errorf("committed posterior of %s: %v", n, err)
		}
	}
	p := def.Targets["pixel4-cpu"]
	edit := func(f func(tf *TargetFile)) []byte {
		po := *def.Posteriors["pixel4-cpu"]
		po.Cov = make([][]float64, len(po.Cov))
		for i, row := range def.Posteriors["pixel4-cpu"].Cov {
			po.Cov[i] = slices.Clone(row)
		}
		po.Mean = slices.Clone(po.Mean)
		tf := &TargetFile{Target: "my-phone", Device: "a phone", Precision: Int8, Params: p, Posterior: &po}
		f(tf)
		return tf.JSON()
	}
	if _, err := ParseTargetFile(edit(func(*TargetFile) {})); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	// Rounded by hand to 9 digits, a copy still matches.
	if _, err := ParseTargetFile(edit(func(tf *TargetFile) {
		tf.Params.BandwidthGBs, _ = strconv.ParseFloat(strconv.FormatFloat(tf.Params.BandwidthGBs, 'g', 9, 64), 64)
	})); err != nil {
		t.Errorf("rounded to 9 digits: %v", err)
	}
	for _, tc := range []struct {
		edit func(tf *TargetFile)
		want string
	}{
		{func(tf *TargetFile) { tf.Params.BandwidthGBs *= 3 }, "parameter bandwidth_gbs is"},
		{func(tf *TargetFile) { tf.Params.LayerOverheadUs = 0 }, "parameter layer_overhead_us is 0"},
		{func(tf *TargetFile) { tf.Posterior.Mean[0] += 0.1 }, "changed without refitting"},
		{func(tf *TargetFile) { tf.Posterior.Cov[1][1] = 1e308 }, "eff_conv: variance 1e+308 exceeds 9353"},
		// ln(1e30/peak) < 70 (peak is a few GMAC/s): one standard deviation
		// of 70 in log space leaves the range.
		{func(tf *TargetFile) { tf.Posterior.Cov[0][0] = 4900 }, "peak_gmacs's standard deviation 70"},
	} {
		if _, err := ParseTargetFile(edit(tc.edit)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
	}
	// The same check guards a parameter file (--params).
	ps := def.Clone()
	q := p
	q.PeakGMACs *= 2
	ps.Targets["pixel4-cpu"] = q
	if _, err := ParseParams(indentJSON(ps)); err == nil || !strings.Contains(err.Error(), "hardware parameters of pixel4-cpu: posterior: parameter peak_gmacs is") {
		t.Errorf("edited parameter file: %v", err)
	}
	ps = def.Clone()
	ps.Posteriors["pixel4-cpu"] = nil
	if _, err := ParseParams(indentJSON(ps)); err == nil || !strings.Contains(err.Error(), "posterior of pixel4-cpu: null") {
		t.Errorf("null posterior: %v", err)
	}
}
