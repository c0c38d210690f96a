package tunas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/multihw/multihw/internal/guard"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/jsondiff"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/optim"
)

// Files of a search's output directory.
const (
	ResultFile     = "search.json"
	CheckpointFile = "checkpoint.mhws"
	// ArchTextFile and ArchJSONFile hold the final architecture as a blocks
	// spec (for `multihw train --spec`).
	ArchTextFile = "arch.txt"
	ArchJSONFile = "arch.json"
)

// Search configures and runs a search: create it with New, chain the
// options, call Run. Options record the first invalid value, which Run
// reports.
type Search struct {
	cfg       Config
	ds        *data.Dataset
	out       string
	resume    bool
	overwrite bool
	progress  io.Writer
	be        compute.Backend
	quality   func(p nas.Point) float64
	onStep    func(Record)
	ckptSteps int
	ckptTime  time.Duration
	// after, when set, is called with the trained supernet before Run frees it.
	after func(*run) error
	err   error
}

// New starts the configuration of a search. Defaults: no output directory,
// checkpoints every 5 minutes and every Steps/10 steps (with an output
// directory), no progress output, backend.Default(). The dataset is loaded
// from cfg.Dataset unless given with Dataset.
func New(cfg Config) *Search {
	return &Search{cfg: cfg, ckptTime: 5 * time.Minute}
}

// Dataset sets the (already loaded) dataset; its validation split gives the
// rewards.
func (s *Search) Dataset(ds *data.Dataset) *Search { s.ds = ds; return s }

// Out sets the output directory (checkpoint, search.json, arch.txt/json).
func (s *Search) Out(dir string) *Search { s.out = dir; return s }

// Resume continues the search of the output directory from its checkpoint
// (a fresh search, with a note saying so, if there is none; the previous
// checkpoint, with a note, if the newest is unreadable). Without Resume or
// Overwrite, a directory holding a checkpoint is an error.
func (s *Search) Resume(r bool) *Search { s.resume = r; return s }

// Overwrite starts afresh in an output directory that holds a search: its
// checkpoints, result, architecture files and baselines are removed first.
// Nothing else is removed, and a directory that is not a search is refused.
func (s *Search) Overwrite(o bool) *Search { s.overwrite = o; return s }

// Progress reports progress on w: a progress line (in place on a terminal,
// every 30 s elsewhere) with reward, accuracy, cost and entropy.
func (s *Search) Progress(w io.Writer) *Search { s.progress = w; return s }

// Backend sets the compute backend.
func (s *Search) Backend(be compute.Backend) *Search { s.be = be; return s }

// OnStep sets a function called with the record of every step.
func (s *Search) OnStep(fn func(Record)) *Search { s.onStep = fn; return s }

// CheckpointEvery sets the checkpoint intervals: every steps steps (0: the
// default Steps/10) and every d of wall time (0: none).
func (s *Search) CheckpointEvery(steps int, d time.Duration) *Search {
	if steps < 0 || d < 0 {
		s.err = errors.Join(s.err, fmt.Errorf("search: negative checkpoint interval (%d steps, %v)", steps, d))
	}
	s.ckptSteps, s.ckptTime = steps, d
	return s
}

// SyntheticQuality replaces the supernet by a quality function of the
// point (no training, no dataset): the controller, reward, cost,
// checkpoints and history work as in a real search. For tests and for
// demonstrating the controller.
func (s *Search) SyntheticQuality(fn func(p nas.Point) float64) *Search { s.quality = fn; return s }

// Record is one step of the history.
type Record struct {
	Step int `json:"step"`
	// Point is the controller's sample of the step, Q its validation
	// accuracy, T its cost, Reward R(Q, T).
	Point    nas.Point `json:"point"`
	Q        float64   `json:"q"`
	T        float64   `json:"t"`
	Reward   float64   `json:"reward"`
	Baseline float64   `json:"baseline"`
	// Entropy of the policy after the update (nats, summed over decisions).
	Entropy float64 `json:"entropy"`
	// ControllerLR and WeightLR are the learning rates of the step.
	ControllerLR float64 `json:"controller_lr"`
	WeightLR     float64 `json:"weight_lr"`
	// TrainLoss and TrainAcc are the weight step's batch loss and accuracy
	// (0 with a synthetic quality); OpWarmup and FilterWarmup count the
	// decisions of the weight step's path that the warm-up averaged over all
	// options (ops) or set to their largest option (filters).
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_acc"`
	OpWarmup     int     `json:"op_warmup,omitempty"`
	FilterWarmup int     `json:"filter_warmup,omitempty"`
}

