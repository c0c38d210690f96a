package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multihw/multihw/internal/cputime"
	"github.com/multihw/multihw/internal/guard"

	"github.com/gofrs/flock"
	"github.com/gomlx/compute"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// Kinds of jobs.
const (
	KindSearch = "search"
	KindTrain  = "train"
)

// Job is one run of the study: a search, or one seed of one architecture's
// retraining.
type Job struct {
	// Name is "search/NAME" or "train/UNIT/seedS"; Dir the run's directory
	// relative to the study's.
	Name string `json:"name"`
	Kind string `json:"kind"`
	Dir  string `json:"dir"`
	// Search is the search of a search job.
	Search *SearchJob `json:"search,omitempty"`
	// Unit and Seed identify a training job: Unit is the first model (in
	// Plan.Models order) with this architecture; Models all of them.
	Unit   string   `json:"unit,omitempty"`
	Models []string `json:"models,omitempty"`
	Seed   uint64   `json:"seed,omitempty"`
	// Arch is a training job's deployed architecture (the unit's).
	Arch *blocks.Arch `json:"-"`
}

// States of a job.
const (
	StateDone = "done"
	// StateStarted: a checkpoint exists, no result yet (resumed next).
	StateStarted = "started"
	StatePending = "pending"
	// StateBlocked: a training job whose search has not finished.
	StateBlocked = "blocked"
)

// JobRecord is the study's ledger entry of a job (JobsDir/NAME.json): what it
// cost. WallSeconds and CPUSeconds are this study's processes' time in the
// job (setup, data, run; CPU time is the process's user+system time, so it
// counts both cores), saved every RecordInterval while it runs, so a killed
// attempt loses at most that much. RunSeconds, Steps and StepsPerMinute are
// the run's own figures (search: Stats; training: TrainSeconds and the
// median step time).
type JobRecord struct {
	Job            string    `json:"job"`
	Kind           string    `json:"kind"`
	State          string    `json:"state"`
	Attempts       int       `json:"attempts"`
	WallSeconds    float64   `json:"wall_seconds"`
	CPUSeconds     float64   `json:"cpu_seconds"`
	RunSeconds     float64   `json:"run_seconds"`
	Steps          int       `json:"steps"`
	StepsPerMinute float64   `json:"steps_per_minute"`
	Updated        time.Time `json:"updated"`
}

// RecordInterval is how often a running job's ledger entry is saved.
var RecordInterval = 30 * time.Second

// Runner runs a study: create it with NewRunner, chain the options, call Run.
type Runner struct {
	dir       string
	ds        *data.Dataset
	be        compute.Backend
	progress  io.Writer
	kinds     []string
	overwrite bool
	// afterJob, when set, is called after every job that ran, and
	// searchStep after every step of a search (tests interrupt the study
	// there).
	afterJob   func(Job)
	searchStep func(job string, rec tunas.Record)
}

// NewRunner starts a runner of the study in dir (planned with WritePlan).
func NewRunner(dir string) *Runner { return &Runner{dir: dir} }

// Dataset sets the (already loaded) dataset; by default it is loaded from
// the plan's search configuration when the first job needs it.
func (r *Runner) Dataset(ds *data.Dataset) *Runner { r.ds = ds; return r }

// Backend sets the compute backend.
func (r *Runner) Backend(be compute.Backend) *Runner { r.be = be; return r }

// Progress reports progress on w.
func (r *Runner) Progress(w io.Writer) *Runner { r.progress = w; return r }

// Only restricts the run to jobs of the given kinds (KindSearch, KindTrain).
func (r *Runner) Only(kinds ...string) *Runner { r.kinds = kinds; return r }

// Overwrite runs every selected job afresh, finished or not: each search and
// training replaces its own files in its directory (tunas and train
// Overwrite), also where a run of another configuration was. For smoke runs
// that must not show stale results (the notebooks' quick study).
func (r *Runner) Overwrite(o bool) *Runner { r.overwrite = o; return r }

