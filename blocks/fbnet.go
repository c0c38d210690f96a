package blocks

// The FBNet search space (Wu et al., CVPR 2019) in the CIFAR setting of
// HW-NAS-Bench (Li et al., ICLR 2021) and HELP (Lee et al., NeurIPS 2021):
// its ops, architectures and networks, so that every hardware target costs
// them through Analyze like any other architecture.

import (
	"fmt"
	"strconv"
	"strings"
)

// FBNetOp is the choice at one position of an FBNet-space architecture: an
// inverted bottleneck with a kernel size, an expansion ratio and an optional
// group convolution, or skip (the layer is absent).
type FBNetOp uint8

// NumFBNetOps is the number of FBNet op choices; FBNetSkip is the last.
const (
	NumFBNetOps    = 9
	FBNetSkip      = FBNetOp(8)
	FBNetPositions = 22 // searchable layers of an FBNet-space architecture
)

// FBNetOpNames are HELP's names of the FBNet ops, indexed by FBNetOp:
// kernel size, expansion ratio and group count ("g2").
var FBNetOpNames = [NumFBNetOps]string{"k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip"}

// String returns HELP's name of o.
func (o FBNetOp) String() string {
	if int(o) < NumFBNetOps {
		return FBNetOpNames[o]
	}
	return fmt.Sprintf("FBNetOp(%d)", int(o))
}

// FBNetArch is an FBNet-space architecture: the op at each of the 22 positions.
type FBNetArch [FBNetPositions]FBNetOp

// ParseFBNetArch parses HELP's op_idx_list: 22 space-separated op indices.
func ParseFBNetArch(s string) (FBNetArch, error) {
	var a FBNetArch
	f := strings.Fields(s)
	if len(f) != FBNetPositions {
		return a, fmt.Errorf("op list %q: want %d op indices, got %d", s, FBNetPositions, len(f))
	}
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 || v >= NumFBNetOps {
			return a, fmt.Errorf("op list %q: position %d: %q is not an op index 0..%d", s, i, x, NumFBNetOps-1)
		}
		a[i] = FBNetOp(v)
	}
	return a, nil
}

// String returns the op_idx_list form of a.
func (a FBNetArch) String() string {
	var b strings.Builder
	for i, op := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(int(op)))
	}
	return b.String()
}

// Names returns the op_names form of a.
func (a FBNetArch) Names() string {
	var b strings.Builder
	for i, op := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(op.String())
	}
	return b.String()
}

// fbnetOps holds the kernel, expansion ratio and 1×1 group count of each
// op, as its name spells them (skip: zeros).
var fbnetOps = [NumFBNetOps]struct{ kernel, expansion, groups int }{
	{3, 1, 1}, {3, 1, 2}, {3, 3, 1}, {3, 6, 1}, {5, 1, 1}, {5, 1, 2}, {5, 3, 1}, {5, 6, 1}, {0, 0, 0}}

// Kernel is the depthwise kernel of op o (0 for skip).
func (o FBNetOp) Kernel() int { return fbnetOps[o].kernel }

// Expansion is the expansion ratio of op o (0 for skip).
func (o FBNetOp) Expansion() int { return fbnetOps[o].expansion }

// Groups is the group count of op o's 1×1 convs (1 when dense).
func (o FBNetOp) Groups() int { return fbnetOps[o].groups }

// FBNetConfig is the macro skeleton of the FBNet-space networks
// (HW-NAS-Bench hw_nas_bench_api/fbnet_models/model_infer.py, FBNet_Infer):
// a 3×3 conv stem of 16 channels, stages of 1, 4, 4, 4, 4, 4 and 1
// searchable layers with 16, 24, 32, 64, 112, 184 and 352 channels, the
// first layer of a stage taking its stride, a 1×1 conv head, global pooling
// and the classifier.
type FBNetConfig struct {
	Resolution, Classes int
	StemStride          int
	Strides             [7]int
	HeadConv            int
}

// FBNet's stage layout, shared by both settings.
var (
	fbnetLayers   = [7]int{1, 4, 4, 4, 4, 4, 1}
	fbnetChannels = [7]int{16, 24, 32, 64, 112, 184, 352}
)

// The two settings of HW-NAS-Bench: CIFAR-100 (its "unofficial CIFAR
// setting": stem and first stages at stride 1, head 1504; HELP's FBNet
// latencies) and ImageNet (FBNet's own).
var (
	FBNetCIFAR100 = FBNetConfig{Resolution: 32, Classes: 100, StemStride: 1, Strides: [7]int{1, 1, 2, 2, 1, 2, 1}, HeadConv: 1504}
	FBNetImageNet = FBNetConfig{Resolution: 224, Classes: 1000, StemStride: 2, Strides: [7]int{1, 2, 2, 2, 1, 2, 1}, HeadConv: 1984}
)

// FBNetNetwork returns the network of FBNet-space architecture a in setting
// cfg, named "fbnet_<op digits>". A layer of op k<K>_e<E>[_g2] is FBNet's
// ConvBlock: 1×1 expansion (grouped and shuffled for g2), K×K depthwise with
// the stride, 1×1 linear projection (grouped for g2), residual when the shape
// is kept; it is a UIB with a middle depthwise only, which keeps its
// expansion conv even at ratio 1. A skip layer is absent where the shape is
// kept, else a 1×1 conv + BatchNorm + ReLU with the stride.
func FBNetNetwork(a FBNetArch, cfg FBNetConfig) *Arch {
	var name strings.Builder
	name.WriteString("fbnet_")
	for _, op := range a {
		name.WriteByte('0' + byte(op))
	}
	arch := &Arch{Name: name.String(), Resolution: cfg.Resolution, Channels: 3, Classes: cfg.Classes,
		Stem: Block{Kind: KindConv, Kernel: 3, Stride: cfg.StemStride, Out: fbnetChannels[0]},
		Head: Head{Conv: cfg.HeadConv}}
	in, pos := fbnetChannels[0], 0
	for stage, n := range fbnetLayers {
		out := fbnetChannels[stage]
		for i := range n {
			stride := 1
			if i == 0 {
				stride = cfg.Strides[stage]
			}
			switch op := a[pos]; {
			case op == FBNetSkip && (stride != 1 || in != out):
				arch.Blocks = append(arch.Blocks, Block{Kind: KindConv, Kernel: 1, Stride: stride, Out: out})
			case op != FBNetSkip:
				b := Block{Kind: KindUIB, Kernel: op.Kernel(), Stride: stride, Out: out, Expand: float64(op.Expansion())}
				if g := op.Groups(); g > 1 {
					b.Groups = g
				}
				arch.Blocks = append(arch.Blocks, b)
			}
			in = out
			pos++
		}
	}
	return arch
}
