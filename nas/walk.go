package nas

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/multihw/multihw/blocks"
)

// BlockChoice is what one block of a stage takes: option indices into its
// stage's width, kind, kernel and expansion lists.
type BlockChoice struct {
	Width, Kind, Kernel, Expand int
}

// Site is one block of an architecture of the space, as Walk yields it: where
// it sits, what it reads, the options it takes and the block they make.
type Site struct {
	// Stage and Index locate the block's slot: stage Stage (0-based), block
	// Index within it (0-based). Slots name the supernet's shared weights.
	Stage, Index int
	// Stride is the block's stride (the stage's for its first block, else 1).
	Stride int
	// InSize is the input's spatial size in the deployed architecture (at
	// the space's resolution), In its width and InWidth that width's option
	// index: of the stem's width decision for the first block of the first
	// stage, of the previous stage's for a stage's first block, of the own
	// stage's for the others.
	InSize, In, InWidth int
	Choice              BlockChoice
	// Decisions are the indices of the block's decisions in a Point.
	Decisions BlockDecisions
	// Block is the deployed block (blocks.Block.Plan gives its ops).
	Block blocks.Block
}

// Walk is a point of the space walked block by block.
type Walk struct {
	// Stem is the stem block and StemWidth its width option.
	Stem      blocks.Block
	StemWidth int
	// Sites are the blocks of the architecture, in order.
	Sites []Site
	// Depths holds the number of blocks of each stage.
	Depths []int
	// Out and OutWidth are the last stage's width and its option index;
	// OutSize the spatial size the head reads.
	Out, OutWidth, OutSize int
}

func (s *Space) act() blocks.Activation {
	if s.Act == blocks.ReLU {
		return "" // one spelling per meaning, as blocks.Parse normalises
	}
	return s.Act
}

func (s *Space) activation() blocks.Activation {
	if s.Act == "" {
		return blocks.ReLU
	}
	return s.Act
}

// StemBlock returns the stem of width option w (an index: it panics outside
// the stem's options).
func (s *Space) StemBlock(w int) blocks.Block {
	return blocks.Block{Kind: blocks.KindConv, Kernel: s.Stem.Kernel, Stride: s.Stem.Stride, Out: s.Stem.Width(w), Act: s.act()}
}

