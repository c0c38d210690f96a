// Package blocks describes mobile convolutional architectures as plain data.
//
// An [Arch] is a stem, a list of [Block]s, a [Head] and a classifier. It is
// printable and parseable (JSON and a compact one-line-per-block text form, see
// [Parse] and [Arch.String]), validated with errors that name the block and field
// ([Arch.Validate]), and analysed statically at any input resolution ([Analyze]):
// per-layer MACs, parameters, weight and activation sizes. Those figures feed the
// hardware cost models (package hwcost); the gomlx graph is built from the same
// data by package blocks/convnet.
//
// Block kinds follow the mobile literature:
//
//   - [KindConv]: plain k×k convolution + BatchNorm + activation (stems, heads,
//     MobileNetV4's "cn" layers).
//   - [KindIBN]: inverted bottleneck (MobileNetV2): 1×1 expand → k×k depthwise →
//     1×1 linear projection. Where the expanded width equals the input width
//     (expansion 1) the expand conv is omitted, unless KeepExpand is set.
//   - [KindFused]: fused IBN (EdgeTPU, EfficientNetV2): k×k full conv expand → 1×1
//     linear projection. With expansion 1 likewise.
//   - [KindUIB]: MobileNetV4's universal inverted bottleneck: optional depthwise
//     before the expansion (StartKernel), 1×1 expand, optional depthwise between
//     expansion and projection (Kernel), 1×1 projection. It covers ExtraDW (both),
//     IB (mid only), ConvNext-like (start only) and FFN (neither).
//   - [KindCell] and [KindResBasic]: the NAS-Bench-201 cell and its residual
//     reduction block, for the benchmark networks (see nb201.go, [NB201Network]).
//
// Every convolution is followed by BatchNorm; the projection of IBN, fused IBN
// and UIB is linear (no activation). A block has a residual connection when its
// stride is 1 and its input and output widths are equal, unless NoSkip is set.
// [Block.Plan] turns a block into its primitive ops; everything that builds or
// counts a network starts from that plan.
//
// Every size has an upper bound (MaxResolution, MaxWidth, MaxClasses,
// MaxKernel, MaxExpand, MaxBlocks, and MaxMACs, MaxParams and MaxElems for
// the whole network), checked by Validate, so that the analysis of any
// accepted architecture is exact and non-negative; both parsers are strict
// (see Parse and ParseJSON) and fuzzed for these properties.
package blocks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// Kind is the type of a block.
type Kind string

// Block kinds. See the package documentation.
const (
	KindConv  Kind = "conv"
	KindIBN   Kind = "ibn"
	KindFused Kind = "fused"
	KindUIB   Kind = "uib"
	// KindCell is a NAS-Bench-201 cell (Block.Cell), KindResBasic a ResNet
	// basic block in ReLU-Conv-BN order (NAS-Bench-201's reduction block).
	KindCell     Kind = "cell"
	KindResBasic Kind = "res"
)

// Kinds lists the valid block kinds.
var Kinds = []Kind{KindConv, KindIBN, KindFused, KindUIB, KindCell, KindResBasic}

// Activation is the non-linearity after the non-linear convolutions of a block.
type Activation string

// Supported activations. Only ReLU-family activations: the paper's search space
// avoids h-swish and squeeze-excite because DSP/EdgeTPU/int8 support them poorly.
const (
	ReLU  Activation = "relu"
	ReLU6 Activation = "relu6"
	// Linear is no activation: NAS-Bench-201's stem is conv + BN only.
	Linear Activation = "linear"
)

