package tunas

import (
	"context"
	"encoding/json"
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
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// The ranking study (`multihw search rank`): how well does the trained
// supernet's one-shot accuracy rank architectures by the accuracy they reach
// trained alone? A one-shot search is only as good as that ranking (Bender et
// al. 2018; Yu et al. 2020, "Evaluating the search phase of NAS"). The study
// scores N architectures of the search's space with the supernet on the whole
// validation split, trains each stand-alone at the search's proxy setting
// (same dataset and validation split, proxy width factor and small-input
// adaptation; package train's recipe), and reports the rank correlations
// with bootstrap intervals, the noise ceiling (the correlation between two
// stand-alone seeds: no proxy can rank better than training itself repeats),
// the correlation inside the cost band the search targets, and the top-k
// regret.

// Files of a ranking study's output directory.
const (
	// RankPlanFile holds the study's configuration and its architectures,
	// fixed at the start so that a resumed study trains the same ones.
	RankPlanFile = "rank-plan.json"
	// RankOneShotFile holds the one-shot accuracies scored so far.
	RankOneShotFile = "rank-oneshot.json"
	// RankResultFile holds the RankResult.
	RankResultFile = "rank.json"
	// RankRunsDir holds one ordinary training run per architecture and seed:
	// RankRunsDir/NAME/seedS.
	RankRunsDir = "standalone"
	// rankDir is a study's directory inside the search's (NewRank's
	// default output).
	rankDir = "rank"
)

// RankFormat names the format of rank.json and rank-plan.json.
const RankFormat = "multihw-rank/1"

// RankConfig configures a ranking study.
type RankConfig struct {
	// Archs is the number of architectures (at least 4): the search's final
	// architecture, MultiAVG and MultiMAX if they are points of the space, the
	// winners of the baselines run on the supernet (baseline-*.json), then
	// uniformly random points and random points within the cost band,
	// alternately.
	Archs int `json:"archs"`
	// Seeds is the number of stand-alone trainings (seeds 1..Seeds) of the
	// first Repeated architectures; the others are trained with seed 1.
	// Repeated 0 means a third of Archs, at least 4 (Archs if fewer), when
	// Seeds > 1.
	Seeds    int `json:"seeds"`
	Repeated int `json:"repeated"`
	// Band is the half-width of the cost band |T/T0 − 1| <= Band (TuNAS's
	// target region) of the in-band random architectures and of τ inside
	// the band.
	Band float64 `json:"band"`
	// Recipe trains every architecture stand-alone.
	Recipe train.Recipe `json:"recipe"`
	// Seed draws the random architectures and the bootstrap resamples.
	Seed uint64 `json:"seed"`
	// Bootstrap is the number of bootstrap resamples of the intervals.
	Bootstrap int `json:"bootstrap"`
	// TopK lists the k of the top-k regrets.
	TopK []int `json:"top_k"`
}

// DefaultRank is the study of the issue: 24 architectures, 2 seeds for a
// third of them, the ±10% cost band, train.DefaultRecipe, 2000 bootstrap
// resamples, top-1, top-3 and top-5 regret.
func DefaultRank() RankConfig {
	return RankConfig{Archs: 24, Seeds: 2, Band: 0.1, Recipe: train.DefaultRecipe(), Seed: 1, Bootstrap: 2000, TopK: []int{1, 3, 5}}
}

// Quick returns c shortened to a smoke run (a few minutes on 2 cores after
// a quick search): 4 architectures, each trained with 2 seeds for 40 steps
// (train.QuickRecipe).
func (c RankConfig) Quick() RankConfig {
	c.Archs, c.Seeds, c.Repeated = 4, 2, 4
	c.Recipe = train.QuickRecipe(40)
	c.Recipe.BNRecalibrationBatches = 4
	c.Bootstrap = 500
	return c
}

// repeated returns the number of architectures trained with every seed.
func (c RankConfig) repeated() int {
	switch {
	case c.Seeds <= 1:
		return 0
	case c.Repeated > 0:
		return c.Repeated
	}
	return min(c.Archs, max(4, (c.Archs+2)/3))
}

// Validate reports the first invalid field.
func (c RankConfig) Validate() error {
	switch {
	case c.Archs < 4:
		return fmt.Errorf("rank: need at least 4 architectures, got %d (a rank correlation of fewer says nothing)", c.Archs)
	case c.Seeds < 1:
		return fmt.Errorf("rank: seeds must be at least 1, got %d", c.Seeds)
	case c.Seeds > train.MaxSeeds:
		return fmt.Errorf("rank: seeds must be at most %d, got %d", train.MaxSeeds, c.Seeds)
	case c.Repeated < 0 || c.Repeated > c.Archs:
		return fmt.Errorf("rank: repeated architectures must be in [0, %d], got %d", c.Archs, c.Repeated)
	case !(c.Band > 0):
		return fmt.Errorf("rank: the cost band must be positive, got %g", c.Band)
	case c.Bootstrap < 100:
		return fmt.Errorf("rank: at least 100 bootstrap resamples, got %d", c.Bootstrap)
	}
	for _, k := range c.TopK {
		if k < 1 {
			return fmt.Errorf("rank: top-k regret needs k >= 1, got %d", k)
		}
	}
	if err := c.Recipe.Validate(); err != nil {
		return fmt.Errorf("rank: %w", err)
	}
	return nil
}

// RankArch is one architecture of the study.
type RankArch struct {
	// Name identifies it ("final", "multi_avg", "random-best", "uniform-03",
	// "band-02", ...) and names its runs; Source says where it comes from:
	// search, reference, baseline, uniform, band.
	Name   string    `json:"name"`
	Source string    `json:"source"`
	Point  nas.Point `json:"point"`
	// Text is the deployed architecture (Space.Arch) in the text form.
	Text string `json:"text"`
	// T is its cost under the search's objective; InBand whether
	// |T/T0 − 1| <= Band.
	T      float64 `json:"t"`
	InBand bool    `json:"in_band"`
	// Seeds are the stand-alone seeds it is trained with.
	Seeds []uint64 `json:"seeds"`
	// OneShot is the supernet's accuracy on the whole validation split.
	OneShot float64 `json:"one_shot"`
	// StandAlone and StandAloneValidation are the test and validation
	// accuracies of each seed's stand-alone run; Mean the mean test accuracy.
	StandAlone           []float64 `json:"stand_alone"`
	StandAloneValidation []float64 `json:"stand_alone_validation"`
	Mean                 float64   `json:"mean"`
	// Runs are the run directories, relative to the study's directory.
	Runs []string `json:"runs"`
}

// Regret is a top-k regret: the best stand-alone accuracy of all
// architectures minus the best among the k of highest one-shot accuracy.
type Regret struct {
	K      int         `json:"k"`
	Regret stats.Float `json:"regret"`
}

// RankResult is the content of rank.json.
type RankResult struct {
	Format string     `json:"format"`
	Config RankConfig `json:"config"`
	// Supernet is the search directory; Search its configuration.
	Supernet string     `json:"supernet"`
	Search   Config     `json:"search"`
	Archs    []RankArch `json:"archs"`
	// N is the number of architectures; KendallTau and Spearman the rank
	// correlations of their one-shot accuracies with their mean stand-alone
	// test accuracies, with percentile bootstrap 95% intervals (resampling
	// architectures).
	N            int            `json:"n"`
	KendallTau   stats.Float    `json:"kendall_tau"`
	KendallTauCI stats.Interval `json:"kendall_tau_ci"`
	Spearman     stats.Float    `json:"spearman"`
	SpearmanCI   stats.Interval `json:"spearman_ci"`
	// NoiseCeilingTau is Kendall's τ between the stand-alone test accuracies
	// of seeds 1 and 2 over the NoiseCeilingN repeated architectures (NaN
	// with fewer than 2 seeds).
	NoiseCeilingTau stats.Float    `json:"noise_ceiling_tau"`
	NoiseCeilingCI  stats.Interval `json:"noise_ceiling_ci"`
	NoiseCeilingN   int            `json:"noise_ceiling_n"`
	// SeedSD is the standard deviation of the stand-alone test accuracy
	// between seeds 1 and 2, pooled over the repeated architectures.
	SeedSD stats.Float `json:"seed_sd"`
	// BandTau is τ over the BandN architectures inside the cost band.
	BandTau stats.Float    `json:"band_kendall_tau"`
	BandCI  stats.Interval `json:"band_kendall_tau_ci"`
	BandN   int            `json:"band_n"`
	TopK    []Regret       `json:"top_k_regret"`
	// Seconds is the wall time of this process.
	Seconds float64 `json:"seconds"`
}

// rankPlan is rank-plan.json.
type rankPlan struct {
	Format   string     `json:"format"`
	Config   RankConfig `json:"config"`
	Supernet string     `json:"supernet"`
	Search   Config     `json:"search"`
	Archs    []RankArch `json:"archs"`
}

// Rank configures a ranking study: create it with NewRank, chain the
// options, call Run.
type Rank struct {
	cfg      RankConfig
	supernet string
	out      string
	ds       *data.Dataset
	be       compute.Backend
	progress io.Writer
	// afterRun, when set, is called after every stand-alone run (tests
	// interrupt the study there).
	afterRun func(name string, seed uint64)
}

// rankKind describes a ranking study's output directory: its files and the
// stand-alone training runs under RankRunsDir.
var rankKind = rundir.Kind{
	Name: "rank",
	Legacy: func(names []string) bool {
		return rundir.Only(names, RankPlanFile, RankOneShotFile, RankResultFile, RankRunsDir)
	},
	Owns: func(rel string) bool {
		return rel == RankPlanFile || rel == RankOneShotFile || rel == RankResultFile
	},
}

// NewRank starts a study of the trained supernet of the search in
// supernetDir, written to out (default: supernetDir/rank).
func NewRank(supernetDir string, cfg RankConfig) *Rank {
	return &Rank{cfg: cfg, supernet: supernetDir, out: filepath.Join(supernetDir, rankDir)}
}

// Out sets the output directory.
func (r *Rank) Out(dir string) *Rank { r.out = dir; return r }

// Dataset sets the (already loaded) dataset the search trained on; by
// default it is loaded from the search's configuration.
func (r *Rank) Dataset(ds *data.Dataset) *Rank { r.ds = ds; return r }

// Backend sets the compute backend.
func (r *Rank) Backend(be compute.Backend) *Rank { r.be = be; return r }

// Progress reports progress on w.
func (r *Rank) Progress(w io.Writer) *Rank { r.progress = w; return r }

// Run runs (or resumes: every step already done in the output directory is
// read back, every stand-alone run is an ordinary resumable training run)
// the study, writes rank.json and returns the result. It never panics.
func (r *Rank) Run(ctx context.Context) (res *RankResult, err error) {
	defer guard.Recover(&err, "rank")
	start := time.Now()
	cfg := r.cfg
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if r.out == "" {
		return nil, errors.New("rank: no output directory")
	}
	sn, ck, ds, err := loadTrained(r.supernet, r.ds, r.be, true)
	if err != nil {
		return nil, fmt.Errorf("rank: %w", err)
	}
	defer sn.Close()
	search := ck.Config
	prog := progress.New(r.progress)
	// A run directory (internal/rundir): a new or empty directory or an
	// earlier study, one process at a time.
	dir, err := rundir.Open(r.out, rankKind)
	if err != nil {
		return nil, fmt.Errorf("rank: %w", err)
	}
	defer dir.Close()
	(&rundir.Notes{W: r.progress}).Add(dir.Notes...)
	plan, err := r.plan(search)
	if err != nil {
		return nil, err
	}
	// One-shot accuracies, saved after each architecture.
	scores := map[string]float64{}
	if err := readJSON(filepath.Join(r.out, RankOneShotFile), &scores); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("rank: %w", err)
	}
	for i := range plan.Archs {
		a := &plan.Archs[i]
		if q, ok := scores[a.Name]; ok {
			a.OneShot = q
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prog.Line(fmt.Sprintf("rank: one-shot accuracy %d/%d (%s)", i+1, len(plan.Archs), a.Name), prog.TTY())
		if a.OneShot, err = OneShotAccuracy(sn, ds, search.ValidationBatch, a.Point); err != nil {
			return nil, fmt.Errorf("rank: %s: %w", a.Name, err)
		}
		scores[a.Name] = a.OneShot
		if err := writeJSON(filepath.Join(r.out, RankOneShotFile), scores); err != nil {
			return nil, err
		}
	}
	sn.Close()
	// Stand-alone runs: every architecture's seed 1 first, then the further
	// seeds, so that a partial study already ranks every architecture.
	total := 0
	for _, a := range plan.Archs {
		total += len(a.Seeds)
	}
	done := 0
	for s := range cfg.Seeds {
		for i := range plan.Archs {
			a := &plan.Archs[i]
			if s >= len(a.Seeds) {
				continue
			}
			done++
			seed := a.Seeds[s]
			prog.Line(fmt.Sprintf("rank: stand-alone run %d/%d (%s, seed %d)", done, total, a.Name, seed), prog.TTY())
			tr, rel, err := r.standAlone(ctx, search, ds, a, seed)
			if err != nil {
				return nil, err
			}
			a.Runs = append(a.Runs, rel)
			if tr.Test == nil || tr.Validation == nil {
				return nil, fmt.Errorf("rank: %s: the run has no test or validation evaluation", rel)
			}
			a.StandAlone = append(a.StandAlone, tr.Test.Accuracy)
			a.StandAloneValidation = append(a.StandAloneValidation, tr.Validation.Accuracy)
			if r.afterRun != nil {
				r.afterRun(a.Name, seed)
			}
		}
	}
	res = &RankResult{Format: RankFormat, Config: cfg, Supernet: r.supernet, Search: search, Archs: plan.Archs}
	res.analyse()
	res.Seconds = time.Since(start).Seconds()
	if err := writeJSON(filepath.Join(r.out, RankResultFile), res); err != nil {
		return nil, err
	}
	prog.Line(fmt.Sprintf("rank: %d architectures: Kendall τ %s, noise ceiling %s", res.N, res.KendallTau, res.NoiseCeilingTau), false)
	return res, nil
}

// plan returns the study's architectures: read back from rank-plan.json
// (checked against the configuration and the search), or drawn and written.
func (r *Rank) plan(search Config) (*rankPlan, error) {
	path := filepath.Join(r.out, RankPlanFile)
	var old rankPlan
	err := readJSON(path, &old)
	switch {
	case err == nil:
		if old.Format != RankFormat {
			return nil, fmt.Errorf("rank: %s has format %q, want %q", path, old.Format, RankFormat)
		}
		if !sameJSON(old.Search, search) {
			return nil, fmt.Errorf("rank: %s holds a study of another search (space %q, objective %s, seed %d) than %s (space %q, objective %s, seed %d); choose another output directory",
				r.out, old.Search.Space.Name, old.Search.Objective, old.Search.Seed, r.supernet, search.Space.Name, search.Objective, search.Seed)
		}
		if !sameJSON(old.Config, r.cfg) {
			return nil, fmt.Errorf("rank: cannot resume %s: its configuration differs from the one given:\n  study: %s\n  given: %s", r.out, jsonString(old.Config), jsonString(r.cfg))
		}
		return &old, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("rank: %w", err)
	}
	archs, err := r.draw(search)
	if err != nil {
		return nil, err
	}
	p := &rankPlan{Format: RankFormat, Config: r.cfg, Supernet: r.supernet, Search: search, Archs: archs}
	if err := writeJSON(path, p); err != nil {
		return nil, err
	}
	return p, nil
}

// draw chooses the architectures (see RankConfig.Archs).
func (r *Rank) draw(search Config) ([]RankArch, error) {
	m, err := search.Metric()
	if err != nil {
		return nil, err
	}
	cost, err := NewCost(search.Space, m, search.Objective)
	if err != nil {
		return nil, fmt.Errorf("rank: %w", err)
	}
	d := &rankDraw{cfg: r.cfg, sp: search.Space, cost: cost, t0: search.Reward.T0, seen: map[string]bool{}}
	if err := d.known(r.supernet); err != nil {
		return nil, err
	}
	if err := d.sample(); err != nil {
		return nil, err
	}
	for i := range d.archs {
		n := 1
		if i < d.cfg.repeated() {
			n = d.cfg.Seeds
		}
		for s := range n {
			d.archs[i].Seeds = append(d.archs[i].Seeds, uint64(s+1))
		}
	}
	return d.archs, nil
}

// rankDraw collects the distinct architectures of a ranking study.
type rankDraw struct {
	cfg   RankConfig
	sp    *nas.Space
	cost  *Cost
	t0    float64
	archs []RankArch
	seen  map[string]bool
}

// add appends point p as name (from source) unless the study is full or the
// architecture is already in it; it reports whether p was added.
func (d *rankDraw) add(name, source string, p nas.Point) (bool, error) {
	if len(d.archs) == d.cfg.Archs {
		return false, nil
	}
	a, err := d.sp.Arch(p)
	if err != nil {
		return false, fmt.Errorf("rank: %s: %w", name, err)
	}
	a.Name = ""
	text := a.String()
	if d.seen[text] {
		return false, nil
	}
	t, err := d.cost.T(p)
	if err != nil {
		return false, fmt.Errorf("rank: %s: %w", name, err)
	}
	d.seen[text] = true
	d.archs = append(d.archs, RankArch{Name: name, Source: source, Point: slices.Clone(p), Text: text, T: t,
		InBand: math.Abs(t/d.t0-1) <= d.cfg.Band})
	return true, nil
}

// known adds the search's final architecture, the reference models the space
// can express and the baselines' best architectures found in dir.
func (d *rankDraw) known(dir string) error {
	sr, err := ReadResult(filepath.Join(dir, ResultFile))
	if err != nil {
		return fmt.Errorf("rank: %w", err)
	}
	if _, err := d.add("final", "search", sr.Final.Point); err != nil {
		return err
	}
	for _, name := range []string{"multi_avg", "multi_max"} {
		ref, err := blocks.Model(name)
		if err != nil {
			return err
		}
		if p, err := d.sp.Encode(ref); err == nil {
			if _, err := d.add(name, "reference", p); err != nil {
				return err
			}
		}
	}
	for _, algo := range []string{AlgoRandom, AlgoEvolution} {
		var br BaselineResult
		if err := readJSON(filepath.Join(dir, BaselineFile(algo)), &br); err != nil || br.Best == nil {
			continue
		}
		if _, err := d.add(algo+"-best", "baseline", br.Best.Point); err != nil {
			return err
		}
	}
	return nil
}

// sample fills the study with uniform draws from the space, alternating with
// draws whose cost is within the band around T0.
func (d *rankDraw) sample() error {
	rng := rand.New(rand.NewPCG(d.cfg.Seed, 0x7a4c))
	nu, nb := 0, 0
	const maxDraws = 200000
	for draws := 0; len(d.archs) < d.cfg.Archs; draws++ {
		if draws == maxDraws {
			return fmt.Errorf("rank: found only %d distinct architectures (%d within ±%g of T0 = %g) in %d draws", len(d.archs), nb, d.cfg.Band, d.t0, maxDraws)
		}
		p := d.sp.Sample(rng, nil)
		if nu <= nb {
			added, err := d.add(fmt.Sprintf("uniform-%02d", nu+1), "uniform", p)
			if err != nil {
				return err
			}
			if added {
				nu++
			}
			continue
		}
		t, err := d.cost.T(p)
		if err != nil {
			return err
		}
		if math.Abs(t/d.t0-1) > d.cfg.Band {
			continue
		}
		added, err := d.add(fmt.Sprintf("band-%02d", nb+1), "band", p)
		if err != nil {
			return err
		}
		if added {
			nb++
		}
	}
	return nil
}

// standAlone trains architecture a with seed at the search's proxy setting,
// or reads back the result of a finished run. It returns the result and the
// run's directory relative to the study's.
func (r *Rank) standAlone(ctx context.Context, search Config, ds *data.Dataset, a *RankArch, seed uint64) (*train.Result, string, error) {
	rel := filepath.Join(RankRunsDir, a.Name, fmt.Sprintf("seed%d", seed))
	dir := filepath.Join(r.out, rel)
	var res train.Result
	if err := readJSON(filepath.Join(dir, train.ResultFile), &res); err == nil && res.Test != nil && res.Seed == seed {
		return &res, rel, nil
	}
	arch, err := search.Space.Arch(a.Point)
	if err != nil {
		return nil, "", fmt.Errorf("rank: %s: %w", a.Name, err)
	}
	arch.Name = a.Name
	tr, err := train.New(arch.WithWidth(search.WidthFactor), ds).Adapt(search.Adapt).Recipe(r.cfg.Recipe).Seed(seed).
		Out(dir).Resume(true).Backend(r.be).Progress(r.progress).Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, "", fmt.Errorf("rank: interrupted during %s (checkpoint saved); run the same command again to resume: %w", rel, err)
		}
		return nil, "", fmt.Errorf("rank: %s: %w", rel, err)
	}
	return tr, rel, nil
}

