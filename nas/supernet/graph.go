package supernet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
)

// pathNet builds the graph of one path: every variable it uses becomes a
// parameter of the graph, fed with the slice of the shared variable; further
// uses of the same variable (a mixed path) slice that parameter.
type pathNet struct {
	sn    *Supernet
	ops   convnet.Ops // sn's, in the layout for the graph's batch size
	g     *Graph
	uses  []use
	nodes []*Node
	index map[*param]int // of the variable's use
}

// weight returns the slice [starts, starts+dims) of variable path (under the
// supernet scope).
func (pn *pathNet) weight(path string, starts, dims []int) *Node {
	return pn.weightIn(path, starts, dims, nil)
}

// weightIn is weight for a slice that is part of a larger slice upd the path
// uses (nil: none): the graph reads only [starts, starts+dims) and its
// gradient elsewhere in upd is zero, but the optimizer updates all of upd.
func (pn *pathNet) weightIn(path string, starts, dims []int, upd *box) *Node {
	full := weightsScope + "/" + path
	p := pn.sn.byPath[full]
	if p == nil {
		exceptions.Panicf("supernet: internal error: no variable %s", full)
	}
	shape := p.spec.shape
	if len(shape) != len(dims) {
		exceptions.Panicf("supernet: internal error: variable %s has shape %v, slice %v", full, shape, dims)
	}
	for i := range dims {
		if starts[i] < 0 || dims[i] <= 0 || starts[i]+dims[i] > shape[i] {
			exceptions.Panicf("supernet: internal error: slice %v+%v out of variable %s shaped %v", starts, dims, full, shape)
		}
	}
	if i, ok := pn.index[p]; ok {
		// Mixed paths build the largest use first (see block).
		u := pn.uses[i]
		los := make([]int, len(dims))
		for a := range dims {
			los[a] = starts[a] - u.starts[a]
			if los[a] < 0 || los[a]+dims[a] > u.dims[a] {
				exceptions.Panicf("supernet: internal error: slice %v+%v of %s outside its first use %v+%v", starts, dims, full, u.starts, u.dims)
			}
		}
		return convnet.Crop(pn.nodes[i], los, dims)
	}
	node := Parameter(pn.g, fmt.Sprintf("w%03d", len(pn.uses)), shapes.Make(dtypes.Float32, dims...))
	pn.index[p] = len(pn.uses)
	pn.uses = append(pn.uses, use{p: p, starts: slices.Clone(starts), dims: slices.Clone(dims), upd: upd})
	pn.nodes = append(pn.nodes, node)
	return node
}

// zeros returns n zeros (slice starts).
func zeros(n int) []int { return make([]int, n) }

// kernelSlice returns the weight of a k×k kernel centred in a kMax×kMax
// variable, with the remaining axes sliced from 0 to rest. With several
// kernels it returns their average, each zero-padded to the largest: a
// convolution being linear in its weights, that convolution is the average
// of the convolutions with each kernel. Of the k×k taps it returns only rows
// [read[0], read[1]) and columns [read[2], read[3]) (the taps a convolution
// reads input with, convnet.ReadTaps); the optimizer still updates all k×k
// (the others with a zero gradient, as if the graph had taken them).
func (pn *pathNet) kernelSlice(path string, kMax int, kernels []int, read [4]int, rest ...int) *Node {
	k := slices.Max(kernels)
	off := (kMax - k) / 2
	h, w := read[1]-read[0], read[3]-read[2]
	var upd *box
	if h != k || w != k {
		upd = &box{starts: append([]int{off, off}, zeros(len(rest))...), dims: append([]int{k, k}, rest...)}
	}
	starts := append([]int{off + read[0], off + read[2]}, zeros(len(rest))...)
	wt := pn.weightIn(path, starts, append([]int{h, w}, rest...), upd)
	if len(kernels) == 1 {
		return wt
	}
	mask := make([]float32, h*w)
	for _, kk := range kernels {
		o := (k - kk) / 2
		for y := max(o, read[0]); y < min(o+kk, read[1]); y++ {
			for x := max(o, read[2]); x < min(o+kk, read[3]); x++ {
				mask[(y-read[0])*w+x-read[2]] += 1 / float32(len(kernels))
			}
		}
	}
	dims := []int{h, w}
	for range rest {
		dims = append(dims, 1)
	}
	return Mul(wt, Const(pn.g, tensors.FromFlatDataAndDimensions(mask, dims...)))
}

// batchNorm normalises x with its batch statistics (see the package
// documentation) and the first C entries of the scope's gamma and beta.
func (pn *pathNet) batchNorm(scope string, x *Node) *Node {
	c := pn.ops.Channels(x)
	gamma := pn.weight(scope+"/bn/gamma", []int{0}, []int{c})
	beta := pn.weight(scope+"/bn/beta", []int{0}, []int{c})
	return pn.ops.BatchStatsNorm(x, gamma, beta, pn.sn.cfg.BNEpsilon)
}

// conv is a k×k (kMax×kMax variable; the average over kernels) or 1×1
// ([in, out] variable, kMax 0) convolution + BatchNorm + activation.
func (pn *pathNet) conv(scope string, x *Node, kMax int, kernels []int, stride, out int, act blocks.Activation) *Node {
	in := pn.ops.Channels(x)
	var y *Node
	if kMax == 0 {
		w := pn.weight(scope+"/weights", []int{0, 0}, []int{in, out})
		y = pn.ops.Pointwise(x, w, stride)
	} else {
		// Only the taps that read input enter the graph: on the last stages'
		// 2×2 maps, 9 of a 5×5 kernel's 25.
		k := slices.Max(kernels)
		d := x.Shape().Dimensions
		y0, y1 := convnet.ReadTaps(d[1], k, stride)
		x0, x1 := convnet.ReadTaps(d[2], k, stride)
		w := pn.kernelSlice(scope+"/weights", kMax, kernels, [4]int{y0, y1, x0, x1}, in, out)
		y = pn.ops.ConvReadTaps(x, w, k, stride)
	}
	return convnet.Activate(pn.batchNorm(scope, y), act)
}