// Run runs every unfinished job in order (searches first; then the
// trainings, every architecture's first seed before any second seed),
// resuming started ones, and returns the study's status. One process runs a
// study directory at a time. It never panics.
func (r *Runner) Run(ctx context.Context) (st *Status, err error) {
	defer guard.Recover(&err, "study")
	plan, err := ReadPlan(r.dir)
	if err != nil {
		return nil, err
	}
	if err := plan.CheckCosts(); err != nil {
		return nil, err
	}
	unlock, err := lockStudy(r.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	prog := progress.New(r.progress)
	want := func(kind string) bool {
		if len(r.kinds) == 0 {
			return true
		}
		for _, k := range r.kinds {
			if k == kind {
				return true
			}
		}
		return false
	}
	for pass := 0; pass < 2; pass++ {
		// Pass 0 runs the searches; pass 1 the trainings, whose list is
		// complete only once every search has its final architecture.
		st, err = inspect(r.dir, r.overwrite)
		if err != nil {
			return nil, err
		}
		kind := []string{KindSearch, KindTrain}[pass]
		var todo []Job
		for _, js := range st.Jobs {
			if js.Job.Kind == kind && (js.State != StateDone || r.overwrite) && js.State != StateBlocked && want(kind) {
				todo = append(todo, js.Job)
			}
		}
		// Jobs done before this pass (none under overwrite: they run again);
		// each job of the pass that returned is done too.
		before := st.Count(kind, StateDone)
		if r.overwrite {
			before = 0
		}
		for i, j := range todo {
			js := JobStatus{Job: j}
			if err := ctx.Err(); err != nil {
				return st, err
			}
			prog.Line(fmt.Sprintf("study: %s (%s job %d of %d left; %d of %d done)", j.Name, kind, i+1, len(todo), before+i, st.Count(kind, "")), false)
			if err := r.runJob(ctx, plan, js.Job); err != nil {
				if errors.Is(err, context.Canceled) {
					return st, fmt.Errorf("study: interrupted during %s (checkpoint saved); run the study again to resume: %w", js.Job.Name, err)
				}
				return st, err
			}
			if r.afterJob != nil {
				r.afterJob(js.Job)
			}
		}
	}
	if st, err = Inspect(r.dir); err != nil {
		return nil, err
	}
	if err := writeArchs(r.dir, st); err != nil {
		return st, err
	}
	prog.Line(fmt.Sprintf("study: %d/%d jobs done", st.Done(), len(st.Jobs)), false)
	return st, nil
}

// lockStudy takes the study directory's lock: two processes running one
// study would write the same runs.
func lockStudy(dir string) (func(), error) {
	if err := os.MkdirAll(filepath.Join(dir, JobsDir), 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	path := filepath.Join(dir, JobsDir, lockFile)
	l := flock.New(path)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("study: locking %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("study: %s is being run by another process (it holds %s); one `study run` per study directory at a time", dir, path)
	}
	return func() { _ = l.Unlock() }, nil
}

// dataset loads the study's dataset once.
func (r *Runner) dataset(plan *Plan) (*data.Dataset, error) {
	if r.ds == nil {
		ds, err := plan.Config.LoadDataset()
		if err != nil {
			return nil, err
		}
		r.ds = ds
	}
	return r.ds, nil
}

// runJob runs (or resumes) one job, keeping its ledger entry.
func (r *Runner) runJob(ctx context.Context, plan *Plan, j Job) error {
	rec := readRecord(r.dir, j)
	if r.overwrite {
		rec = &JobRecord{Job: j.Name, Kind: j.Kind}
	}
	rec.Attempts++
	base := *rec
	start, cpu0 := time.Now(), cputime.Process()
	var mu sync.Mutex
	save := func(state string) error {
		mu.Lock()
		defer mu.Unlock()
		rec.State = state
		rec.WallSeconds = base.WallSeconds + time.Since(start).Seconds()
		rec.CPUSeconds = base.CPUSeconds + (cputime.Process() - cpu0).Seconds()
		rec.Updated = time.Now().UTC()
		return writeJSON(recordPath(r.dir, j), rec)
	}
	if err := save(StateStarted); err != nil {
		return err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(RecordInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = save(StateStarted) // a failed heartbeat loses at most one interval
			}
		}
	}()
	err := r.execute(ctx, plan, j, rec, &mu)
	close(stop)
	<-done
	state := StateStarted
	if err == nil {
		state = StateDone
	}
	if serr := save(state); err == nil {
		err = serr
	}
	return err
}

func (r *Runner) execute(ctx context.Context, plan *Plan, j Job, rec *JobRecord, mu *sync.Mutex) error {
	ds, err := r.dataset(plan)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.dir, j.Dir)
	switch j.Kind {
	case KindSearch:
		cfg := plan.SearchConfig(*j.Search)
		s := tunas.New(cfg).Out(dir).Resume(!r.overwrite).Overwrite(r.overwrite).Dataset(ds).Backend(r.be).Progress(r.progress)
		if r.searchStep != nil {
			s.OnStep(func(rec tunas.Record) { r.searchStep(j.Name, rec) })
		}
		res, err := s.Run(ctx)
		if err != nil {
			return fmt.Errorf("study: %s: %w", j.Name, err)
		}
		mu.Lock()
		rec.RunSeconds, rec.Steps, rec.StepsPerMinute = res.Stats.Seconds, res.Steps, res.Stats.StepsPerMinute
		mu.Unlock()
	case KindTrain:
		if j.Arch == nil {
			return fmt.Errorf("study: %s: no architecture", j.Name)
		}
		c := plan.Config
		res, err := train.New(trainArch(plan, j), ds).Adapt(c.TrainAdapt).Recipe(c.Recipe).Seed(j.Seed).Out(dir).Resume(!r.overwrite).
			Overwrite(r.overwrite).Backend(r.be).Progress(r.progress).Run(ctx)
		if err != nil {
			return fmt.Errorf("study: %s: %w", j.Name, err)
		}
		mu.Lock()
		rec.RunSeconds, rec.Steps = res.TrainSeconds, res.Steps
		if res.StepMS > 0 {
			rec.StepsPerMinute = 60000 / res.StepMS
		}
		mu.Unlock()
	default:
		return fmt.Errorf("study: job %s of unknown kind %q", j.Name, j.Kind)
	}
	return nil
}

