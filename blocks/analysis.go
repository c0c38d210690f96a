package blocks

import (
	"fmt"
	"io"
	"strings"

	"github.com/multihw/multihw/report"
)

// Op is the kind of a primitive layer, the unit of the hardware cost models:
// hardware runs each of these at a very different efficiency (depthwise is
// notoriously slow per MAC on DSPs and EdgeTPUs, fused k×k expansions are fast
// on them).
type Op string

// Primitive ops of plans (Block.Plan) and Analyze.
const (
	OpConv  Op = "conv"  // full k×k convolution (k > 1), e.g. the stem
	OpFused Op = "fused" // the k×k full-conv expansion of a fused IBN
	OpPW    Op = "pw"    // 1×1 convolution
	OpDW    Op = "dw"    // k×k depthwise convolution
	OpFC    Op = "fc"    // fully connected (after pooling)
	OpPool  Op = "pool"  // average pooling: global (kernel 0 in a plan), or k×k with a stride
	OpAdd   Op = "add"   // residual addition, or a sum of several inputs
	// Element-wise primitives of the benchmark networks (nb201.go, fbnet.go).
	OpAct     Op = "act"     // a standalone activation (the ReLU of ReLU-Conv-BN)
	OpNorm    Op = "norm"    // a standalone BatchNorm + activation (NAS-Bench-201's lastact)
	OpZero    Op = "zero"    // multiplication by zero (NAS-Bench-201's none edge)
	OpShuffle Op = "shuffle" // channel shuffle after a grouped 1×1 conv
)

// Ops lists all primitive ops.
var Ops = []Op{OpConv, OpFused, OpPW, OpDW, OpFC, OpPool, OpAdd, OpAct, OpNorm, OpZero, OpShuffle}

// Layer is one primitive op of an architecture at a given input resolution.
// Convolutions use SAME padding: output size = ceil(input size / stride).
type Layer struct {
	// Block is the index of the block the layer belongs to: -1 for the stem and
	// len(Blocks) for the head and classifier.
	Block int    `json:"block"`
	Name  string `json:"name"`
	Op    Op     `json:"op"`
	// Kernel and Stride of the op (1 for pool, add and fc).
	Kernel int `json:"kernel"`
	Stride int `json:"stride"`
	// Spatial size (square) and channels of input and output.
	InSize  int `json:"in_size"`
	InC     int `json:"in_c"`
	OutSize int `json:"out_size"`
	OutC    int `json:"out_c"`
	// MACs are multiply-accumulates of the op.
	MACs int64 `json:"macs"`
	// Params counts the trainable and BatchNorm parameters as TF/Keras count
	// them: kernel (+ bias for fc) + 4 per BatchNorm channel (gamma, beta and the
	// moving mean and variance).
	Params int64 `json:"params"`
	// Weights are the deployed weights with BatchNorm folded: kernel + bias.
	Weights int64 `json:"weights"`
	// InElems and OutElems are the activation elements read and written
	// (an add reads two inputs).
	InElems  int64 `json:"in_elems"`
	OutElems int64 `json:"out_elems"`
	// Activated reports a ReLU/ReLU6 after the op.
	Activated bool `json:"activated"`
	// Groups is the group count of a convolution (1 dense, the channels for
	// a depthwise one; 0 for other ops).
	Groups int `json:"groups,omitempty"`
	// Dead marks an op whose result cannot reach the output (PlanOp.Dead, or
	// every op of a network with a constant block, Plan.Constant): a graph
	// compiler removes it, an eager runtime still runs it. Dead layers count
	// in the totals of the analysis, as in the benchmarks' own figures.
	Dead bool `json:"dead,omitempty"`
	// Unused marks a dead op whose result reaches no output (PlanOp.Unused,
	// or every op of a network with a constant block). The other dead ops
	// read a value the input never reaches (a constant) and feed the output:
	// a runtime that prunes unused ops without folding constants runs them.
	Unused bool `json:"unused,omitempty"`
}

// WeightBytes is the size of the deployed weights at the given bytes per element
// (1 for int8, 2 for fp16, 4 for fp32).
func (l *Layer) WeightBytes(bytesPerElem float64) float64 { return float64(l.Weights) * bytesPerElem }

// InBytes is the size of the input activations at the given bytes per element.
func (l *Layer) InBytes(bytesPerElem float64) float64 { return float64(l.InElems) * bytesPerElem }

// OutBytes is the size of the output activations at the given bytes per element.
func (l *Layer) OutBytes(bytesPerElem float64) float64 { return float64(l.OutElems) * bytesPerElem }

// Analysis is the static analysis of an architecture at one input resolution.
type Analysis struct {
	Name       string  `json:"name"`
	Resolution int     `json:"resolution"`
	Classes    int     `json:"classes"`
	MACs       int64   `json:"macs"`
	Params     int64   `json:"params"`
	Weights    int64   `json:"weights"`
	Layers     []Layer `json:"layers"`
	ck         sizeCheck
}

// Analyze computes the per-layer and total figures of a at the given input
// resolution (0 means a.Resolution). It validates a first. The layers are the
// ops of a's plan (Arch.Plan), in order, named by LayerName.
func Analyze(a *Arch, resolution int) (*Analysis, error) {
	np, err := a.Plan()
	if err != nil {
		return nil, err
	}
	if resolution == 0 {
		resolution = a.Resolution
	}
	if resolution <= 0 {
		return nil, fmt.Errorf("analysis of %q: resolution must be positive, got %d", a.Name, resolution)
	}
	if resolution != a.Resolution {
		if err := a.checkSize(resolution); err != nil {
			return nil, fmt.Errorf("analysis: %w", err)
		}
	}
	an := a.analyze(np, resolution)
	if an.ck.overflow {
		// Validate's size bounds make this unreachable; should they ever be
		// loosened, an overflow is an error, never a wrapped negative size.
		return nil, fmt.Errorf("analysis of %q: sizes overflow int64", a.Name)
	}
	return an, nil
}

