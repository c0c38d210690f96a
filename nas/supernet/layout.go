package supernet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/nas"
)

// varSpec is one shared variable: its path in the store, its (maximal) shape
// and how it is initialised.
type varSpec struct {
	path  string
	shape []int
	init  initKind
	fanIn int     // for initNormal
	gain  float64 // for initNormal: variance gain/fanIn
	decay bool    // weight decay applies (conv and dense kernels)
}

type initKind int

const (
	initNormal initKind = iota
	initZero
	initOne
)

// Variable paths of the supernet, under the store's root. Block slots are
// named after the space's decisions: stage s, block b (1-based).
const (
	weightsScope = "/supernet"
	slotsScope   = "/optimizer"
)

func slotPrefix(stage, block int) string { return fmt.Sprintf("s%d/b%d", stage+1, block+1) }

// geometry holds the maximal widths of every weight slot of a space at a
// proxy width factor, so that every option's weights are slices of them.
type geometry struct {
	stemK    int
	stemMax  int
	inMax    [][]int // [stage][block]: maximal input width
	expMax   [][]int // maximal expanded width
	outMax   []int   // maximal stage output width
	kinds    [][]blocks.Kind
	kernMax  []int // maximal kernel of each stage
	head     blocks.Head
	classes  int
	channels int
	sharing  Sharing
}

// centreExpand reports whether the IBN expansions of stage s are the centre
// taps of the fused IBN's k×k ones: with ShareExpandProject, in stages that
// offer both kinds (a single-kind stage keeps plain variables).
func (g *geometry) centreExpand(s int) bool {
	return g.sharing == ShareExpandProject && slices.Contains(g.kinds[s], blocks.KindIBN) && slices.Contains(g.kinds[s], blocks.KindFused)
}

// blockVar returns the variable scope (relative to the supernet's) of plan
// op name ("expand", "fused", "dw", "project"; blocks.Block.Plan) of a block
// of the given kind at slot p (of stage s), by the sharing mode: shared ops
// drop the kind. The fused IBN's k×k expansion and the IBN's 1×1 one are both
// the slot's "expansion".
func (g *geometry) blockVar(s int, p string, kind blocks.Kind, op string) string {
	if op == blocks.OpNameFused {
		op = blocks.OpNameExpand
	}
	shared := (op == blocks.OpNameProject && g.sharing != ShareNothing) || (op == blocks.OpNameExpand && g.centreExpand(s))
	if shared {
		return p + "/" + op
	}
	if kind == blocks.KindFused && op == blocks.OpNameExpand {
		return p + "/fused/conv"
	}
	return p + "/" + string(kind) + "/" + op
}

// scaleWidth is blocks.Arch.WithWidth's rounding of one width.
func scaleWidth(n int, w float64) int {
	if w == 1 || n <= 0 {
		return n
	}
	return blocks.MakeDivisible(float64(n)*w, 8)
}

func scaleAll(ws []int, w float64) []int {
	out := make([]int, len(ws))
	for i, n := range ws {
		out[i] = scaleWidth(n, w)
	}
	return out
}

func newGeometry(s *nas.Space, width float64, sharing Sharing, proxyHead blocks.Head, channels, classes int) geometry {
	g := geometry{stemK: s.Stem.Kernel, head: proxyHead, channels: channels, classes: classes, sharing: sharing}
	prev := scaleAll(s.Stem.Widths(), width)
	g.stemMax = slices.Max(prev)
	for si := range s.Stages {
		st := &s.Stages[si]
		outs := scaleAll(st.Widths(), width)
		g.outMax = append(g.outMax, slices.Max(outs))
		g.kinds = append(g.kinds, slices.Clone(st.Kinds))
		g.kernMax = append(g.kernMax, slices.Max(st.Kernels))
		ins, exps := make([]int, st.MaxDepth()), make([]int, st.MaxDepth())
		for b := range st.MaxDepth() {
			in := prev
			if b > 0 {
				in = outs
			}
			for _, c := range in {
				ins[b] = max(ins[b], c)
				for _, e := range st.Expansions {
					exps[b] = max(exps[b], blocks.MakeDivisible(float64(c)*e, 8))
				}
			}
		}
		g.inMax = append(g.inMax, ins)
		g.expMax = append(g.expMax, exps)
		prev = outs
	}
	return g
}

