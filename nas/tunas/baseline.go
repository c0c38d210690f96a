package tunas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/multihw/multihw/internal/guard"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/train/data"
)

// Baseline algorithms over a trained supernet.
const (
	AlgoRandom    = "random"
	AlgoEvolution = "evolution"
)

// BaselineConfig configures a baseline search on the same objective as a
// finished one-shot search, over its trained supernet.
type BaselineConfig struct {
	// Algo is AlgoRandom or AlgoEvolution.
	Algo string `json:"algo"`
	// Queries is the number of reward evaluations; 0 gives the controller's
	// budget: as many as the search made after its controller warm-up (the
	// steps whose controller learning rate was positive).
	Queries int `json:"queries"`
	// EvalBatches > 0 scores every point on the same first EvalBatches
	// validation batches (of the search's validation batch size). 0 scores
	// query i on the validation batch of the controller's i-th evaluation
	// after its warm-up (then i-th before it, if Queries exceeds them): the
	// same data, batch size and noise as the controller's rewards.
	EvalBatches int                 `json:"eval_batches"`
	Seed        uint64              `json:"seed"`
	Evolution   nas.EvolutionConfig `json:"evolution"`
}

// DefaultBaseline is the equal-budget baseline: the controller's number of
// reward evaluations after its warm-up, on its validation batches;
// evolution with a population of 50 and tournaments of 10.
func DefaultBaseline(algo string) BaselineConfig {
	return BaselineConfig{Algo: algo, Seed: 1, Evolution: nas.DefaultEvolution}
}

// controllerSteps returns the steps of a search's history at which the
// controller learned (positive learning rate), then the others: the
// validation batches of its reward evaluations after the warm-up first.
func controllerSteps(history []Record) (learning, all []int) {
	var warm []int
	for _, r := range history {
		if r.ControllerLR > 0 {
			learning = append(learning, r.Step)
		} else {
			warm = append(warm, r.Step)
		}
	}
	return learning, append(slices.Clone(learning), warm...)
}

// Candidate is one architecture scored by a baseline.
type Candidate struct {
	Point nas.Point    `json:"point"`
	Arch  *blocks.Arch `json:"arch"`
	Text  string       `json:"text"`
	// Q is the one-shot accuracy the search scored it with (the baseline's
	// winning trial: its query's batch; the controller's architecture: the
	// whole validation split), Reward R(Q, T).
	Q      float64 `json:"q"`
	T      float64 `json:"t"`
	Reward float64 `json:"reward"`
	// QValidation is the one-shot accuracy on the whole validation split.
	QValidation float64 `json:"q_validation"`
	Costs       Costs   `json:"costs"`
	Queries     int     `json:"queries,omitempty"`
}

// BaselineResult is the content of baseline-ALGO.json.
type BaselineResult struct {
	Config BaselineConfig `json:"config"`
	Search Config         `json:"search"`
	// ControllerEvaluations is the number of reward evaluations the
	// search's controller made after its warm-up; Queries the baseline's.
	ControllerEvaluations int `json:"controller_evaluations"`
	Queries               int `json:"queries"`
	// Best is the baseline's best point; Controller the one-shot search's
	// final architecture, scored on the whole validation split (as Best's
	// QValidation), for comparison.
	Best       *Candidate  `json:"best"`
	Controller *Candidate  `json:"controller"`
	Trials     []nas.Trial `json:"trials"`
	Seconds    float64     `json:"seconds"`
}

// BaselineFile is the name of the result file of baseline algo in a search's
// directory.
func BaselineFile(algo string) string { return "baseline-" + algo + ".json" }

// oneShot is the nas.Problem of a trained supernet: Q is the accuracy on a
// fixed set of validation batches, or on batch steps[n] of the controller's
// validation stream at the n-th query; T is the search's cost.
type oneShot struct {
	ctx   context.Context
	sn    *supernet.Supernet
	cost  *Cost
	space *nas.Space
	batch []supernet.Batch
	val   *data.Stream
	steps []int
	vbuf  supernet.Batch
	sizes []int
	n     int
	prog  *progressLine
	start time.Time
	total int
}

func (o *oneShot) Sizes() []int { return o.sizes }

// Active makes the problem hierarchical: evolution mutates only decisions
// that change the architecture.
func (o *oneShot) Active(p nas.Point) ([]bool, error) { return o.space.Active(p) }

