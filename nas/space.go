// Package nas holds the multi-hardware architecture search: the declarative
// search space (this file), the one-shot TuNAS search (supernet, controller,
// rewards) and the baselines.
//
// A search space is plain data, in the spirit of TuNAS's search_space_utils:
// every choice is a list of options (a OneOf); a list with one element is a
// fixed value. The same structure drives sampling, the supernet, the cost
// tables and printing. The decisions, in canonical order, are:
//
//	stem/width                      stem width
//	sN/width, sN/depth              per stage: width, number of blocks
//	sN/bM/kind, /kernel, /expand    per block: block kind, kernel, expansion ratio
//
// Widths are declared as multipliers of a base width, rounded with
// blocks.MakeDivisible(·, 8); multipliers that round to the same width give
// one option (the stem's 0.625, 0.75 and 1.0 × 16 are all 16 channels), so
// the uniform prior and the controller see each width once.
//
// A Point holds one option index per decision. Blocks beyond a stage's depth
// are skipped: their decisions exist but are inactive (Space.Active): they do
// not change the architecture and the controller does not learn from them.
// Space.Walk is the one walk over a point's blocks that Space.Arch, Encode,
// Active, the cost tables (nas/tunas) and the supernet (nas/supernet) share.
package nas

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// Space is a declarative search space over mobile architectures.
type Space struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Resolution, Channels and Classes of the deployed (cost) architecture.
	Resolution int               `json:"resolution"`
	Channels   int               `json:"channels"`
	Classes    int               `json:"classes"`
	Act        blocks.Activation `json:"act,omitempty"`
	// ExpandOne says how blocks of expansion 1 are built ("" = ExpandOneKeep).
	ExpandOne ExpandOne    `json:"expand_one,omitempty"`
	Stem      StemSpace    `json:"stem"`
	Stages    []StageSpace `json:"stages"`
	Head      blocks.Head  `json:"head"`
}

// ExpandOne is how a space builds IBN and fused IBN blocks of expansion 1,
// whose expanded width equals their input width. The rule is part of the
// space: Space.Arch writes it into every block (blocks.Block.KeepExpand), so
// the supernet, the cost and the retrained network follow the same one.
type ExpandOne string

// ExpandOne rules.
const (
	// ExpandOneKeep keeps the expansion conv (1×1 for IBN, k×k for fused
	// IBN, in → in channels), as TuNAS's search spaces do (its supernet masks
	// the expansion's channels, it never removes the op). The default: the
	// supernet's shared expansion then always feeds the depthwise and the
	// projection the same kind of features, which it needs to learn (see
	// `multihw search ablation`).
	ExpandOneKeep ExpandOne = "keep"
	// ExpandOneOmit omits it, as the Model Garden and TF-slim reference
	// models do: an expansion-1 IBN is depthwise + projection, an
	// expansion-1 fused IBN a lone strided 1×1 projection (its kernel
	// decision is then inactive).
	ExpandOneOmit ExpandOne = "omit"
)

// keepExpand reports whether the space's expansion-1 blocks keep their
// expansion conv.
func (s *Space) keepExpand() bool { return s.ExpandOne != ExpandOneOmit }

// StemSpace is the stem convolution: its width is BaseWidth × a multiplier,
// rounded with blocks.MakeDivisible(·, 8).
type StemSpace struct {
	Kernel      int       `json:"kernel"`
	Stride      int       `json:"stride"`
	BaseWidth   int       `json:"base_width"`
	Multipliers []float64 `json:"multipliers"`
}

// StageSpace is a stage: Depth blocks of the same output width; the first has
// the stage's stride, the others stride 1 (and a residual connection). Every
// block of the stage chooses among the same kinds, kernels and expansions.
type StageSpace struct {
	Stride      int           `json:"stride"`
	BaseWidth   int           `json:"base_width"`
	Multipliers []float64     `json:"multipliers"`
	Depths      []int         `json:"depths"`
	Kinds       []blocks.Kind `json:"kinds"`
	Kernels     []int         `json:"kernels"`
	Expansions  []float64     `json:"expansions"`
}

// MaxDepth is the largest number of blocks of the stage.
func (st *StageSpace) MaxDepth() int { return maxInt(st.Depths) }

