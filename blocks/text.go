package blocks

import (
	"fmt"
	"strconv"
	"strings"
)

// The text form of an architecture, one line per block, in the spirit of timm's
// block strings and TF Model Garden block specs:
//
//	# MobileNet-MultiHW-AVG (comments start with '#')
//	name multi_avg
//	input 224x224x3          # resolution x resolution x channels
//	classes 1001
//	stem cn_k3_s2_c32
//	ir_k3_s2_e3_c32
//	ir_k3_s1_e2_c32
//	ir_r3_k3_s1_e3_c128      # r3: three blocks; only the first may have stride 2
//	er_k3_s2_e4_c48          # fused IBN
//	uir_a3_k5_s2_e4_c80      # UIB: a = start depthwise kernel, k = middle depthwise kernel (0 = none)
//	head c960_h1280_d0.2     # c: conv before pooling, h: hidden FC after pooling, d: dropout
//
// Block tokens are separated by '_'. The first names the kind: cn (conv), ir
// (inverted bottleneck), er (fused IBN, timm's "edge residual"), uir (universal
// inverted bottleneck). Options: r<N> repeat, k<K> kernel, a<K> UIB start
// kernel, s<S> stride, e<X> expansion ratio, m<N> absolute expanded width,
// c<N> output width, g<N> groups of the 1×1 convs, nre (ReLU, the default),
// nr6 (ReLU6) or nlin (none) activation, noskip (no residual connection),
// keepexp (an ir/er block of expansion 1 keeps its expansion conv; see
// Block.KeepExpand). The benchmark networks add cell (a NAS-Bench-201 cell,
// o<6 digits>: the op of each edge, see Cell.Digits) and res (ResNet basic
// block in ReLU-Conv-BN order), and the head option bn (BatchNorm + ReLU
// before pooling). Missing name, input and classes default to "", 224x224x3
// and 1001; the stem and head lines are required. Nothing is given twice (a
// line, a block option, a head option) and values given explicitly are used
// or rejected, never replaced by a default ("classes 0" is an error). A
// leading UTF-8 byte-order mark is accepted.

var kindPrefix = map[Kind]string{KindConv: "cn", KindIBN: "ir", KindFused: "er", KindUIB: "uir", KindCell: "cell", KindResBasic: "res"}

// String returns the text form of a block (without repeat).
func (b Block) String() string { return b.format(1) }

func (b Block) format(repeat int) string {
	p, ok := kindPrefix[b.Kind]
	if !ok {
		p = string(b.Kind)
	}
	t := []string{p}
	if repeat > 1 {
		t = append(t, fmt.Sprintf("r%d", repeat))
	}
	if b.Kind == KindUIB {
		t = append(t, fmt.Sprintf("a%d", b.StartKernel))
	}
	if b.Kind == KindCell {
		if c, err := ParseCell(b.Cell); err == nil {
			t = append(t, "o"+c.Digits())
		} else {
			t = append(t, "o?") // Validate reports it.
		}
		return strings.Join(append(t, fmt.Sprintf("c%d", b.Out)), "_")
	}
	t = append(t, fmt.Sprintf("k%d", b.Kernel), fmt.Sprintf("s%d", b.Stride))
	if b.Kind != KindConv && b.Kind != KindResBasic {
		if b.Expanded > 0 {
			t = append(t, fmt.Sprintf("m%d", b.Expanded))
		} else {
			t = append(t, "e"+strconv.FormatFloat(b.Expand, 'g', -1, 64))
		}
	}
	t = append(t, fmt.Sprintf("c%d", b.Out))
	if b.Groups > 1 {
		t = append(t, fmt.Sprintf("g%d", b.Groups))
	}
	if b.Act == ReLU6 {
		t = append(t, "nr6")
	} else if b.Act == Linear {
		t = append(t, "nlin")
	} else if b.Act != "" && b.Act != ReLU {
		t = append(t, "n"+string(b.Act))
	}
	if b.NoSkip {
		t = append(t, "noskip")
	}
	if b.KeepExpand {
		t = append(t, "keepexp")
	}
	return strings.Join(t, "_")
}

// String returns the text form of the head.
func (h Head) String() string {
	t := []string{}
	if h.Conv > 0 {
		t = append(t, fmt.Sprintf("c%d", h.Conv))
	}
	if h.Hidden > 0 {
		t = append(t, fmt.Sprintf("h%d", h.Hidden))
	}
	if h.Dropout > 0 {
		t = append(t, "d"+strconv.FormatFloat(h.Dropout, 'g', -1, 64))
	}
	if h.Norm {
		t = append(t, "bn")
	}
	if len(t) == 0 {
		return "none"
	}
	return strings.Join(t, "_")
}