// analyze computes the figures of plan np of a at resolution with checked
// arithmetic (an.ck records an overflow); Validate uses it for the size
// bounds, Analyze for its result.
func (a *Arch) analyze(np *NetPlan, resolution int) *Analysis {
	an := &Analysis{Name: a.Name, Resolution: resolution, Classes: a.Classes,
		Layers: make([]Layer, 0, 4*len(a.Blocks)+8)}
	size := resolution
	n := len(a.Blocks)
	size = an.addPlan(np.Stem, -1, n, size)
	constant := false
	for i, p := range np.Blocks {
		size = an.addPlan(p, i, n, size)
		constant = constant || p.Constant
	}
	an.addPlan(np.Head, n, n, size)
	for i := range an.Layers {
		an.Layers[i].Dead = an.Layers[i].Dead || constant
		an.Layers[i].Unused = an.Layers[i].Unused || constant
	}
	for _, l := range an.Layers {
		an.MACs = an.ck.add(an.MACs, l.MACs)
		an.Params = an.ck.add(an.Params, l.Params)
		an.Weights = an.ck.add(an.Weights, l.Weights)
	}
	return an
}

// addPlan appends the layers of plan p (part block of n blocks) whose input
// has the given spatial size, and returns the output's size. Convolutions use
// SAME padding: output size = ceil(input size / stride).
func (an *Analysis) addPlan(p Plan, block, n, size int) int {
	sizes := make([]int, len(p.Ops)) // spatial size of each op's output
	sizeOf := func(v int) int {
		if v == PlanInput {
			return size
		}
		return sizes[v]
	}
	for i, op := range p.Ops {
		in := sizeOf(op.Inputs[0])
		l := Layer{Block: block, Name: LayerName(block, n, op.Name), Op: op.Op, Kernel: op.Kernel, Stride: op.Stride,
			InSize: in, InC: op.In, OutC: op.Out, Activated: op.Act != "", Dead: op.Dead, Unused: op.Unused}
		for _, v := range op.Inputs {
			s := sizeOf(v)
			l.InElems = an.ck.add(l.InElems, an.ck.mul(s, s, op.In))
		}
		var k int64 // kernel weights
		switch op.Op {
		case OpPool:
			l.OutSize = 1
			if op.Kernel == 0 { // global: the kernel is the whole map
				l.Kernel = in
			} else {
				l.OutSize = (in + op.Stride - 1) / op.Stride
			}
		case OpAdd, OpAct, OpNorm, OpZero, OpShuffle:
			l.OutSize = in
		case OpFC:
			l.OutSize = 1
			k = an.ck.mul(op.In, op.Out)
			l.MACs = k
		default: // convolutions
			l.OutSize = (in + op.Stride - 1) / op.Stride
			k = an.ck.mul(op.Kernel, op.Kernel, op.In/op.Groups, op.Out)
			l.MACs = an.ck.mul(int(k), l.OutSize, l.OutSize)
			l.Groups = op.Groups
		}
		l.OutElems = an.ck.mul(l.OutSize, l.OutSize, op.Out)
		l.Params, l.Weights = k, k
		if op.Norm {
			// gamma, beta, moving mean and variance; folded into a bias, or
			// a scale and a shift when no conv precedes it.
			l.Params = an.ck.add(l.Params, an.ck.mul(4, op.Out))
			l.Weights = an.ck.add(l.Weights, int64(op.Out))
			if op.Op == OpNorm {
				l.Weights = an.ck.add(l.Weights, int64(op.Out))
			}
		}
		if op.Bias {
			l.Params = an.ck.add(l.Params, int64(op.Out))
			l.Weights = an.ck.add(l.Weights, int64(op.Out))
		}
		sizes[i] = l.OutSize
		an.Layers = append(an.Layers, l)
	}
	return sizes[len(sizes)-1]
}

// MACsOf returns the total MACs of each op kind.
func (an *Analysis) MACsOf() map[Op]int64 {
	m := map[Op]int64{}
	for _, l := range an.Layers {
		m[l.Op] += l.MACs
	}
	return m
}

// WriteTable writes the human-readable layer table and totals.
func (an *Analysis) WriteTable(out io.Writer) error {
	tb := report.NewTable("layer", "op", "k", "s", "in", "out", "MACs (M)", "params", "act in (KB fp32)", "act out (KB fp32)").RightFrom(0)
	for _, l := range an.Layers {
		tb.Row(l.Name, string(l.Op), fmt.Sprint(l.Kernel), fmt.Sprint(l.Stride), fmt.Sprintf("%dx%dx%d", l.InSize, l.InSize, l.InC),
			fmt.Sprintf("%dx%dx%d", l.OutSize, l.OutSize, l.OutC), fmt.Sprintf("%.2f", float64(l.MACs)/1e6), fmt.Sprint(l.Params),
			fmt.Sprintf("%.1f", l.InBytes(4)/1024), fmt.Sprintf("%.1f", l.OutBytes(4)/1024))
	}
	if _, err := io.WriteString(out, tb.Text()); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%s at %dx%d, %d classes: %s MACs, %s params (%d layers)\n",
		an.Name, an.Resolution, an.Resolution, an.Classes, humanCount(an.MACs), humanCount(an.Params), len(an.Layers))
	return err
}

// Table returns WriteTable's output as a string.
func (an *Analysis) Table() string {
	var sb strings.Builder
	_ = an.WriteTable(&sb)
	return sb.String()
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f G", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f K", float64(n)/1e3)
	}
	return fmt.Sprintf("%d", n)
}