// SlotSize returns the input spatial size of block index of stage stage in
// the deployed architecture (SAME padding: each stride s divides the size by
// s, rounding up). stage and index are indices: it panics outside the space.
func (s *Space) SlotSize(stage, index int) int {
	size := ceilDiv(s.Resolution, s.Stem.Stride)
	for i := range stage {
		size = ceilDiv(size, s.Stages[i].Stride)
	}
	if index > 0 {
		size = ceilDiv(size, s.Stages[stage].Stride)
	}
	return size
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Site returns block index of stage stage taking choice c when its input
// has width option inWidth (see Site.InWidth). It is the one place a block of
// the space is made: its stride, activation and the space's expansion-1
// rule (ExpandOne) are decided here. Walk uses it for the blocks of a point,
// the cost tables for every option of every slot. Its arguments are
// indices of the space's options: it panics outside them, as an index does.
func (s *Space) Site(stage, index, inWidth int, c BlockChoice) Site {
	st := &s.Stages[stage]
	var in int
	switch {
	case index > 0:
		in = st.Width(inWidth)
	case stage == 0:
		in = s.Stem.Width(inWidth)
	default:
		in = s.Stages[stage-1].Width(inWidth)
	}
	stride := 1
	if index == 0 {
		stride = st.Stride
	}
	b := blocks.Block{Kind: st.Kinds[c.Kind], Kernel: st.Kernels[c.Kernel], Stride: stride, Out: st.Width(c.Width),
		Expand: st.Expansions[c.Expand], Act: s.act()}
	if s.keepExpand() && !b.HasExpandConv(in) {
		b.KeepExpand = true // only where it changes the block: one spelling per network
	}
	return Site{Stage: stage, Index: index, Stride: stride, InSize: s.SlotSize(stage, index), In: in, InWidth: inWidth, Choice: c, Block: b}
}

// Walk walks point p: the stem, then the blocks each stage's depth keeps,
// each with its input and options (Site). It fails if p is not a point of
// the space.
func (s *Space) Walk(p Point) (*Walk, error) {
	l := s.Layout()
	return s.WalkLayout(p, &l)
}

// WalkLayout is Walk with the space's Layout computed once by the caller
// (Layout formats every option's name: most of a walk's time otherwise). l
// must be s.Layout() of the space as it is now.
func (s *Space) WalkLayout(p Point, l *Layout) (*Walk, error) {
	if l == nil {
		return nil, fmt.Errorf("space %q: walk without a layout (Space.Layout)", s.Name)
	}
	if err := s.checkPoint(p, l.Sizes); err != nil {
		return nil, err
	}
	n := 0
	for i := range s.Stages {
		n += s.Stages[i].Depths[p[l.Stages[i].Depth]]
	}
	w := &Walk{StemWidth: p[l.StemWidth], Sites: make([]Site, 0, n), Depths: make([]int, 0, len(s.Stages))}
	w.Stem = s.StemBlock(w.StemWidth)
	prev := w.StemWidth
	for i := range s.Stages {
		st, sl := &s.Stages[i], &l.Stages[i]
		width := p[sl.Width]
		depth := st.Depths[p[sl.Depth]]
		for b := range depth {
			d := sl.Blocks[b]
			in := prev
			if b > 0 {
				in = width
			}
			site := s.Site(i, b, in, BlockChoice{Width: width, Kind: p[d.Kind], Kernel: p[d.Kernel], Expand: p[d.Expand]})
			site.Decisions = d
			w.Sites = append(w.Sites, site)
		}
		w.Depths = append(w.Depths, depth)
		prev = width
	}
	w.OutWidth, w.Out = prev, s.Stages[len(s.Stages)-1].Width(prev)
	w.OutSize = s.HeadSize()
	return w, nil
}

// HeadSize returns the spatial size the head reads in the deployed
// architecture (after every stride).
func (s *Space) HeadSize() int {
	last := len(s.Stages) - 1
	return ceilDiv(s.SlotSize(last, 0), s.Stages[last].Stride)
}

// Arch returns the architecture of the walk (named after the space, at its
// resolution and classes).
func (s *Space) archOf(w *Walk) *blocks.Arch {
	a := &blocks.Arch{Name: s.Name, Resolution: s.Resolution, Channels: s.Channels, Classes: s.Classes, Head: s.Head, Stem: w.Stem}
	for _, site := range w.Sites {
		a.Blocks = append(a.Blocks, site.Block)
	}
	return a
}

// Arch converts a point into the deployed architecture (at the space's
// resolution and classes).
func (s *Space) Arch(p Point) (*blocks.Arch, error) {
	w, err := s.Walk(p)
	if err != nil {
		return nil, err
	}
	a := s.archOf(w)
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("space %q: point %v: %w", s.Name, p, err)
	}
	return a, nil
}

// Active reports which decisions of p shape its architecture: the widths
// and depths, and the kind, kernel and expansion of the blocks within their
// stage's depth, except the kernel of a fused block that has no expansion
// conv (ExpandOneOmit at expansion 1: a lone 1×1 projection). TuNAS's
// controller samples hierarchically: only active decisions enter log π(p).
func (s *Space) Active(p Point) ([]bool, error) {
	w, err := s.Walk(p)
	if err != nil {
		return nil, err
	}
	l := s.Layout()
	act := make([]bool, len(p))
	act[l.StemWidth] = true
	for _, sl := range l.Stages {
		act[sl.Width], act[sl.Depth] = true, true
	}
	for _, site := range w.Sites {
		d := site.Decisions
		act[d.Kind], act[d.Expand] = true, true
		b := site.Block
		act[d.Kernel] = !(b.Kind == blocks.KindFused && !b.HasExpandConv(site.In))
	}
	return act, nil
}

// Encode finds a point whose architecture equals a (ignoring the name; the
// decisions of skipped blocks are set to 0). It fails if a is not in the space.
// Where consecutive stages could share blocks (a stride-1 stage of the same
// width), the earliest stages take as many blocks as they can.
func (s *Space) Encode(a *blocks.Arch) (Point, error) {
	if a == nil {
		return nil, fmt.Errorf("space %q: architecture is nil", s.Name)
	}
	l := s.Layout()
	p := make(Point, len(l.Sizes))
	fail := func(format string, args ...any) (Point, error) {
		return nil, fmt.Errorf("architecture %q is not in space %q: %s", a.Name, s.Name, fmt.Sprintf(format, args...))
	}
	var ok bool
	if p[l.StemWidth], ok = indexWhere(len(s.Stem.Widths()), func(i int) bool { return s.Stem.Width(i) == a.Stem.Out }); !ok {
		return fail("no stem width option is %d", a.Stem.Out)
	}
	if stem := s.StemBlock(p[l.StemWidth]); canonical(a.Stem) != stem {
		return fail("stem %s, want %s", a.Stem, stem)
	}
	if a.Head != s.Head {
		return fail("head %s, want %s", a.Head, s.Head)
	}
	why := &encodeWhy{stage: -1}
	if !s.encodeStages(a.Blocks, 0, p[l.StemWidth], p, &l, why) {
		return fail("%s", why.msg)
	}
	return p, nil
}

