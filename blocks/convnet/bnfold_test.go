package convnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/backend"
)

// TestFoldBatchNormValues: hand-derived. ε = 1; channel 0: γ 2, var 3 →
// scale 2/√4 = 1, β 1, mean 0.5 → b' = 1 − 0.5 = 0.5; channel 1: γ 0.5,
// var 0 → scale 0.5/√1 = 0.5, β −1, mean 2 → b' = −1 − 1 = −2. Weights
// [2 rows, 2 channels] [1 2; 3 4] → [1·1 2·0.5; 3·1 4·0.5] = [1 1; 3 2].
func TestFoldBatchNormValues(t *testing.T) {
	w, b, err := FoldBatchNorm([]float32{1, 2, 3, 4}, []float32{2, 0.5}, []float32{1, -1}, []float32{0.5, 2}, []float32{3, 0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w, []float32{1, 1, 3, 2}) || !slices.Equal(b, []float32{0.5, -2}) {
		t.Errorf("folded weights %v, bias %v; want [1 1 3 2], [0.5 -2]", w, b)
	}
	for _, c := range []struct {
		name                 string
		w, g, bt, mean, vari []float32
		eps                  float64
		want                 string
	}{
		{"lengths", []float32{1, 2}, []float32{1, 1}, []float32{0}, []float32{0, 0}, []float32{1, 1}, 1e-3, "lengths 2, 1, 2, 2"},
		{"rows", []float32{1, 2, 3}, []float32{1, 1}, []float32{0, 0}, []float32{0, 0}, []float32{1, 1}, 1e-3, "3 weights"},
		{"epsilon", []float32{1, 2}, []float32{1, 1}, []float32{0, 0}, []float32{0, 0}, []float32{1, 1}, 0, "epsilon"},
		{"negative variance", []float32{1, 2}, []float32{1, 1}, []float32{0, 0}, []float32{0, 0}, []float32{1, -2}, 1e-3, "channel 1"},
		{"NaN", []float32{1, 2}, []float32{float32(math.NaN()), 1}, []float32{0, 0}, []float32{0, 0}, []float32{1, 1}, 1e-3, "channel 0"},
	} {
		if _, _, err := FoldBatchNorm(c.w, c.g, c.bt, c.mean, c.vari, c.eps); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestFoldBatchNormMatchesGraph: a k×k convolution followed by BatchNorm at
// inference (the graph blocks/convnet runs) equals the convolution with the
// folded weights plus the folded bias, up to float32 rounding.
func TestFoldBatchNormMatchesGraph(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	const k, cin, cout, eps = 3, 4, 5, 1e-3
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int, lo, hi float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = lo + (hi-lo)*rng.Float32()
		}
		return v
	}
	x := rnd(2*6*6*cin, -1, 1)
	w := rnd(k*k*cin*cout, -1, 1)
	bn := map[string][]float32{BNGamma: rnd(cout, 0.5, 1.5), BNBeta: rnd(cout, -1, 1), BNMovingMean: rnd(cout, -1, 1), BNMovingVariance: rnd(cout, 0.1, 2)}
	store := model.NewStore()
	defer store.Finalize()
	for name, v := range bn {
		if _, err := store.CreateVariable("/"+ScopeBN+"/"+name, tensors.FromFlatDataAndDimensions(v, cout)); err != nil {
			t.Fatal(err)
		}
	}
	folded, bias, err := FoldBatchNorm(w, bn[BNGamma], bn[BNBeta], bn[BNMovingMean], bn[BNMovingVariance], eps)
	if err != nil {
		t.Fatal(err)
	}
	ops := Ops{Lowered: true}
	exec, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) []*Node {
		g := x.Graph()
		kernel := func(v []float32) *Node { return Const(g, tensors.FromFlatDataAndDimensions(v, k, k, cin, cout)) }
		ref := BatchNorm(scope.In(ScopeBN), ops.Conv(x, kernel(w), 2), 0.99, eps)
		got := Add(ops.Conv(x, kernel(folded), 2), Const(g, tensors.FromFlatDataAndDimensions(bias, 1, 1, 1, cout)))
		return []*Node{ref, got}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 2, 6, 6, cin))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := tensors.CopyFlatData[float32](out[0])
	got, _ := tensors.CopyFlatData[float32](out[1])
	var maxDiff float64
	for i := range ref {
		maxDiff = max(maxDiff, math.Abs(float64(ref[i]-got[i]))/max(1, math.Abs(float64(ref[i]))))
	}
	if len(ref) != 2*3*3*cout || maxDiff > 1e-5 {
		t.Errorf("%d outputs, max relative difference folded vs BatchNorm %g", len(ref), maxDiff)
	}
}
