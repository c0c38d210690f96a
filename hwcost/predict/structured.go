package predict

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// Structured is the structure-aware predictor. Its latency model is
//
//	constant + Σ over positions that run of cost(group, op)
//	         + Σ over positions that do not run of cost_dead(group, op)
//	         + Σ per-position deviations (penalised by λ)
//	         + structural terms (Space.Extra)
//	         + boosted trees on what remains,
//
// fitted with Huber's robust loss. In words:
//
//   - Structure: positions whose layers have the same shapes share op costs
//     (Space.Groups), so 900 measurements estimate far fewer numbers;
//     per-position deviations are learned too but shrunk towards the shared
//     cost by a ridge penalty λ chosen by K-fold cross-validation (a large λ
//     means "position does not matter").
//   - What runs: an op on an NB201 edge that cannot reach the output, or that
//     reads a node that is always zero, is dead (Space.Live). Whether a device
//     still pays for dead ops depends on its toolchain (BRP-NAS's compiled
//     models drop them, HELP's PyTorch models run every edge), so dead ops get
//     their own costs and the data decides.
//   - Robustness: on-device timings have heavy-tailed noise (a few
//     measurements are 10-100× off); least squares chases them, Huber's loss
//     (iteratively reweighted least squares, MAD scale) does not.
//   - Interactions: gradient-boosted depth-3 trees fit the residuals of the
//     linear model; the number of trees (possibly 0) is chosen by the same
//     cross-validation, so they are only used when they help on held-out folds.
//
// Configuration is builder-style; the zero configuration is not valid, use
// [NewStructured].
type Structured struct {
	folds     int
	lambdas   []float64
	maxRounds int
	patience  int
	seed      uint64
	trees     booster

	// Fitted state.
	space  *Space
	des    *design
	beta   []float64
	boost  ensemble
	lambda float64
	rounds int
	scale  float64
}

// NewStructured returns a structured predictor with its default settings:
// 5 folds, λ ∈ {1/16, 1/4, 1, 4, ..., 16384}, up to 1000 trees (stopping after 50
// without progress) of depth 3 with learning rate 0.1 on 80% subsamples,
// seed 1.
func NewStructured() *Structured {
	return &Structured{
		folds:     5,
		lambdas:   []float64{1.0 / 16, 1.0 / 4, 1, 4, 16, 64, 256, 1024, 4096, 16384},
		maxRounds: 1000,
		patience:  50,
		seed:      1,
		trees:     booster{depth: 3, minLeaf: 10, rate: 0.1, subsample: 0.8},
	}
}

// Name implements Predictor.
func (*Structured) Name() string { return "structured" }

// Folds sets the number of cross-validation folds (at least 2).
func (s *Structured) Folds(k int) *Structured { s.folds = k; return s }

// Lambdas sets the candidate penalties on per-position deviations.
func (s *Structured) Lambdas(l ...float64) *Structured { s.lambdas = slices.Clone(l); return s }

// MaxRounds sets the largest number of boosted trees; 0 disables the trees.
func (s *Structured) MaxRounds(n int) *Structured { s.maxRounds = n; return s }

// Patience sets how many trees cross-validation adds without improvement
// before it stops looking.
func (s *Structured) Patience(n int) *Structured { s.patience = n; return s }

// Seed sets the seed of the folds and of the tree subsampling.
func (s *Structured) Seed(seed uint64) *Structured { s.seed = seed; return s }

// Chosen returns what cross-validation picked at the last Fit: the penalty λ
// and the number of trees.
func (s *Structured) Chosen() (lambda float64, rounds int) { return s.lambda, s.rounds }

func (s *Structured) validate() error {
	if s.folds < 2 {
		return fmt.Errorf("structured predictor: %d folds, need at least 2", s.folds)
	}
	if len(s.lambdas) == 0 {
		return fmt.Errorf("structured predictor: no candidate λ")
	}
	for _, l := range s.lambdas {
		if !(l >= 0) || math.IsInf(l, 0) {
			return fmt.Errorf("structured predictor: λ %g must be finite and non-negative", l)
		}
	}
	if s.maxRounds < 0 || s.patience < 1 {
		return fmt.Errorf("structured predictor: max rounds %d must be ≥ 0 and patience %d ≥ 1", s.maxRounds, s.patience)
	}
	return nil
}