// trainArch is the network a training job trains: the unit's deployed
// architecture at the study's proxy width, named after the unit.
func trainArch(plan *Plan, j Job) *blocks.Arch {
	a := j.Arch.WithWidth(plan.Config.TrainWidth)
	a.Name = j.Unit
	return a
}

// errForeign marks a run directory holding a run of another configuration.
var errForeign = errors.New("a run of another configuration")

// readSearch reads search s's result: nil if it has not finished; an error
// if its directory holds a search of another configuration.
func readSearch(dir string, plan *Plan, s SearchJob) (*tunas.Result, error) {
	path := filepath.Join(dir, SearchesDir, s.Name, tunas.ResultFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	res, err := tunas.ReadResult(path)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	if !sameJSON(res.Config, plan.SearchConfig(s)) {
		return nil, fmt.Errorf("study: %s holds a search of another configuration than the plan's %s; move it away or start a new study directory: %w", path, s.Name, errForeign)
	}
	if res.Final.Arch == nil {
		return nil, fmt.Errorf("study: %s: no final architecture", path)
	}
	return res, nil
}

// readTrain reads a training job's result: nil if it has not finished; an
// error if its directory holds another training (another architecture, seed,
// recipe or adaptation).
func readTrain(dir string, plan *Plan, j Job) (*train.Result, error) {
	path := filepath.Join(dir, j.Dir, train.ResultFile)
	res := &train.Result{}
	if err := readJSON(path, res); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("study: %w", err)
	}
	if res.Test == nil {
		return nil, nil // the run was interrupted after writing a partial result: resume it
	}
	if res.Seed != j.Seed || res.Arch == nil || res.Arch.Name != j.Unit || (j.Arch != nil && archKey(res.Arch) != archKey(trainArch(plan, j))) ||
		!sameJSON(res.Recipe, plan.Config.Recipe) || res.Adapt != plan.Config.TrainAdapt {
		return nil, fmt.Errorf("study: %s holds another training than the plan's %s (architecture, seed, recipe or adaptation differ); move it away or start a new study directory: %w", path, j.Name, errForeign)
	}
	return res, nil
}

func recordPath(dir string, j Job) string {
	return filepath.Join(dir, JobsDir, strings.ReplaceAll(j.Name, "/", "__")+".json")
}

func readRecord(dir string, j Job) *JobRecord {
	rec := &JobRecord{}
	if err := readJSON(recordPath(dir, j), rec); err != nil || rec.Job != j.Name {
		rec = &JobRecord{Job: j.Name, Kind: j.Kind, State: StatePending}
	}
	return rec
}

// writeArchs writes every known model's deployed architecture to
// ArchsDir/NAME.txt (named NAME): for `multihw cost`, `train --spec`, export.
func writeArchs(dir string, st *Status) error {
	if err := os.MkdirAll(filepath.Join(dir, ArchsDir), 0o755); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	for _, m := range st.Models {
		if m.Arch == nil {
			continue
		}
		a := m.Arch.Clone()
		a.Name = m.Name
		if err := writeText(filepath.Join(dir, ArchsDir, m.Name+".txt"), a.String()); err != nil {
			return err
		}
	}
	return nil
}
