package blocks

import "fmt"

// Plan ops beyond the mobile blocks' conv + BN + activation: grouped 1×1
// convolutions with their channel shuffle (FBNet), and the element-wise ops
// of the benchmark networks (standalone activations and BatchNorm, zero
// edges).

// Plan op names of the primitives.
const (
	OpNameShuffle = "shuffle" // channel shuffle after a grouped expansion
)

// expand appends the 1×1 expansion of an IBN or UIB: grouped, then followed
// by a channel shuffle, when groups > 1 (ShuffleNet; FBNet's ConvBlock).
func (pl *planner) expand(e, groups int, act Activation) {
	pl.conv(OpNameExpand, 1, 1, e, groups, OpPW, act)
	if groups > 1 {
		pl.push(PlanOp{Name: OpNameShuffle, Op: OpShuffle, Kernel: 1, Stride: 1, Out: pl.c, Groups: groups})
	}
}

// norm appends a standalone BatchNorm + ReLU on the previous op's output.
func (pl *planner) norm(name string) {
	pl.push(PlanOp{Name: name, Op: OpNorm, Kernel: 1, Stride: 1, Out: pl.c, Groups: 1, Act: ReLU, Norm: true})
}

// elementwise appends an op of kind op on value v that keeps its shape.
func (pl *planner) elementwise(name string, op Op, act Activation, v int, dead, unused bool) {
	pl.push(PlanOp{Name: name, Op: op, Kernel: 1, Stride: 1, Out: pl.chans(v), Groups: 1, Act: act, Inputs: []int{v},
		Dead: dead, Unused: unused})
}

// reluConv appends ReLU → k×k conv (stride) → BatchNorm on value v
// (NAS-Bench-201's ReLUConvBN); norm false leaves out the BatchNorm and the
// ReLU (the 1×1 conv of the basic block's pooled shortcut).
func (pl *planner) reluConv(name string, v, kernel, stride, out int, norm, dead, unused bool) {
	if norm {
		pl.elementwise(name+".relu", OpAct, ReLU, v, dead, unused)
		v = pl.last
	}
	pl.push(PlanOp{Name: name, Op: convOp(kernel, OpConv), Kernel: kernel, Stride: stride, Out: out, Groups: 1, Norm: norm,
		Inputs: []int{v}, Dead: dead, Unused: unused})
}

// validateGroups checks the group count of the 1×1 convs.
func (b Block) validateGroups(in int) error {
	if b.Groups < 0 {
		return fmt.Errorf("field groups: must not be negative, got %d", b.Groups)
	}
	if b.Groups <= 1 {
		return nil
	}
	if b.Kind != KindIBN && b.Kind != KindUIB {
		return fmt.Errorf("field groups: only valid for kinds %q and %q", KindIBN, KindUIB)
	}
	e := b.ExpandedWidth(in)
	if in%b.Groups != 0 || e%b.Groups != 0 || b.Out%b.Groups != 0 {
		return fmt.Errorf("field groups: %d groups must divide the input (%d), expanded (%d) and output (%d) widths", b.Groups, in, e, b.Out)
	}
	return nil
}