func (o *oneShot) Evaluate(p nas.Point) (float64, float64, error) {
	if err := o.ctx.Err(); err != nil {
		return 0, 0, err
	}
	q, err := o.quality(p)
	if err != nil {
		return 0, 0, err
	}
	t, err := o.cost.T(p)
	if err != nil {
		return 0, 0, err
	}
	o.n++
	if o.prog.Due(o.n == o.total) {
		o.prog.Line(fmt.Sprintf("query %d/%d: Q %.3f T %.3f | %.1f queries/min", o.n, o.total, q, t,
			float64(o.n)/time.Since(o.start).Minutes()), o.prog.TTY())
	}
	return q, t, nil
}

func (o *oneShot) quality(p nas.Point) (float64, error) {
	if o.val != nil {
		// The controller's batch of this query.
		if err := o.val.Fill(o.steps[o.n%len(o.steps)], o.vbuf.Images, o.vbuf.Labels); err != nil {
			return 0, err
		}
		return o.sn.Accuracy(p, o.vbuf)
	}
	var sum float64
	for _, b := range o.batch {
		acc, err := o.sn.Accuracy(p, b)
		if err != nil {
			return 0, err
		}
		sum += acc
	}
	return sum / float64(len(o.batch)), nil
}

// LoadSupernet rebuilds the trained supernet of a search's output directory
// from its checkpoint, with the dataset it was trained on (loaded from the
// configuration unless ds is given).
func LoadSupernet(dir string, ds *data.Dataset, be compute.Backend) (*supernet.Supernet, Config, *data.Dataset, error) {
	sn, ck, ds, err := loadTrained(dir, ds, be, false)
	if err != nil {
		return nil, Config{}, nil, err
	}
	return sn, ck.Config, ds, nil
}

// loadTrained is LoadSupernet also returning the checkpoint's header; with
// finished, a search that has not run all its steps is an error.
func loadTrained(dir string, ds *data.Dataset, be compute.Backend, finished bool) (*supernet.Supernet, *checkpoint, *data.Dataset, error) {
	ck, err := loadNewest(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("search: %s holds no search checkpoint", dir)
		}
		return nil, nil, nil, err
	}
	if ck.Synthetic {
		return nil, nil, nil, fmt.Errorf("search: %s is a synthetic-quality search without a supernet", dir)
	}
	if finished && ck.Step < ck.Config.Steps {
		return nil, nil, nil, fmt.Errorf("search: the search in %s stopped at step %d of %d; resume it to the end first", dir, ck.Step, ck.Config.Steps)
	}
	cfg := ck.Config
	if ds == nil {
		if ds, err = data.NewLoader(cfg.Dataset).Validation(cfg.Validation).Load(); err != nil {
			return nil, nil, nil, fmt.Errorf("search: %w", err)
		}
	}
	sn, err := cfg.supernet(ds).Backend(be).Build()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("search: %w", err)
	}
	if err := ck.readState(sn); err != nil {
		sn.Close()
		return nil, nil, nil, err
	}
	return sn, ck, ds, nil
}

// OneShotAccuracy is the accuracy of the supernet's path of p on the whole
// validation split of ds, in batches of batch images (BatchNorm normalises
// each batch with its own statistics, as during the search; the last,
// partial batch runs at its own size rather than padded).
func OneShotAccuracy(sn *supernet.Supernet, ds *data.Dataset, batch int, p nas.Point) (float64, error) {
	ev, err := ds.Eval(ds.Validation, batch)
	if err != nil {
		return 0, fmt.Errorf("one-shot accuracy: %w", err)
	}
	n := ds.Height() * ds.Width() * ds.Channels()
	correct := 0.0
	for b := range ev.All() {
		acc, err := sn.Accuracy(p, supernet.Batch{Images: b.Images[:b.Valid*n], Labels: b.Labels[:b.Valid], Size: b.Valid})
		if err != nil {
			return 0, err
		}
		correct += acc * float64(b.Valid)
	}
	return correct / float64(ev.Len()), nil
}

// newCandidate describes point p of the search configured by cfg: its
// architecture (named name), cost and one-shot accuracy on the whole
// validation split; q is the accuracy its search scored (< 0: that one).
func newCandidate(cfg Config, cost *Cost, sn *supernet.Supernet, ds *data.Dataset, p nas.Point, q float64, name string) (*Candidate, error) {
	a, err := cfg.Space.Arch(p)
	if err != nil {
		return nil, err
	}
	a.Name = name
	costs, err := cost.Breakdown(p)
	if err != nil {
		return nil, err
	}
	full, err := OneShotAccuracy(sn, ds, cfg.ValidationBatch, p)
	if err != nil {
		return nil, err
	}
	if q < 0 {
		q = full
	}
	return &Candidate{Point: p, Arch: a, Text: a.String(), Q: q, QValidation: full, T: costs.T,
		Reward: cfg.Reward.Value(q, costs.T), Costs: costs}, nil
}

