package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/jsondiff"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/optim"
)

// Files of a run's output directory (besides CheckpointsDir).
const (
	// MetricsFile holds one JSON Record per line: every evaluation, the
	// final one, and a divergence if any.
	MetricsFile = "metrics.jsonl"
	// ResultFile holds the Result of a finished run.
	ResultFile = "result.json"
)

// Config configures a training run. Create it with New, chain the options,
// then call Run. Options record the first invalid value, which Run reports.
type Config struct {
	arch      *blocks.Arch
	ds        *data.Dataset
	recipe    Recipe
	adapt     blocks.Adapt
	seed      uint64
	out       string
	resume    bool
	overwrite bool
	budget    time.Duration
	evalStep  int
	ckptTime  time.Duration
	ckptStep  int
	keep      int
	progress  io.Writer
	be        compute.Backend
	onEval    func(Record)

	recipeSet, adaptSet, seedSet bool
	err                          error
}

// New starts the configuration of a run training arch (the architecture as
// deployed, e.g. a reference model at 224 px; blocks.ProxyArch adapts it to the
// dataset) on ds. Defaults: DefaultRecipe, blocks.DefaultAdapt, seed 1, no output
// directory (no checkpoints), an evaluation on the validation split every
// epoch, a checkpoint at every evaluation and every 5 minutes (the last 3
// kept), no progress output, backend.Default(). When resuming, arch may be nil
// (the checkpoint's is used).
func New(arch *blocks.Arch, ds *data.Dataset) *Config {
	return &Config{arch: arch, ds: ds, recipe: DefaultRecipe(), adapt: blocks.DefaultAdapt, seed: 1,
		ckptTime: 5 * time.Minute, keep: 3}
}

func (c *Config) fail(format string, args ...any) *Config {
	if c.err == nil {
		c.err = fmt.Errorf("train: "+format, args...)
	}
	return c
}

// Recipe sets the training recipe.
func (c *Config) Recipe(r Recipe) *Config {
	if err := r.Validate(); err != nil {
		return c.fail("%v", err)
	}
	c.recipe, c.recipeSet = r.withDefaults(), true
	return c
}

// Adapt sets how the architecture is adapted to the dataset's image size.
func (c *Config) Adapt(a blocks.Adapt) *Config { c.adapt, c.adaptSet = a, true; return c }

// Seed sets the seed of the weight initialisation, the dropout RNG and the
// batch order/augmentation. Equal seeds give identical runs on one backend.
func (c *Config) Seed(s uint64) *Config { c.seed, c.seedSet = s, true; return c }

// Out sets the output directory (checkpoints, metrics log, result). Empty: no
// files are written.
func (c *Config) Out(dir string) *Config { c.out = dir; return c }

// Resume continues the run in the output directory from its newest valid
// checkpoint (a fresh run, with a note saying so, if there is none). Without
// Resume or Overwrite, an output directory that already holds checkpoints is
// an error.
func (c *Config) Resume(resume bool) *Config { c.resume = resume; return c }

// Overwrite starts afresh in an output directory that holds a training run:
// that run's checkpoints, metrics log and result are removed first. Other
// content of the directory is never removed (a directory that is not a
// training run is refused, as always).
func (c *Config) Overwrite(o bool) *Config { c.overwrite = o; return c }

// TimeBudget stops training once the run's training wall time (over all
// resumes) exceeds d, then evaluates and saves as at a normal end. The
// learning-rate schedule still follows the planned steps, so choose the steps
// to fit; the budget is a safety net. 0: none.
func (c *Config) TimeBudget(d time.Duration) *Config {
	if d < 0 {
		return c.fail("negative time budget %v", d)
	}
	c.budget = d
	return c
}

// EvalEvery sets the interval, in steps, of the evaluations on the validation
// split (0: once per epoch).
func (c *Config) EvalEvery(steps int) *Config {
	if steps < 0 {
		return c.fail("negative evaluation interval %d", steps)
	}
	c.evalStep = steps
	return c
}