// Block is one layer group of an architecture.
type Block struct {
	Kind Kind `json:"kind"`
	// Kernel is the spatial kernel of the block's main op: the conv of KindConv,
	// the depthwise of KindIBN, the expansion conv of KindFused, the middle
	// depthwise of KindUIB (0 = no middle depthwise).
	Kernel int `json:"kernel"`
	// StartKernel is the kernel of KindUIB's depthwise before the expansion
	// (0 = none). Unused by the other kinds.
	StartKernel int `json:"start_kernel,omitempty"`
	Stride      int `json:"stride"`
	// Out is the number of output channels.
	Out int `json:"out"`
	// Expand is the expansion ratio: expanded width = MakeDivisible(in·Expand, 8).
	// Unused by KindConv.
	Expand float64 `json:"expand,omitempty"`
	// Expanded, when > 0, sets the expanded width directly, overriding Expand.
	Expanded int `json:"expanded,omitempty"`
	// Act is the activation; empty means ReLU.
	Act Activation `json:"act,omitempty"`
	// NoSkip disables the residual connection even where the residual rule allows one.
	NoSkip bool `json:"no_skip,omitempty"`
	// KeepExpand keeps the expansion conv of an IBN or fused IBN whose
	// expanded width equals its input width (expansion 1), which is otherwise
	// omitted (the TF-slim/Model Garden convention of the reference models).
	// TuNAS's search spaces keep it: an expansion-1 block there is a 1×1 (or
	// k×k) in→in conv, depthwise, projection. Text form: the token "keepexp".
	KeepExpand bool `json:"keep_expand,omitempty"`
	// Groups is the group count of the 1×1 expansion and projection of an IBN
	// or UIB, with a channel shuffle after the expansion when above 1
	// (ShuffleNet; FBNet's "g2" ops). 0 and 1 mean dense.
	Groups int `json:"groups,omitempty"`
	// Cell is the NAS-Bench-201 cell of a KindCell block, as the standard
	// arch_str (see ParseCell).
	Cell string `json:"cell,omitempty"`
}

// Head is the part after the last block: an optional 1×1 conv + BN + act on the
// feature map, global average pooling, an optional fully connected hidden layer
// with bias and activation but no BatchNorm (MobileNetV3 style), dropout, and the
// classifier (fully connected with bias).
type Head struct {
	// Conv is the width of the 1×1 conv before pooling (0 = none).
	Conv int `json:"conv,omitempty"`
	// Hidden is the width of the fully connected layer after pooling (0 = none).
	Hidden int `json:"hidden,omitempty"`
	// Dropout before the classifier, used only in training.
	Dropout float64 `json:"dropout,omitempty"`
	// Norm adds BatchNorm + ReLU on the feature map before pooling, after the
	// conv if any (NAS-Bench-201's "lastact").
	Norm bool `json:"norm,omitempty"`
}

// Arch is an architecture: input, stem, blocks, head and classifier.
type Arch struct {
	Name string `json:"name,omitempty"`
	// Resolution is the default (square) input resolution in pixels.
	Resolution int `json:"resolution"`
	// Channels is the number of input channels (3 for RGB, 1 for grey).
	Channels int `json:"channels"`
	// Classes is the classifier width.
	Classes int     `json:"classes"`
	Stem    Block   `json:"stem"`
	Blocks  []Block `json:"blocks"`
	Head    Head    `json:"head"`
}

// Activation returns the block's activation, defaulting to ReLU.
func (b Block) Activation() Activation {
	if b.Act == "" {
		return ReLU
	}
	return b.Act
}

// ExpandedWidth returns the width after the expansion of a block whose input has
// in channels. For KindConv it is the output width.
func (b Block) ExpandedWidth(in int) int {
	switch {
	case b.Kind == KindConv || b.Kind == KindCell || b.Kind == KindResBasic:
		return b.Out
	case b.Expanded > 0:
		return b.Expanded
	default:
		return MakeDivisible(float64(in)*b.Expand, 8)
	}
}

// HasExpandConv reports whether the block has its expansion op. IBN and fused
// IBN omit it when the expanded width equals the input width (the TF-slim and
// Model Garden convention: MobileNetV2's first block, MobileNet-EdgeTPU's first
// fused block) unless KeepExpand is set (TuNAS's search spaces); UIB always has
// its 1×1 expansion (timm and MobileNetV4).
func (b Block) HasExpandConv(in int) bool {
	switch b.Kind {
	case KindIBN, KindFused:
		return b.KeepExpand || b.ExpandedWidth(in) != in
	case KindUIB:
		return true
	}
	return false
}

// Residual reports whether the block ends with the addition of its input for
// input width in. Cells have their own skip edges; a ResNet basic block adds
// its input only when its shortcut is the identity (see nb201.go).
func (b Block) Residual(in int) bool {
	switch b.Kind {
	case KindConv, KindCell:
		return false
	case KindResBasic: // an identity shortcut (else its shortcut has ops)
		return b.Stride == 1 && in == b.Out
	}
	return !b.NoSkip && b.Stride == 1 && in == b.Out
}

// groups returns the group count of the block's 1×1 convs (1 when dense).
func (b Block) groups() int { return max(b.Groups, 1) }