// RunBaseline runs random search or regularised evolution on the objective
// and reward of the search in dir, with Q the one-shot accuracy of its
// trained supernet, and writes DIR/baseline-ALGO.json (atomically).
func RunBaseline(ctx context.Context, dir string, bc BaselineConfig, ds *data.Dataset, be compute.Backend, progressW io.Writer) (res *BaselineResult, err error) {
	defer guard.Recover(&err, "baseline")
	if bc.Algo != AlgoRandom && bc.Algo != AlgoEvolution {
		return nil, fmt.Errorf("baseline: unknown algorithm %q (valid: %s, %s)", bc.Algo, AlgoRandom, AlgoEvolution)
	}
	if bc.Queries < 0 || bc.EvalBatches < 0 || bc.Queries > MaxSteps {
		return nil, fmt.Errorf("baseline: queries must be in [0, %d] and evaluation batches >= 0, got %d and %d", MaxSteps, bc.Queries, bc.EvalBatches)
	}
	// The baseline writes into the search's directory: hold it, so that it
	// reads a settled checkpoint and no search writes at the same time.
	if kind, err := rundir.Inspect(dir, runKind); err != nil || kind != runKind.Name {
		return nil, fmt.Errorf("search: %s holds no search checkpoint", dir)
	}
	rd, err := rundir.Open(dir, runKind)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer rd.Close()
	sn, ck, ds, err := loadTrained(dir, ds, be, true)
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	cfg := ck.Config
	learning, steps := controllerSteps(ck.History)
	queries := bc.Queries
	if queries == 0 {
		if queries = len(learning); queries == 0 {
			return nil, fmt.Errorf("baseline: the search in %s made no controller update after its warm-up: no budget to match (give the queries)", dir)
		}
	}
	m, err := cfg.Metric()
	if err != nil {
		return nil, err
	}
	cost, err := NewCost(cfg.Space, m, cfg.Objective)
	if err != nil {
		return nil, err
	}
	val, err := ds.ValidationStream(cfg.ValidationBatch, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	prob := &oneShot{ctx: ctx, sn: sn, cost: cost, space: cfg.Space, sizes: cfg.Space.Layout().Sizes, prog: newProgress(progressW),
		start: time.Now(), total: queries}
	if bc.EvalBatches == 0 {
		n := ds.Height() * ds.Width() * ds.Channels()
		prob.val, prob.steps = val, steps
		prob.vbuf = supernet.Batch{Images: make([]float32, cfg.ValidationBatch*n), Labels: make([]int32, cfg.ValidationBatch), Size: cfg.ValidationBatch}
	}
	// The batches are held in memory (2³¹ of them filled the machine's).
	if err := checkValidationBatches(bc.EvalBatches, ds.Validation.Len(), cfg.ValidationBatch); err != nil {
		return nil, fmt.Errorf("baseline: --eval-batches: %w", err)
	}
	for i := range bc.EvalBatches {
		b, err := val.Batch(i)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		prob.batch = append(prob.batch, supernet.Batch{Images: b.Images, Labels: b.Labels, Size: cfg.ValidationBatch})
	}
	rng := rand.New(rand.NewPCG(bc.Seed, 0xba5e))
	var r *nas.Result
	if bc.Algo == AlgoRandom {
		r, err = nas.RandomSearch(prob, cfg.Reward, queries, rng)
	} else {
		r, err = nas.Evolution(prob, cfg.Reward, queries, bc.Evolution, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", bc.Algo, err)
	}
	res = &BaselineResult{Config: bc, Search: cfg, ControllerEvaluations: len(learning), Queries: len(r.Trials), Trials: r.Trials}
	candidate := func(p nas.Point, q float64, name string) (*Candidate, error) {
		return newCandidate(cfg, cost, sn, ds, p, q, name)
	}
	if r.Best != nil {
		if res.Best, err = candidate(r.Best.Point, r.Best.Quality, fmt.Sprintf("%s_%s", bc.Algo, cfg.Objective)); err != nil {
			return nil, err
		}
		res.Best.Queries = len(r.Trials)
	}
	if sr, err := ReadResult(filepath.Join(dir, ResultFile)); err == nil {
		if res.Controller, err = candidate(sr.Final.Point, -1, sr.Final.Arch.Name); err != nil {
			return nil, err
		}
	}
	res.Seconds = time.Since(prob.start).Seconds()
	if err := writeJSON(filepath.Join(dir, BaselineFile(bc.Algo)), res); err != nil {
		return nil, err
	}
	return res, nil
}