// CheckpointEvery sets extra checkpoint intervals besides the one at every
// evaluation: wall time d (0: none) and steps (0: none).
func (c *Config) CheckpointEvery(d time.Duration, steps int) *Config {
	if d < 0 || steps < 0 {
		return c.fail("negative checkpoint interval (%v, %d steps)", d, steps)
	}
	c.ckptTime, c.ckptStep = d, steps
	return c
}

// Keep sets how many checkpoints are kept (at least 1).
func (c *Config) Keep(n int) *Config {
	if n < 1 {
		return c.fail("must keep at least one checkpoint, got %d", n)
	}
	c.keep = n
	return c
}

// Progress makes the run report progress on w (a terminal gets one updating
// line, other writers a line every 30 s). nil: quiet.
func (c *Config) Progress(w io.Writer) *Config { c.progress = w; return c }

// Backend sets the compute backend (default: backend.Default()).
func (c *Config) Backend(be compute.Backend) *Config { c.be = be; return c }

// OnEval sets a function called with every Record (e.g. to plot curves).
func (c *Config) OnEval(fn func(Record)) *Config { c.onEval = fn; return c }

// EvalSummary is the short form of an EvalResult kept in Records.
type EvalSummary struct {
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
}

func summary(r *EvalResult) *EvalSummary {
	if r == nil {
		return nil
	}
	return &EvalSummary{N: r.N, Accuracy: r.Accuracy, Loss: r.Loss}
}

// Record is one line of the metrics log.
type Record struct {
	Step         int     `json:"step"`
	Epoch        float64 `json:"epoch"`
	TrainSeconds float64 `json:"train_seconds"`
	LearningRate float64 `json:"learning_rate"`
	// TrainLoss and TrainAccuracy are exponential moving averages over the
	// recent training batches (loss with label smoothing, without weight decay).
	TrainLoss     float64      `json:"train_loss"`
	TrainAccuracy float64      `json:"train_accuracy"`
	Validation    *EvalSummary `json:"validation,omitempty"`
	Test          *EvalSummary `json:"test,omitempty"`
	Final         bool         `json:"final,omitempty"`
	// Event marks special records: "diverged", "interrupted", "time budget".
	Event string `json:"event,omitempty"`
}

// Result is the outcome of a run.
type Result struct {
	Arch      *blocks.Arch `json:"arch"`
	TrainArch *blocks.Arch `json:"train_arch"`
	Adapt     blocks.Adapt `json:"adapt"`
	Recipe    Recipe       `json:"recipe"`
	Plan      optim.Plan   `json:"plan"`
	Seed      uint64       `json:"seed"`
	Dataset   DatasetInfo  `json:"dataset"`
	Backend   string       `json:"backend"`
	// Steps done; Epochs is Steps·BatchSize/TrainLen.
	Steps  int     `json:"steps"`
	Epochs float64 `json:"epochs"`
	// TrainSeconds is the wall time of training over all resumes (steps,
	// periodic evaluations and checkpoints; not the dataset loading).
	TrainSeconds float64 `json:"train_seconds"`
	// StepMS is the median training step time of this process (after the first step).
	StepMS float64 `json:"step_ms"`
	// ResumedFrom is the step of the checkpoint this process resumed from (-1: fresh run).
	ResumedFrom int `json:"resumed_from"`
	// Stopped is "time budget" when the budget ended training early.
	Stopped    string      `json:"stopped,omitempty"`
	Validation *EvalResult `json:"validation,omitempty"`
	Test       *EvalResult `json:"test"`
	// Checkpoint is the final checkpoint's path ("" without an output directory).
	Checkpoint string `json:"checkpoint,omitempty"`
	// Params counts the trained model's variables (blocks.Analyze's count).
	Params int `json:"params"`
	// Notes say what the run did that the user should know: a resume that
	// found no checkpoint, newer checkpoints skipped as unreadable, stale
	// temporary files removed.
	Notes []string `json:"notes,omitempty"`
}

