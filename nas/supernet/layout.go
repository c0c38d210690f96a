package supernet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/train"
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
	kMax     int
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

// blockVar returns the variable scope (relative to the supernet's) of op
// ("expand", "dw", "project") of a block of the given kind at slot p (of
// stage s), by the sharing mode: shared ops drop the kind.
func (g *geometry) blockVar(s int, p string, kind blocks.Kind, op string) string {
	shared := (op == "project" && g.sharing != ShareNothing) || (op == "expand" && g.centreExpand(s))
	if shared {
		return p + "/" + op
	}
	if kind == blocks.KindFused && op == "expand" {
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

func newGeometry(s *nas.Space, width float64, sharing Sharing, proxyHead blocks.Head, channels, classes int) geometry {
	g := geometry{stemK: s.Stem.Kernel, head: proxyHead, channels: channels, classes: classes, sharing: sharing}
	var prev []int
	for i := range s.Stem.Multipliers {
		prev = append(prev, scaleWidth(s.Stem.Width(i), width))
	}
	g.stemMax = slices.Max(prev)
	for si := range s.Stages {
		st := &s.Stages[si]
		var outs []int
		for i := range st.Multipliers {
			outs = append(outs, scaleWidth(st.Width(i), width))
		}
		g.outMax = append(g.outMax, slices.Max(outs))
		g.kinds = append(g.kinds, slices.Clone(st.Kinds))
		g.kernMax = append(g.kernMax, slices.Max(st.Kernels))
		g.kMax = max(g.kMax, slices.Max(st.Kernels))
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

// vars lists the shared variables (weights and BatchNorm scales/offsets).
func (g *geometry) vars() []varSpec {
	var vs []varSpec
	conv := func(scope string, shape []int, fanIn int, activated bool) {
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
		km := g.kernMax[s]
		for b := range g.inMax[s] {
			p := slotPrefix(s, b)
			in, e, out := g.inMax[s][b], g.expMax[s][b], g.outMax[s]
			seen := map[string]bool{}
			add := func(path string, shape []int, fanIn int, activated bool) {
				if !seen[path] {
					seen[path] = true
					conv(path, shape, fanIn, activated)
				}
			}
			for _, kind := range g.kinds[s] {
				switch kind {
				case blocks.KindIBN:
					if v := g.blockVar(s, p, kind, "expand"); g.centreExpand(s) {
						add(v, []int{km, km, in, e}, km*km*in, true)
					} else {
						add(v, []int{in, e}, in, true)
					}
					add(g.blockVar(s, p, kind, "dw"), []int{km, km, e}, km*km, true)
				case blocks.KindFused:
					add(g.blockVar(s, p, kind, "expand"), []int{km, km, in, e}, km*km*in, true)
				}
				add(g.blockVar(s, p, kind, "project"), []int{e, out}, e, false)
			}
		}
	}
	c := g.outMax[len(g.outMax)-1]
	if g.head.Conv > 0 {
		conv("head/conv", []int{c, g.head.Conv}, c, true)
		c = g.head.Conv
	}
	if g.head.Hidden > 0 {
		dense("head/hidden", c, g.head.Hidden, 2)
		c = g.head.Hidden
	}
	dense("classifier", c, g.classes, 1)
	for i := range vs {
		vs[i].path = weightsScope + "/" + vs[i].path
	}
	return vs
}

// All is the option value of a kind, kernel or depth decision that averages
// the outputs of all its options (TuNAS's op warm-up: every op enabled with
// weight 1/n). Width and expansion decisions ("filters") take no All; their
// warm-up uses the largest option.
const All = -1

// Path is one point of the space as the supernet trains it.
type Path struct {
	// Point is the point of the space (it may hold All).
	Point nas.Point
	// Arch is the deployed architecture (space.Arch(Point)); with All, that
	// of the representative point (All replaced by the first kind and kernel
	// and the largest depth).
	Arch *blocks.Arch
	// Proxy is the architecture trained on the proxy task: Arch scaled by the
	// proxy width and adapted to the input size.
	Proxy *blocks.Arch
	// Key identifies the proxy network (its stem and blocks in the text form,
	// on one line, with the mixed options; the head is the same for all):
	// points that differ only in skipped blocks share it.
	Key string
	// Mixed reports whether the path averages options (All).
	Mixed bool
	// blocks[i] describes Proxy.Blocks[i] in the supernet.
	blocks []pathBlock
	// depthMix[s] lists the numbers of blocks of stage s whose outputs are
	// averaged (nil: no mixing); stageEnd[s] is the index after its last block.
	depthMix [][]int
	stageEnd []int
}

// pathBlock is one block of a path: its weight slot and the kinds and
// kernels averaged (one each without mixing).
type pathBlock struct {
	slot    [2]int
	kinds   []blocks.Kind
	kernels []int
}

// isOp reports whether decision kind k may be All.
func isOp(k nas.DecisionKind) bool {
	return k == nas.DecideKind || k == nas.DecideKernel || k == nas.DecideDepth
}

// proxyOf returns the Path of point p (which may hold All).
func proxyOf(s *nas.Space, p nas.Point, width float64, adapt train.Adapt, h, w, c, classes int) (*Path, error) {
	l := s.Layout()
	if len(p) != len(l.Sizes) {
		return nil, fmt.Errorf("space %q: point has %d decisions, want %d", s.Name, len(p), len(l.Sizes))
	}
	rep := slices.Clone(p)
	mixed := false
	for i, d := range s.Decisions() {
		if p[i] != All {
			continue
		}
		if !isOp(d.Kind) {
			return nil, fmt.Errorf("space %q: decision %s (%s) cannot average its options", s.Name, d.Name, d.Kind)
		}
		mixed = true
		rep[i] = 0
		if d.Kind == nas.DecideDepth {
			rep[i] = argmaxI(s.Stages[d.Stage].Depths)
		}
	}
	a, err := s.Arch(rep)
	if err != nil {
		return nil, err
	}
	proxy, err := train.ProxyArch(a.WithWidth(width), adapt, h, w, c, classes)
	if err != nil {
		return nil, err
	}
	proxy.Name = "path"
	pt := &Path{Point: slices.Clone(p), Arch: a, Proxy: proxy, Mixed: mixed}
	keys := []string{proxy.Stem.String()}
	for si := range s.Stages {
		st, sl := &s.Stages[si], &l.Stages[si]
		depth := st.Depths[rep[sl.Depth]]
		var mix []int
		if p[sl.Depth] == All {
			mix = slices.Clone(st.Depths)
			slices.Sort(mix)
			keys = append(keys, fmt.Sprintf("depth%v", mix))
		}
		for b := range depth {
			d := sl.Blocks[b]
			pb := pathBlock{slot: [2]int{si, b}}
			if p[d[0]] == All {
				pb.kinds = slices.Clone(st.Kinds)
			} else {
				pb.kinds = []blocks.Kind{st.Kinds[p[d[0]]]}
			}
			if p[d[1]] == All {
				pb.kernels = slices.Clone(st.Kernels)
			} else {
				pb.kernels = []int{st.Kernels[p[d[1]]]}
			}
			blk := proxy.Blocks[len(pt.blocks)]
			key := blk.String()
			if len(pb.kinds) > 1 || len(pb.kernels) > 1 {
				key = fmt.Sprintf("%s%v%v", key, pb.kinds, pb.kernels)
			}
			keys = append(keys, key)
			pt.blocks = append(pt.blocks, pb)
		}
		pt.depthMix = append(pt.depthMix, mix)
		pt.stageEnd = append(pt.stageEnd, len(pt.blocks))
	}
	if len(pt.blocks) != len(proxy.Blocks) {
		return nil, fmt.Errorf("supernet: internal error: %d block slots for %d blocks", len(pt.blocks), len(proxy.Blocks))
	}
	pt.Key = strings.Join(keys, " ")
	return pt, nil
}