func (pn *pathNet) depthwise(scope string, x *Node, kMax int, kernels []int, stride int, act blocks.Activation) *Node {
	c := pn.ops.Channels(x)
	k := slices.Max(kernels)
	w := pn.kernelSlice(scope+"/weights", kMax, kernels, [4]int{0, k, 0, k}, c)
	return convnet.Activate(pn.batchNorm(scope, pn.ops.Depthwise(x, w, stride)), act)
}

func (pn *pathNet) dense(scope string, x *Node, out int) *Node {
	in := x.Shape().Dimensions[1]
	w := pn.weight(scope+"/weights", []int{0, 0}, []int{in, out})
	b := pn.weight(scope+"/biases", []int{0}, []int{out})
	return Add(pn.ops.Dense(x, w), Reshape(b, 1, out))
}

// logits builds the path's network on images from the op plans of its proxy
// architecture (blocks.Arch.Plan), as blocks/convnet does, with every weight
// a slice of a shared variable.
func (pn *pathNet) logits(path *Path, images *Node) *Node {
	a := path.Proxy
	np, err := a.Plan()
	if err != nil {
		exceptions.Panicf("supernet: %v", err)
	}
	geo := &pn.sn.geo
	stem := np.Stem.Ops[0]
	x := pn.conv("stem", pn.ops.In(images), geo.stemK, []int{stem.Kernel}, stem.Stride, stem.Out, stem.Act)
	i := 0
	for s, end := range path.stageEnd {
		var outs []*Node
		for j := 0; i < end; i, j = i+1, j+1 {
			x = pn.block(path.blocks[i], a.Blocks[i], x)
			if slices.Contains(path.depthMix[s], j+1) {
				outs = append(outs, x)
			}
		}
		if len(outs) > 0 {
			x = mean(outs)
		}
	}
	for _, op := range np.Head.Ops {
		scope := strings.ReplaceAll(op.Name, ".", "/")
		switch op.Op {
		case blocks.OpPW:
			x = pn.conv(scope, x, 0, nil, op.Stride, op.Out, op.Act)
		case blocks.OpPool:
			x = pn.ops.Pool(x)
		case blocks.OpFC: // no dropout in the supernet
			x = convnet.Activate(pn.dense(scope, x, op.Out), op.Act)
		default:
			exceptions.Panicf("supernet: head op %s (%s) is not supported", op.Name, op.Op)
		}
	}
	return x
}

func mean(xs []*Node) *Node {
	sum := xs[0]
	for _, x := range xs[1:] {
		sum = Add(sum, x)
	}
	if len(xs) == 1 {
		return sum
	}
	return MulScalar(sum, 1/float64(len(xs)))
}

// block builds one block: the plan (blocks.Block.Plan) of b for each of the
// path's kinds, with the path's kernels, averaged. Plan ops map to the slot's
// shared variables by name (geometry.blockVar); strides, widths, activations
// and the residual come from the plan.
func (pn *pathNet) block(pb pathBlock, b blocks.Block, x *Node) *Node {
	geo := &pn.sn.geo
	s := pb.stage
	p := slotPrefix(s, pb.index)
	km := geo.kernMax[s]
	in := pn.ops.Channels(x)
	// The fused IBN first: the IBN's shared expansion is the centre tap of
	// its k×k window, and weight() needs the largest use first.
	kinds := slices.Clone(pb.kinds)
	slices.SortStableFunc(kinds, func(a, b blocks.Kind) int {
		return boolInt(b == blocks.KindFused) - boolInt(a == blocks.KindFused)
	})
	var outs []*Node
	for _, kind := range kinds {
		kb := b
		kb.Kind = kind
		plan := kb.Plan(in)
		vals := make([]*Node, len(plan.Ops))
		val := func(v int) *Node {
			if v == blocks.PlanInput {
				return x
			}
			return vals[v]
		}
		for i, op := range plan.Ops {
			y := val(op.Inputs[0])
			v := geo.blockVar(s, p, kind, op.Name)
			switch {
			case op.Op == blocks.OpAdd:
				for _, w := range op.Inputs[1:] {
					y = Add(y, val(w))
				}
			case op.Name == blocks.OpNameDW:
				y = pn.depthwise(v, y, km, pb.kernels, op.Stride, op.Act)
			case op.Name == blocks.OpNameFused:
				y = pn.conv(v, y, km, pb.kernels, op.Stride, op.Out, op.Act)
			case op.Name == blocks.OpNameExpand && geo.centreExpand(s):
				// The centre tap of the fused IBN's k×k expansion.
				y = pn.conv(v, y, km, []int{1}, op.Stride, op.Out, op.Act)
			case op.Name == blocks.OpNameExpand || op.Name == blocks.OpNameProject:
				y = pn.conv(v, y, 0, nil, op.Stride, op.Out, op.Act)
			default:
				exceptions.Panicf("supernet: op %s of a %s block has no shared weights", op.Name, kind)
			}
			vals[i] = y
		}
		outs = append(outs, vals[len(vals)-1])
	}
	return mean(outs)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// correct counts the rows whose arg-max is the label, as float32.
func correct(logits, labels *Node) *Node {
	return ReduceAllSum(ConvertDType(Equal(ArgMax(logits, -1, dtypes.Int32), labels), dtypes.Float32))
}