// DivergedError reports a non-finite loss (or weights): the run stopped and
// the newest checkpoint, if any, predates the divergence.
type DivergedError struct {
	Step         int
	LearningRate float64
	What         string // "loss is NaN", "variable /model/... holds NaN or Inf", ...
	// Checkpoint is the last good checkpoint ("" if none was saved).
	Checkpoint     string
	CheckpointStep int
	// DecayStep is the peak learning rate × the weight decay: from 1 on,
	// the decay alone moves each kernel past zero every step.
	DecayStep float64
}

func (e *DivergedError) Error() string {
	last := "no checkpoint was saved before"
	if e.Checkpoint != "" {
		last = fmt.Sprintf("the last good checkpoint is %s (step %d)", e.Checkpoint, e.CheckpointStep)
	}
	fix := "lower the learning rate"
	if e.DecayStep >= 1 {
		fix = fmt.Sprintf("lower the learning rate or the weight decay (peak learning rate × weight decay = %.4g: from 1 on, the decay alone overshoots every step)", e.DecayStep)
	}
	return fmt.Sprintf("training diverged at step %d: %s (learning rate %.4g); %s -- %s", e.Step, e.What, e.LearningRate, last, fix)
}

// trainEMA holds exponential moving averages of the training batches' loss
// and accuracy: the plain mean over the first 100 batches, then weight 0.01
// per batch (gomlx's convention).
type trainEMA struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	N        int     `json:"n"`
}

func (e *trainEMA) add(loss, acc float64) {
	e.N++
	w := max(0.01, 1/float64(e.N))
	e.Loss += w * (loss - e.Loss)
	e.Accuracy += w * (acc - e.Accuracy)
}

// run is the state of one Run.
type run struct {
	c         *Config
	ctx       context.Context
	be        compute.Backend
	ds        *data.Dataset
	arch      *blocks.Arch
	trainArch *blocks.Arch
	recipe    Recipe
	adapt     blocks.Adapt
	seed      uint64
	plan      optim.Plan
	store     *model.Store
	trainer   *gtrain.Trainer
	updater   *updater
	lrVar     *model.Variable
	modelFn   func(scope *model.Scope, images *Node) *Node
	builder   *convnet.Builder
	stream    *data.Stream
	records   []Record
	prog      *progressLine

	step        int
	resumedFrom int
	priorSecs   float64 // training seconds of earlier processes
	start       time.Time
	lastCkpt    time.Time
	lastCkptOK  string
	lastCkptStp int
	stepTimes   []float64
	ema         trainEMA
	evalEvery   int // from the checkpoint being resumed
	stopped     string
	notes       rundir.Notes
}

func (r *run) seconds() float64 { return r.priorSecs + time.Since(r.start).Seconds() }

