package hwcost

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateWithoutStudies runs `cost fit --no-studies` on one target:
// the report has no validation sections, the files are written (all but the
// reference devices, which only the studies fit) and the summary has a row.
func TestCalibrateWithoutStudies(t *testing.T) {
	var log bytes.Buffer
	c, err := Calibrate(NewFitter().Targets("pixel4-gpu").NoBench(), "pixel4-gpu", false, "", &log)
	if err != nil {
		t.Fatal(err)
	}
	if c.Refs != nil || c.Studies != nil || strings.Contains(c.Report, ValidationHeading) || !strings.Contains(c.Report, "# Hardware cost models") {
		t.Errorf("no-studies calibration: refs %v, studies %v, report with validation %v", c.Refs != nil, c.Studies != nil,
			strings.Contains(c.Report, ValidationHeading))
	}
	dir := t.TempDir()
	if err := c.WriteFiles(dir, &log); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"params.json", "FIT_REPORT.md", "fit_pairs.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reference_devices.json")); err == nil || !strings.Contains(log.String(), "--no-studies") {
		t.Errorf("reference devices written without the studies, or no note (log %q)", log.String())
	}
	// Written again: each file replaces the earlier fit's; a folder of the
	// user's with a params.json of its own is refused, the file kept.
	if err := c.WriteFiles(dir, &log); err != nil {
		t.Errorf("rewriting a fit's files: %v", err)
	}
	user := t.TempDir()
	_ = os.WriteFile(filepath.Join(user, "params.json"), []byte(`{"lr": 0.1}`), 0o644)
	if err := c.WriteFiles(user, &log); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Errorf("a user's params.json: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(user, "params.json")); string(b) != `{"lr": 0.1}` {
		t.Errorf("the user's params.json changed: %q", b)
	}
	// Nothing is written when any file is refused (the user's file is the
	// last to be written here).
	user2 := t.TempDir()
	_ = os.WriteFile(filepath.Join(user2, "fit_pairs.csv"), []byte("a,b\n"), 0o644)
	if err := c.WriteFiles(user2, &log); err == nil {
		t.Error("a user's fit_pairs.csv: no error")
	}
	if es, _ := os.ReadDir(user2); len(es) != 1 {
		t.Errorf("a refused fit wrote into the folder: %v", es)
	}
	if txt := c.Summary().Text(); strings.Count(txt, "\n") != 2 || !strings.Contains(txt, "pixel4-gpu") {
		t.Errorf("summary:\n%s", txt)
	}
}

// TestSummaryUndefinedFigures: a target without published rows (coral-edgetpu
// is fitted to benchmark networks alone) has no row figures; the summary says
// n/a where it printed "NaN%".
func TestSummaryUndefinedFigures(t *testing.T) {
	nan := math.NaN()
	none := ErrorStats{MedianAbsErr: nan, Spearman: nan, PairAcc: nan}
	r := &FitResult{Targets: []TargetFit{{Target: "bench-only", Fit: none, HeldOut: none, MACs: none, MACsHeldOut: none,
		Bench: []BenchFit{{}}}}}
	r.Targets[0].Bench[0].HeldOut.Spearman = nan
	txt := r.Summary().Text()
	if strings.Contains(txt, "NaN") || strings.Count(txt, "n/a") != 7 {
		t.Errorf("summary of a target without rows:\n%s", txt)
	}
}
