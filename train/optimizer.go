package train

import (
	"errors"
	"fmt"
	"math"
	"path"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/multihw/multihw/internal/parallel"
	"github.com/multihw/multihw/train/optim"
)

// Store paths of the optimizer state. The learning rate is a variable set from
// Go before every step (Plan.LearningRate is the only implementation of the
// schedule); the per-variable slots and gradients mirror the model's
// variable paths.
const (
	optimizerScope = "/optimizer"
	lrVarPath      = optimizerScope + "/learning_rate"
	slotsScope     = optimizerScope + "/slots"
	gradsScope     = optimizerScope + "/gradients"
)

// updater is the optimizer.Interface of a Recipe. The graph only computes
// the gradients of the trainable variables, into gradient variables (and
// counts the global step); apply then updates the weights and optimizer
// slots in Go (optim.SGDRun, RMSPropRun, AdamRun) after every step. As graph
// ops the same update was some 1,500 element-wise ops a step on 200
// variables, most of a few hundred values, where the Go backend's per-op
// cost dominates (bench train: about 10% of the step). On a backend with
// shared buffers (the Go backend) the weights and slots are updated in place
// and the graph reads them without a copy.
type updater struct {
	r  Recipe
	be compute.Backend
}

var _ optimizer.Interface = (*updater)(nil)

// decayed reports whether weight decay applies to v: convolution and dense
// kernels (convnet names them "weights"), not biases nor BatchNorm.
func decayed(v *model.Variable) bool { return v.Name() == "weights" }

// slotPath is the store path of optimizer slot name of variable v.
func slotPath(v *model.Variable, name string) string {
	return path.Join(slotsScope, v.Scope(), v.Name()+"_"+name)
}

// gradPath is the store path of the gradient variable of v.
func gradPath(v *model.Variable) string { return path.Join(gradsScope, v.Scope(), v.Name()) }

// UpdateGraph implements optimizer.Interface: the gradients of the trainable
// variables the graph uses become the values of their gradient variables.
func (u *updater) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	if !loss.Shape().IsScalar() {
		exceptions.Panicf("train: the loss must be a scalar, got %s", loss.Shape())
	}
	var vars []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	if len(grads) != len(vars) {
		exceptions.Panicf("train: %d gradients for %d trainable variables", len(grads), len(vars))
	}
	optimizer.IncrementGlobalStep(g, dtypes.Float32) // 1 at the first step
	store := scope.Store()
	for i, v := range vars {
		if v.DType() != dtypes.Float32 {
			exceptions.Panicf("train: trainable variable %s is %s, only float32 is supported", v.Path(), v.DType())
		}
		gv := store.Scope(path.Dir(gradPath(v))).WithInitializer(initializer.Zero).
			VariableWithShape(v.Name(), v.Shape()).SetTrainable(false)
		gv.SetNodeValue(grads[i])
	}
}

// Clear implements optimizer.Interface: it deletes the optimizer state.
func (u *updater) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope(optimizerScope)
}

// apply updates every trainable variable of the store that has a gradient
// (the last step's) and its optimizer slots, created on first use, at
// learning rate lr.
func (u *updater) apply(store *model.Store, lr float64) error {
	r := u.r
	c := optim.Coeffs{LR: float32(lr), Mu: float32(r.Momentum), Rho: float32(r.Decay), Rho1: float32(1 - r.Decay),
		Eps: float32(r.Epsilon), Mu1: float32(1 - r.Momentum)}
	slots := optimizerSlots[r.Optimizer]
	if r.Optimizer == optim.Adam {
		t := float64(optimizer.GetGlobalStep(store))
		c.C1 = 1 - float32(math.Pow(float64(float32(r.Momentum)), t))
		c.C2 = 1 - float32(math.Pow(float64(float32(r.Decay)), t))
	}
	type withGrad struct{ v, g *model.Variable }
	var vars []withGrad
	for v := range store.IterVariables() {
		if v.Trainable {
			if gv := store.GetVariable(gradPath(v)); gv != nil {
				vars = append(vars, withGrad{v, gv})
			}
		}
	}
	for _, vg := range vars {
		v, gv := vg.v, vg.g
		vc := c
		if decayed(v) {
			vc.WD = float32(r.WeightDecay)
		}
		ts := []*model.Variable{v}
		for _, s := range slots {
			sv, err := slotVar(store, slotPath(v, s.name), v.Shape(), s.init)
			if err != nil {
				return err
			}
			ts = append(ts, sv)
		}
		err := withMutable(u.be, ts, func(m [][]float32) error {
			gt, err := gv.Value()
			if err != nil {
				return err
			}
			var bad error
			err = tensors.ConstFlatData(gt, func(grad []float32) {
				if len(grad) != len(m[0]) {
					bad = fmt.Errorf("gradient of %d values, want %d", len(grad), len(m[0]))
					return
				}
				parallel.Ranges(len(grad), len(grad)/parallelMin, func(lo, hi int) {
					w, g := m[0][lo:hi], grad[lo:hi]
					switch r.Optimizer {
					case optim.SGD:
						optim.SGDRun(w, m[1][lo:hi], g, r.Nesterov, vc)
					case optim.RMSProp:
						optim.RMSPropRun(w, m[1][lo:hi], m[2][lo:hi], g, vc)
					case optim.Adam:
						optim.AdamRun(w, m[1][lo:hi], m[2][lo:hi], g, vc)
					}
				})
			})
			return errors.Join(err, bad)
		})
		if err != nil {
			return fmt.Errorf("train: updating %s: %w", v.Path(), err)
		}
	}
	return nil
}

