package figset

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/train"
)

// studySummary is a small study summary built by hand: two AVG searches at
// two T0s, one CPU-only search, one reference.
func studySummary() *study.Summary {
	cfg := study.DefaultConfig()
	cfg.Objectives = []string{"avg"}
	mk := func(name, group, objective string, t0 study.T0, t0v float64, cost [6]float64, acc ...float64) study.ModelResult {
		m := study.ModelResult{Name: name, Group: group, Unit: name, Accuracy: acc, Mean: 0, Cost: map[string]float64{}}
		for i, metric := range []string{"pixel4-cpu", "pixel4-gpu", "pixel4-dsp", "pixel4-edgetpu", "avg", "max"} {
			m.Cost[metric] = cost[i]
		}
		for _, a := range acc {
			m.Mean += a / float64(len(acc))
			m.Seeds = append(m.Seeds, uint64(len(m.Seeds)+1))
		}
		m.SE = 0.002
		m.CILo, m.CIHi = m.Mean-0.004, m.Mean+0.004
		if group != study.GroupReference {
			m.Search = &study.SearchJob{Name: name, Group: group, Objective: objective, T0: t0, T0Value: t0v, Seed: 1}
		}
		return m
	}
	models := []study.ModelResult{
		mk("mobilenet_v2", study.GroupReference, "", study.T0{}, 0, [6]float64{1, 1, 1, 1, 1, 1}, 0.90, 0.902),
		mk("avg_t0.85_s1", study.GroupMulti, "avg", study.T0{Value: 0.85}, 0.85, [6]float64{0.9, 0.85, 0.8, 0.82, 0.84, 0.9}, 0.905, 0.907),
		mk("avg_tmulti_max_s1", study.GroupMulti, "avg", study.T0{Match: "multi_max"}, 0.916, [6]float64{0.95, 0.9, 0.92, 0.85, 0.905, 0.95}, 0.91, 0.912),
		mk("pixel4-cpu_tmulti_max-max_s1", study.GroupSingle, "pixel4-cpu", study.T0{Match: "multi_max@max"}, 0.948, [6]float64{0.94, 1.2, 1.1, 1.3, 1.135, 1.3}, 0.906),
	}
	s := &study.Summary{Plan: &study.Plan{Config: cfg}, Targets: []string{"pixel4-cpu", "pixel4-gpu", "pixel4-dsp", "pixel4-edgetpu"},
		Metrics: []string{"pixel4-cpu", "pixel4-gpu", "pixel4-dsp", "pixel4-edgetpu", "avg", "max"}, Models: models}
	for _, m := range models[1:3] {
		s.Searches = append(s.Searches, study.SearchResult{SearchJob: *m.Search, Done: true, Cost: m.Cost["avg"]})
	}
	return s
}

func TestStudyFigures(t *testing.T) {
	s := studySummary()
	figs, err := StudyFigures(s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	if len(figs) != 3 || names[0] != "study_t0_sweep" || names[1] != "study_tradeoff" || names[2] != "study_cross_eval" {
		t.Fatalf("figures %v", names)
	}
	trade := figs[1]
	if len(trade.Panels) != 6 {
		t.Fatalf("trade-off: %d panels, want 4 targets, AVG and MAX", len(trade.Panels))
	}
	// Accuracy bars in points: the 95% interval ± 0.4 points around the mean.
	bars := trade.Panels[0].SeriesOf(plots.KindErrorBars)
	found := false
	for _, b := range bars {
		for i := range b.Y {
			if math.Abs(b.Y[i]-91.1) < 1e-9 && math.Abs(b.YHi[i]-91.5) < 1e-9 && math.IsNaN(b.XLo[i]) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no bar for avg_tmulti_max_s1 at 91.1 ± 0.4 (and no cost spread without draws)")
	}
	cross := CrossEvalModels(s)
	if len(cross) != 2 || cross[0].Name != "pixel4-cpu_tmulti_max-max_s1" || cross[1].Name != "avg_tmulti_max_s1" {
		t.Errorf("cross-evaluation rows %v", cross)
	}
	// The sweep: the AVG searches' costs at their T0s.
	sweep := figs[0].Panels[0].SeriesOf(plots.KindLine)
	if len(sweep) != 1 || sweep[0].X[0] != 0.85 || sweep[0].Y[1] != 0.905 {
		t.Errorf("sweep line %+v", sweep)
	}
	if got := StudyLabel(&s.Models[3]); got != "cpu only s1" {
		t.Errorf("label %q", got)
	}
	if got := StudyLabel(&s.Models[2]); got != "AVG 0.92 s1" {
		t.Errorf("label %q", got)
	}
	// Nothing retrained yet: the sweep alone.
	for i := range s.Models {
		s.Models[i].Accuracy = nil
	}
	figs, err = StudyFigures(s)
	if err != nil || len(figs) != 1 {
		t.Errorf("untrained study: %d figures, %v", len(figs), err)
	}
}

// TestFindRunsStudies: a study's directory is listed as a study and not
// entered, even when its runs would not parse as plain runs.
func TestFindRunsStudies(t *testing.T) {
	dir := t.TempDir()
	sdir := filepath.Join(dir, "study")
	p, err := study.NewPlan(study.DefaultConfig().Quick())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := study.WritePlan(sdir, p); err != nil {
		t.Fatal(err)
	}
	// A broken result inside the study: FindRuns would fail if it looked.
	bad := filepath.Join(sdir, study.TrainDir, "x", "seed1")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, train.ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := FindRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.Studies) != 1 || runs.Studies[0] != sdir || len(runs.Trains) != 0 {
		t.Fatalf("studies %v, %d training runs", runs.Studies, len(runs.Trains))
	}
	if runs, err = FindRuns(sdir); err != nil || len(runs.Studies) != 1 {
		t.Fatalf("the study as the runs directory: %v, %v", runs, err)
	}
	// The study source draws what the study has so far (nothing finished:
	// skipped with a reason).
	res, err := New().Runs(dir).Only("study").Make()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "no finished search") {
		t.Errorf("skipped %+v", res.Skipped)
	}
}