// maxPlan is the plan of a block of the given kind at slot (s, b) with every
// width, the expansion and the kernel at their maxima (and the expansion
// conv present): its ops are the slot's weights at their full shapes.
func (g *geometry) maxPlan(s, b int, kind blocks.Kind) blocks.Plan {
	blk := blocks.Block{Kind: kind, Kernel: g.kernMax[s], Stride: 1, Out: g.outMax[s], Expanded: g.expMax[s][b], KeepExpand: true}
	return blk.Plan(g.inMax[s][b])
}

// vars lists the shared variables (weights and BatchNorm scales/offsets):
// one per op of the maximal plans of every slot and kind, of the stem and of
// the head, the ops that share weights (blockVar) listed once.
func (g *geometry) vars() []varSpec {
	var vs []varSpec
	seen := map[string]bool{}
	conv := func(scope string, shape []int, fanIn int, activated bool) {
		if seen[scope] {
			return
		}
		seen[scope] = true
		gain := 1.0
		if activated {
			gain = 2
		}
		c := shape[len(shape)-1]
		vs = append(vs,
			varSpec{path: scope + "/weights", shape: shape, init: initNormal, fanIn: fanIn, gain: gain, decay: true},
			varSpec{path: scope + "/bn/gamma", shape: []int{c}, init: initOne},
			varSpec{path: scope + "/bn/beta", shape: []int{c}, init: initZero})
	}
	dense := func(scope string, in, out int, gain float64) {
		vs = append(vs,
			varSpec{path: scope + "/weights", shape: []int{in, out}, init: initNormal, fanIn: in, gain: gain, decay: true},
			varSpec{path: scope + "/biases", shape: []int{out}, init: initZero})
	}
	k := g.stemK
	conv("stem", []int{k, k, g.channels, g.stemMax}, k*k*g.channels, true)
	for s := range g.inMax {
		for b := range g.inMax[s] {
			p := slotPrefix(s, b)
			for _, kind := range g.kinds[s] {
				for _, op := range g.maxPlan(s, b, kind).Ops {
					v := g.blockVar(s, p, kind, op.Name)
					switch {
					case op.Op == blocks.OpAdd:
					case op.Op == blocks.OpDW:
						conv(v, []int{op.Kernel, op.Kernel, op.In}, op.Kernel*op.Kernel, op.Act != "")
					case op.Name == blocks.OpNameFused || op.Name == blocks.OpNameExpand && g.centreExpand(s):
						// The IBN's shared expansion is the centre tap of this k×k one.
						kk := g.kernMax[s]
						conv(v, []int{kk, kk, op.In, op.Out}, kk*kk*op.In, op.Act != "")
					default:
						conv(v, []int{op.In, op.Out}, op.In, op.Act != "")
					}
				}
			}
		}
	}
	for _, op := range g.head.Plan(g.outMax[len(g.outMax)-1], g.classes).Ops {
		scope := strings.ReplaceAll(op.Name, ".", "/")
		switch op.Op {
		case blocks.OpPW:
			conv(scope, []int{op.In, op.Out}, op.In, op.Act != "")
		case blocks.OpFC:
			gain := 1.0
			if op.Act != "" {
				gain = 2
			}
			dense(scope, op.In, op.Out, gain)
		}
	}
	for i := range vs {
		vs[i].path = weightsScope + "/" + vs[i].path
	}
	return vs
}

// Path is one point of the space as the supernet trains it.
type Path struct {
	// Point is the point of the space.
	Point nas.Point
	// Avg marks the op decisions (kind, kernel, depth) whose options the path
	// averages (TuNAS's op warm-up); nil: none.
	Avg []bool
	// Arch is the deployed architecture (space.Arch(Point)); with Avg, that
	// of the representative point (averaged decisions replaced by the first
	// kind and kernel and the largest depth).
	Arch *blocks.Arch
	// Proxy is the architecture trained on the proxy task: Arch scaled by the
	// proxy width and adapted to the input size.
	Proxy *blocks.Arch
	// Key identifies the proxy network (its stem and blocks in the text form,
	// on one line, with the mixed options; the head is the same for all):
	// points that differ only in skipped blocks share it.
	Key string
	// Mixed reports whether the path averages options.
	Mixed bool
	// blocks[i] describes Proxy.Blocks[i] in the supernet.
	blocks []pathBlock
	// depthMix[s] lists the numbers of blocks of stage s whose outputs are
	// averaged (nil: no mixing); stageEnd[s] is the index after its last block.
	depthMix [][]int
	stageEnd []int
}

