package study

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/jsonsafe"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// tinySpace is a 3-stage space small enough to search in seconds.
func tinySpace() *nas.Space {
	st := func(stride, base int) nas.StageSpace {
		return nas.StageSpace{Stride: stride, BaseWidth: base, Multipliers: []float64{0.5, 1}, Depths: []int{1, 2},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5}, Expansions: []float64{1, 3}}
	}
	return &nas.Space{Name: "study-tiny", Resolution: 96, Channels: 3, Classes: 10,
		Stem:   nas.StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: []float64{0.5, 1}},
		Stages: []nas.StageSpace{st(2, 16), st(2, 24), st(2, 32)},
		Head:   blocks.Head{Conv: 32, Hidden: 16}}
}

// bandsDataset is a 4-class 8×8 colour dataset: class c brightens the pixel
// rows 2c and 2c+1.
func bandsDataset(t testing.TB) *data.Dataset {
	t.Helper()
	split := func(n int, seed uint64) *data.Split {
		rng := rand.New(rand.NewPCG(seed, 3))
		s := &data.Split{Height: 8, Width: 8, Channels: 3, Pixels: make([]uint8, n*192), Labels: make([]int32, n)}
		for i := range n {
			c := rng.IntN(4)
			s.Labels[i] = int32(c)
			for p := range 192 {
				v := rng.IntN(120)
				if row := p / 24; row/2 == c {
					v += 120
				}
				s.Pixels[i*192+p] = uint8(v)
			}
		}
		return s
	}
	ds := &data.Dataset{Kind: "synthetic", Dir: "memory", Classes: []string{"a", "b", "c", "d"},
		Train: split(192, 1), Validation: split(48, 2), Test: split(48, 3)}
	var err error
	if ds.Norm, err = ds.Train.Stats(); err != nil {
		t.Fatal(err)
	}
	return ds
}

// tinyConfig: 2 AVG searches (T0 0.08 and matched to MultiMAX), one
// single-target search, MobileNetV2 0.5 as the reference, 2 training seeds.
func tinyConfig() Config {
	c := DefaultConfig()
	s := &c.Search
	s.Space, s.Dataset = tinySpace(), "synthetic"
	s.Steps, s.BatchSize, s.ValidationBatch, s.WidthFactor, s.Snapshots = 8, 8, 16, 1, 2
	s.Controller.LR = tunas.ControllerLR(s.Steps)
	c.Objectives, c.T0s, c.SearchSeeds = []string{MetricAvg}, []T0{{Value: 0.08}, {Match: "multi_max"}}, []uint64{1}
	c.SingleTargets, c.SingleSeeds = []string{"pixel4-cpu"}, []uint64{1}
	c.References = []string{"mobilenet_v2_0.5"}
	c.Recipe = train.QuickRecipe(4)
	c.Recipe.BatchSize, c.Recipe.BNRecalibrationBatches = 8, 2
	c.TrainWidth, c.TrainSeeds = 0.25, []uint64{1, 2}
	return c
}

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return be
}