// Widths returns the options of the stage's width decision: the distinct
// widths MakeDivisible(BaseWidth·m, 8) of its multipliers, in the order of
// the multipliers.
func (st *StageSpace) Widths() []int { return appendWidths(nil, st.BaseWidth, st.Multipliers) }

// Width returns the stage's output width for width option i.
func (st *StageSpace) Width(i int) int { return nthWidth(st.BaseWidth, st.Multipliers, i) }

// Widths returns the options of the stem's width decision (see
// StageSpace.Widths).
func (s *StemSpace) Widths() []int { return appendWidths(nil, s.BaseWidth, s.Multipliers) }

// Width returns the stem width for width option i.
func (s *StemSpace) Width(i int) int { return nthWidth(s.BaseWidth, s.Multipliers, i) }

// appendWidths appends to ws the distinct widths base×mults rounds to.
func appendWidths(ws []int, base int, mults []float64) []int {
	for _, m := range mults {
		w := blocks.MakeDivisible(float64(base)*m, 8)
		if !slices.Contains(ws, w) {
			ws = append(ws, w)
		}
	}
	return ws
}

// nthWidth is the i-th of the widths, listed in a stack buffer: a walk asks
// for widths once per block, and allocating the list was most of
// tunas.Cost.T's time.
func nthWidth(base int, mults []float64, i int) int {
	var buf [16]int
	return appendWidths(buf[:0], base, mults)[i]
}

// DecisionKind says what a decision chooses.
type DecisionKind string

// Decision kinds.
const (
	DecideWidth  DecisionKind = "width"
	DecideDepth  DecisionKind = "depth"
	DecideKind   DecisionKind = "kind"
	DecideKernel DecisionKind = "kernel"
	DecideExpand DecisionKind = "expand"
)

// Decision is one OneOf choice of the space.
type Decision struct {
	Name string       `json:"name"`
	Kind DecisionKind `json:"kind"`
	// Stage is the stage index (-1 for the stem); Block the block index within
	// the stage (-1 for stage-level decisions).
	Stage   int      `json:"stage"`
	Block   int      `json:"block"`
	Options []string `json:"options"`
}

// Point is one option index per decision, in the order of Space.Decisions.
type Point []int

// Decisions lists the decisions in canonical order.
func (s *Space) Decisions() []Decision {
	ds := []Decision{{Name: "stem/width", Kind: DecideWidth, Stage: -1, Block: -1, Options: ints(s.Stem.Widths())}}
	for i := range s.Stages {
		st := &s.Stages[i]
		p := fmt.Sprintf("s%d/", i+1)
		ds = append(ds,
			Decision{Name: p + "width", Kind: DecideWidth, Stage: i, Block: -1, Options: ints(st.Widths())},
			Decision{Name: p + "depth", Kind: DecideDepth, Stage: i, Block: -1, Options: ints(st.Depths)})
		kinds := make([]string, len(st.Kinds))
		for k, v := range st.Kinds {
			kinds[k] = string(v)
		}
		for b := 0; b < st.MaxDepth(); b++ {
			bp := fmt.Sprintf("%sb%d/", p, b+1)
			ds = append(ds,
				Decision{Name: bp + "kind", Kind: DecideKind, Stage: i, Block: b, Options: kinds},
				Decision{Name: bp + "kernel", Kind: DecideKernel, Stage: i, Block: b, Options: ints(st.Kernels)},
				Decision{Name: bp + "expand", Kind: DecideExpand, Stage: i, Block: b, Options: floats(st.Expansions)})
		}
	}
	return ds
}

// Layout locates every decision of a Point: what the supernet, the cost table
// and the controller need without string matching.
type Layout struct {
	StemWidth int
	Stages    []StageLayout
	Sizes     []int // number of options of each decision
}

// StageLayout holds the decision indices of one stage.
type StageLayout struct {
	Width, Depth int
	// Blocks[b] holds the decision indices of block b.
	Blocks []BlockDecisions
}

// BlockDecisions are the indices (into a Point) of one block's decisions.
type BlockDecisions struct {
	Kind, Kernel, Expand int
}

