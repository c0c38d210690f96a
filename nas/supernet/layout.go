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
}

// scaleWidth is blocks.Arch.WithWidth's rounding of one width.
func scaleWidth(n int, w float64) int {
	if w == 1 || n <= 0 {
		return n
	}
	return blocks.MakeDivisible(float64(n)*w, 8)
}

func newGeometry(s *nas.Space, width float64, proxyHead blocks.Head, channels, classes int) geometry {
	g := geometry{stemK: s.Stem.Kernel, head: proxyHead, channels: channels, classes: classes}
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
			for _, kind := range g.kinds[s] {
				switch kind {
				case blocks.KindIBN:
					conv(p+"/ibn/expand", []int{in, e}, in, true)
					conv(p+"/ibn/dw", []int{km, km, e}, km*km, true)
					conv(p+"/ibn/project", []int{e, out}, e, false)
				case blocks.KindFused:
					conv(p+"/fused/conv", []int{km, km, in, e}, km*km*in, true)
					conv(p+"/fused/project", []int{e, out}, e, false)
				}
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

// Path is one point of the space as the supernet trains it.
type Path struct {
	// Point is the point of the space.
	Point nas.Point
	// Arch is the deployed architecture (space.Arch(Point)).
	Arch *blocks.Arch
	// Proxy is the architecture trained on the proxy task: Arch scaled by the
	// proxy width and adapted to the input size.
	Proxy *blocks.Arch
	// Key identifies the proxy network (its stem and blocks in the text form,
	// on one line; the head is the same for all): points that differ only in
	// skipped blocks share it.
	Key string
	// slots[i] is the (stage, block) weight slot of Proxy.Blocks[i].
	slots [][2]int
}

// proxyOf returns the Path of point p.
func proxyOf(s *nas.Space, p nas.Point, width float64, adapt train.Adapt, h, w, c, classes int) (*Path, error) {
	a, err := s.Arch(p)
	if err != nil {
		return nil, err
	}
	proxy, err := train.ProxyArch(a.WithWidth(width), adapt, h, w, c, classes)
	if err != nil {
		return nil, err
	}
	proxy.Name = "path"
	l := s.Layout()
	pt := &Path{Point: slices.Clone(p), Arch: a, Proxy: proxy}
	for si := range s.Stages {
		depth := s.Stages[si].Depths[p[l.Stages[si].Depth]]
		for b := range depth {
			pt.slots = append(pt.slots, [2]int{si, b})
		}
	}
	if len(pt.slots) != len(proxy.Blocks) {
		return nil, fmt.Errorf("supernet: internal error: %d block slots for %d blocks", len(pt.slots), len(proxy.Blocks))
	}
	keys := []string{proxy.Stem.String()}
	for _, b := range proxy.Blocks {
		keys = append(keys, b.String())
	}
	pt.Key = strings.Join(keys, " ")
	return pt, nil
}
