package supernet

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
)

// pathNet builds the graph of one path: every weight it asks for becomes a
// parameter of the graph, fed with the slice of the shared variable.
type pathNet struct {
	sn    *Supernet
	g     *Graph
	uses  []use
	nodes []*Node
	seen  map[*param]bool
}

// weight returns the parameter node of the slice [starts, starts+dims) of
// variable path (under the supernet scope).
func (pn *pathNet) weight(path string, starts, dims []int) *Node {
	full := weightsScope + "/" + path
	p := pn.sn.byPath[full]
	if p == nil {
		exceptions.Panicf("supernet: internal error: no variable %s", full)
	}
	if pn.seen[p] {
		exceptions.Panicf("supernet: internal error: variable %s used twice by one path", full)
	}
	pn.seen[p] = true
	shape := p.spec.shape
	if len(shape) != len(dims) {
		exceptions.Panicf("supernet: internal error: variable %s has shape %v, slice %v", full, shape, dims)
	}
	for i := range dims {
		if starts[i] < 0 || dims[i] <= 0 || starts[i]+dims[i] > shape[i] {
			exceptions.Panicf("supernet: internal error: slice %v+%v out of variable %s shaped %v", starts, dims, full, shape)
		}
	}
	node := Parameter(pn.g, fmt.Sprintf("w%03d", len(pn.uses)), shapes.Make(dtypes.Float32, dims...))
	pn.uses = append(pn.uses, use{p: p, starts: slices.Clone(starts), dims: slices.Clone(dims)})
	pn.nodes = append(pn.nodes, node)
	return node
}

// zeros returns n zeros (slice starts).
func zeros(n int) []int { return make([]int, n) }

// kernelSlice returns the weight of a k×k kernel centred in a kMax×kMax
// variable, with the remaining axes sliced from 0 to rest.
func (pn *pathNet) kernelSlice(path string, kMax, k int, rest ...int) *Node {
	off := (kMax - k) / 2
	starts := append([]int{off, off}, zeros(len(rest))...)
	return pn.weight(path, starts, append([]int{k, k}, rest...))
}

// batchNorm normalises x with its batch statistics (see the package
// documentation) and the first C entries of the scope's gamma and beta.
func (pn *pathNet) batchNorm(scope string, x *Node) *Node {
	c := x.Shape().Dimensions[3]
	gamma := pn.weight(scope+"/bn/gamma", []int{0}, []int{c})
	beta := pn.weight(scope+"/bn/beta", []int{0}, []int{c})
	mean := ReduceMean(x, 0, 1, 2)
	xc := Sub(x, Reshape(mean, 1, 1, 1, c))
	variance := ReduceMean(Square(xc), 0, 1, 2)
	scale := Mul(gamma, Reciprocal(Sqrt(AddScalar(variance, pn.sn.cfg.BNEpsilon))))
	return Add(Mul(xc, Reshape(scale, 1, 1, 1, c)), Reshape(beta, 1, 1, 1, c))
}

func activate(x *Node, act blocks.Activation) *Node {
	switch act {
	case "":
		return x
	case blocks.ReLU:
		return convnet.Relu(x)
	case blocks.ReLU6:
		return ClipScalar(x, 0, 6)
	}
	exceptions.Panicf("supernet: unsupported activation %q", act)
	return nil
}

// conv is a k×k (kMax×kMax variable) or 1×1 ([in, out] variable) convolution
// + BatchNorm + activation.
func (pn *pathNet) conv(scope string, x *Node, kMax, k, stride, out int, act blocks.Activation) *Node {
	in := x.Shape().Dimensions[3]
	var y *Node
	if kMax == 0 {
		w := pn.weight(scope+"/weights", []int{0, 0}, []int{in, out})
		y = pn.sn.ops.Pointwise(x, w, stride)
	} else {
		w := pn.kernelSlice(scope+"/weights", kMax, k, in, out)
		y = pn.sn.ops.Conv(x, w, stride)
	}
	return activate(pn.batchNorm(scope, y), act)
}

func (pn *pathNet) depthwise(scope string, x *Node, kMax, k, stride int, act blocks.Activation) *Node {
	c := x.Shape().Dimensions[3]
	w := pn.kernelSlice(scope+"/weights", kMax, k, c)
	return activate(pn.batchNorm(scope, pn.sn.ops.Depthwise(x, w, stride)), act)
}

func (pn *pathNet) dense(scope string, x *Node, out int) *Node {
	in := x.Shape().Dimensions[1]
	w := pn.weight(scope+"/weights", []int{0, 0}, []int{in, out})
	b := pn.weight(scope+"/biases", []int{0}, []int{out})
	return Add(MatMul(x, w), Reshape(b, 1, out))
}

// logits builds the path's network on images; op placement follows
// blocks/convnet (and so blocks.Analyze) exactly.
func (pn *pathNet) logits(path *Path, images *Node) *Node {
	a := path.Proxy
	geo := &pn.sn.geo
	x := pn.conv("stem", images, geo.stemK, a.Stem.Kernel, a.Stem.Stride, a.Stem.Out, a.Stem.Activation())
	for i, b := range a.Blocks {
		s, j := path.slots[i][0], path.slots[i][1]
		p := slotPrefix(s, j)
		km := geo.kernMax[s]
		in := x.Shape().Dimensions[3]
		e := b.ExpandedWidth(in)
		act := b.Activation()
		shortcut := x
		switch b.Kind {
		case blocks.KindIBN:
			if b.HasExpandConv(in) {
				x = pn.conv(p+"/ibn/expand", x, 0, 1, 1, e, act)
			}
			x = pn.depthwise(p+"/ibn/dw", x, km, b.Kernel, b.Stride, act)
			x = pn.conv(p+"/ibn/project", x, 0, 1, 1, b.Out, "")
		case blocks.KindFused:
			stride := b.Stride
			if b.HasExpandConv(in) {
				x = pn.conv(p+"/fused/conv", x, km, b.Kernel, b.Stride, e, act)
				stride = 1
			}
			x = pn.conv(p+"/fused/project", x, 0, 1, stride, b.Out, "")
		default:
			exceptions.Panicf("supernet: block kind %q is not supported", b.Kind)
		}
		if b.Residual(in) {
			x = Add(x, shortcut)
		}
	}
	if a.Head.Conv > 0 {
		x = pn.conv("head/conv", x, 0, 1, 1, a.Head.Conv, blocks.ReLU)
	}
	x = ReduceMean(x, 1, 2)
	if a.Head.Hidden > 0 {
		x = activate(pn.dense("head/hidden", x, a.Head.Hidden), blocks.ReLU)
	}
	return pn.dense("classifier", x, a.Classes)
}

// smoothedCrossEntropy is the mean cross-entropy of logits [B, C] against
// labels [B] with label smoothing eps.
func smoothedCrossEntropy(logits, labels *Node, eps float64) *Node {
	c := logits.Shape().Dimensions[1]
	logp := LogSoftmax(logits, -1)
	target := AddScalar(MulScalar(OneHot(labels, c, logits.DType()), 1-eps), eps/float64(c))
	return Neg(ReduceAllMean(ReduceSum(Mul(target, logp), -1)))
}

// correct counts the rows whose arg-max is the label, as float32.
func correct(logits, labels *Node) *Node {
	return ReduceAllSum(ConvertDType(Equal(ArgMax(logits, -1, dtypes.Int32), labels), dtypes.Float32))
}