// Layout returns the decision indices of the space.
func (s *Space) Layout() Layout {
	var l Layout
	for i, d := range s.Decisions() {
		l.Sizes = append(l.Sizes, len(d.Options))
		switch {
		case d.Stage < 0:
			l.StemWidth = i
		case d.Block < 0:
			for len(l.Stages) <= d.Stage {
				l.Stages = append(l.Stages, StageLayout{})
			}
			if d.Kind == DecideWidth {
				l.Stages[d.Stage].Width = i
			} else {
				l.Stages[d.Stage].Depth = i
			}
		default:
			st := &l.Stages[d.Stage]
			for len(st.Blocks) <= d.Block {
				st.Blocks = append(st.Blocks, BlockDecisions{})
			}
			switch d.Kind {
			case DecideKind:
				st.Blocks[d.Block].Kind = i
			case DecideKernel:
				st.Blocks[d.Block].Kernel = i
			case DecideExpand:
				st.Blocks[d.Block].Expand = i
			}
		}
	}
	return l
}

// Validate checks the space and returns an error naming the stage and field.
func (s *Space) Validate() error {
	if s.Resolution <= 0 || s.Channels <= 0 || s.Classes <= 0 {
		return fmt.Errorf("space %q: resolution, channels and classes must be positive", s.Name)
	}
	switch s.Act {
	case "", blocks.ReLU, blocks.ReLU6:
	default:
		return fmt.Errorf("space %q: unsupported activation %q (relu, relu6)", s.Name, s.Act)
	}
	switch s.ExpandOne {
	case "", ExpandOneKeep, ExpandOneOmit:
	default:
		return fmt.Errorf("space %q: unknown expand_one rule %q (%s, %s)", s.Name, s.ExpandOne, ExpandOneKeep, ExpandOneOmit)
	}
	if err := checkChoice("stem multipliers", s.Stem.Multipliers, func(v float64) bool { return v > 0 }); err != nil {
		return fmt.Errorf("space %q: %w", s.Name, err)
	}
	if s.Stem.BaseWidth <= 0 || s.Stem.Kernel <= 0 || s.Stem.Kernel%2 == 0 || (s.Stem.Stride != 1 && s.Stem.Stride != 2) {
		return fmt.Errorf("space %q: stem needs a positive base_width, an odd kernel and stride 1 or 2", s.Name)
	}
	if len(s.Stages) == 0 {
		return fmt.Errorf("space %q: no stages", s.Name)
	}
	for i := range s.Stages {
		st := &s.Stages[i]
		where := fmt.Sprintf("space %q: stage %d", s.Name, i+1)
		if st.Stride != 1 && st.Stride != 2 {
			return fmt.Errorf("%s: stride must be 1 or 2, got %d", where, st.Stride)
		}
		if st.BaseWidth <= 0 {
			return fmt.Errorf("%s: base_width must be positive, got %d", where, st.BaseWidth)
		}
		for _, c := range []error{
			checkChoice("multipliers", st.Multipliers, func(v float64) bool { return v > 0 }),
			checkChoice("depths", st.Depths, func(v int) bool { return v >= 1 && v <= 16 }),
			checkChoice("kinds", st.Kinds, func(k blocks.Kind) bool { return k == blocks.KindIBN || k == blocks.KindFused }),
			checkChoice("kernels", st.Kernels, func(k int) bool { return k > 0 && k%2 == 1 }),
			checkChoice("expansions", st.Expansions, func(e float64) bool { return e >= 1 }),
		} {
			if c != nil {
				return fmt.Errorf("%s: %w", where, c)
			}
		}
	}
	if s.Head.Conv < 0 || s.Head.Hidden < 0 || !(s.Head.Dropout >= 0 && s.Head.Dropout < 1) {
		return fmt.Errorf("space %q: invalid head %+v", s.Name, s.Head)
	}
	// The largest network of the space must be a valid architecture: that
	// puts every sample within blocks' size bounds (resolution, widths,
	// kernels, expansions, MACs), so no point of the space overflows.
	if _, err := s.Arch(s.MaxPoint()); err != nil {
		return fmt.Errorf("space %q: its largest architecture is invalid: %w", s.Name, err)
	}
	return nil
}

func checkChoice[T comparable](name string, opts []T, ok func(T) bool) error {
	if len(opts) == 0 {
		return fmt.Errorf("%s: needs at least one option", name)
	}
	seen := map[T]bool{}
	for _, o := range opts {
		if !ok(o) {
			return fmt.Errorf("%s: invalid option %v", name, o)
		}
		if seen[o] {
			return fmt.Errorf("%s: option %v given twice", name, o)
		}
		seen[o] = true
	}
	return nil
}