// Snapshot is the controller's probabilities after a step.
type Snapshot struct {
	Step  int         `json:"step"`
	Probs [][]float64 `json:"probs"`
}

// Final is the searched architecture: the argmax of every decision.
type Final struct {
	Point nas.Point    `json:"point"`
	Arch  *blocks.Arch `json:"arch"`
	// Text is Arch in the text form (blocks.Parse).
	Text string `json:"text"`
	// Probability is the policy's probability of Point's architecture (the
	// product over its active decisions).
	Probability float64 `json:"probability"`
	Costs       Costs   `json:"costs"`
	MACs        int64   `json:"macs"`
	Params      int64   `json:"params"`
}

// Stats describes the work of a search.
type Stats struct {
	// Seconds is the wall time of the steps over all resumes.
	Seconds float64 `json:"seconds"`
	// StepsPerMinute is Steps/Seconds·60.
	StepsPerMinute float64 `json:"steps_per_minute"`
	// SupernetParams is the number of shared weights.
	SupernetParams int            `json:"supernet_params"`
	Supernet       supernet.Stats `json:"supernet_this_process"`
	Backend        string         `json:"backend"`
	Resumes        int            `json:"resumes"`
}

// Result is the content of search.json.
type Result struct {
	Format    string         `json:"format"`
	Config    Config         `json:"config"`
	Decisions []nas.Decision `json:"decisions"`
	// Targets are the metric's resolved targets.
	Targets []string `json:"targets"`
	Steps   int      `json:"steps"`
	Final   Final    `json:"final"`
	// Probs are the final probabilities of every decision.
	Probs     [][]float64 `json:"probs"`
	Snapshots []Snapshot  `json:"snapshots"`
	History   []Record    `json:"history"`
	Stats     Stats       `json:"stats"`
	Synthetic bool        `json:"synthetic,omitempty"`
	// Notes say what the run did that the user should know (a resume that
	// found no checkpoint, an unreadable checkpoint skipped, stale temporary
	// files removed).
	Notes []string `json:"notes,omitempty"`
}

// ResultFormat names search.json's format. Version 2: distinct width options
// (points of version 1 encode widths differently), the space's expansion-1
// rule, a hierarchical controller.
const ResultFormat = "multihw-search/2"

// Metric builds the hwcost metric of the configuration.
func (c *Config) Metric() (*hwcost.Metric, error) {
	mc := hwcost.NewMetric().Targets(c.Targets...).ReferenceModel(c.Reference)
	if len(c.Weights) > 0 {
		mc = mc.Weights(c.Weights...)
	}
	m, err := mc.Done()
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return m, nil
}

// run is the state of one Run.
type run struct {
	s     *Search
	cfg   Config
	ctx   context.Context
	cost  *Cost
	sn    *supernet.Supernet
	ctl   *nas.Controller
	plan  optim.Plan
	ds    *data.Dataset
	train *data.Stream
	val   *data.Stream
	sizes []int
	ops   []int // decisions the op warm-up mixes (kind, kernel, depth)
	wide  []int // "filter" decisions (widths, expansions) and their largest option
	wideI []int

	step      int
	history   []Record
	snapshots []Snapshot
	priorSecs float64
	resumes   int
	start     time.Time
	lastCkpt  time.Time
	prog      *progressLine
	notes     rundir.Notes

	trainImg []float32
	trainLab []int32
	valImg   []float32
	valLab   []int32
}