// encodeWhy keeps the reason of the failure that got furthest (the latest
// stage) while Encode backtracks.
type encodeWhy struct {
	stage int
	msg   string
}

func (w *encodeWhy) set(stage int, format string, args ...any) {
	if stage >= w.stage {
		w.stage, w.msg = stage, fmt.Sprintf(format, args...)
	}
}

// encodeStages assigns blks to stages i.. by backtracking over stage depths;
// prev is the width option of the input of stage i.
func (s *Space) encodeStages(blks []blocks.Block, i, prev int, p Point, l *Layout, why *encodeWhy) bool {
	if i == len(s.Stages) {
		if len(blks) > 0 {
			why.set(i, "%d blocks left after the last stage", len(blks))
			return false
		}
		return true
	}
	st, sl := &s.Stages[i], &l.Stages[i]
	for di := len(st.Depths) - 1; di >= 0; di-- {
		depth := st.Depths[di]
		if depth > len(blks) {
			continue
		}
		if !s.encodeStage(blks[:depth], i, prev, p, sl, why) {
			continue
		}
		p[sl.Depth] = di
		if s.encodeStages(blks[depth:], i+1, p[sl.Width], p, l, why) {
			return true
		}
	}
	why.set(-1, "no depth of stage %d fits", i+1)
	return false
}

// encodeStage sets the decisions of stage i from its blocks: it looks up each
// field's option, then checks that the space makes exactly that block there
// (Site: stride, activation, expansion-1 rule and every other field).
func (s *Space) encodeStage(blks []blocks.Block, i, prev int, p Point, sl *StageLayout, why *encodeWhy) bool {
	st := &s.Stages[i]
	var ok bool
	if p[sl.Width], ok = indexWhere(len(st.Widths()), func(k int) bool { return st.Width(k) == blks[0].Out }); !ok {
		why.set(i, "stage %d width %d is not one of its widths %v", i+1, blks[0].Out, st.Widths())
		return false
	}
	for b, blk := range blks {
		d := sl.Blocks[b]
		c := BlockChoice{Width: p[sl.Width]}
		if c.Kind, ok = indexWhere(len(st.Kinds), func(k int) bool { return st.Kinds[k] == blk.Kind }); !ok {
			why.set(i, "stage %d block %d: kind %q not in the space", i+1, b+1, blk.Kind)
			return false
		}
		if c.Kernel, ok = indexWhere(len(st.Kernels), func(k int) bool { return st.Kernels[k] == blk.Kernel }); !ok {
			why.set(i, "stage %d block %d: kernel %d not in the space", i+1, b+1, blk.Kernel)
			return false
		}
		if c.Expand, ok = indexWhere(len(st.Expansions), func(k int) bool { return st.Expansions[k] == blk.Expand }); !ok {
			why.set(i, "stage %d block %d: expansion %g not in the space", i+1, b+1, blk.Expand)
			return false
		}
		in := prev
		if b > 0 {
			in = p[sl.Width]
		}
		if want := s.Site(i, b, in, c).Block; canonical(blk) != want {
			why.set(i, "stage %d block %d (%s) does not fit the stage (the space makes %s there)", i+1, b+1, blk, want)
			return false
		}
		p[d.Kind], p[d.Kernel], p[d.Expand] = c.Kind, c.Kernel, c.Expand
	}
	for b := len(blks); b < len(sl.Blocks); b++ {
		d := sl.Blocks[b]
		p[d.Kind], p[d.Kernel], p[d.Expand] = 0, 0, 0
	}
	return true
}

// canonical spells ReLU "" as the space's blocks (and blocks.Parse) do.
func canonical(b blocks.Block) blocks.Block {
	if b.Act == blocks.ReLU {
		b.Act = ""
	}
	return b
}

