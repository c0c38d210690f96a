package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/multihw/multihw/train/optim"
)

// TestUpdaterApply trains a linear classifier (kernel "weights", decayed;
// "biases", not) three steps with each optimizer and checks the third
// update, value by value, against the recipe's formulas written out here
// from the weights, slots and gradients before it: the graph's gradient
// variables, the slots' names and initial values, weight decay on kernels
// only, Nesterov, Adam's bias correction from the global step. It also
// checks that the weights are shared tensors the graph reads in place.
func TestUpdaterApply(t *testing.T) {
	be := goBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 8*5)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := []int32{0, 1, 2, 0, 1, 2, 0, 1}
	sgd, plain, rms, adam := DefaultRecipe(), DefaultRecipe(), DefaultRecipe(), DefaultRecipe()
	plain.Nesterov = false
	rms.Optimizer, adam.Optimizer = optim.RMSProp, optim.Adam
	adam.Nesterov, rms.Nesterov = false, false
	for _, r := range []Recipe{sgd, plain, rms, adam} {
		r = r.withDefaults()
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(3))
		if _, err := ensureLRVar(store); err != nil {
			t.Fatal(err)
		}
		modelFn := func(scope *model.Scope, images *Node) *Node {
			s := scope.In(ModelScope).In("dense")
			w := s.VariableWithShape("weights", shapes.Make(dtypes.Float32, 5, 3)).NodeValue(images.Graph())
			b := s.VariableWithShape("biases", shapes.Make(dtypes.Float32, 3)).NodeValue(images.Graph())
			return Add(DotGeneral(images, []int{1}, nil, w, []int{0}, nil), Reshape(b, 1, 3))
		}
		u := &updater{r: r, be: be}
		tr := gtrain.NewTrainer(be, store, modelFn, smoothedCrossEntropy(r.LabelSmoothing), u, nil, nil)
		const lr = 0.3
		var before map[string][]float32
		for step := range 3 {
			if _, err := tr.TrainStep(gtrain.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, 8, 5)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, 8, 1)}}); err != nil {
				t.Fatal(err)
			}
			if step == 2 {
				before = snapshot(t, store)
			}
			if err := u.apply(store, lr); err != nil {
				t.Fatal(err)
			}
		}
		after := snapshot(t, store)
		tstep := float64(optimizer.GetGlobalStep(store))
		for _, name := range []string{"weights", "biases"} {
			p := "/" + ModelScope + "/dense/" + name
			if v, _ := store.GetVariable(p).Value(); !v.IsShared() {
				t.Errorf("%s: %s is not a shared tensor", r.Optimizer, p)
			}
			w, g := before[p], before[gradsScope+p]
			wd := float32(0)
			if name == "weights" {
				wd = float32(r.WeightDecay)
			}
			want := slices.Clone(w)
			for i := range w {
				switch r.Optimizer {
				case optim.SGD:
					m := before[slotsScope+p+"_momentum"][i]
					gi := g[i] + float32(wd*w[i])
					m = float32(float32(r.Momentum)*m) + gi
					if r.Nesterov {
						want[i] -= float32(float32(lr) * (gi + float32(float32(r.Momentum)*m)))
					} else {
						want[i] -= float32(float32(lr) * m)
					}
				case optim.RMSProp:
					ms, mom := before[slotsScope+p+"_ms"][i], before[slotsScope+p+"_momentum"][i]
					gi := g[i] + float32(wd*w[i])
					ms = float32(float32(r.Decay)*ms) + float32(float32(1-r.Decay)*gi*gi)
					mom = float32(float32(r.Momentum)*mom) + float32(lr)*gi/float32(math.Sqrt(float64(ms+float32(r.Epsilon))))
					want[i] -= mom
				case optim.Adam:
					m1, m2 := before[slotsScope+p+"_m1"][i], before[slotsScope+p+"_m2"][i]
					m1 = float32(float32(r.Momentum)*m1) + float32(float32(1-r.Momentum)*g[i])
					m2 = float32(float32(r.Decay)*m2) + float32(float32(1-r.Decay)*(g[i]*g[i]))
					c1 := 1 - float32(math.Pow(float64(float32(r.Momentum)), tstep))
					c2 := 1 - float32(math.Pow(float64(float32(r.Decay)), tstep))
					u := (m1 / c1) / (float32(math.Sqrt(float64(m2/c2))) + float32(r.Epsilon))
					if wd != 0 {
						u += float32(wd * w[i])
					}
					want[i] -= float32(float32(lr) * u)
				}
			}
			if !slices.Equal(after[p], want) || slices.Equal(after[p], w) {
				t.Errorf("%s (Nesterov %v): %s updated to %v, want %v (from %v)", r.Optimizer, r.Nesterov, name, after[p], want, w)
			}
		}
	}
}

// snapshot copies every float32 variable of the store by path.
func snapshot(t *testing.T, store *model.Store) map[string][]float32 {
	out := map[string][]float32{}
	for v := range store.IterVariables() {
		val, err := v.Value()
		if err != nil || val.DType() != dtypes.Float32 {
			continue
		}
		out[v.Path()] = tensors.MustCopyFlatData[float32](val)
	}
	return out
}
