package study

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multihw/multihw/internal/jsonmut"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/train"
)

// writeFile writes b at path, creating its directory.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// status reads the study in dir as `multihw study status` does: Inspect,
// Summarize and the status text.
func status(dir string) (*Status, error) {
	st, err := Inspect(dir)
	if err != nil {
		return nil, err
	}
	sum, err := Summarize(dir)
	if err != nil {
		return nil, err
	}
	_ = st.Summary(sum)
	return st, nil
}

// TestReadPlanRefusesMalformed: a study.json planned by NewPlan (with an
// estimate and a caveat, so those are changed too), changed in one node at a
// time (null, another type, numbers past their ranges, a member deleted), is
// refused by ReadPlan with an error or read (and summarised, its status
// shown and its costs checked, as the study commands do), never a panic.
func TestReadPlanRefusesMalformed(t *testing.T) {
	c := tinyConfig()
	p, err := NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	pilot := &PilotResult{Config: PilotFor(c, []string{"multi_avg"}, 3), TrainLen: 192, PooledSD: 0.002, RunSeconds: 150, SearchStepsPerMinute: 150}
	e, err := NewEstimate(c, pilot, "pilot", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.Notes = []string{"a note"}
	p.Estimate, p.Caveats = &e, []string{"a caveat"}
	doc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, PlanFile)
	writeFile(t, path, doc)
	if _, err := ReadPlan(dir); err != nil {
		t.Fatalf("the unchanged plan: %v", err)
	}
	jsonmut.Check(t, PlanFile, doc, func(b []byte) error {
		writeFile(t, path, b)
		p, err := ReadPlan(dir)
		if err != nil {
			return err
		}
		_ = p.Summary(dir)
		if _, err := status(dir); err != nil {
			return err
		}
		return p.CheckCosts()
	})
}

// TestReadJSONRefusesMalformed: the files read with readJSON, changed in one
// node at a time, are refused or read, never a panic: a pilot.json (ReadPilot
// and the estimate NewPlanWithPilot makes from it), a training result and a
// job record of a study (read as `study status` does; a record it ignores
// counts as refused).
func TestReadJSONRefusesMalformed(t *testing.T) {
	c := tinyConfig()
	t.Run("pilot", func(t *testing.T) {
		pc := PilotFor(c, []string{"mobilenet_v2_0.5"}, 2)
		pc.SearchSteps = 4
		pr := &PilotResult{Format: PilotFormat, Config: pc, TrainLen: 192, Created: time.Now().UTC(),
			Models: []PilotModel{{Name: "mobilenet_v2_0.5", Seeds: []uint64{1, 2}, Accuracy: []float64{0.5, 0.6},
				TrainSeconds: []float64{10, 11}, StepMS: []float64{20, 21}, Steps: 4}},
			SearchStepsPerMinute: 100, SearchSeconds: 2.4}
		pr.analyse()
		doc, err := json.Marshal(pr)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, PilotFile)
		writeFile(t, path, doc)
		if _, err := NewPlanWithPilot(c, dir, 0); err != nil {
			t.Fatalf("the unchanged pilot: %v", err)
		}
		jsonmut.Check(t, PilotFile, doc, func(b []byte) error {
			writeFile(t, path, b)
			_, err := NewPlanWithPilot(c, dir, 0)
			return err
		})
	})

	dir := t.TempDir()
	planTiny(t, dir)
	st, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	var job Job
	for _, j := range st.Jobs {
		if j.Job.Kind == KindTrain && j.Job.Arch != nil {
			job = j.Job
			break
		}
	}
	if job.Name == "" {
		t.Fatalf("no training job of a reference model in %+v", st.Jobs)
	}
	jobOf := func(st *Status) *JobStatus {
		for i := range st.Jobs {
			if st.Jobs[i].Job.Name == job.Name {
				return &st.Jobs[i]
			}
		}
		return nil
	}

	t.Run("training result", func(t *testing.T) {
		a := trainArch(st.Plan, job)
		ev := &train.EvalResult{Split: "test", N: 4, Accuracy: 0.5, AccuracyCI95: stats.Interval{Lo: 0.1, Hi: 0.9}, Loss: 1.2,
			Classes: []string{"a", "b"}, PerClass: []float64{0.5, 0.5}, ClassCount: []int{2, 2}, Confusion: [][]int{{1, 1}, {1, 1}}}
		res := &train.Result{Arch: a, TrainArch: a.Clone(), Adapt: c.TrainAdapt, Recipe: c.Recipe, Seed: job.Seed, Backend: "go",
			Steps: 4, Epochs: 1, ResumedFrom: -1, Validation: ev, Test: ev, Params: 1000}
		doc, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, job.Dir, train.ResultFile)
		writeFile(t, path, doc)
		defer os.Remove(path)
		if st, err := Inspect(dir); err != nil || jobOf(st).State != StateDone {
			t.Fatalf("the unchanged result: %v", err)
		}
		jsonmut.Check(t, train.ResultFile, doc, func(b []byte) error {
			writeFile(t, path, b)
			_, err := status(dir)
			return err
		})
	})

	t.Run("job record", func(t *testing.T) {
		rec := &JobRecord{Job: job.Name, Kind: job.Kind, State: StateDone, Attempts: 2, WallSeconds: 60, CPUSeconds: 100,
			RunSeconds: 50, Steps: 4, StepsPerMinute: 4.8, Updated: time.Now().UTC()}
		doc, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		path := recordPath(dir, job)
		writeFile(t, path, doc)
		if st, err := Inspect(dir); err != nil || jobOf(st).Record == nil {
			t.Fatalf("the unchanged record: %v", err)
		}
		jsonmut.Check(t, "job record", doc, func(b []byte) error {
			writeFile(t, path, b)
			st, err := status(dir)
			if err != nil {
				return err
			}
			if jobOf(st).Record == nil {
				return errors.New("record ignored")
			}
			return nil
		})
	})
}