// CoveringPoints returns a few points that together take every option of
// every decision with the option active (every width and depth, and every
// kind, kernel and expansion of every block slot), and in every stage every
// (kind, kernel, expansion) combination in some block the point keeps.
// Equality tests run them to check a property for every option (the
// supernet against the retrained network, the cost tables against hwcost).
// The design is greedy: each new point's blocks take the combination that
// covers the most not yet covered (stage combination first).
func (s *Space) CoveringPoints() []Point {
	l := s.Layout()
	type stageCover struct {
		combo map[int]bool
		slot  []map[[2]int]bool // per block: (field, option) covered; field 0 kind, 1 kernel, 2 expand
	}
	cover := make([]stageCover, len(s.Stages))
	for i := range s.Stages {
		cover[i].combo = map[int]bool{}
		for range s.Stages[i].MaxDepth() {
			cover[i].slot = append(cover[i].slot, map[[2]int]bool{})
		}
	}
	done := func(k int) bool {
		if k < len(s.Stem.Widths()) {
			return false
		}
		for i := range s.Stages {
			st := &s.Stages[i]
			if k < len(st.Widths()) || len(cover[i].combo) < len(st.Kinds)*len(st.Kernels)*len(st.Expansions) {
				return false
			}
			for _, sc := range cover[i].slot {
				if len(sc) < len(st.Kinds)+len(st.Kernels)+len(st.Expansions) {
					return false
				}
			}
		}
		return true
	}
	var pts []Point
	for k := 0; !done(k); k++ {
		p := make(Point, len(l.Sizes))
		p[l.StemWidth] = k % len(s.Stem.Widths())
		for i := range s.Stages {
			st, sl, sc := &s.Stages[i], &l.Stages[i], &cover[i]
			p[sl.Width] = k % len(st.Widths())
			p[sl.Depth] = argmax(st.Depths)
			nK, nE := len(st.Kernels), len(st.Expansions)
			for b, d := range sl.Blocks {
				best, bestScore := 0, -1
				for c := range len(st.Kinds) * nK * nE {
					opt := [3]int{c / (nK * nE), c / nE % nK, c % nE}
					score := 0
					if !sc.combo[c] {
						score += 4
					}
					for f, o := range opt {
						if !sc.slot[b][[2]int{f, o}] {
							score++
						}
					}
					if score > bestScore {
						best, bestScore = c, score
					}
				}
				opt := [3]int{best / (nK * nE), best / nE % nK, best % nE}
				sc.combo[best] = true
				for f, o := range opt {
					sc.slot[b][[2]int{f, o}] = true
				}
				p[d.Kind], p[d.Kernel], p[d.Expand] = opt[0], opt[1], opt[2]
			}
		}
		pts = append(pts, p)
	}
	// The other depths: copies of the first points where every stage takes
	// its depth option j (if it has one other than its largest).
	for j := 0; ; j++ {
		p, changed := slices.Clone(pts[j%len(pts)]), false
		for i := range s.Stages {
			if st := &s.Stages[i]; j < len(st.Depths) && j != argmax(st.Depths) {
				p[l.Stages[i].Depth], changed = j, true
			}
		}
		if changed {
			pts = append(pts, p)
		}
		if !slices.ContainsFunc(s.Stages, func(st StageSpace) bool { return j+1 < len(st.Depths) }) {
			return pts
		}
	}
}

// MaxPoint returns the point with every decision at its largest option
// (widths, depths, kernels, expansions; the last kind): the supernet's
// filter warm-up and the largest path. The space must be valid (Validate;
// LoadSpace and ParseSpace check it).
func (s *Space) MaxPoint() Point {
	l := s.Layout()
	p := make(Point, len(l.Sizes))
	p[l.StemWidth] = argmax(s.Stem.Widths())
	for i, st := range s.Stages {
		sl := l.Stages[i]
		p[sl.Width] = argmax(st.Widths())
		p[sl.Depth] = argmax(st.Depths)
		for _, d := range sl.Blocks {
			p[d.Kind] = len(st.Kinds) - 1
			p[d.Kernel] = argmax(st.Kernels)
			p[d.Expand] = argmax(st.Expansions)
		}
	}
	return p
}

// argmax is the index of the first largest value.
func argmax[T cmp.Ordered](v []T) int { return slices.Index(v, slices.Max(v)) }