// Run runs (or resumes) the search and returns its result, also written to
// the output directory. It never panics. Cancelling ctx checkpoints (with an
// output directory) and returns ctx's error.
func (s *Search) Run(ctx context.Context) (res *Result, err error) {
	defer guard.Recover(&err, "search")
	if s.err != nil {
		return nil, s.err
	}
	if s.resume && s.overwrite {
		return nil, errors.New("search: resume or overwrite, not both")
	}
	cfg := s.cfg
	r := &run{s: s, ctx: ctx, prog: newProgress(s.progress), notes: rundir.Notes{W: s.progress}}
	// Everything that can be checked without the output directory (the
	// configuration, the dataset, the memory the supernet needs) is checked
	// before the directory is created or changed.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r.cfg = cfg
	if err := r.setup(); err != nil {
		return nil, err
	}
	var ck *checkpoint
	if s.out != "" {
		dir, err := rundir.Open(s.out, runKind)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		defer dir.Close()
		r.notes.Add(dir.Notes...)
		if ck, err = r.openRun(); err != nil {
			return nil, err
		}
	}
	if err := r.buildSupernet(); err != nil {
		return nil, err
	}
	if r.sn != nil {
		defer r.sn.Close()
	}
	if ck != nil {
		if err := r.restore(ck); err != nil {
			return nil, err
		}
	}
	if err := r.loop(); err != nil {
		return nil, err
	}
	if res, err = r.finish(); err != nil {
		return nil, err
	}
	if s.after != nil {
		if err := s.after(r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// runKind describes a search's output directory (internal/rundir).
var runKind = rundir.Kind{
	Name:   "search",
	Legacy: func(names []string) bool { return rundir.Only(names, slices.Concat(runFiles, []string{rankDir})...) },
	Owns:   func(rel string) bool { return slices.Contains(runFiles, rel) },
}

// runFiles are the files a search (and its baselines) write.
var runFiles = []string{CheckpointFile, PrevCheckpointFile, ResultFile, ArchTextFile, ArchJSONFile,
	BaselineFile(AlgoRandom), BaselineFile(AlgoEvolution)}

// CheckOutputDir reports (a *rundir.ForeignError) when dir exists and holds
// anything but a search, without changing anything.
func CheckOutputDir(dir string) error {
	_, err := rundir.Check(dir, runKind)
	return err
}

// openRun handles what the (locked) output directory holds: Overwrite
// removes a previous search's files; a checkpoint is resumed (its
// configuration must be the one given) or refused.
func (r *run) openRun() (*checkpoint, error) {
	s := r.s
	if s.overwrite {
		var errs []error
		for _, f := range runFiles {
			if err := os.Remove(filepath.Join(s.out, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("search: replacing the search in %s: %w", s.out, err)
		}
	}
	ck, err := loadNewest(s.out)
	if errors.Is(err, os.ErrNotExist) {
		if s.resume {
			r.notes.Add(fmt.Sprintf("--resume: %s holds no search checkpoint yet: starting a new search", s.out))
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !s.resume {
		return nil, fmt.Errorf("search: %s already holds a search (step %d of %d); resume it, overwrite it or choose another directory", s.out, ck.Step, ck.Config.Steps)
	}
	if !sameJSON(ck.Config, r.cfg) {
		return nil, fmt.Errorf("search: cannot resume %s: its configuration differs from the one given: %s", s.out,
			jsondiff.Describe(ck.Config, r.cfg, "checkpoint", "given", 6))
	}
	if ck.Synthetic != (s.quality != nil) {
		return nil, fmt.Errorf("search: cannot resume %s: synthetic-quality and supernet searches do not mix", s.out)
	}
	r.notes.Add(ck.notes...)
	return ck, nil
}

// setup builds the cost, controller and data streams, after checking that
// the supernet fits the memory limit (buildSupernet builds it).
func (r *run) setup() error {
	cfg := &r.cfg
	m, err := cfg.Metric()
	if err != nil {
		return err
	}
	if r.cost, err = NewCost(cfg.Space, m, cfg.Objective); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	for _, c := range m.Caveats() {
		r.notes.Add("target " + c)
	}
	bound := m.PriorBoundParams()
	for _, n := range m.TargetNames() {
		if ps := bound[n]; len(ps) > 0 {
			r.notes.Add(fmt.Sprintf("target %s (a target file): its data left %s prior-bound, so the search's costs there are its prior's "+
				"(`multihw cost --hardware FILE --spec ARCH` shows how far each moves an architecture)", n, strings.Join(ps, ", ")))
		}
	}
	l := cfg.Space.Layout()
	r.sizes = l.Sizes
	r.ctl = nas.NewController(r.sizes, cfg.Controller)
	for i, d := range cfg.Space.Decisions() {
		if r.sizes[i] < 2 {
			continue
		}
		if d.Kind == nas.DecideWidth || d.Kind == nas.DecideExpand {
			r.wide = append(r.wide, i)
		} else {
			r.ops = append(r.ops, i)
		}
	}
	maxP := cfg.Space.MaxPoint()
	for _, i := range r.wide {
		r.wideI = append(r.wideI, maxP[i])
	}
	r.plan = optim.Plan{TotalSteps: cfg.Steps, WarmupSteps: int(math.Round(cfg.WeightWarmup * float64(cfg.Steps))),
		Peak: cfg.WeightLR, Final: 0, Schedule: optim.Cosine}
	if r.s.quality != nil {
		return nil
	}
	ds := r.s.ds
	if ds == nil {
		if ds, err = data.NewLoader(cfg.Dataset).Validation(cfg.Validation).Load(); err != nil {
			return fmt.Errorf("search: %w", err)
		}
	}
	if ds.Validation.Len() == 0 {
		return fmt.Errorf("search: dataset %s has no validation split (the reward needs one)", ds.Kind)
	}
	if err := cfg.CheckMemory(ds); err != nil {
		return err
	}
	if r.train, err = ds.TrainStream(cfg.BatchSize, cfg.Seed); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if r.val, err = ds.ValidationStream(cfg.ValidationBatch, cfg.Seed); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	r.ds = ds
	return nil
}

// buildSupernet builds the supernet and the batch buffers (not for a
// synthetic quality).
func (r *run) buildSupernet() error {
	if r.ds == nil {
		return nil
	}
	cfg, ds := &r.cfg, r.ds
	var err error
	r.sn, err = cfg.supernet(ds).Backend(r.s.be).Build()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	n := ds.Height() * ds.Width() * ds.Channels()
	r.trainImg, r.trainLab = make([]float32, cfg.BatchSize*n), make([]int32, cfg.BatchSize)
	r.valImg, r.valLab = make([]float32, cfg.ValidationBatch*n), make([]int32, cfg.ValidationBatch)
	return nil
}

// Random streams: one per (purpose, step), so that every choice is a pure
// function of (seed, step).
const (
	streamWeightPath = iota + 1
	streamControllerPath
)

func (r *run) rng(purpose, step int) *rand.Rand {
	return rand.New(rand.NewPCG(r.cfg.Seed^uint64(purpose)*0x9e3779b97f4a7c15, uint64(step)))
}

// warmupProb is the probability of the op and filter warm-up at step k:
// 1 → 0 linearly over the first OpWarmup of the steps.
func (r *run) warmupProb(k int) float64 {
	n := r.cfg.OpWarmup * float64(r.cfg.Steps)
	if n <= 0 {
		return 0
	}
	return math.Max(0, 1-float64(k)/n)
}

// weightPoint is the path of the weight step k: the controller's sample,
// where during the warm-up, independently per decision with probability
// warmupProb(k) (TuNAS's controller.independent_sample), an op decision
// (kind, kernel, depth) averages all its options (marked in avg, see
// supernet.MixedPath) and a filter decision (width, expansion) takes its
// largest option. It returns the numbers of decisions so changed.
func (r *run) weightPoint(k int) (p nas.Point, avg []bool, ops, filters int) {
	rng := r.rng(streamWeightPath, k)
	p = r.ctl.Sample(rng)
	pw := r.warmupProb(k)
	if pw == 0 {
		return p, nil, 0, 0
	}
	avg = make([]bool, len(p))
	for _, d := range r.ops {
		if rng.Float64() < pw {
			avg[d] = true
			ops++
		}
	}
	for i, d := range r.wide {
		if rng.Float64() < pw {
			p[d] = r.wideI[i]
			filters++
		}
	}
	return p, avg, ops, filters
}

func (r *run) ckptInterval() int {
	if r.s.ckptSteps > 0 {
		return r.s.ckptSteps
	}
	return max(1, r.cfg.Steps/10)
}

func (r *run) seconds() float64 { return r.priorSecs + time.Since(r.start).Seconds() }

func (r *run) loop() error {
	r.start, r.lastCkpt = time.Now(), time.Now()
	cfg := &r.cfg
	snapEvery := 0
	if cfg.Snapshots > 0 {
		snapEvery = max(1, cfg.Steps/cfg.Snapshots)
	}
	if r.step == 0 && cfg.Snapshots > 0 {
		r.snapshots = append(r.snapshots, Snapshot{Step: 0, Probs: r.ctl.Probs()})
	}
	for r.step < cfg.Steps {
		if err := r.ctx.Err(); err != nil {
			r.prog.done(fmt.Sprintf("interrupted at step %d", r.step))
			return errors.Join(err, r.checkpoint())
		}
		k := r.step
		rec := Record{Step: k, WeightLR: r.plan.LearningRate(k)}
		// 1. Weight step.
		wp, avg, ops, filters := r.weightPoint(k)
		rec.OpWarmup, rec.FilterWarmup = ops, filters
		if r.sn != nil {
			if err := r.train.Fill(k, r.trainImg, r.trainLab); err != nil {
				return fmt.Errorf("search: %w", err)
			}
			loss, acc, err := r.sn.TrainMixed(wp, avg, supernet.Batch{Images: r.trainImg, Labels: r.trainLab, Size: cfg.BatchSize}, rec.WeightLR)
			if err != nil {
				return fmt.Errorf("search: step %d: %w", k, err)
			}
			rec.TrainLoss, rec.TrainAcc = loss, acc
		}
		// 2. Controller step on a new sample.
		cp := r.ctl.Sample(r.rng(streamControllerPath, k))
		q, err := r.quality(k, cp)
		if err != nil {
			return fmt.Errorf("search: step %d: %w", k, err)
		}
		t, err := r.cost.T(cp)
		if err != nil {
			return fmt.Errorf("search: step %d: %w", k, err)
		}
		rec.Point, rec.Q, rec.T = cp, q, t
		rec.Reward = cfg.Reward.Value(q, t)
		scale := nas.LRScale(k, cfg.Steps, cfg.ControllerWarmup, cfg.ControllerGrowth)
		rec.ControllerLR = cfg.Controller.LR * scale
		active, err := cfg.Space.Active(cp)
		if err != nil {
			return fmt.Errorf("search: step %d: %w", k, err)
		}
		if _, err := r.ctl.Update(cp, active, rec.Reward, scale); err != nil {
			return fmt.Errorf("search: step %d: %w", k, err)
		}
		rec.Baseline, rec.Entropy = r.ctl.Baseline, r.ctl.Entropy()
		r.history = append(r.history, rec)
		r.step++
		if snapEvery > 0 && (r.step%snapEvery == 0 || r.step == cfg.Steps) {
			r.snapshots = append(r.snapshots, Snapshot{Step: r.step, Probs: r.ctl.Probs()})
		}
		if r.s.onStep != nil {
			r.s.onStep(rec)
		}
		r.prog.update(r, rec)
		if r.s.out != "" && r.step < cfg.Steps &&
			(r.step%r.ckptInterval() == 0 || (r.s.ckptTime > 0 && time.Since(r.lastCkpt) >= r.s.ckptTime)) {
			if err := r.checkpoint(); err != nil {
				return err
			}
		}
	}
	return nil
}

// quality is Q of point p at step k: the supernet's accuracy on validation
// batch k, or the synthetic quality.
func (r *run) quality(k int, p nas.Point) (float64, error) {
	if r.s.quality != nil {
		q := r.s.quality(p)
		if math.IsNaN(q) || math.IsInf(q, 0) {
			return 0, fmt.Errorf("synthetic quality of %v is %g", p, q)
		}
		return q, nil
	}
	if err := r.val.Fill(k, r.valImg, r.valLab); err != nil {
		return 0, err
	}
	return r.sn.Accuracy(p, supernet.Batch{Images: r.valImg, Labels: r.valLab, Size: r.cfg.ValidationBatch})
}

// finish computes the final architecture, writes the result and returns it.
func (r *run) finish() (*Result, error) {
	cfg := &r.cfg
	res := &Result{Format: ResultFormat, Config: *cfg, Decisions: cfg.Space.Decisions(), Targets: r.cost.Metric().TargetNames(),
		Steps: r.step, Probs: r.ctl.Probs(), Snapshots: r.snapshots, History: r.history, Synthetic: r.s.quality != nil}
	p := r.ctl.Argmax()
	a, err := cfg.Space.Arch(p)
	if err != nil {
		return nil, fmt.Errorf("search: final architecture: %w", err)
	}
	a.Name = fmt.Sprintf("search_%s", cfg.Objective)
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return nil, fmt.Errorf("search: final architecture: %w", err)
	}
	costs, err := r.cost.Breakdown(p)
	if err != nil {
		return nil, err
	}
	active, err := cfg.Space.Active(p)
	if err != nil {
		return nil, fmt.Errorf("search: final architecture: %w", err)
	}
	res.Final = Final{Point: p, Arch: a, Text: a.String(), Probability: math.Exp(r.ctl.LogProb(p, active)), Costs: costs, MACs: an.MACs, Params: an.Params}
	res.Stats = Stats{Seconds: r.seconds(), Resumes: r.resumes}
	res.Notes = r.notes.List
	if res.Stats.Seconds > 0 {
		res.Stats.StepsPerMinute = float64(r.step) / res.Stats.Seconds * 60
	}
	if r.sn != nil {
		res.Stats.SupernetParams = r.sn.NumParams()
		res.Stats.Supernet = r.sn.Stats()
		res.Stats.Backend = r.sn.Backend().String()
	}
	r.prog.final(res)
	if r.s.out != "" {
		if err := r.checkpoint(); err != nil {
			return nil, err
		}
		if err := writeResult(r.s.out, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}