// MakeDivisible rounds v to the nearest multiple of divisor, never going below
// divisor nor more than 10% below v (the rule of the MobileNet reference code).
func MakeDivisible(v float64, divisor int) int {
	if !(v < 1<<52) { // NaN, infinite or beyond exact float64 integers: far above MaxWidth
		return math.MaxInt
	}
	d := float64(divisor)
	n := max(d, math.Floor((v+d/2)/d)*d) // the builtin: inlined (v is finite here)
	if n < 0.9*v {
		n += d
	}
	return int(n)
}

// MaxWidthFactor bounds the width multipliers the commands and studies
// accept (WithWidth itself takes any positive w; Validate then bounds the
// widths it produces).
const MaxWidthFactor = 64

// WithWidth returns a copy of a scaled by the width multiplier w: the stem, every
// block's output (and absolute expanded width) and the head conv are multiplied
// by w and rounded with MakeDivisible(·, 8). The head's hidden layer is only
// scaled up (w > 1), as in MobileNetV2/V3.
func (a *Arch) WithWidth(w float64) *Arch {
	c := a.Clone()
	if w == 1 {
		return c
	}
	scale := func(n int) int {
		if n <= 0 {
			return n
		}
		return MakeDivisible(float64(n)*w, 8)
	}
	c.Stem.Out = scale(c.Stem.Out)
	for i := range c.Blocks {
		c.Blocks[i].Out = scale(c.Blocks[i].Out)
		c.Blocks[i].Expanded = scale(c.Blocks[i].Expanded)
	}
	c.Head.Conv = scale(c.Head.Conv)
	if w > 1 {
		c.Head.Hidden = scale(c.Head.Hidden)
	}
	if c.Name != "" {
		c.Name = fmt.Sprintf("%s@%g", c.Name, w)
	}
	return c
}

// ForSmallInput returns a copy of a adapted to small proxy inputs (28-32 px,
// e.g. Fashion-MNIST, CIFAR) of the given resolution and channels: the stem and
// the first stride-2 block keep stride 1, so the network downsamples 8× instead of
// 32× (28 px ends on a 4×4 map instead of 1×1). Everything else, and so the
// architecture being evaluated, is unchanged; the deployment cost is still
// computed on the original at 224 px.
func (a *Arch) ForSmallInput(resolution, channels, classes int) *Arch {
	c := a.Clone()
	c.Resolution, c.Channels, c.Classes = resolution, channels, classes
	c.Stem.Stride = 1
	for i := range c.Blocks {
		if c.Blocks[i].Stride == 2 {
			c.Blocks[i].Stride = 1
			break
		}
	}
	return c
}

// Clone returns a deep copy.
func (a *Arch) Clone() *Arch {
	c := *a
	c.Blocks = append([]Block(nil), a.Blocks...)
	return &c
}

// Validate checks the architecture and returns an error naming the block and
// field of the first problem found.
func (a *Arch) Validate() error {
	if a == nil {
		return fmt.Errorf("architecture is nil")
	}
	if !utf8.ValidString(a.Name) || strings.ContainsFunc(a.Name, func(r rune) bool { return unicode.IsSpace(r) || r == '#' }) {
		// The text form's "name" line holds one word; '#' starts a comment;
		// JSON would replace invalid UTF-8.
		return fmt.Errorf("architecture %q: name must be one word of valid UTF-8 without whitespace or '#'", a.Name)
	}
	if a.Resolution <= 0 || a.Resolution > MaxResolution {
		return fmt.Errorf("architecture %q: resolution must be in [1, %d], got %d", a.Name, MaxResolution, a.Resolution)
	}
	if a.Channels <= 0 || a.Channels > MaxWidth {
		return fmt.Errorf("architecture %q: input channels must be in [1, %d], got %d", a.Name, MaxWidth, a.Channels)
	}
	if a.Classes <= 0 || a.Classes > MaxClasses {
		return fmt.Errorf("architecture %q: classes must be in [1, %d], got %d", a.Name, MaxClasses, a.Classes)
	}
	if a.Stem.Kind != KindConv {
		return fmt.Errorf("architecture %q: stem must be of kind %q, got %q", a.Name, KindConv, a.Stem.Kind)
	}
	if err := a.Stem.validate(a.Channels); err != nil {
		return fmt.Errorf("architecture %q: stem: %w", a.Name, err)
	}
	if len(a.Blocks) > MaxBlocks {
		return fmt.Errorf("architecture %q: %d blocks, above the maximum %d", a.Name, len(a.Blocks), MaxBlocks)
	}
	in := a.Stem.Out
	for i, b := range a.Blocks {
		if err := b.validate(in); err != nil {
			return fmt.Errorf("architecture %q: block %d (%s): %w", a.Name, i, b.Kind, err)
		}
		in = b.Out
	}
	h := a.Head
	if h.Conv < 0 || h.Hidden < 0 {
		return fmt.Errorf("architecture %q: head: widths must not be negative (conv %d, hidden %d)", a.Name, h.Conv, h.Hidden)
	}
	if h.Conv > MaxWidth || h.Hidden > MaxWidth {
		return fmt.Errorf("architecture %q: head: widths must be at most %d (conv %d, hidden %d)", a.Name, MaxWidth, h.Conv, h.Hidden)
	}
	if !(h.Dropout >= 0 && h.Dropout < 1) { // also NaN
		return fmt.Errorf("architecture %q: head: dropout must be in [0, 1), got %g", a.Name, h.Dropout)
	}
	return a.checkSize(a.Resolution)
}

