package hwcost

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
)

// SegmentKind says which part of an architecture a Segment is.
type SegmentKind int

// Segment kinds.
const (
	SegStem SegmentKind = iota
	SegBlock
	SegHead
)

func (k SegmentKind) String() string {
	switch k {
	case SegStem:
		return "stem"
	case SegBlock:
		return "block"
	case SegHead:
		return "head"
	}
	return fmt.Sprintf("SegmentKind(%d)", int(k))
}

// Segment is a part of an architecture that a Target costs as a unit: the stem,
// one block, or the head with the classifier, together with the shape of its
// input. The cost of a segment depends only on its fields, so a search can
// precompute it once per option (see Table).
type Segment struct {
	Kind SegmentKind
	// Block is the stem or the block (unused for the head).
	Block blocks.Block
	// Head and Classes describe the head (unused otherwise).
	Head    blocks.Head
	Classes int
	// InC and InSize are the channels and the (square) spatial size of the input.
	InC, InSize int
}

// StemSegment returns the stem b applied to an image of inC channels and inSize pixels.
func StemSegment(b blocks.Block, inC, inSize int) Segment {
	return Segment{Kind: SegStem, Block: b, InC: inC, InSize: inSize}
}

// BlockSegment returns block b applied to an input of inC channels and inSize×inSize positions.
func BlockSegment(b blocks.Block, inC, inSize int) Segment {
	return Segment{Kind: SegBlock, Block: b, InC: inC, InSize: inSize}
}

// HeadSegment returns head h with a classifier of the given width, applied to
// an input of inC channels and inSize×inSize positions.
func HeadSegment(h blocks.Head, classes, inC, inSize int) Segment {
	return Segment{Kind: SegHead, Head: h, Classes: classes, InC: inC, InSize: inSize}
}

// OutC returns the channels after the segment (the classes for the head).
func (s Segment) OutC() int {
	if s.Kind == SegHead {
		return s.Classes
	}
	return s.Block.Out
}

// OutSize returns the spatial size after the segment (SAME padding; 1 after the head).
func (s Segment) OutSize() int {
	if s.Kind == SegHead {
		return 1
	}
	st := max(s.Block.Stride, 1)
	return (s.InSize + st - 1) / st
}

// Key is a canonical text form of the segment, e.g. "block ir_k3_s2_e6_c24 in 16x112",
// usable as the key of a measured lookup table.
func (s Segment) Key() string {
	switch s.Kind {
	case SegHead:
		return fmt.Sprintf("head %s_k%d in %dx%d", s.Head, s.Classes, s.InC, s.InSize)
	default:
		return fmt.Sprintf("%s %s in %dx%d", s.Kind, s.Block, s.InC, s.InSize)
	}
}

// Layers returns the primitive layers of the segment as blocks.Analyze reports
// them (MACs, weights, activation sizes), with Block = -1 for the stem, 0 for a
// block and 0 for the head.
func (s Segment) Layers() ([]blocks.Layer, error) {
	if s.InC <= 0 || s.InSize <= 0 {
		return nil, fmt.Errorf("segment %s: input channels and size must be positive, got %dx%d", s.Key(), s.InC, s.InSize)
	}
	// The static analysis exists once, in package blocks: cost the segment as
	// the matching part of a minimal architecture (an identity-shaped 1×1 stem
	// stands in for what comes before a block or the head).
	a := &blocks.Arch{Name: "segment", Resolution: s.InSize, Channels: s.InC, Classes: 1,
		Stem: blocks.Block{Kind: blocks.KindConv, Kernel: 1, Stride: 1, Out: s.InC}}
	want := 0
	switch s.Kind {
	case SegStem:
		a.Stem, want = s.Block, -1
	case SegBlock:
		a.Blocks = []blocks.Block{s.Block}
	case SegHead:
		if s.Classes <= 0 {
			return nil, fmt.Errorf("segment %s: classes must be positive, got %d", s.Key(), s.Classes)
		}
		a.Head, a.Classes = s.Head, s.Classes
	default:
		return nil, fmt.Errorf("segment: unknown kind %d", int(s.Kind))
	}
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", s.Key(), err)
	}
	out := make([]blocks.Layer, 0, 6)
	for _, l := range an.Layers {
		if l.Block == want {
			out = append(out, l)
		}
	}
	return out, nil
}

// Segments splits architecture a at the given input resolution (0 = its own)
// into its stem, blocks and head, with their input shapes.
func Segments(a *blocks.Arch, resolution int) ([]Segment, error) {
	an, err := blocks.Analyze(a, resolution)
	if err != nil {
		return nil, err
	}
	return segmentsOf(a, an), nil
}

// segmentsOf derives the segments from an analysis of a (shapes from the first
// layer of each part).
func segmentsOf(a *blocks.Arch, an *blocks.Analysis) []Segment {
	segs := make([]Segment, 0, len(a.Blocks)+2)
	segs = append(segs, StemSegment(a.Stem, a.Channels, an.Resolution))
	next := 0
	for i := range an.Layers {
		l := &an.Layers[i]
		if l.Block == next && next <= len(a.Blocks) {
			if next < len(a.Blocks) {
				segs = append(segs, BlockSegment(a.Blocks[next], l.InC, l.InSize))
			} else {
				segs = append(segs, HeadSegment(a.Head, a.Classes, l.InC, l.InSize))
			}
			next++
		}
	}
	return segs
}
