package hwcost

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
)

// TestMetricPriorBound ties the effect of a target file's prior-bound
// parameter to the metric's own path: the same target with the parameter
// divided and multiplied by its width, saved as files and costed by name.
func TestMetricPriorBound(t *testing.T) {
	dir := t.TempDir()
	p := DefaultParams().Targets["pixel4-cpu"]
	// eff_dw keeps its prior's width (prior-bound); the data decided the rest.
	po := &Posterior{Names: FreeParamNames()}
	for _, fp := range targetParams {
		sd := 0.1 * fp.sigma
		if fp.name == "eff_dw" {
			sd = fp.sigma
		}
		po.Mean = append(po.Mean, math.Log(*fp.field(&p)))
		po.Prior = append(po.Prior, fp.sigma)
		row := make([]float64, len(targetParams))
		row[len(po.Cov)] = sd * sd
		po.Cov = append(po.Cov, row)
	}
	save := func(name string, p Params, po *Posterior) string {
		path := filepath.Join(dir, name+".json")
		if err := (&TargetFile{Target: name, Precision: FP32, Params: p, Posterior: po}).Save(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	file := save("my-phone", p, po)
	m, err := NewMetric().Targets("pixel4-cpu", file).Done()
	if err != nil {
		t.Fatal(err)
	}
	// The built-in target's prior-bound parameters are in the fit report,
	// not here.
	if got := m.PriorBoundParams(); len(got) != 1 || !slices.Equal(got["my-phone"], []string{"eff_dw"}) {
		t.Fatalf("PriorBoundParams: %v", got)
	}
	// The same target with eff_dw ×⅓ and ×3, by the metric's path.
	lo, hi := p, p
	lo.EffDW, hi.EffDW = p.EffDW/3, p.EffDW*3
	mLo, err := NewMetric().Targets(save("lo", lo, nil)).Done()
	if err != nil {
		t.Fatal(err)
	}
	mHi, err := NewMetric().Targets(save("hi", hi, nil)).Done()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"efficientnet_lite0", "mnv4_conv_s", DefaultReference} {
		a, _ := blocks.Model(name)
		effects, err := m.PriorBound(a)
		if err != nil {
			t.Fatal(err)
		}
		if len(effects) != 1 {
			t.Fatalf("%s: %+v", name, effects)
		}
		e := effects[0]
		res, _ := m.Evaluate(a)
		rLo, _ := mLo.Evaluate(a)
		rHi, _ := mHi.Evaluate(a)
		want := []float64{rLo.Normalized["lo"], rHi.Normalized["hi"]}
		slices.Sort(want)
		near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-12*y }
		if e.Target != "my-phone" || e.Param != "eff_dw" || !near(e.Width, 3) || !near(e.Normalised, res.Normalized["my-phone"]) ||
			!near(e.Low, want[0]) || !near(e.High, want[1]) {
			t.Errorf("%s: %+v, want normalised %g in [%g, %g]", name, e, res.Normalized["my-phone"], want[0], want[1])
		}
		// On the reference the ratio is 1 whatever the parameter; elsewhere
		// compute-bound depthwise layers (k = 5) make it move.
		if moved := e.High > e.Low; moved != (name != DefaultReference) || (name == DefaultReference && (e.Low != 1 || e.High != 1)) {
			t.Errorf("%s: eff_dw moves the normalised latency %g-%g", name, e.Low, e.High)
		}
	}
}

// TestAdaptPriorBound: NAS-Bench-201 networks have no depthwise
// convolution, so a device adapted from them leaves eff_dw to its prior,
// and says so (result, JSON, summary, the target file's note).
func TestAdaptPriorBound(t *testing.T) {
	res, err := Adapt(AdaptConfig{Data: devicedata.NameHELPNB201, Device: "pixel2", Train: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.PriorBound, "eff_dw") || slices.Contains(res.PriorBound, "peak_gmacs") {
		t.Errorf("prior-bound: %v", res.PriorBound)
	}
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"prior_bound":["`) || !strings.Contains(res.Summary(), "prior-bound (the 10 measurements") ||
		!strings.Contains(res.Target.Note, "prior-bound (not decided by the 10 measurements): ") {
		t.Errorf("not reported: %s\n%s\n%s", b, res.Summary(), res.Target.Note)
	}
}