func validKernel(k int) bool { return k > 0 && k%2 == 1 }

func (b Block) validate(in int) error {
	switch b.Kind {
	case KindConv, KindIBN, KindFused, KindUIB, KindCell, KindResBasic:
	case "":
		return fmt.Errorf("field kind: missing (valid kinds: %s)", kindList())
	default:
		return fmt.Errorf("field kind: unknown kind %q (valid kinds: %s)", b.Kind, kindList())
	}
	// The size bounds hold for every kind.
	for _, f := range []struct {
		name     string
		v, limit int
	}{{"kernel", b.Kernel, MaxKernel}, {"start_kernel", b.StartKernel, MaxKernel}, {"out", b.Out, MaxWidth}, {"groups", b.Groups, MaxWidth}} {
		if err := checkBound(f.name, f.v, f.limit); err != nil {
			return err
		}
	}
	if in <= 0 || in > MaxWidth {
		return fmt.Errorf("input width %d is not in [1, %d]", in, MaxWidth)
	}
	if b.Kind == KindCell || b.Kind == KindResBasic {
		return b.validateBench(in)
	}
	if b.Kind == KindUIB {
		if b.Kernel != 0 && !validKernel(b.Kernel) {
			return fmt.Errorf("field kernel: middle depthwise kernel must be odd and positive (or 0 for none), got %d", b.Kernel)
		}
		if b.StartKernel != 0 && !validKernel(b.StartKernel) {
			return fmt.Errorf("field start_kernel: must be odd and positive (or 0 for none), got %d", b.StartKernel)
		}
		if b.Kernel == 0 && b.StartKernel == 0 && b.Stride != 1 {
			return fmt.Errorf("field stride: a UIB without depthwise (FFN) cannot have stride %d", b.Stride)
		}
	} else {
		if !validKernel(b.Kernel) {
			return fmt.Errorf("field kernel: must be odd and positive, got %d", b.Kernel)
		}
		if b.StartKernel != 0 {
			return fmt.Errorf("field start_kernel: only valid for kind %q", KindUIB)
		}
	}
	if b.Stride != 1 && b.Stride != 2 {
		return fmt.Errorf("field stride: must be 1 or 2, got %d", b.Stride)
	}
	if b.Out <= 0 {
		return fmt.Errorf("field out: width must be positive, got %d", b.Out)
	}
	if b.Kind != KindConv {
		if b.Expanded != 0 && b.Expand != 0 {
			return fmt.Errorf("field expand: set either the ratio (expand) or the width (expanded), not both")
		}
		if b.Expanded < 0 {
			return fmt.Errorf("field expanded: must not be negative, got %d", b.Expanded)
		}
		if b.Expanded == 0 && !(b.Expand > 0) {
			return fmt.Errorf("field expand: expansion ratio must be positive (or set expanded), got %g", b.Expand)
		}
		if !(b.Expand <= MaxExpand) { // also NaN and +Inf
			return fmt.Errorf("field expand: expansion ratio must be at most %g, got %g", MaxExpand, b.Expand)
		}
		if err := checkBound("expanded", b.Expanded, MaxWidth); err != nil {
			return err
		}
		if e := b.ExpandedWidth(in); e <= 0 || e > MaxWidth {
			return fmt.Errorf("field expand: expanded width must be in [1, %d], got %d", MaxWidth, e)
		}
	} else if b.Expand != 0 || b.Expanded != 0 {
		return fmt.Errorf("field expand: not valid for kind %q", KindConv)
	}
	if b.KeepExpand && b.Kind != KindIBN && b.Kind != KindFused {
		return fmt.Errorf("field keep_expand: only valid for kinds %q and %q (a %s block's expansion is fixed)", KindIBN, KindFused, b.Kind)
	}
	switch b.Act {
	case "", ReLU, ReLU6, Linear:
	default:
		return fmt.Errorf("field act: unsupported activation %q (supported: relu, relu6, linear)", b.Act)
	}
	if err := b.validateGroups(in); err != nil {
		return err
	}
	if b.Cell != "" {
		return fmt.Errorf("field cell: only valid for kind %q", KindCell)
	}
	return nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// ParseJSON decodes and validates an architecture from JSON, strictly (see
// package internal/strictjson): unknown keys, keys in another letter case,
// duplicated keys and anything after the object are errors (a typo in a spec
// should not silently change the architecture); a leading UTF-8 byte-order
// mark is accepted. Missing resolution, channels and classes default to 224,
// 3 and 1001; given explicitly, they must be valid (0 is an error, not the
// default).
func ParseJSON(data []byte) (*Arch, error) {
	a := &Arch{}
	if err := strictjson.Unmarshal(data, a); err != nil {
		if isArchReport(data) {
			return nil, fmt.Errorf("parsing architecture JSON: %w (this is `multihw arch --json` output, an analysis: the architecture is its \"arch\" field; `multihw arch --text` prints the text form)", err)
		}
		return nil, fmt.Errorf("parsing architecture JSON: %w", err)
	}
	// Which of the defaulted fields the document sets (the strict decode
	// above already checked the keys).
	var given struct {
		Resolution, Channels, Classes *json.RawMessage
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte(bom)), &given); err != nil {
		return nil, fmt.Errorf("parsing architecture JSON: %w", err)
	}
	a.applyDefaults(given.Resolution != nil, given.Channels != nil, given.Classes != nil)
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// isArchReport reports whether data is a JSON object with the "arch" and
// "layers" keys of `multihw arch --json` (an Analysis with its Arch).
func isArchReport(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimPrefix(data, []byte(bom)), &top) != nil {
		return false
	}
	_, arch := top["arch"]
	_, layers := top["layers"]
	return arch && layers
}