// pathBlock is one block of a path: its weight slot (stage, index) and the
// kinds and kernels averaged (one each without mixing).
type pathBlock struct {
	stage, index int
	kinds        []blocks.Kind
	kernels      []int
}

// isOp reports whether decision kind k may be averaged.
func isOp(k nas.DecisionKind) bool {
	return k == nas.DecideKind || k == nas.DecideKernel || k == nas.DecideDepth
}

// proxyOf returns the Path of point p with the op decisions avg marks
// averaged (nil: none). The blocks come from the space's walk of the
// representative point (nas.Space.Walk), the proxy from blocks.ProxyArch.
func proxyOf(s *nas.Space, p nas.Point, avg []bool, width float64, adapt blocks.Adapt, h, w, c, classes int) (*Path, error) {
	l := s.Layout()
	if len(p) != len(l.Sizes) {
		return nil, fmt.Errorf("space %q: point has %d decisions, want %d", s.Name, len(p), len(l.Sizes))
	}
	if avg != nil && len(avg) != len(p) {
		return nil, fmt.Errorf("space %q: averaging mask has %d decisions, want %d", s.Name, len(avg), len(p))
	}
	rep := slices.Clone(p)
	mixed := false
	for i, d := range s.Decisions() {
		if avg == nil || !avg[i] {
			continue
		}
		if !isOp(d.Kind) {
			return nil, fmt.Errorf("space %q: decision %s (%s) cannot average its options", s.Name, d.Name, d.Kind)
		}
		mixed = true
		rep[i] = 0
		if d.Kind == nas.DecideDepth {
			rep[i] = slices.Index(s.Stages[d.Stage].Depths, slices.Max(s.Stages[d.Stage].Depths))
		}
	}
	walk, err := s.Walk(rep)
	if err != nil {
		return nil, err
	}
	a, err := s.Arch(rep)
	if err != nil {
		return nil, err
	}
	proxy, err := blocks.ProxyArch(a.WithWidth(width), adapt, h, w, c, classes)
	if err != nil {
		return nil, err
	}
	proxy.Name = "path"
	pt := &Path{Point: slices.Clone(p), Arch: a, Proxy: proxy, Mixed: mixed}
	if mixed {
		pt.Avg = slices.Clone(avg)
	}
	averaged := func(d int) bool { return avg != nil && avg[d] }
	keys := []string{proxy.Stem.String()}
	for si := range s.Stages {
		st, sl := &s.Stages[si], &l.Stages[si]
		var mix []int
		if averaged(sl.Depth) {
			mix = slices.Clone(st.Depths)
			slices.Sort(mix)
			keys = append(keys, fmt.Sprintf("depth%v", mix))
		}
		pt.depthMix = append(pt.depthMix, mix)
	}
	for i, site := range walk.Sites {
		st, d := &s.Stages[site.Stage], site.Decisions
		pb := pathBlock{stage: site.Stage, index: site.Index, kinds: []blocks.Kind{site.Block.Kind}, kernels: []int{site.Block.Kernel}}
		if averaged(d.Kind) {
			pb.kinds = slices.Clone(st.Kinds)
		}
		if averaged(d.Kernel) {
			pb.kernels = slices.Clone(st.Kernels)
		}
		key := proxy.Blocks[i].String()
		if len(pb.kinds) > 1 || len(pb.kernels) > 1 {
			key = fmt.Sprintf("%s%v%v", key, pb.kinds, pb.kernels)
		}
		keys = append(keys, key)
		pt.blocks = append(pt.blocks, pb)
	}
	end := 0
	for _, depth := range walk.Depths {
		end += depth
		pt.stageEnd = append(pt.stageEnd, end)
	}
	if len(pt.blocks) != len(proxy.Blocks) {
		return nil, fmt.Errorf("supernet: internal error: %d block slots for %d blocks", len(pt.blocks), len(proxy.Blocks))
	}
	pt.Key = strings.Join(keys, " ")
	return pt, nil
}