func planTiny(t testing.TB, dir string) {
	t.Helper()
	p, err := NewPlan(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WritePlan(dir, p); err != nil {
		t.Fatal(err)
	}
}

func tinyRunner(t testing.TB, dir string) *Runner {
	return NewRunner(dir).Dataset(bandsDataset(t)).Backend(goBackend(t))
}

const runHelperEnv = "MULTIHW_STUDY_RUN_HELPER"

// TestRunHelper is the subprocess of TestRunResumeAfterKill: it runs the
// study and stalls at step 5 of its second search (checkpointed at step 4),
// announcing it with a file.
func TestRunHelper(t *testing.T) {
	dir := os.Getenv(runHelperEnv)
	if dir == "" {
		t.Skip("subprocess of TestRunResumeAfterKill")
	}
	r := tinyRunner(t, dir)
	r.searchStep = func(job string, rec tunas.Record) {
		if job == "search/avg_tmulti_max_s1" && rec.Step == 5 {
			if err := os.WriteFile(filepath.Join(dir, "stalled"), nil, 0o644); err != nil {
				panic(err)
			}
			select {} // wait for SIGKILL
		}
	}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRunResumeAfterKill kills a study with SIGKILL in the middle of its
// second search, runs it again, and checks that the finished search was not
// rerun, the killed one resumed, and the study ends as an uninterrupted one
// (same fingerprint: final architectures, per-seed accuracies, steps).
func TestRunResumeAfterKill(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study")
	planTiny(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), runHelperEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "stalled")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the helper study never reached its second search")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	st, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, j := range st.Jobs {
		states[j.Job.Name] = j.State
	}
	if states["search/avg_t0.08_s1"] != StateDone || states["search/avg_tmulti_max_s1"] != StateStarted || states["search/pixel4-cpu_tmulti_max-max_s1"] != StatePending {
		t.Fatalf("after the kill: %v", states)
	}
	firstResult := filepath.Join(dir, SearchesDir, "avg_t0.08_s1", tunas.ResultFile)
	before, err := os.Stat(firstResult)
	if err != nil {
		t.Fatal(err)
	}

	resumed, err := tinyRunner(t, dir).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Complete() {
		t.Fatalf("resumed study: %d of %d jobs done", resumed.Done(), len(resumed.Jobs))
	}
	after, err := os.Stat(firstResult)
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the finished search was written again (%v → %v, %v)", before.ModTime(), after.ModTime(), err)
	}
	for _, j := range resumed.Jobs {
		want := 1
		if j.Job.Name == "search/avg_tmulti_max_s1" {
			want = 2
		}
		if j.Record == nil || j.Record.Attempts != want || j.Record.State != StateDone || j.Record.WallSeconds <= 0 || j.Record.Steps == 0 {
			t.Errorf("%s: ledger %+v, want %d attempt(s), done, time and steps", j.Job.Name, j.Record, want)
		}
	}
	for _, m := range resumed.Models {
		if _, err := os.Stat(filepath.Join(dir, ArchsDir, m.Name+".txt")); err != nil {
			t.Errorf("no architecture file of %s: %v", m.Name, err)
		}
	}

	whole := filepath.Join(t.TempDir(), "whole")
	planTiny(t, whole)
	if _, err := tinyRunner(t, whole).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Summarize(whole)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("the resumed study differs from an uninterrupted one")
		for i := range a.Models {
			t.Logf("%s: %v vs %v", a.Models[i].Name, a.Models[i].Accuracy, b.Models[i].Accuracy)
		}
	}
	for _, m := range a.Models {
		if len(m.Accuracy) != 2 || m.Cost == nil || m.Unit == "" {
			t.Errorf("%s: %d seeds, cost %v, unit %q", m.Name, len(m.Accuracy), m.Cost, m.Unit)
		}
	}
	if !strings.HasPrefix(a.Marker(), "multihw-study: settings=full fingerprint="+a.Fingerprint()) || !strings.Contains(a.Marker(), "complete=true") {
		t.Errorf("marker %q", a.Marker())
	}
	fields, ok := ParseMarker("> " + a.Marker())
	if !ok || fields["fingerprint"] != a.Fingerprint() || fields["searches"] != "3" || fields["steps"] != "8" {
		t.Errorf("parsed marker %v", fields)
	}
	// Running a finished study does nothing and says it is complete.
	again, err := tinyRunner(t, dir).Run(context.Background())
	if err != nil || !again.Complete() {
		t.Fatalf("rerun of a finished study: %v", err)
	}
	if got, _ := Summarize(dir); got.Fingerprint() != a.Fingerprint() {
		t.Error("rerunning a finished study changed it")
	}
}

// TestRunRefuses: a second process, a run directory of another
// configuration, and a missing plan each give one clear error.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := tinyRunner(t, dir).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "holds no study") {
		t.Errorf("no plan: %v", err)
	}
	planTiny(t, dir)
	unlock, err := lockStudy(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tinyRunner(t, dir).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "being run by another process") {
		t.Errorf("locked study: %v", err)
	}
	unlock()
	// A search of another configuration where the plan's first search goes.
	other := tinyConfig().Search
	other.Seed, other.Steps = 7, 2
	other.Controller.LR = tunas.ControllerLR(2)
	if _, err := tunas.New(other).Out(filepath.Join(dir, SearchesDir, "avg_t0.08_s1")).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(dir); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("foreign search: %v", err)
	}
}