// optimizerSlots are each optimizer's slots (names and initial values), in
// the order its update loop takes them.
var optimizerSlots = map[optim.Kind][]struct {
	name string
	init float32
}{optim.SGD: {{"momentum", 0}}, optim.RMSProp: {{"ms", 1}, {"momentum", 0}}, optim.Adam: {{"m1", 0}, {"m2", 0}}}

// slotVar returns the slot variable at path, created filled with init.
func slotVar(store *model.Store, p string, shape shapes.Shape, init float32) (*model.Variable, error) {
	if v := store.GetVariable(p); v != nil {
		if !v.Shape().Equal(shape) {
			return nil, fmt.Errorf("train: optimizer slot %s has shape %s, want %s", p, v.Shape(), shape)
		}
		return v, nil
	}
	vals := make([]float32, shape.Size())
	if init != 0 {
		for i := range vals {
			vals[i] = init
		}
	}
	v, err := store.CreateVariable(p, tensors.FromFlatDataAndDimensions(vals, shape.Dimensions...))
	if err != nil {
		return nil, err
	}
	return v.SetTrainable(false), nil
}

// withMutable calls fn with the values of the variables, which it may
// change. On a backend with shared buffers a variable's value is first made
// a shared tensor (once), so that graphs read it in place and fn writes it
// in place.
func withMutable(be compute.Backend, vars []*model.Variable, fn func(vals [][]float32) error) error {
	vals := make([][]float32, len(vars))
	var visit func(i int) error
	visit = func(i int) error {
		if i == len(vars) {
			return fn(vals)
		}
		t, err := vars[i].Value()
		if err != nil {
			return err
		}
		if be != nil && be.HasSharedBuffers() && !t.IsShared() {
			s, err := tensors.FromShapeForBackend(be, 0, t.Shape())
			if err != nil {
				return err
			}
			tensors.MustConstFlatData(t, func(src []float32) {
				tensors.MustMutableFlatData(s, func(dst []float32) { copy(dst, src) })
			})
			if err := vars[i].SetValue(s); err != nil {
				return err
			}
			t = s
		}
		var ferr error
		if err := tensors.MutableFlatData(t, func(flat []float32) {
			vals[i] = flat
			ferr = visit(i + 1)
		}); err != nil {
			return err
		}
		return ferr
	}
	return visit(0)
}

// parallelMin is the size of an update worth a goroutine of its own.
const parallelMin = 1 << 18

// ensureLRVar creates the learning-rate variable if missing.
func ensureLRVar(store *model.Store) (*model.Variable, error) {
	if v := store.GetVariable(lrVarPath); v != nil {
		if !v.Shape().Equal(shapes.Make(dtypes.Float32)) {
			return nil, fmt.Errorf("learning-rate variable %s has shape %s, want a float32 scalar", lrVarPath, v.Shape())
		}
		return v, nil
	}
	v, err := store.CreateVariable(lrVarPath, scalarF32(0))
	if err != nil {
		return nil, err
	}
	return v.SetTrainable(false), nil
}