// CheckPoint verifies that p has one valid option index per decision.
func (s *Space) CheckPoint(p Point) error { return s.checkPoint(p, s.Layout().Sizes) }

func (s *Space) checkPoint(p Point, sizes []int) error {
	if len(p) != len(sizes) {
		return fmt.Errorf("space %q: point has %d decisions, want %d", s.Name, len(p), len(sizes))
	}
	for i, v := range p {
		if v < 0 || v >= sizes[i] {
			return fmt.Errorf("space %q: decision %d has option %d, want 0..%d", s.Name, i, v, sizes[i]-1)
		}
	}
	return nil
}

// Sample draws a point, option i of decision d with probability probs[d][i];
// nil probs (or a nil row) means uniform. It returns nil (a point every
// method of the space refuses) if probs is not shaped like Layout().Sizes.
func (s *Space) Sample(rng *rand.Rand, probs [][]float64) Point {
	sizes := s.Layout().Sizes
	if probs != nil && len(probs) != len(sizes) {
		return nil
	}
	for d, row := range probs {
		if row != nil && len(row) != sizes[d] {
			return nil
		}
	}
	p := make(Point, len(sizes))
	for d, n := range sizes {
		if probs == nil || probs[d] == nil {
			p[d] = rng.IntN(n)
			continue
		}
		u, acc := rng.Float64(), 0.0
		p[d] = n - 1
		for i, q := range probs[d] {
			acc += q
			if u < acc {
				p[d] = i
				break
			}
		}
	}
	return p
}

// Count returns the number of architectures of the space with the decisions
// of inactive blocks collapsed: each stage contributes Σ_depth ops^depth
// times its width options, ops being the distinct blocks of a slot
// (kinds·kernels·expansions, less the kernels of expansion-1 fused blocks
// where ExpandOneOmit makes them a lone projection). (Two points can still
// give the same network where a stride-1 stage has the same width as the
// stage before it; Count does not merge those.)
func (s *Space) Count() *big.Int {
	total := big.NewInt(int64(len(s.Stem.Widths())))
	for i := range s.Stages {
		st := &s.Stages[i]
		ops := len(st.Kinds) * len(st.Kernels) * len(st.Expansions)
		if !s.keepExpand() && slices.Contains(st.Kinds, blocks.KindFused) && slices.Contains(st.Expansions, 1) {
			ops -= len(st.Kernels) - 1 // every width is a multiple of 8: e=1 expands in to in
		}
		per := big.NewInt(int64(ops))
		sum := new(big.Int)
		for _, d := range st.Depths {
			sum.Add(sum, new(big.Int).Exp(per, big.NewInt(int64(d)), nil))
		}
		sum.Mul(sum, big.NewInt(int64(len(st.Widths()))))
		total.Mul(total, sum)
	}
	return total
}

// Describe returns a human-readable listing of the decisions and the size.
func (s *Space) Describe() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "space %s: %s\n", s.Name, s.Description)
	fmt.Fprintf(&sb, "input %dx%dx%d, %d classes, head %s\n", s.Resolution, s.Resolution, s.Channels, s.Classes, s.Head)
	ds := s.Decisions()
	for _, d := range ds {
		fmt.Fprintf(&sb, "  %-16s %s\n", d.Name, strings.Join(d.Options, " | "))
	}
	c := s.Count()
	f, _ := new(big.Float).SetInt(c).Float64()
	fmt.Fprintf(&sb, "%d decisions, %s architectures (%.3g)\n", len(ds), c.String(), f)
	return sb.String()
}

// JSON returns the indented JSON form of the space.
func (s *Space) JSON() []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // plain values only
	}
	return append(b, '\n')
}