// TestInspectUnits: searched models that found the same architecture share
// one training unit (the first in plan order), and trainings of searched
// models stay blocked until every search has finished.
func TestInspectUnits(t *testing.T) {
	dir := t.TempDir()
	planTiny(t, dir)
	plan, err := ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	synthetic := func(s SearchJob) {
		if _, err := tunas.New(plan.SearchConfig(s)).Out(filepath.Join(dir, SearchesDir, s.Name)).
			SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	synthetic(plan.Searches[0])
	st, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	blocked := 0
	for _, j := range st.Jobs {
		if j.State == StateBlocked {
			blocked++
		}
	}
	// 3 searched models × 2 seeds wait for the other searches.
	if blocked != 6 || st.Models[1].Unit != "" || st.Models[0].Unit != "mobilenet_v2_0.5" {
		t.Fatalf("%d blocked trainings, units %q, %q", blocked, st.Models[0].Unit, st.Models[1].Unit)
	}
	synthetic(plan.Searches[1])
	synthetic(plan.Searches[2])
	if st, err = Inspect(dir); err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	for _, m := range st.Models {
		units[m.Name] = m.Unit
	}
	// Synthetic searches with a constant quality and the same seed end on
	// the same architecture whenever their rewards agree; whatever they
	// found, a model's unit is the first model with its architecture.
	for i, m := range st.Models {
		first := ""
		for _, o := range st.Models[:i+1] {
			if archKey(o.Arch) == archKey(m.Arch) {
				first = o.Name
				break
			}
		}
		if m.Unit != first {
			t.Errorf("%s: unit %q, want %q", m.Name, m.Unit, first)
		}
	}
	var trains []string
	for _, j := range st.Jobs {
		if j.Job.Kind == KindTrain {
			trains = append(trains, j.Job.Name)
		}
	}
	if !slices.Contains(trains, "train/mobilenet_v2_0.5/seed1") || !strings.HasSuffix(trains[len(trains)-1], "seed2") {
		t.Errorf("training jobs %v", trains)
	}
}

// TestRunOverwrite: a finished study replanned with another recipe refuses
// its old runs; with Overwrite every job runs afresh in its directory.
func TestRunOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study")
	planTiny(t, dir)
	if _, err := tinyRunner(t, dir).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := tinyConfig()
	c.Recipe.Steps = 5
	p, err := NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WritePlan(dir, p); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Fatalf("WritePlan over another study: %v", err)
	}
	if _, err := ReplacePlan(dir, p); err != nil {
		t.Fatal(err)
	}
	if _, err := tinyRunner(t, dir).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "holds another training") {
		t.Fatalf("old trainings under a new recipe: %v", err)
	}
	st, err := tinyRunner(t, dir).Overwrite(true).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sum.Models {
		if m.Steps != 5 || len(m.Accuracy) != 2 {
			t.Errorf("%s: %d steps, %d seeds after the overwrite", m.Name, m.Steps, len(m.Accuracy))
		}
	}
	for _, j := range st.Jobs {
		if j.Record == nil || j.Record.Attempts != 1 {
			t.Errorf("%s: ledger %+v, want one fresh attempt", j.Job.Name, j.Record)
		}
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func(string, *Plan) (*Plan, error){"ReplacePlan": ReplacePlan, "WritePlan": WritePlan} {
		if _, err := write(other, p); err == nil || !strings.Contains(err.Error(), "holds no study") {
			t.Errorf("%s into a foreign folder: %v", name, err)
		}
	}
	if entries, err := os.ReadDir(other); err != nil || len(entries) != 1 {
		t.Errorf("the foreign folder holds %d entries after the refusals (%v), want its 1", len(entries), err)
	}
}

// A study before its runs finish has undefined statistics (no seed, one
// seed, no pooled SD): its summary still encodes as the commands print JSON
// (`study status --json`, internal/jsonsafe), with null for each of them,
// and a finished value as a number.
func TestSummaryJSONBeforeRuns(t *testing.T) {
	dir := t.TempDir()
	planTiny(t, dir)
	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Models) == 0 || !math.IsNaN(sum.Models[0].Mean) || !math.IsNaN(sum.PooledSD) {
		t.Fatalf("unrun study: %d models, first mean %v, pooled SD %v: want NaN", len(sum.Models), sum.Models[0].Mean, sum.PooledSD)
	}
	sum.Models[0].Mean = 0.5
	b, err := jsonsafe.Marshal(sum)
	if err != nil {
		t.Fatalf("JSON of an unrun study's summary: %v", err)
	}
	var back struct {
		PooledSD *float64 `json:"pooled_sd"`
		T975     *float64 `json:"t975"`
		Models   []struct {
			Name string   `json:"name"`
			Mean *float64 `json:"mean"`
			SD   *float64 `json:"sd"`
			SE   *float64 `json:"se"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	m := back.Models[0]
	if back.PooledSD != nil || back.T975 != nil || m.SD != nil || m.SE != nil || m.Mean == nil || *m.Mean != 0.5 || m.Name != sum.Models[0].Name {
		t.Errorf("JSON %s: want null pooled SD, t975, SD and SE, mean 0.5 and the name", b)
	}
}