// Fit implements Predictor.
func (s *Structured) Fit(d *Dataset) error {
	if err := s.validate(); err != nil {
		return err
	}
	if err := d.check(); err != nil {
		return err
	}
	if err := checkTrainSize(d); err != nil {
		return err
	}
	des := newDesign(d.Space)
	n := d.Len()
	cv := &structuredCV{X: make([]sparseRow, n), dense: make([][]float64, n), y: d.Latency, fold: make([]int, n), des: des}
	for i, a := range d.Archs {
		cv.X[i] = des.row(a)
		cv.dense[i] = des.dense(cv.X[i])
	}
	// Cross-validation: fold k holds the rows with fold[i] == k.
	for k, i := range rand.New(rand.NewPCG(s.seed, 0xf01d)).Perm(n) {
		cv.fold[i] = k % s.folds
	}
	fits, err := s.chooseLambda(cv)
	if err != nil {
		return fmt.Errorf("%s: structured fit: %w", d.Source, err)
	}
	s.rounds = 0
	if s.maxRounds > 0 {
		s.chooseRounds(cv, fits)
	}
	beta, scale, err := fitHuber(cv.X, cv.y, des.pen, s.lambda, des.p, nil)
	if err != nil {
		return fmt.Errorf("%s: structured fit: %w", d.Source, err)
	}
	res := make([]float64, n)
	for i, row := range cv.X {
		res[i] = cv.y[i] - row.dot(beta)
	}
	rng := rand.New(rand.NewPCG(s.seed, 0))
	s.boost = s.trees.boost(cv.dense, res, huberK*scale, s.rounds, rng)
	s.space, s.des, s.beta, s.scale = d.Space, des, beta, scale
	return nil
}

// structuredCV is the training set of a structured fit, split into folds.
type structuredCV struct {
	X     []sparseRow
	dense [][]float64
	y     []float64
	fold  []int
	des   *design
}

// foldFit is the linear model fitted without one fold.
type foldFit struct {
	beta  []float64
	scale float64
}

