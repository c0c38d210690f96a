package tunas

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/blocks"
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
	// Algo is AlgoRandom or AlgoEvolution; Queries the number of points
	// evaluated.
	Algo    string `json:"algo"`
	Queries int    `json:"queries"`
	// EvalBatches validation batches (of the search's validation batch
	// size, the same for every point) give the one-shot accuracy Q.
	EvalBatches int                 `json:"eval_batches"`
	Seed        uint64              `json:"seed"`
	Evolution   nas.EvolutionConfig `json:"evolution"`
}

// DefaultBaseline is 300 queries, 4 validation batches, population 50 and
// tournaments of 10.
func DefaultBaseline(algo string) BaselineConfig {
	return BaselineConfig{Algo: algo, Queries: 300, EvalBatches: 4, Seed: 1, Evolution: nas.DefaultEvolution}
}

// Candidate is one architecture scored by a baseline.
type Candidate struct {
	Point   nas.Point    `json:"point"`
	Arch    *blocks.Arch `json:"arch"`
	Text    string       `json:"text"`
	Q       float64      `json:"q"`
	T       float64      `json:"t"`
	Reward  float64      `json:"reward"`
	Costs   Costs        `json:"costs"`
	Queries int          `json:"queries,omitempty"`
}

// BaselineResult is the content of baseline-ALGO.json.
type BaselineResult struct {
	Config BaselineConfig `json:"config"`
	Search Config         `json:"search"`
	// Best is the baseline's best point; Controller the one-shot search's
	// final architecture scored the same way, for comparison.
	Best       *Candidate  `json:"best"`
	Controller *Candidate  `json:"controller"`
	Trials     []nas.Trial `json:"trials"`
	Seconds    float64     `json:"seconds"`
}

// oneShot is the nas.Problem of a trained supernet: Q is the accuracy on a
// fixed set of validation batches, T the search's cost.
type oneShot struct {
	ctx   context.Context
	sn    *supernet.Supernet
	cost  *Cost
	batch []supernet.Batch
	sizes []int
	n     int
	prog  *progressLine
	start time.Time
	total int
}

func (o *oneShot) Sizes() []int { return o.sizes }

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
	ck, err := loadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("search: %s holds no search checkpoint", dir)
		}
		return nil, Config{}, nil, err
	}
	if ck.Synthetic {
		return nil, Config{}, nil, fmt.Errorf("search: %s is a synthetic-quality search without a supernet", dir)
	}
	cfg := ck.Config
	if ds == nil {
		if ds, err = data.NewLoader(cfg.Dataset).Validation(cfg.Validation).Load(); err != nil {
			return nil, cfg, nil, fmt.Errorf("search: %w", err)
		}
	}
	sn, err := cfg.supernet(ds).Backend(be).Build()
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("search: %w", err)
	}
	f, err := os.Open(ck.path)
	if err != nil {
		sn.Close()
		return nil, cfg, nil, fmt.Errorf("search: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(ck.offset, io.SeekStart); err != nil {
		sn.Close()
		return nil, cfg, nil, fmt.Errorf("search: %w", err)
	}
	if err := sn.ReadState(bufio.NewReaderSize(f, 1<<20)); err != nil {
		sn.Close()
		return nil, cfg, nil, fmt.Errorf("search: checkpoint %s: %w", ck.path, err)
	}
	return sn, cfg, ds, nil
}

// RunBaseline runs random search or regularised evolution on the objective
// and reward of the search in dir, with Q the one-shot accuracy of its
// trained supernet, and writes DIR/baseline-ALGO.json (atomically).
func RunBaseline(ctx context.Context, dir string, bc BaselineConfig, ds *data.Dataset, be compute.Backend, progressW io.Writer) (res *BaselineResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("baseline: internal error: %v", r)
		}
	}()
	if bc.Algo != AlgoRandom && bc.Algo != AlgoEvolution {
		return nil, fmt.Errorf("baseline: unknown algorithm %q (valid: %s, %s)", bc.Algo, AlgoRandom, AlgoEvolution)
	}
	if bc.Queries <= 0 || bc.EvalBatches <= 0 {
		return nil, fmt.Errorf("baseline: queries and evaluation batches must be positive, got %d and %d", bc.Queries, bc.EvalBatches)
	}
	sn, cfg, ds, err := LoadSupernet(dir, ds, be)
	if err != nil {
		return nil, err
	}
	defer sn.Close()
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
	prob := &oneShot{ctx: ctx, sn: sn, cost: cost, sizes: cfg.Space.Layout().Sizes, prog: newProgress(progressW),
		start: time.Now(), total: bc.Queries}
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
		r, err = nas.RandomSearch(prob, cfg.Reward, bc.Queries, rng)
	} else {
		r, err = nas.Evolution(prob, cfg.Reward, bc.Queries, bc.Evolution, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", bc.Algo, err)
	}
	res = &BaselineResult{Config: bc, Search: cfg, Trials: r.Trials, Seconds: time.Since(prob.start).Seconds()}
	candidate := func(p nas.Point, q float64, name string) (*Candidate, error) {
		a, err := cfg.Space.Arch(p)
		if err != nil {
			return nil, err
		}
		a.Name = name
		costs, err := cost.Breakdown(p)
		if err != nil {
			return nil, err
		}
		return &Candidate{Point: p, Arch: a, Text: a.String(), Q: q, T: costs.T, Reward: cfg.Reward.Value(q, costs.T), Costs: costs}, nil
	}
	if r.Best != nil {
		if res.Best, err = candidate(r.Best.Point, r.Best.Quality, fmt.Sprintf("%s_%s", bc.Algo, cfg.Objective)); err != nil {
			return nil, err
		}
		res.Best.Queries = len(r.Trials)
	}
	if sr, err := ReadResult(filepath.Join(dir, ResultFile)); err == nil {
		q, err := prob.quality(sr.Final.Point)
		if err != nil {
			return nil, err
		}
		if res.Controller, err = candidate(sr.Final.Point, q, sr.Final.Arch.Name); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(dir, "baseline-"+bc.Algo+".json"), res); err != nil {
		return nil, err
	}
	return res, nil
}