// Run trains (or resumes) and returns the final evaluation. It never panics:
// gomlx failures, bad configuration and divergence (*DivergedError) are
// errors. Cancelling ctx saves a checkpoint (with an output directory) and
// returns ctx's error.
func (c *Config) Run(ctx context.Context) (res *Result, err error) {
	defer recoverErr(&err, "train")
	if c.err != nil {
		return nil, c.err
	}
	if c.ds == nil {
		return nil, errors.New("train: no dataset")
	}
	if c.resume && c.overwrite {
		return nil, errors.New("train: resume or overwrite, not both")
	}
	r := &run{c: c, ctx: ctx, arch: c.arch, recipe: c.recipe, adapt: c.adapt, seed: c.seed, resumedFrom: -1,
		notes: rundir.Notes{W: c.progress}}
	ds := *c.ds // a shallow copy whose Augment the recipe may replace
	r.ds = &ds
	// What can be checked without the output directory is checked before
	// the directory is created or changed.
	if r.arch != nil {
		if r.trainArch, err = blocks.ProxyArch(r.arch, r.adapt, r.ds.Height(), r.ds.Width(), r.ds.Channels(), r.ds.NumClasses()); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if err := CheckMemory("training "+r.trainArch.Name, r.trainArch, r.recipe.BatchSize, true); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if r.plan, err = r.recipe.Plan(r.ds.Train.Len()); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	} else if c.out == "" || !c.resume {
		return nil, errors.New("train: no architecture (and no checkpoint to resume)")
	} else if list, err := ListCheckpoints(c.out); err != nil {
		return nil, err
	} else if len(list) == 0 {
		return nil, fmt.Errorf("train: --resume: %s holds no checkpoint to resume, and no architecture was given to start a new run", c.out)
	}
	var ck *Checkpoint
	if c.out != "" {
		dir, err := rundir.Open(c.out, runKind)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		defer dir.Close()
		r.notes.Add(dir.Notes...)
		if ck, err = r.openRun(); err != nil {
			return nil, err
		}
	}
	if ck != nil {
		if err := r.adopt(ck); err != nil {
			return nil, err
		}
		if err := CheckMemory("training "+r.trainArch.Name, r.trainArch, r.recipe.BatchSize, true); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if r.be = c.be; r.be == nil {
		if r.be, err = backend.Default(); err != nil {
			return nil, err
		}
	}
	if r.plan.TotalSteps == 0 {
		if r.plan, err = r.recipe.Plan(r.ds.Train.Len()); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if err := r.setup(ck); err != nil {
		return nil, err
	}
	defer func() {
		r.trainer.ResetComputationGraphs() // frees the compiled graphs now, not at GC
		r.store.Finalize()
	}()
	if ck != nil && ck.Final {
		// The run is complete: evaluate the final state again.
		r.stopped = ck.Stopped
		return r.finish(false)
	}
	if err := r.loop(); err != nil {
		return nil, err
	}
	return r.finish(true)
}

// runKind describes a training run's output directory (internal/rundir):
// before markers existed, a training run was recognisable by its files.
var runKind = rundir.Kind{
	Name:   "train",
	Legacy: func(names []string) bool { return rundir.Only(names, CheckpointsDir, MetricsFile, ResultFile) },
	Owns: func(rel string) bool {
		dir, base := filepath.Split(rel)
		switch filepath.Clean(dir) {
		case ".":
			return base == MetricsFile || base == ResultFile
		case CheckpointsDir:
			return stepOfName(base) >= 0
		}
		return false
	},
	Subdirs: []string{CheckpointsDir},
}

// CheckOutputDir reports (a *rundir.ForeignError) when dir exists and holds
// anything but a training run, without changing anything: Run refuses such
// a directory; a command checks it before it loads data.
func CheckOutputDir(dir string) error {
	_, err := rundir.Check(dir, runKind)
	return err
}

// openRun handles what the (locked) output directory holds: with Overwrite
// the previous run's files are removed; an existing run is resumed (from its
// newest valid checkpoint: unreadable newer ones are set aside, renamed to
// *.corrupt, and named in a note) or refused.
func (r *run) openRun() (*Checkpoint, error) {
	c := r.c
	if c.overwrite {
		if err := removeRunFiles(c.out); err != nil {
			return nil, fmt.Errorf("train: replacing the run in %s: %w", c.out, err)
		}
	}
	list, err := ListCheckpoints(c.out)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		if c.resume {
			r.notes.Add(fmt.Sprintf("--resume: %s holds no checkpoint yet: starting a new run", c.out))
		}
		return nil, nil
	}
	if !c.resume {
		return nil, fmt.Errorf("train: %s already holds a run (%s); resume it, overwrite it or choose another output directory", c.out, filepath.Base(list[len(list)-1]))
	}
	ck, bad, err := newestValid(list)
	if err != nil {
		return nil, fmt.Errorf("train: resuming: %w", err)
	}
	for _, b := range bad {
		aside := b.path + corruptSuffix
		if err := os.Rename(b.path, aside); err != nil {
			return nil, fmt.Errorf("train: setting aside the unreadable %s: %w", b.path, err)
		}
		r.notes.Add(fmt.Sprintf("%v: kept as %s; resuming from the newest valid checkpoint, %s (step %d)", b.err, filepath.Base(aside), filepath.Base(ck.Path), ck.Step))
	}
	r.notes.Add(ck.Notes...)
	return ck, nil
}

// removeRunFiles removes the files a training run writes in dir (for
// Overwrite): checkpoints (also set-aside corrupt ones), metrics log, result.
func removeRunFiles(dir string) error {
	var errs []error
	cdir := filepath.Join(dir, CheckpointsDir)
	entries, err := os.ReadDir(cdir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if name := e.Name(); e.Type().IsRegular() && stepOfName(strings.TrimSuffix(name, corruptSuffix)) >= 0 {
			errs = append(errs, os.Remove(filepath.Join(cdir, name)))
		}
	}
	for _, name := range []string{MetricsFile, ResultFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// adopt takes the run description from a checkpoint being resumed, checking
// it against what the caller configured explicitly.
func (r *run) adopt(ck *Checkpoint) error {
	c := r.c
	if r.arch != nil && !sameJSON(r.arch, ck.Arch) {
		return fmt.Errorf("train: cannot resume %s: it trains architecture %q, not the %q given (%s)", ck.Path, ck.Arch.Name, r.arch.Name,
			jsondiff.Describe(ck.Arch, r.arch, "checkpoint", "given", 4))
	}
	if c.recipeSet && !sameJSON(c.recipe, ck.Recipe) {
		return fmt.Errorf("train: cannot resume %s: its recipe differs from the one given: %s", ck.Path,
			jsondiff.Describe(ck.Recipe, c.recipe, "checkpoint", "given", 6))
	}
	if c.adaptSet && c.adapt != ck.Adapt {
		return fmt.Errorf("train: cannot resume %s: it uses adaptation %q, not %q", ck.Path, ck.Adapt, c.adapt)
	}
	if c.seedSet && c.seed != ck.Seed {
		return fmt.Errorf("train: cannot resume %s: it uses seed %d, not %d", ck.Path, ck.Seed, c.seed)
	}
	if err := ck.Dataset.compatible(r.ds, true); err != nil {
		return fmt.Errorf("train: cannot resume %s: %w", ck.Path, err)
	}
	r.arch, r.trainArch, r.recipe, r.adapt, r.seed, r.plan = ck.Arch, ck.TrainArch, ck.Recipe, ck.Adapt, ck.Seed, ck.Plan
	r.step, r.resumedFrom, r.priorSecs, r.ema = ck.Step, ck.Step, ck.TrainSeconds, ck.TrainStats
	r.lastCkptOK, r.lastCkptStp = ck.Path, ck.Step
	if c.evalStep == 0 {
		r.evalEvery = ck.EvalEvery
	}
	return nil
}

func sameJSON(a, b any) bool { return jsonString(a) == jsonString(b) }

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// setup builds the store, trainer, evaluator and streams.
func (r *run) setup(ck *Checkpoint) error {
	r.store = model.NewStore()
	r.store.SetParam(model.ParamInitialSeed, int64(r.seed))
	if ck != nil {
		if err := ck.Restore(r.store, nil); err != nil {
			return fmt.Errorf("train: resuming from %s: %w", ck.Path, err)
		}
		if got := int(optimizer.GetGlobalStep(r.store)); got != ck.Step {
			return fmt.Errorf("train: checkpoint %s: global step variable %d differs from the header's step %d", ck.Path, got, ck.Step)
		}
	}
	var err error
	if r.lrVar, err = ensureLRVar(r.store); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if r.recipe.Augment != nil {
		r.ds.Augment = *r.recipe.Augment
	}
	r.builder = convnet.New(r.trainArch).BatchNormMomentum(r.recipe.BNMomentum)
	if err := r.builder.Err(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.trainer, r.updater, r.modelFn = newTrainer(r.be, r.store, r.builder, r.recipe)
	if r.stream, err = r.ds.TrainStream(r.recipe.BatchSize, r.seed); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.prog = newProgress(r.c.progress)
	return r.loadRecords()
}

// newTrainer returns the trainer of a run, its updater (whose apply follows
// every TrainStep) and its model function: the logits of b under
// ModelScope, the recipe's smoothed cross-entropy and updater, and the batch
// accuracy. The store must hold the learning-rate variable (ensureLRVar).
func newTrainer(be compute.Backend, store *model.Store, b *convnet.Builder, r Recipe) (*gtrain.Trainer, *updater, func(*model.Scope, *Node) *Node) {
	modelFn := func(scope *model.Scope, images *Node) *Node { return b.Logits(scope.In(ModelScope), images) }
	// A stateless batch accuracy: the moving averages are kept in Go (trainEMA)
	// because gomlx's moving-average metrics name their variables with a random
	// UUID per process, so a resumed run could not continue them.
	accuracy := metric.NewBaseMetric("Accuracy", "acc", metric.AccuracyMetricType, metric.SparseCategoricalAccuracyGraph, nil)
	u := &updater{r: r.withDefaults(), be: be}
	tr := gtrain.NewTrainer(be, store, modelFn, smoothedCrossEntropy(r.LabelSmoothing), u, []metric.Interface{accuracy}, nil)
	return tr, u, modelFn
}

// loadRecords reads the metrics log of a resumed run, dropping records past
// the checkpoint (they will be redone identically).
func (r *run) loadRecords() error {
	if r.c.out == "" || r.resumedFrom < 0 {
		return nil
	}
	raw, err := memlimit.ReadFile(filepath.Join(r.c.out, MetricsFile), "metrics log", 1<<30)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	recs, err := parseRecords(raw, MetricsFile)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	for _, rec := range recs {
		// Records past the checkpoint are redone identically after it.
		if rec.Step <= r.resumedFrom && rec.Event != "interrupted" {
			r.records = append(r.records, rec)
		}
	}
	return nil
}

// record appends rec to the metrics log (rewritten atomically) and calls OnEval.
func (r *run) record(rec Record) error {
	r.records = append(r.records, rec)
	if r.c.onEval != nil {
		r.c.onEval(rec)
	}
	if r.c.out == "" {
		return nil
	}
	var b strings.Builder
	for _, x := range r.records {
		line, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(filepath.Join(r.c.out, MetricsFile), []byte(b.String()), 0o644)
}

func (r *run) baseRecord() Record {
	return Record{Step: r.step, Epoch: r.stream.Epoch(r.step), TrainSeconds: r.seconds(),
		LearningRate: r.plan.LearningRate(max(r.step-1, 0)), TrainLoss: r.ema.Loss, TrainAccuracy: r.ema.Accuracy}
}

// checkpoint saves the current state; a non-finite variable is a divergence.
func (r *run) checkpoint(final bool) error {
	if r.c.out == "" {
		return nil
	}
	ck := &Checkpoint{Step: r.step, Final: final, Stopped: r.stopped, Recipe: r.recipe, Plan: r.plan, Seed: r.seed,
		Arch: r.arch, TrainArch: r.trainArch, Adapt: r.adapt, Dataset: datasetInfo(r.ds),
		TrainSeconds: r.seconds(), TrainStats: r.ema, EvalEvery: r.evalInterval(), Created: time.Now().UTC()}
	err := ck.save(r.c.out, r.store, r.c.keep)
	var nf errNonFinite
	if errors.As(err, &nf) {
		return r.diverged(nf.Error())
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.lastCkpt, r.lastCkptOK, r.lastCkptStp = time.Now(), ck.Path, ck.Step
	return nil
}

func (r *run) diverged(what string) error {
	e := &DivergedError{Step: r.step, LearningRate: r.plan.LearningRate(max(r.step-1, 0)), What: what,
		Checkpoint: r.lastCkptOK, CheckpointStep: r.lastCkptStp, DecayStep: r.plan.Peak * r.recipe.Hyper.WeightDecay}
	rec := r.baseRecord()
	rec.Event = "diverged"
	if err := r.record(rec); err != nil {
		return errors.Join(e, err)
	}
	r.prog.done(fmt.Sprintf("step %d: diverged (%s)", r.step, what))
	return e
}

// evalInterval is the number of steps between evaluations.
func (r *run) evalInterval() int {
	if r.evalEvery > 0 {
		return r.evalEvery
	}
	if r.c.evalStep > 0 {
		return r.c.evalStep
	}
	return max(1, r.stream.StepsFor(1))
}

// loop runs the training steps up to the plan's end, the time budget or a
// cancellation.
func (r *run) loop() error {
	r.start, r.lastCkpt = time.Now(), time.Now()
	shape := r.stream.Shape()
	images := make([]float32, shape[0]*shape[1]*shape[2]*shape[3])
	labels := make([]int32, shape[0])
	every := r.evalInterval()
	first := true // the first step of a process compiles the graph: not timed
	for r.step < r.plan.TotalSteps {
		if err := r.ctx.Err(); err != nil {
			rec := r.baseRecord()
			rec.Event = "interrupted"
			r.prog.done(fmt.Sprintf("interrupted at step %d", r.step))
			return errors.Join(err, r.checkpoint(false), r.record(rec))
		}
		if r.c.budget > 0 && r.seconds() >= r.c.budget.Seconds() {
			r.stopped = "time budget"
			break
		}
		lr := r.plan.LearningRate(r.step)
		if err := r.lrVar.SetValue(scalarF32(lr)); err != nil {
			return fmt.Errorf("train: setting the learning rate: %w", err)
		}
		if err := r.stream.Fill(r.step, images, labels); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		t0 := time.Now()
		metrics, err := r.trainer.TrainStep(gtrain.Batch{
			Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, shape[:]...)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, shape[0], 1)}})
		if err != nil {
			return fmt.Errorf("train: step %d: %w", r.step, err)
		}
		if err := r.updater.apply(r.store, lr); err != nil {
			return fmt.Errorf("train: step %d: %w", r.step, err)
		}
		vals := make([]float64, len(metrics))
		for i, m := range metrics {
			vals[i] = scalarValue(m)
			_ = m.FinalizeAll()
		}
		if !first {
			r.stepTimes = append(r.stepTimes, time.Since(t0).Seconds())
		}
		first = false
		r.step++
		if math.IsNaN(vals[0]) || math.IsInf(vals[0], 0) {
			return r.diverged(fmt.Sprintf("loss is %g", vals[0]))
		}
		r.ema.add(vals[0], vals[2])
		r.prog.update(r)
		if r.step%every == 0 && r.step < r.plan.TotalSteps {
			if err := r.periodicEval(); err != nil {
				return err
			}
			continue
		}
		if r.step < r.plan.TotalSteps && ((r.c.ckptStep > 0 && r.step%r.c.ckptStep == 0) || (r.c.ckptTime > 0 && time.Since(r.lastCkpt) >= r.c.ckptTime)) {
			if err := r.checkpoint(false); err != nil {
				return err
			}
		}
	}
	return nil
}

// periodicEval evaluates on the validation split, logs and checkpoints.
func (r *run) periodicEval() error {
	rec := r.baseRecord()
	if r.ds.Validation.Len() > 0 {
		v, err := r.evaluate(r.ds.Validation, "validation")
		if err != nil {
			return err
		}
		rec.Validation = summary(v)
		rec.TrainSeconds = r.seconds()
	}
	r.prog.eval(rec)
	// Log first, then checkpoint: a kill in between resumes from an earlier
	// checkpoint and drops (then redoes) this record.
	if err := r.record(rec); err != nil {
		return err
	}
	return r.checkpoint(false)
}

// evalBatch is the evaluation batch size: large batches amortise per-op costs.
func (r *run) evalBatch() int { return max(r.recipe.BatchSize, 256) }

// evaluate runs the current model on split. The executor is built anew for
// every evaluation: on the Go backend and ONNX Runtime
// (Capabilities.PreferConstantsForVariables) gomlx embeds the variables of an
// inference graph as constants at compilation, so a reused executor would
// keep evaluating the weights of its first call.
func (r *run) evaluate(split *data.Split, name string) (*EvalResult, error) {
	exec, err := model.NewExec(r.be, r.store, r.modelFn)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer exec.Finalize()
	h, w, c := r.ds.Height(), r.ds.Width(), r.ds.Channels()
	return evaluate(func(images []float32, b int) (out []float32, err error) {
		err = tryCatch(func() {
			in := tensors.FromFlatDataAndDimensions(images, b, h, w, c)
			res, e := exec.Exec(in)
			if e != nil {
				panic(e)
			}
			out, e = tensors.CopyFlatData[float32](res[0])
			_ = res[0].FinalizeAll()
			_ = in.FinalizeAll()
			if e != nil {
				panic(e)
			}
		})
		return out, err
	}, r.ds, split, name, r.evalBatch())
}

// finish recalibrates BatchNorm (after training), evaluates on validation and
// test, saves the final checkpoint, the metrics record and the result.
func (r *run) finish(trained bool) (*Result, error) {
	if r.start.IsZero() {
		r.start = time.Now()
	}
	if trained && r.recipe.BNRecalibrationBatches > 0 {
		r.prog.done(fmt.Sprintf("step %d: recalibrating BatchNorm on %d batches", r.step, r.recipe.BNRecalibrationBatches))
		if err := recalibrateBN(r.be, r.store, r.trainArch, r.ds, r.recipe.BatchSize, r.recipe.BNRecalibrationBatches, r.seed); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	res := &Result{Arch: r.arch, TrainArch: r.trainArch, Adapt: r.adapt, Recipe: r.recipe, Plan: r.plan, Seed: r.seed,
		Dataset: datasetInfo(r.ds), Backend: r.be.String(), Steps: r.step, Epochs: r.stream.Epoch(r.step),
		ResumedFrom: r.resumedFrom, Stopped: r.stopped}
	if len(r.stepTimes) > 0 {
		res.StepMS = 1000 * stats.Median(r.stepTimes)
	}
	for v := range r.store.RootScope().In(ModelScope).IterVariables() {
		res.Params += v.Shape().Size()
	}
	var err error
	if r.ds.Validation.Len() > 0 {
		if res.Validation, err = r.evaluate(r.ds.Validation, "validation"); err != nil {
			return nil, err
		}
	}
	if res.Test, err = r.evaluate(r.ds.Test, "test"); err != nil {
		return nil, err
	}
	rec := r.baseRecord()
	rec.Validation, rec.Test, rec.Final, rec.Event = summary(res.Validation), summary(res.Test), true, r.stopped
	if trained {
		if err := r.record(rec); err != nil {
			return nil, err
		}
		if err := r.checkpoint(true); err != nil {
			return nil, err
		}
	}
	res.TrainSeconds = r.seconds()
	res.Checkpoint = r.lastCkptOK
	res.Notes = r.notes.List
	r.prog.final(rec)
	if r.c.out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(r.c.out, ResultFile), append(b, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	return res, nil
}

// scalarValue reads a scalar metric tensor as float64.
func scalarValue(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}
