package train

import (
	"fmt"
	"path"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/multihw/multihw/train/optim"
)

// Store paths of the optimizer state. The learning rate is a variable set from
// Go before every step (Plan.LearningRate is the only implementation of the
// schedule); the per-variable slots mirror the model's variable paths.
const (
	optimizerScope = "/optimizer"
	lrVarPath      = optimizerScope + "/learning_rate"
	slotsScope     = optimizerScope + "/slots"
)

// updater is the optimizer.Interface of a Recipe.
type updater struct{ r Recipe }

var _ optimizer.Interface = (*updater)(nil)

// decayed reports whether weight decay applies to v: convolution and dense
// kernels (convnet names them "weights"), not biases nor BatchNorm.
func decayed(v *model.Variable) bool { return v.Name() == "weights" }

// slot returns (creating if needed) the optimizer slot name of variable v.
func slot(store *model.Store, v *model.Variable, name string, init model.VariableInitializer) *model.Variable {
	return store.Scope(path.Join(slotsScope, v.Scope())).WithInitializer(init).
		VariableWithShape(v.Name()+"_"+name, v.Shape()).SetTrainable(false)
}

// UpdateGraph implements optimizer.Interface.
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
	store := scope.Store()
	lrVar := store.GetVariable(lrVarPath)
	if lrVar == nil {
		exceptions.Panicf("train: learning-rate variable %s missing (create the trainer with newTrainer)", lrVarPath)
	}
	lr := lrVar.NodeValue(g)
	t := optimizer.IncrementGlobalStep(g, dtypes.Float32) // 1 at the first step
	r := u.r
	for i, v := range vars {
		if v.DType() != dtypes.Float32 {
			exceptions.Panicf("train: trainable variable %s is %s, only float32 is supported", v.Path(), v.DType())
		}
		w, grad := v.NodeValue(g), grads[i]
		wd := 0.0
		if decayed(v) {
			wd = r.WeightDecay
		}
		if wd > 0 && r.Optimizer != optim.Adam {
			grad = Add(grad, MulScalar(w, wd))
		}
		switch r.Optimizer {
		case optim.SGD:
			m := slot(store, v, "momentum", initializer.Zero)
			buf := Add(MulScalar(m.NodeValue(g), r.Momentum), grad)
			m.SetNodeValue(buf)
			upd := buf
			if r.Nesterov {
				upd = Add(grad, MulScalar(buf, r.Momentum))
			}
			v.SetNodeValue(Sub(w, Mul(lr, upd)))
		case optim.RMSProp:
			ms := slot(store, v, "ms", initializer.One)
			mom := slot(store, v, "momentum", initializer.Zero)
			msV := Add(MulScalar(ms.NodeValue(g), r.Decay), MulScalar(Square(grad), 1-r.Decay))
			ms.SetNodeValue(msV)
			momV := Add(MulScalar(mom.NodeValue(g), r.Momentum), Div(Mul(lr, grad), Sqrt(AddScalar(msV, r.Epsilon))))
			mom.SetNodeValue(momV)
			v.SetNodeValue(Sub(w, momV))
		case optim.Adam:
			m1 := slot(store, v, "m1", initializer.Zero)
			m2 := slot(store, v, "m2", initializer.Zero)
			b1, b2 := r.Momentum, r.Decay
			m1V := Add(MulScalar(m1.NodeValue(g), b1), MulScalar(grad, 1-b1))
			m2V := Add(MulScalar(m2.NodeValue(g), b2), MulScalar(Square(grad), 1-b2))
			m1.SetNodeValue(m1V)
			m2.SetNodeValue(m2V)
			c1 := OneMinus(Pow(Scalar(g, dtypes.Float32, b1), t))
			c2 := OneMinus(Pow(Scalar(g, dtypes.Float32, b2), t))
			upd := Div(Div(m1V, c1), AddScalar(Sqrt(Div(m2V, c2)), r.Epsilon))
			if wd > 0 {
				upd = Add(upd, MulScalar(w, wd))
			}
			v.SetNodeValue(Sub(w, Mul(lr, upd)))
		default:
			exceptions.Panicf("train: unknown optimizer %q", r.Optimizer)
		}
	}
}

// Clear implements optimizer.Interface: it deletes the optimizer state.
func (u *updater) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope(optimizerScope)
}

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