// chooseLambda sets s.lambda to the penalty of least cross-validated absolute
// error and returns, per fold, the linear fit at that penalty. Folds run
// concurrently (each walks the λ grid with warm starts); sums are taken in a
// fixed order afterwards, so results do not depend on scheduling.
func (s *Structured) chooseLambda(cv *structuredCV) ([]foldFit, error) {
	fits := make([][]foldFit, len(s.lambdas)) // [λ][fold]
	foldErr := make([][]float64, len(s.lambdas))
	for li := range fits {
		fits[li] = make([]foldFit, s.folds)
		foldErr[li] = make([]float64, s.folds)
	}
	errs := make([]error, s.folds)
	var wg sync.WaitGroup
	for k := 0; k < s.folds; k++ {
		wg.Go(func() {
			tx, ty, vx, vy := splitRows(cv.X, cv.y, cv.fold, k)
			var init []float64 // warm start: the fit at the previous λ
			for li, lam := range s.lambdas {
				beta, scale, err := fitHuber(tx, ty, cv.des.pen, lam, cv.des.p, init)
				if err != nil {
					errs[k] = err
					return
				}
				fits[li][k], init = foldFit{beta, scale}, beta
				for i, row := range vx {
					foldErr[li][k] += math.Abs(vy[i] - row.dot(beta))
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cvErr := make([]float64, len(s.lambdas))
	for li := range cvErr {
		for _, e := range foldErr[li] {
			cvErr[li] += e
		}
	}
	best := argmin(cvErr)
	s.lambda = s.lambdas[best]
	return fits[best], nil
}

// chooseRounds sets s.rounds, the number of trees: the held-out curve of
// absolute error, summed over folds, from 0 trees (the linear model alone)
// on; all folds advance in lockstep and stop once patience rounds bring no
// new minimum. Trees must earn their place: the held-out improvement over the
// linear model, row by row, must be significant (minGainSE). Otherwise noise
// that happened to favour some trees in the folds would be fitted (seen on
// HELP's Xeon columns).
func (s *Structured) chooseRounds(cv *structuredCV, fits []foldFit) {
	runs := make([]*boostRun, s.folds)
	vx := make([][][]float64, s.folds)
	vres := make([][]float64, s.folds)
	linRes := make([][]float64, s.folds)  // held-out residuals of the linear model
	bestRes := make([][]float64, s.folds) // ... with the best number of trees so far
	curve := []float64{0}
	for k := range runs {
		ff := fits[k]
		var tx [][]float64
		var tres []float64
		for i := range cv.X {
			r := cv.y[i] - cv.X[i].dot(ff.beta)
			if cv.fold[i] == k {
				vx[k], vres[k] = append(vx[k], cv.dense[i]), append(vres[k], r)
			} else {
				tx, tres = append(tx, cv.dense[i]), append(tres, r)
			}
		}
		curve[0] += meanAbs(vres[k]) * float64(len(vres[k]))
		linRes[k], bestRes[k] = slices.Clone(vres[k]), slices.Clone(vres[k])
		runs[k] = s.trees.start(tx, tres, huberK*ff.scale, rand.New(rand.NewPCG(s.seed, uint64(k)+1)))
	}
	foldTotal := make([]float64, s.folds)
	for round := 1; round <= s.maxRounds && round-s.rounds <= s.patience; round++ {
		var wg sync.WaitGroup
		for k, run := range runs {
			wg.Go(func() {
				t := run.step()
				for i, x := range vx[k] {
					vres[k][i] -= t.predict(x)
				}
				foldTotal[k] = meanAbs(vres[k]) * float64(len(vres[k]))
			})
		}
		wg.Wait()
		total := 0.0
		for _, v := range foldTotal {
			total += v
		}
		curve = append(curve, total)
		if total < curve[s.rounds] {
			s.rounds = round
			for k := range vres {
				copy(bestRes[k], vres[k])
			}
		}
	}
	var diff []float64
	for k := range vres {
		for i, r0 := range linRes[k] {
			diff = append(diff, math.Abs(r0)-math.Abs(bestRes[k][i]))
		}
	}
	if mean, se := meanSE(diff); mean <= minGainSE*se {
		s.rounds = 0
	}
}

// minGainSE is how many standard errors of the paired held-out difference
// the trees must gain over the linear model to be kept: a one-sided test at
// the 5% level.
const minGainSE = 1.645

// meanSE returns the mean of x and its standard error.
func meanSE(x []float64) (mean, se float64) {
	n := float64(len(x))
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= n
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// splitRows separates fold k (validation) from the others (training).
func splitRows(X []sparseRow, y []float64, fold []int, k int) (tx []sparseRow, ty []float64, vx []sparseRow, vy []float64) {
	for i := range X {
		if fold[i] == k {
			vx, vy = append(vx, X[i]), append(vy, y[i])
		} else {
			tx, ty = append(tx, X[i]), append(ty, y[i])
		}
	}
	return
}

// Predict implements Predictor.
func (s *Structured) Predict(a Arch) float64 {
	if s.space == nil || s.space.Check(a) != nil {
		return math.NaN()
	}
	row := s.des.row(a)
	v := row.dot(s.beta)
	if len(s.boost) > 0 {
		v += s.boost.predict(s.des.dense(row))
	}
	return v
}

// design maps architectures to the structured model's columns:
//
//	0                      constant
//	shared(g, live, op)    count of positions of group g holding op, live or dead
//	own(pos, live, op)     deviation of one position (groups of ≥ 2 positions only; penalised)
//	extra(k)               Space.Extra features
type design struct {
	s          *Space
	nLive      int   // 2 when the space distinguishes dead positions, else 1
	nOps       int   // ops other than Zero
	own        []int // position → slot among positions with their own columns, or -1
	baseShared int
	baseOwn    int
	baseExtra  int
	p          int
	pen        []float64
}

func newDesign(s *Space) *design {
	d := &design{s: s, nLive: 1, nOps: len(s.Ops) - 1}
	if s.Live != nil {
		d.nLive = 2
	}
	size := make(map[int]int)
	for p := 0; p < s.Positions; p++ {
		size[s.group(p)]++
	}
	d.own = make([]int, s.Positions)
	slots := 0
	for p := range d.own {
		d.own[p] = -1
		if size[s.group(p)] > 1 {
			d.own[p] = slots
			slots++
		}
	}
	d.baseShared = 1
	d.baseOwn = d.baseShared + s.numGroups()*d.nLive*d.nOps
	d.baseExtra = d.baseOwn + slots*d.nLive*d.nOps
	d.p = d.baseExtra + len(s.ExtraNames)
	d.pen = make([]float64, d.p)
	for j := d.baseOwn; j < d.baseExtra; j++ {
		d.pen[j] = 1
	}
	return d
}

func (d *design) opRank(op int) int {
	if op > d.s.Zero {
		return op - 1
	}
	return op
}

func (d *design) row(a Arch) sparseRow {
	r := sparseRow{idx: make([]int32, 1, 2*len(a)+4), val: make([]float64, 1, 2*len(a)+4)}
	r.val[0] = 1
	var live []bool
	if d.s.Live != nil {
		live = d.s.Live(a)
	}
	// Shared columns are counts; a slice (not a map) keeps the order, and so
	// the floating-point sums, deterministic.
	var shared []int32
	var counts []float64
	for p, op := range a {
		if op == d.s.Zero {
			continue
		}
		l := 0
		if live != nil && !live[p] {
			l = 1
		}
		j := int32(d.baseShared + (d.s.group(p)*d.nLive+l)*d.nOps + d.opRank(op))
		if k := slices.Index(shared, j); k >= 0 {
			counts[k]++
		} else {
			shared, counts = append(shared, j), append(counts, 1)
		}
		if slot := d.own[p]; slot >= 0 {
			r.idx = append(r.idx, int32(d.baseOwn+(slot*d.nLive+l)*d.nOps+d.opRank(op)))
			r.val = append(r.val, 1)
		}
	}
	r.idx = append(r.idx, shared...)
	r.val = append(r.val, counts...)
	if d.s.Extra != nil {
		for k, v := range d.s.Extra(a) {
			if v != 0 {
				r.idx = append(r.idx, int32(d.baseExtra+k))
				r.val = append(r.val, v)
			}
		}
	}
	return r
}

// dense returns the row without its constant column, for the trees.
func (d *design) dense(r sparseRow) []float64 {
	x := make([]float64, d.p-1)
	for k, j := range r.idx {
		if j > 0 {
			x[j-1] += r.val[k]
		}
	}
	return x
}

// OpCost returns the fitted shared cost (ms) of op in a group of positions
// (Space.Groups), for positions that run (live) or cannot run (!live; spaces
// without Space.Live only have live costs). The zero op costs 0; invalid
// arguments or an unfitted predictor give NaN.
func (s *Structured) OpCost(group, op int, live bool) float64 {
	if s.space == nil || group < 0 || group >= s.space.numGroups() || op < 0 || op >= len(s.space.Ops) || (!live && s.des.nLive == 1) {
		return math.NaN()
	}
	if op == s.space.Zero {
		return 0
	}
	l := 0
	if !live {
		l = 1
	}
	return s.beta[s.des.baseShared+(group*s.des.nLive+l)*s.des.nOps+s.des.opRank(op)]
}

// Explain writes the fitted linear part in words: the shared op costs of each
// group of positions (for ops that run and, where the space tells, for ops
// that cannot run), the largest per-position deviation, the structural terms,
// and what cross-validation chose. The boosted trees are summarised by their
// count only. Terms that never vary in the training set (output connected,
// when only connected cells were measured) split their value with the
// constant.
func (s *Structured) Explain(w io.Writer) error {
	if s.space == nil {
		return fmt.Errorf("structured predictor: Explain before Fit")
	}
	d, sp := s.des, s.space
	var b strings.Builder
	fmt.Fprintf(&b, "structured latency model on %s: λ %g, %d boosted trees, noise scale (MAD) %.4g ms\n", sp.Name, s.lambda, s.rounds, s.scale)
	fmt.Fprintf(&b, "constant %.4g ms; op costs in ms", s.beta[0])
	if d.nLive == 2 {
		fmt.Fprintf(&b, " (live / dead: ops that cannot run)")
	}
	fmt.Fprintf(&b, ":\n%-16s", "positions")
	for op, name := range sp.Ops {
		if op != sp.Zero {
			fmt.Fprintf(&b, " %15s", name)
		}
	}
	b.WriteByte('\n')
	for g := 0; g < sp.numGroups(); g++ {
		var pos []string
		for p := 0; p < sp.Positions; p++ {
			if sp.group(p) == g {
				pos = append(pos, fmt.Sprint(p))
			}
		}
		fmt.Fprintf(&b, "%-16s", strings.Join(pos, ","))
		for op := range sp.Ops {
			if op == sp.Zero {
				continue
			}
			live := s.OpCost(g, op, true)
			if d.nLive == 2 {
				fmt.Fprintf(&b, " %15s", fmt.Sprintf("%.3g / %.3g", live, s.OpCost(g, op, false)))
			} else {
				fmt.Fprintf(&b, " %15.3g", live)
			}
		}
		b.WriteByte('\n')
	}
	dev := 0.0
	for j := d.baseOwn; j < d.baseExtra; j++ {
		dev = max(dev, math.Abs(s.beta[j]))
	}
	fmt.Fprintf(&b, "largest per-position deviation %.3g ms\n", dev)
	for k, name := range sp.ExtraNames {
		fmt.Fprintf(&b, "%s: %.3g ms\n", name, s.beta[d.baseExtra+k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
