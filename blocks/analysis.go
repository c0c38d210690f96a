package blocks

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Op is the kind of a primitive layer, the unit of the hardware cost models:
// hardware runs each of these at a very different efficiency (depthwise is
// notoriously slow per MAC on DSPs and EdgeTPUs, fused k×k expansions are fast
// on them).
type Op string

// Primitive ops produced by Analyze.
const (
	OpConv  Op = "conv"  // full k×k convolution (k > 1), e.g. the stem
	OpFused Op = "fused" // the k×k full-conv expansion of a fused IBN
	OpPW    Op = "pw"    // 1×1 convolution
	OpDW    Op = "dw"    // k×k depthwise convolution
	OpFC    Op = "fc"    // fully connected (after pooling)
	OpPool  Op = "pool"  // global average pooling
	OpAdd   Op = "add"   // residual addition
)

// Ops lists all primitive ops.
var Ops = []Op{OpConv, OpFused, OpPW, OpDW, OpFC, OpPool, OpAdd}

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
}

// Analyze computes the per-layer and total figures of a at the given input
// resolution (0 means a.Resolution). It validates a first.
func Analyze(a *Arch, resolution int) (*Analysis, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if resolution == 0 {
		resolution = a.Resolution
	}
	if resolution <= 0 {
		return nil, fmt.Errorf("analysis of %q: resolution must be positive, got %d", a.Name, resolution)
	}
	an := &Analysis{Name: a.Name, Resolution: resolution, Classes: a.Classes,
		Layers: make([]Layer, 0, 4*len(a.Blocks)+8)}
	st := &walker{an: an, size: resolution, c: a.Channels}
	st.block = -1
	st.conv("stem", a.Stem.Kernel, a.Stem.Stride, a.Stem.Out, convOp(a.Stem.Kernel, OpConv), true)
	for i, b := range a.Blocks {
		st.block = i
		st.addBlock(b)
	}
	st.block = len(a.Blocks)
	h := a.Head
	if h.Conv > 0 {
		st.conv("head.conv", 1, 1, h.Conv, OpPW, true)
	}
	st.add(Layer{Name: "head.pool", Op: OpPool, Kernel: st.size, Stride: 1, InSize: st.size, InC: st.c, OutSize: 1, OutC: st.c,
		InElems: int64(st.size * st.size * st.c), OutElems: int64(st.c)})
	st.size = 1
	if h.Hidden > 0 {
		st.fc("head.hidden", h.Hidden, true)
	}
	st.fc("classifier", a.Classes, false)
	for _, l := range an.Layers {
		an.MACs += l.MACs
		an.Params += l.Params
		an.Weights += l.Weights
	}
	return an, nil
}

// walker tracks the feature-map shape while layers are appended.
type walker struct {
	an    *Analysis
	block int
	size  int // spatial size
	c     int // channels
}

func convOp(kernel int, big Op) Op {
	if kernel == 1 {
		return OpPW
	}
	return big
}

func (w *walker) add(l Layer) {
	l.Block = w.block
	w.an.Layers = append(w.an.Layers, l)
}

// conv appends a convolution (full, or depthwise when op is OpDW).
func (w *walker) conv(name string, kernel, stride, out int, op Op, act bool) {
	outSize := (w.size + stride - 1) / stride
	cinPerGroup := w.c
	if op == OpDW {
		cinPerGroup = 1
		out = w.c
	}
	k := int64(kernel * kernel * cinPerGroup * out)
	w.add(Layer{Name: name, Op: op, Kernel: kernel, Stride: stride,
		InSize: w.size, InC: w.c, OutSize: outSize, OutC: out,
		MACs:    k * int64(outSize*outSize),
		Params:  k + 4*int64(out),
		Weights: k + int64(out),
		InElems: int64(w.size * w.size * w.c), OutElems: int64(outSize * outSize * out),
		Activated: act})
	w.size, w.c = outSize, out
}

func (w *walker) fc(name string, out int, act bool) {
	k := int64(w.c * out)
	w.add(Layer{Name: name, Op: OpFC, Kernel: 1, Stride: 1, InSize: 1, InC: w.c, OutSize: 1, OutC: out,
		MACs: k, Params: k + int64(out), Weights: k + int64(out),
		InElems: int64(w.c), OutElems: int64(out), Activated: act})
	w.c = out
}

func (w *walker) addBlock(b Block) {
	in := w.c
	p := fmt.Sprintf("b%d.", w.block)
	e := b.ExpandedWidth(in)
	switch b.Kind {
	case KindConv:
		w.conv(p+"conv", b.Kernel, b.Stride, b.Out, convOp(b.Kernel, OpConv), true)
	case KindIBN:
		if b.HasExpandConv(in) {
			w.conv(p+"expand", 1, 1, e, OpPW, true)
		}
		w.conv(p+"dw", b.Kernel, b.Stride, 0, OpDW, true)
		w.conv(p+"project", 1, 1, b.Out, OpPW, false)
	case KindFused:
		stride := b.Stride
		if b.HasExpandConv(in) {
			w.conv(p+"fused", b.Kernel, b.Stride, e, convOp(b.Kernel, OpFused), true)
			stride = 1
		}
		w.conv(p+"project", 1, stride, b.Out, OpPW, false)
	case KindUIB:
		if b.StartKernel > 0 {
			s := b.Stride
			if b.Kernel > 0 {
				s = 1
			}
			w.conv(p+"start_dw", b.StartKernel, s, 0, OpDW, false)
		}
		w.conv(p+"expand", 1, 1, e, OpPW, true)
		if b.Kernel > 0 {
			w.conv(p+"mid_dw", b.Kernel, b.Stride, 0, OpDW, true)
		}
		w.conv(p+"project", 1, 1, b.Out, OpPW, false)
	}
	if b.Residual(in) {
		n := int64(w.size * w.size * w.c)
		w.add(Layer{Name: p + "add", Op: OpAdd, Kernel: 1, Stride: 1, InSize: w.size, InC: w.c, OutSize: w.size, OutC: w.c,
			InElems: 2 * n, OutElems: n})
	}
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
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\top\tk\ts\tin\tout\tMACs (M)\tparams\tact in (KB fp32)\tact out (KB fp32)\t\n")
	for _, l := range an.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%dx%dx%d\t%dx%dx%d\t%.2f\t%d\t%.1f\t%.1f\t\n",
			l.Name, l.Op, l.Kernel, l.Stride, l.InSize, l.InSize, l.InC, l.OutSize, l.OutSize, l.OutC,
			float64(l.MACs)/1e6, l.Params, l.InBytes(4)/1024, l.OutBytes(4)/1024)
	}
	if err := tw.Flush(); err != nil {
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