// String returns the text form of the architecture; Parse reads it back.
// Runs of identical stride-1 blocks following a block are folded into r<N>.
func (a *Arch) String() string {
	var sb strings.Builder
	if a.Name != "" {
		fmt.Fprintf(&sb, "name %s\n", a.Name)
	}
	fmt.Fprintf(&sb, "input %dx%dx%d\n", a.Resolution, a.Resolution, a.Channels)
	fmt.Fprintf(&sb, "classes %d\n", a.Classes)
	fmt.Fprintf(&sb, "stem %s\n", a.Stem)
	for i := 0; i < len(a.Blocks); {
		b := a.Blocks[i]
		rest := b
		rest.Stride = 1
		n := 1
		for i+n < len(a.Blocks) && a.Blocks[i+n] == rest {
			n++
		}
		fmt.Fprintf(&sb, "%s\n", b.format(n))
		i += n
	}
	fmt.Fprintf(&sb, "head %s\n", a.Head)
	return sb.String()
}

// Parse reads and validates the text form (see the package documentation).
func Parse(text string) (*Arch, error) {
	a := &Arch{}
	var haveStem, haveHead bool
	seen := map[string]bool{}
	for n, line := range strings.Split(strings.TrimPrefix(text, bom), "\n") {
		lineNo := n + 1
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		lineErr := func(format string, args ...any) error {
			return fmt.Errorf("line %d (%q): %s", lineNo, strings.TrimSpace(line), fmt.Sprintf(format, args...))
		}
		key, arg := fields[0], ""
		if len(fields) == 2 {
			arg = fields[1]
		}
		switch key {
		case "name", "input", "classes", "stem", "head":
			if len(fields) != 2 {
				return nil, lineErr("%q takes exactly one value", key)
			}
			if seen[key] {
				return nil, lineErr("%q given twice", key)
			}
			seen[key] = true
		default:
			if len(fields) != 1 {
				return nil, lineErr("a block line holds one block string, got %d words", len(fields))
			}
		}
		switch key {
		case "name":
			a.Name = arg
		case "input":
			dims := strings.Split(arg, "x")
			var v [3]int
			ok := len(dims) == 3
			for i := 0; ok && i < 3; i++ {
				var err error
				v[i], err = strconv.Atoi(dims[i])
				ok = err == nil
			}
			if !ok || v[0] != v[1] {
				return nil, lineErr("input must be RxRxC with a square resolution, e.g. 224x224x3")
			}
			a.Resolution, a.Channels = v[0], v[2]
		case "classes":
			c, err := strconv.Atoi(arg)
			if err != nil {
				return nil, lineErr("classes must be an integer")
			}
			a.Classes = c
		case "stem":
			bs, err := parseBlock(arg)
			if err != nil {
				return nil, lineErr("%v", err)
			}
			if len(bs) != 1 {
				return nil, lineErr("the stem is a single block")
			}
			a.Stem, haveStem = bs[0], true
		case "head":
			h, err := parseHead(arg)
			if err != nil {
				return nil, lineErr("%v", err)
			}
			a.Head, haveHead = h, true
		default:
			if haveHead {
				return nil, lineErr("block after the head")
			}
			if !haveStem {
				return nil, lineErr("block before the stem line")
			}
			bs, err := parseBlock(key)
			if err != nil {
				return nil, lineErr("%v", err)
			}
			if len(a.Blocks)+len(bs) > MaxBlocks {
				return nil, lineErr("more than %d blocks", MaxBlocks)
			}
			a.Blocks = append(a.Blocks, bs...)
		}
	}
	if !haveStem {
		return nil, fmt.Errorf("architecture text has no stem line")
	}
	if !haveHead {
		return nil, fmt.Errorf("architecture text has no head line")
	}
	a.applyDefaults(seen["input"], seen["input"], seen["classes"])
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// ParseBlock parses one block string such as "ir_r2_k3_s2_e6_c32" into its
// (possibly repeated) blocks. Validation that needs the input width is left to
// Arch.Validate.
func ParseBlock(s string) ([]Block, error) { return parseBlock(s) }

// blockKinds maps the block string prefixes to kinds.
var blockKinds = map[string]Kind{"cn": KindConv, "ir": KindIBN, "er": KindFused, "uir": KindUIB, "cell": KindCell, "res": KindResBasic}

func parseBlock(s string) ([]Block, error) {
	tokens := strings.Split(s, "_")
	kind, ok := blockKinds[tokens[0]]
	if !ok {
		return nil, fmt.Errorf("block %q: unknown block kind %q (valid: cn, ir, er, uir, cell, res)", s, tokens[0])
	}
	b := Block{Kind: kind}
	repeat := 1
	seen := map[string]bool{}
	for _, t := range tokens[1:] {
		if err := b.parseToken(s, t, seen, &repeat); err != nil {
			return nil, err
		}
	}
	if !seen["s"] {
		b.Stride = 1
	}
	if !seen["c"] {
		return nil, fmt.Errorf("block %q: missing output width c<N>", s)
	}
	switch b.Kind {
	case KindConv, KindCell, KindResBasic:
	default:
		if !seen["e"] && !seen["m"] {
			b.Expand = 1
		}
	}
	if repeat < 1 || repeat > 64 {
		return nil, fmt.Errorf("block %q: repeat must be in [1, 64], got %d", s, repeat)
	}
	bs := []Block{b}
	for range repeat - 1 {
		r := b
		r.Stride = 1
		bs = append(bs, r)
	}
	return bs, nil
}

// parseToken applies one option token t of block string s to b; seen records
// the options given (each at most once), repeat receives r<N>.
func (b *Block) parseToken(s, t string, seen map[string]bool, repeat *int) error {
	once := func(opt string) error {
		if seen[opt] {
			return fmt.Errorf("block %q: option %q given twice", s, opt)
		}
		seen[opt] = true
		return nil
	}
	switch t {
	case "nre", "nr6", "nlin", "noskip":
		// The activation is one option (n), noskip another.
		opt := t
		if t != "noskip" {
			opt = "n"
		}
		if err := once(opt); err != nil {
			return err
		}
		switch t {
		case "nre":
			b.Act = ReLU
		case "nr6":
			b.Act = ReLU6
		case "nlin":
			b.Act = Linear
		default:
			b.NoSkip = true
		}
		return nil
	case "keepexp":
		b.KeepExpand = true
		return once(t)
	case "":
		return fmt.Errorf("block %q: empty token", s)
	}
	key, val := t[0], t[1:]
	if err := once(string(key)); err != nil {
		return err
	}
	switch {
	case key == 'o' && b.Kind == KindCell:
		c, err := CellFromDigits(val)
		if err != nil {
			return fmt.Errorf("block %q: %w", s, err)
		}
		b.Cell = c.String()
		return nil
	case key == 'e':
		e, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return fmt.Errorf("block %q: bad expansion %q", s, t)
		}
		b.Expand = e
		return nil
	}
	v, err := strconv.Atoi(val)
	if err != nil {
		return fmt.Errorf("block %q: bad option %q (want a letter followed by an integer)", s, t)
	}
	switch key {
	case 'r':
		*repeat = v
	case 'k':
		b.Kernel = v
	case 'a':
		b.StartKernel = v
	case 's':
		b.Stride = v
	case 'm':
		b.Expanded = v
	case 'c':
		b.Out = v
	case 'g':
		if v < 1 {
			return fmt.Errorf("block %q: groups must be positive, got %q (omit g for 1)", s, t)
		}
		b.Groups = v
	default:
		return fmt.Errorf("block %q: unknown option %q", s, t)
	}
	return nil
}

