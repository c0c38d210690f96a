package measure

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// TestJobCheck runs the `cost measure --check` workflow on the two tiny
// models: the table is saved, every segment of both models is listed once
// with the models that use it, the report is written and the verdict given.
func TestJobCheck(t *testing.T) {
	dir := t.TempDir()
	a, b := parseArch(t, tinyA), parseArch(t, tinyB)
	j := Job{Archs: []*blocks.Arch{a, b}, Backend: testBackend(t), Key: "go", Path: filepath.Join(dir, "local.json"),
		Runs: 3, Warmup: 1, Repeats: 2, Check: true, Tolerance: 10, ReportFile: filepath.Join(dir, "report.md"), Command: "test"}
	res, err := j.Run()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.Path); err != nil {
		t.Errorf("table not saved: %v", err)
	}
	seen := map[string]bool{}
	for _, r := range res.Segments {
		if seen[r.Key] || len(r.Models) == 0 {
			t.Errorf("segment %s listed twice or without models (%v)", r.Key, r.Models)
		}
		seen[r.Key] = true
	}
	// 6 + 6 segments, 2 shared (TestMeasureTinyModels).
	if len(res.Segments) != 10 || res.TableSize != 10 || len(res.Measured) != 2 {
		t.Errorf("%d segments (table %d), measured %v", len(res.Segments), res.TableSize, res.Measured)
	}
	if res.Passed == nil || len(res.Repeats) != 2 || res.Report != j.ReportFile {
		t.Fatalf("check: passed %v, %d repeats, report %q", res.Passed, len(res.Repeats), res.Report)
	}
	md, err := os.ReadFile(j.ReportFile)
	if err != nil || !strings.Contains(string(md), "**Check: every held-out prediction within 1000%") {
		t.Errorf("report: %v\n%s", err, md)
	}
	var out bytes.Buffer
	if err := res.WriteText(&out, true); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "check: every held-out prediction") || !strings.Contains(s, "repeat 2") ||
		strings.Count(s, "\n") < 10+2+4 {
		t.Errorf("text output:\n%s", s)
	}
}

func TestJobValidate(t *testing.T) {
	for name, j := range map[string]Job{
		"runs 0":           {Runs: 0, Warmup: 1, Repeats: 1, Tolerance: 0.1},
		"repeat w/o check": {Runs: 1, Warmup: 1, Repeats: 2, Tolerance: 0.1},
		"tolerance 0":      {Runs: 1, Warmup: 1, Repeats: 1},
		"no architectures": {Runs: 1, Warmup: 1, Repeats: 1, Tolerance: 0.1, Backend: testBackend(t)},
		"check w/o report": {Runs: 1, Warmup: 1, Repeats: 1, Tolerance: 0.1, Check: true, Backend: testBackend(t), Archs: []*blocks.Arch{parseArch(t, tinyA)}},
	} {
		if _, err := j.Run(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Counts a sweep of the flags found running for hours, their samples
	// growing: refused with the bound.
	ok := Job{Runs: 1, Warmup: 1, Repeats: 1, Tolerance: 0.1, Check: true}
	for name, mut := range map[string]func(*Job){
		"runs":   func(j *Job) { j.Runs = math.MaxInt },
		"warmup": func(j *Job) { j.Warmup = MaxRuns + 1 },
		"repeat": func(j *Job) { j.Repeats = math.MaxInt },
	} {
		j := ok
		mut(&j)
		if err := j.Validate(); err == nil || !strings.Contains(err.Error(), "[1, 1000000]") {
			t.Errorf("%s huge: %v", name, err)
		}
	}
	if err := New(testBackend(t)).Runs(MaxRuns + 1).Measure(nil); err == nil || !strings.Contains(err.Error(), "runs must be at least 1 and at most 1000000") {
		t.Errorf("Measurer.Runs(MaxRuns+1): %v", err)
	}
}

// TestOpenBackend: the configuration given or $GOMLX_BACKEND, the key the
// table uses, the default path unless one is set; a bad configuration given
// as a flag is named as the flag.
func TestOpenBackend(t *testing.T) {
	def := filepath.Join(t.TempDir(), "local.json")
	t.Setenv(EnvTable, def)
	t.Setenv("GOMLX_BACKEND", "go")
	var j Job
	if err := j.OpenBackend(""); err != nil || j.Backend == nil || j.Key != KeyOf("go", j.Backend) || j.Path != def {
		t.Errorf("default backend: key %q, path %q, err %v", j.Key, j.Path, err)
	}
	j = Job{Path: "mine.json"}
	if err := j.OpenBackend("go"); err != nil || j.Path != "mine.json" {
		t.Errorf("given path replaced: %q (%v)", j.Path, err)
	}
	if err := (&Job{}).OpenBackend("abacus"); err == nil || !strings.HasPrefix(err.Error(), "--backend: ") {
		t.Errorf("bad backend: %v", err)
	}
}