// analyse computes the statistics from the architectures' accuracies.
func (res *RankResult) analyse() {
	cfg := res.Config
	var oneShot, mean []float64
	for i := range res.Archs {
		a := &res.Archs[i]
		a.Mean = 0
		for _, v := range a.StandAlone {
			a.Mean += v / float64(len(a.StandAlone))
		}
		oneShot = append(oneShot, a.OneShot)
		mean = append(mean, a.Mean)
	}
	res.N = len(res.Archs)
	boot := func(n int, stat func(idx []int) float64) stats.Interval {
		return stats.Bootstrap(n, cfg.Bootstrap, 0.95, cfg.Seed, stat)
	}
	tau := func(x, y []float64) (stats.Float, stats.Interval) {
		if len(x) < 2 {
			return stats.Float(math.NaN()), stats.NaNInterval
		}
		return stats.Float(stats.KendallTauB(x, y)), boot(len(x), func(idx []int) float64 {
			return stats.KendallTauB(stats.Pick(x, idx), stats.Pick(y, idx))
		})
	}
	res.KendallTau, res.KendallTauCI = tau(oneShot, mean)
	res.Spearman = stats.Float(stats.Spearman(oneShot, mean))
	res.SpearmanCI = boot(res.N, func(idx []int) float64 {
		return stats.Spearman(stats.Pick(oneShot, idx), stats.Pick(mean, idx))
	})
	var s1, s2 []float64
	var ss float64
	for _, a := range res.Archs {
		if len(a.StandAlone) >= 2 {
			s1, s2 = append(s1, a.StandAlone[0]), append(s2, a.StandAlone[1])
			d := a.StandAlone[0] - a.StandAlone[1]
			ss += d * d / 2 // the variance of two values is (a−b)²/2
		}
	}
	res.NoiseCeilingN = len(s1)
	res.NoiseCeilingTau, res.NoiseCeilingCI = tau(s1, s2)
	res.SeedSD = stats.Float(math.NaN())
	if len(s1) > 0 {
		res.SeedSD = stats.Float(math.Sqrt(ss / float64(len(s1))))
	}
	var bx, by []float64
	for _, a := range res.Archs {
		if a.InBand {
			bx, by = append(bx, a.OneShot), append(by, a.Mean)
		}
	}
	res.BandN = len(bx)
	res.BandTau, res.BandCI = tau(bx, by)
	res.TopK = nil
	for _, k := range cfg.TopK {
		res.TopK = append(res.TopK, Regret{K: k, Regret: stats.Float(stats.TopKRegret(oneShot, mean, k))})
	}
}