// ParseSpace decodes and validates a space from JSON, strictly (see
// internal/strictjson: unknown, duplicated or wrongly-cased keys and trailing
// data are errors; a byte-order mark is accepted).
func ParseSpace(data []byte) (*Space, error) {
	s := &Space{}
	if err := strictjson.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("parsing search space JSON: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadSpace returns a predefined space by name, or reads a JSON file.
func LoadSpace(nameOrFile string) (*Space, error) {
	if f, ok := spaces[nameOrFile]; ok {
		return f(), nil
	}
	if strings.HasSuffix(nameOrFile, ".json") || strings.ContainsRune(nameOrFile, os.PathSeparator) {
		data, err := memlimit.ReadFile(nameOrFile, "search space", blocks.MaxSpecBytes)
		if err != nil {
			return nil, fmt.Errorf("reading search space: %w", err)
		}
		s, err := ParseSpace(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nameOrFile, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown search space %q (predefined: %s; or a .json file)", nameOrFile, strings.Join(SpaceNames(), ", "))
}

// SpaceNames lists the predefined spaces.
func SpaceNames() []string {
	names := make([]string, 0, len(spaces))
	for n := range spaces {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var spaces = map[string]func() *Space{
	"multihw":           MultiHWSpace,
	"mobilenet_v3_like": MobileNetV3LikeSpace,
}

// Multipliers are the stage width multipliers of the TuNAS spaces.
var Multipliers = []float64{0.5, 0.625, 0.75, 1.0, 1.25, 1.5, 2.0}

// MultiHWSpace is the paper's space (Chu et al. 2021, arXiv 2008.08178, on
// TuNAS's MobileNetV3-like space, google-research/tunas
// mobile_search_space_v3.py): stem 3×3/2 with
// width 16×multiplier; 5 stages of strides 2,2,2,1,2 and base widths
// 16,32,64,128,256 with 1-4 blocks; per block IBN or fused IBN, kernel 3 or 5,
// expansion 1-6; ReLU; MobileNetV3 head. MobileNet-MultiHW-AVG and -MAX are
// points of this space.
func MultiHWSpace() *Space {
	st := func(stride, base int) StageSpace {
		return StageSpace{Stride: stride, BaseWidth: base, Multipliers: Multipliers, Depths: []int{1, 2, 3, 4},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5},
			Expansions: []float64{1, 2, 3, 4, 5, 6}}
	}
	return &Space{
		Name:        "multihw",
		Description: "multi-hardware space of Chu et al. 2021: IBN/fused IBN, k3/5, e1-6, 7 width multipliers, ReLU, no SE",
		Resolution:  224, Channels: 3, Classes: 1001,
		Stem:   StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: Multipliers},
		Stages: []StageSpace{st(2, 16), st(2, 32), st(2, 64), st(1, 128), st(2, 256)},
		Head:   blocks.Head{Conv: 960, Hidden: 1280, Dropout: 0.2},
	}
}

// MobileNetV3LikeSpace is TuNAS's MobileNetV3-like space without
// squeeze-excite and h-swish (our blocks leave them out, as the multi-hardware
// space does): IBN only, kernels 3/5/7, expansions 1-6, MobileNetV3-Large's
// stage layout (16/1, 24/2, 40/2, 80/2, 112/1, 160/2 with up to 1,2,3,4,2,3
// blocks).
func MobileNetV3LikeSpace() *Space {
	st := func(stride, base, maxDepth int) StageSpace {
		depths := make([]int, maxDepth)
		for i := range depths {
			depths[i] = i + 1
		}
		return StageSpace{Stride: stride, BaseWidth: base, Multipliers: Multipliers, Depths: depths,
			Kinds: []blocks.Kind{blocks.KindIBN}, Kernels: []int{3, 5, 7}, Expansions: []float64{1, 2, 3, 4, 5, 6}}
	}
	return &Space{
		Name:        "mobilenet_v3_like",
		Description: "TuNAS MobileNetV3-like space (no SE, no h-swish): IBN, k3/5/7, e1-6, 7 width multipliers",
		Resolution:  224, Channels: 3, Classes: 1001,
		Stem:   StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: Multipliers},
		Stages: []StageSpace{st(1, 16, 1), st(2, 24, 2), st(2, 40, 3), st(2, 80, 4), st(1, 112, 2), st(2, 160, 3)},
		Head:   blocks.Head{Conv: 960, Hidden: 1280, Dropout: 0.2},
	}
}

// floats formats option values.
func floats(v []float64) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return s
}

func ints(v []int) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return s
}

func indexWhere(n int, f func(int) bool) (int, bool) {
	for i := 0; i < n; i++ {
		if f(i) {
			return i, true
		}
	}
	return 0, false
}

func maxInt(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