func parseHead(s string) (Head, error) {
	var h Head
	if s == "none" {
		return h, nil
	}
	seen := map[byte]bool{}
	for _, t := range strings.Split(s, "_") {
		if t == "bn" {
			if h.Norm {
				return h, fmt.Errorf("head %q: option \"bn\" given twice", s)
			}
			h.Norm = true
			continue
		}
		if len(t) < 2 {
			return h, fmt.Errorf("head %q: bad token %q", s, t)
		}
		if seen[t[0]] {
			return h, fmt.Errorf("head %q: option %q given twice", s, t[:1])
		}
		seen[t[0]] = true
		switch t[0] {
		case 'c', 'h':
			v, err := strconv.Atoi(t[1:])
			if err != nil {
				return h, fmt.Errorf("head %q: bad width %q", s, t)
			}
			if t[0] == 'c' {
				h.Conv = v
			} else {
				h.Hidden = v
			}
		case 'd':
			v, err := strconv.ParseFloat(t[1:], 64)
			if err != nil {
				return h, fmt.Errorf("head %q: bad dropout %q", s, t)
			}
			h.Dropout = v
		default:
			return h, fmt.Errorf("head %q: unknown option %q (valid: c<N>, h<N>, d<X>, bn)", s, t)
		}
	}
	return h, nil
}
