package predict

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Gradient-boosted regression trees on the residuals of the linear model: they
// learn what a sum of per-op costs cannot express (a conv next to a conv, an
// extra node, ...). The loss is Huber's, like the linear stage, so that a few
// wild measurements do not grow trees of their own.

// treeNode is a node of a regression tree: a leaf when left < 0.
type treeNode struct {
	feat        int32
	left, right int32
	thr         float64 // go left when x[feat] <= thr
	value       float64 // leaf output (already scaled by the learning rate)
}

type tree []treeNode

func (t tree) predict(x []float64) float64 {
	i := int32(0)
	for t[i].left >= 0 {
		if x[t[i].feat] <= t[i].thr {
			i = t[i].left
		} else {
			i = t[i].right
		}
	}
	return t[i].value
}

// ensemble is a sum of trees.
type ensemble []tree

func (e ensemble) predict(x []float64) float64 {
	s := 0.0
	for _, t := range e {
		s += t.predict(x)
	}
	return s
}

// booster holds the tree settings.
type booster struct {
	depth     int     // levels of splits
	minLeaf   int     // fewest training rows in a leaf
	rate      float64 // learning rate (shrinkage per tree)
	subsample float64 // fraction of rows each tree sees
}

// binned is a training matrix with each feature's distinct values indexed,
// so that split search is a histogram scan (features are small counts).
type binned struct {
	bins [][]uint16  // [feature][row] bin index
	thr  [][]float64 // [feature][bin] threshold between bin and bin+1
	nb   []int       // bins per feature
}

func binFeatures(X [][]float64) *binned {
	p := len(X[0])
	b := &binned{bins: make([][]uint16, p), thr: make([][]float64, p), nb: make([]int, p)}
	vals := make([]float64, len(X))
	for f := 0; f < p; f++ {
		for i, x := range X {
			vals[i] = x[f]
		}
		u := slices.Clone(vals)
		slices.Sort(u)
		u = slices.Compact(u)
		if len(u) > math.MaxUint16 {
			u = u[:0] // not a count feature: never split on it
		}
		b.nb[f] = len(u)
		b.thr[f] = make([]float64, max(0, len(u)-1))
		for k := range b.thr[f] {
			b.thr[f][k] = (u[k] + u[k+1]) / 2
		}
		b.bins[f] = make([]uint16, len(X))
		for i, v := range vals {
			k, _ := slices.BinarySearch(u, v)
			b.bins[f][i] = uint16(k)
		}
	}
	return b
}

// grow fits one tree to targets g over rows.
func (cfg booster) grow(b *binned, g []float64, rows []int) tree {
	var t tree
	sum := make([]float64, 0, 64)
	cnt := make([]int, 0, 64)
	var build func(rows []int, depth int) int32
	build = func(rows []int, depth int) int32 {
		me := int32(len(t))
		total := 0.0
		for _, i := range rows {
			total += g[i]
		}
		n := len(rows)
		t = append(t, treeNode{left: -1, right: -1, value: cfg.rate * total / float64(n)})
		if depth == 0 || n < 2*cfg.minLeaf {
			return me
		}
		base := total * total / float64(n)
		bestGain, bestF, bestK := 1e-9*base, -1, 0 // ignore splits that gain nothing
		for f, bins := range b.bins {
			nb := b.nb[f]
			if nb < 2 {
				continue
			}
			sum = append(sum[:0], make([]float64, nb)...)
			cnt = append(cnt[:0], make([]int, nb)...)
			for _, i := range rows {
				k := bins[i]
				sum[k] += g[i]
				cnt[k]++
			}
			ls, ln := 0.0, 0
			for k := 0; k < nb-1; k++ {
				ls += sum[k]
				ln += cnt[k]
				if cnt[k] == 0 { // same partition as the previous threshold
					continue
				}
				rn := n - ln
				if ln < cfg.minLeaf || rn < cfg.minLeaf {
					continue
				}
				rs := total - ls
				gain := ls*ls/float64(ln) + rs*rs/float64(rn) - base
				if gain > bestGain {
					bestGain, bestF, bestK = gain, f, k
				}
			}
		}
		if bestF < 0 {
			return me
		}
		var left, right []int
		for _, i := range rows {
			if int(b.bins[bestF][i]) <= bestK {
				left = append(left, i)
			} else {
				right = append(right, i)
			}
		}
		t[me].feat, t[me].thr = int32(bestF), b.thr[bestF][bestK]
		l := build(left, depth-1)
		r := build(right, depth-1)
		t[me].left, t[me].right = l, r
		return me
	}
	build(rows, cfg.depth)
	return t
}

// boostRun is boosting in progress: one tree per step, so that
// cross-validation can advance all folds in lockstep and stop early.
type boostRun struct {
	cfg   booster
	b     *binned
	X     [][]float64
	r, g  []float64 // residuals and their clipped (Huber) gradients
	delta float64
	rng   *rand.Rand
	rows  []int
}

// start prepares boosting on the residuals res (measured − linear prediction)
// under Huber's loss with threshold delta.
func (cfg booster) start(X [][]float64, res []float64, delta float64, rng *rand.Rand) *boostRun {
	return &boostRun{cfg: cfg, b: binFeatures(X), X: X, r: slices.Clone(res), g: make([]float64, len(res)),
		delta: delta, rng: rng, rows: make([]int, 0, len(X))}
}

// step fits one more tree and returns it.
func (br *boostRun) step() tree {
	for i, v := range br.r {
		br.g[i] = max(-br.delta, min(br.delta, v))
	}
	br.rows = br.rows[:0]
	for i := range br.X {
		if br.rng.Float64() < br.cfg.subsample {
			br.rows = append(br.rows, i)
		}
	}
	if len(br.rows) < 2*br.cfg.minLeaf {
		br.rows = br.rows[:0]
		for i := range br.X {
			br.rows = append(br.rows, i)
		}
	}
	t := br.cfg.grow(br.b, br.g, br.rows)
	for i, x := range br.X {
		br.r[i] -= t.predict(x)
	}
	return t
}

// boost fits rounds trees (see start).
func (cfg booster) boost(X [][]float64, res []float64, delta float64, rounds int, rng *rand.Rand) ensemble {
	if rounds == 0 || len(X) == 0 {
		return nil
	}
	br := cfg.start(X, res, delta, rng)
	e := make(ensemble, rounds)
	for i := range e {
		e[i] = br.step()
	}
	return e
}