// ReadRank reads a rank.json.
func ReadRank(path string) (*RankResult, error) {
	res := &RankResult{}
	if err := readJSON(path, res); err != nil {
		return nil, fmt.Errorf("rank result: %w", err)
	}
	if res.Format != RankFormat {
		return nil, fmt.Errorf("rank result %s has format %q, want %q", path, res.Format, RankFormat)
	}
	return res, nil
}

// readJSON decodes the JSON file at path into v (os.ErrNotExist, wrapped,
// when it is missing).
func readJSON(path string, v any) error {
	raw, err := memlimit.ReadFile(path, "ranking study file", maxSearchHeader)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Arch returns the study's architecture of the given name.
func (res *RankResult) Arch(name string) (*RankArch, bool) {
	for i := range res.Archs {
		if res.Archs[i].Name == name {
			return &res.Archs[i], true
		}
	}
	return nil, false
}

// Compare returns the difference of the mean stand-alone test accuracies of
// architectures a and b and its standard error from the pooled seed-to-seed
// SD: SD·√(1/k_a + 1/k_b) for k seeds each. ok is false if either is missing
// or the SD is unknown (fewer than 2 seeds anywhere).
func (res *RankResult) Compare(a, b string) (diff, se float64, ok bool) {
	x, okA := res.Arch(a)
	y, okB := res.Arch(b)
	sd := float64(res.SeedSD)
	if !okA || !okB || math.IsNaN(sd) || len(x.StandAlone) == 0 || len(y.StandAlone) == 0 {
		return 0, 0, false
	}
	return x.Mean - y.Mean, sd * math.Sqrt(1/float64(len(x.StandAlone))+1/float64(len(y.StandAlone))), true
}

// Findings states in plain sentences what the study's numbers support and
// what they do not: whether each correlation's 95% interval excludes chance,
// how it compares with the noise ceiling, and whether the top-1 regret and
// the differences between the search's architecture and the others exceed
// twice their standard error from seed noise.
func (res *RankResult) Findings() []string {
	f3 := func(v stats.Float) string { return fmt.Sprintf("%.3f", float64(v)) }
	ci := func(c stats.Interval) string { return "[" + f3(c.Lo) + ", " + f3(c.Hi) + "]" }
	undefined := func(v stats.Float, c stats.Interval) bool {
		return math.IsNaN(float64(v)) || math.IsNaN(float64(c.Lo)) || math.IsNaN(float64(c.Hi))
	}
	chance := func(what string, v stats.Float, c stats.Interval, n int) string {
		switch {
		case math.IsNaN(float64(v)):
			return fmt.Sprintf("%s is undefined (%d architectures, or accuracies all tied).", what, n)
		case undefined(v, c):
			return fmt.Sprintf("%s is %s over %d architectures, too few for an interval: no conclusion.", what, f3(v), n)
		case c.Lo > 0:
			return fmt.Sprintf("%s is %s, 95%% interval %s over %d architectures: better than chance (the interval excludes 0).", what, f3(v), ci(c), n)
		case c.Hi < 0:
			return fmt.Sprintf("%s is %s, 95%% interval %s over %d architectures: the ranking is inverted (the interval lies below 0).", what, f3(v), ci(c), n)
		}
		return fmt.Sprintf("%s is %s, 95%% interval %s over %d architectures: not distinguishable from chance (the interval includes 0).", what, f3(v), ci(c), n)
	}
	var out []string
	out = append(out, chance("Kendall's τ between one-shot and stand-alone accuracy", res.KendallTau, res.KendallTauCI, res.N))
	if undefined(res.NoiseCeilingTau, res.NoiseCeilingCI) {
		out = append(out, fmt.Sprintf("The noise ceiling is unknown (%d architectures with two seeds): nothing says how well training itself repeats.", res.NoiseCeilingN))
	} else {
		s := fmt.Sprintf("Two stand-alone seeds agree with τ = %s %s over %d architectures (the noise ceiling; seed-to-seed SD %.2f points)", f3(res.NoiseCeilingTau),
			ci(res.NoiseCeilingCI), res.NoiseCeilingN, 100*float64(res.SeedSD))
		switch {
		case undefined(res.KendallTau, res.KendallTauCI):
		case res.KendallTauCI.Hi < res.NoiseCeilingCI.Lo:
			s += ": the supernet ranks clearly below what a second training run achieves."
		default:
			s += ": the supernet's τ is not resolved from this ceiling (the intervals overlap)."
		}
		out = append(out, s)
	}
	out = append(out, chance(fmt.Sprintf("Inside the cost band |T/T0 − 1| ≤ %g, where the search chooses, τ", res.Config.Band), res.BandTau, res.BandCI, res.BandN))
	sd := float64(res.SeedSD)
	for _, r := range res.TopK {
		if r.K != 1 || math.IsNaN(float64(r.Regret)) {
			continue
		}
		s := fmt.Sprintf("Training only the architecture the supernet ranks first loses %.2f points of stand-alone test accuracy against the best of the %d", 100*float64(r.Regret), res.N)
		if !math.IsNaN(sd) {
			if float64(r.Regret) > 2*sd {
				s += fmt.Sprintf(", more than twice the seed-to-seed SD (%.2f): a real loss.", 100*sd)
			} else {
				s += fmt.Sprintf(", within twice the seed-to-seed SD (%.2f): not resolved from seed noise.", 100*sd)
			}
		} else {
			s += " (seed noise unknown)."
		}
		out = append(out, s)
	}
	for _, other := range []string{"multi_avg", "multi_max", AlgoRandom + "-best", AlgoEvolution + "-best"} {
		d, se, ok := res.Compare("final", other)
		if !ok {
			continue
		}
		verdict := "not resolved (within two standard errors of seed noise)"
		if math.Abs(d) > 2*se {
			verdict = "resolved (beyond two standard errors of seed noise)"
		}
		out = append(out, fmt.Sprintf("The search's architecture trains to %+.2f points against %s (± %.2f standard error): %s.", 100*d, other, 100*se, verdict))
	}
	return out
}

// Summary describes the study in a few lines: each architecture's cost,
// one-shot and stand-alone accuracies, then the rank correlations with their
// intervals, the noise ceiling, τ inside the cost band and the top-k regret.
func (res *RankResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-9s %7s %5s %9s %s\n", "architecture", "source", "T", "band", "one-shot", "stand-alone (test, per seed)")
	for _, a := range res.Archs {
		band := ""
		if a.InBand {
			band = "yes"
		}
		fmt.Fprintf(&b, "%-16s %-9s %7.3f %5s %9.4f", a.Name, a.Source, a.T, band, a.OneShot)
		for _, v := range a.StandAlone {
			fmt.Fprintf(&b, " %.4f", v)
		}
		b.WriteString("\n")
	}
	f := func(v stats.Float) string { return v.String() }
	fmt.Fprintf(&b, "n = %d: Kendall τ %s [%s, %s], Spearman %s [%s, %s] (95%% bootstrap intervals)\n", res.N,
		f(res.KendallTau), f(res.KendallTauCI.Lo), f(res.KendallTauCI.Hi), f(res.Spearman), f(res.SpearmanCI.Lo), f(res.SpearmanCI.Hi))
	fmt.Fprintf(&b, "noise ceiling (τ between seeds 1 and 2, %d architectures): %s [%s, %s]; seed-to-seed SD %s\n", res.NoiseCeilingN,
		f(res.NoiseCeilingTau), f(res.NoiseCeilingCI.Lo), f(res.NoiseCeilingCI.Hi), f(res.SeedSD))
	fmt.Fprintf(&b, "inside the ±%g cost band (%d architectures): τ %s [%s, %s]\n", res.Config.Band, res.BandN,
		f(res.BandTau), f(res.BandCI.Lo), f(res.BandCI.Hi))
	for _, r := range res.TopK {
		fmt.Fprintf(&b, "top-%d regret: %s\n", r.K, f(r.Regret))
	}
	fmt.Fprintf(&b, "%.0f s\n", res.Seconds)
	return b.String()
}