// applyDefaults fills the resolution, channels and classes the spec does not
// give (have*: given, even if zero) and normalises spellings.
func (a *Arch) applyDefaults(haveResolution, haveChannels, haveClasses bool) {
	// One spelling per meaning, so that equal architectures compare equal.
	norm := func(b *Block) {
		if b.Act == ReLU {
			b.Act = ""
		}
		if b.Groups == 1 {
			b.Groups = 0
		}
	}
	norm(&a.Stem)
	for i := range a.Blocks {
		norm(&a.Blocks[i])
	}
	if len(a.Blocks) == 0 {
		a.Blocks = nil // JSON's [] and null, and the text form's no block lines.
	}
	if !haveResolution {
		a.Resolution = 224
	}
	if !haveChannels {
		a.Channels = 3
	}
	if !haveClasses {
		a.Classes = 1001
	}
}

// JSON returns the indented JSON form.
func (a *Arch) JSON() []byte {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil { // Arch holds only plain values.
		panic(err)
	}
	return append(b, '\n')
}

// MaxSpecBytes bounds the size of a spec file Load reads (a 1024-block
// architecture is about 100 KB of JSON).
const MaxSpecBytes = 4 << 20

// Load reads an architecture from a file, in JSON (when it starts with '{',
// after an optional UTF-8 byte-order mark and white space) or in the text
// form. The file must be a regular file of at most MaxSpecBytes.
func Load(path string) (*Arch, error) {
	data, err := memlimit.ReadFile(path, "architecture spec", MaxSpecBytes)
	if err != nil {
		return nil, fmt.Errorf("reading architecture spec: %w", err)
	}
	var a *Arch
	if s := strings.TrimSpace(strings.TrimPrefix(string(data), bom)); strings.HasPrefix(s, "{") {
		a, err = ParseJSON(data)
	} else {
		a, err = Parse(string(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// bom is the UTF-8 byte-order mark, accepted at the start of a spec.
const bom = "\ufeff"
