package blocks

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// roundTrip checks that a survives the JSON and the text forms unchanged.
func roundTrip(t *testing.T, a *Arch) {
	t.Helper()
	fromJSON, err := ParseJSON(a.JSON())
	if err != nil {
		t.Fatalf("%s: parsing its own JSON: %v\n%s", a.Name, err, a.JSON())
	}
	if !reflect.DeepEqual(fromJSON, a) {
		t.Errorf("%s: JSON round trip changed the architecture:\n got %+v\nwant %+v", a.Name, fromJSON, a)
	}
	fromText, err := Parse(a.String())
	if err != nil {
		t.Fatalf("%s: parsing its own text form: %v\n%s", a.Name, err, a.String())
	}
	if !reflect.DeepEqual(fromText, a) {
		t.Errorf("%s: text round trip changed the architecture:\n%s\n got %+v\nwant %+v", a.Name, a.String(), fromText, a)
	}
}

func TestRoundTripReferences(t *testing.T) {
	for _, r := range References {
		roundTrip(t, r.Arch())
		roundTrip(t, r.Arch().WithWidth(0.75))
	}
}

// randomArch draws a valid architecture in canonical form (ReLU spelled "").
func randomArch(rng *rand.Rand) *Arch {
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	act := func() Activation {
		if rng.IntN(3) == 0 {
			return ReLU6
		}
		return ""
	}
	a := &Arch{
		Name:       fmt.Sprintf("rnd%d", rng.IntN(1000)),
		Resolution: pick(16, 28, 32, 224),
		Channels:   pick(1, 3),
		Classes:    1 + rng.IntN(1000),
		Stem:       Block{Kind: KindConv, Kernel: pick(1, 3, 5), Stride: pick(1, 2), Out: 8 * (1 + rng.IntN(8)), Act: act()},
	}
	for range 1 + rng.IntN(10) {
		b := Block{Kind: Kinds[rng.IntN(len(Kinds))], Kernel: pick(1, 3, 5, 7), Stride: pick(1, 1, 2),
			Out: 8 * (1 + rng.IntN(12)), Act: act(), NoSkip: rng.IntN(5) == 0}
		if b.Kind == KindUIB {
			b.StartKernel, b.Kernel = pick(0, 3, 5), pick(0, 3, 5)
			if b.StartKernel == 0 && b.Kernel == 0 {
				b.Stride = 1
			}
		}
		switch b.Kind {
		case KindCell: // keeps the width and resolution; its kernels are its ops'
			var c Cell
			for e := range c {
				c[e] = CellOp(rng.IntN(NumCellOps))
			}
			in := a.Stem.Out
			if n := len(a.Blocks); n > 0 {
				in = a.Blocks[n-1].Out
			}
			b = Block{Kind: KindCell, Stride: 1, Out: in, Cell: c.String()}
		case KindResBasic:
			b.Kernel, b.Act, b.NoSkip = pick(1, 3, 5), "", false
		case KindIBN, KindUIB:
			if rng.IntN(4) == 0 {
				b.Groups = 2 // every width and ratio drawn here keeps the widths even
			}
		}
		if b.Kind != KindConv && b.Kind != KindCell && b.Kind != KindResBasic {
			if rng.IntN(4) == 0 {
				b.Expanded = 8 * (1 + rng.IntN(32))
			} else {
				b.Expand = []float64{1, 2, 2.5, 3, 4, 6}[rng.IntN(6)]
			}
		}
		if (b.Kind == KindIBN || b.Kind == KindFused) && rng.IntN(3) == 0 {
			b.KeepExpand = true
		}
		a.Blocks = append(a.Blocks, b)
		// Sometimes repeat the block (stride 1), to exercise folding.
		for range rng.IntN(3) {
			b.Stride = 1
			if b.Kind == KindUIB && b.StartKernel == 0 && b.Kernel == 0 {
				break
			}
			a.Blocks = append(a.Blocks, b)
		}
	}
	a.Head = Head{Conv: pick(0, 64, 960), Hidden: pick(0, 0, 1280), Dropout: []float64{0, 0.2, 0.5}[rng.IntN(3)], Norm: rng.IntN(4) == 0}
	return a
}

// TestRoundTripRandom is a property test: random valid architectures survive
// both forms.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 500 {
		a := randomArch(rng)
		if err := a.Validate(); err != nil {
			t.Fatalf("random arch %d is invalid (generator bug): %v\n%s", i, err, a)
		}
		roundTrip(t, a)
		if t.Failed() {
			return
		}
	}
}

func TestRepeatFolding(t *testing.T) {
	a, err := Parse(`stem cn_k3_s2_c16
ir_k3_s2_e6_c24
ir_k3_s1_e6_c24
ir_k3_s1_e6_c24
ir_k3_s2_e6_c24
ir_k3_s1_e6_c24_nr6
ir_k3_s1_e6_c24_nr6
head c64`)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Blocks) != 6 {
		t.Fatalf("parsed %d blocks, want 6", len(a.Blocks))
	}
	text := a.String()
	// The stride-2 block heads its run of identical stride-1 blocks; a new
	// stride-2 block starts a new line, and a block differing in any field
	// (here the activation) is not folded.
	for _, want := range []string{"\nir_r3_k3_s2_e6_c24\n", "\nir_k3_s2_e6_c24\n", "\nir_r2_k3_s1_e6_c24_nr6\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text form lacks %q:\n%s", strings.TrimSpace(want), text)
		}
	}
	// r<N> expands to N blocks, only the first keeping its stride.
	bs, err := ParseBlock("uir_r3_a3_k5_s2_e4_c80")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 || bs[0].Stride != 2 || bs[1].Stride != 1 || bs[2].Stride != 1 || bs[2].StartKernel != 3 {
		t.Errorf("uir_r3_a3_k5_s2_e4_c80 parsed as %+v", bs)
	}
}

// TestValidationErrors checks that errors name the block and the field.
func TestValidationErrors(t *testing.T) {
	base := func() *Arch {
		a, err := Parse("stem cn_k3_s2_c16\nir_k3_s2_e6_c24\nuir_a3_k5_s1_e4_c24\nhead c64")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name   string
		modify func(a *Arch)
		want   []string
	}{
		{"even kernel", func(a *Arch) { a.Blocks[0].Kernel = 4 }, []string{"block 0", "kernel", "odd"}},
		{"zero kernel", func(a *Arch) { a.Blocks[0].Kernel = 0 }, []string{"block 0", "kernel"}},
		{"even UIB start kernel", func(a *Arch) { a.Blocks[1].StartKernel = 2 }, []string{"block 1", "start_kernel"}},
		{"stride 3", func(a *Arch) { a.Blocks[1].Stride = 3 }, []string{"block 1", "stride", "3"}},
		{"zero stride", func(a *Arch) { a.Blocks[0].Stride = 0 }, []string{"block 0", "stride"}},
		{"zero width", func(a *Arch) { a.Blocks[1].Out = 0 }, []string{"block 1", "out", "positive"}},
		{"negative width", func(a *Arch) { a.Blocks[0].Out = -8 }, []string{"block 0", "out"}},
		{"unknown kind", func(a *Arch) { a.Blocks[1].Kind = "mbconv" }, []string{"block 1", "kind", "mbconv"}},
		{"missing kind", func(a *Arch) { a.Blocks[0].Kind = "" }, []string{"block 0", "kind", "missing"}},
		{"expand and expanded", func(a *Arch) { a.Blocks[0].Expanded = 96 }, []string{"block 0", "expand", "not both"}},
		{"zero expansion", func(a *Arch) { a.Blocks[0].Expand = 0 }, []string{"block 0", "expand"}},
		{"unsupported activation", func(a *Arch) { a.Blocks[1].Act = "swish" }, []string{"block 1", "act", "swish"}},
		{"stem not conv", func(a *Arch) { a.Stem.Kind = KindIBN }, []string{"stem", "kind"}},
		{"stem even kernel", func(a *Arch) { a.Stem.Kernel = 2 }, []string{"stem", "kernel"}},
		{"name with a space", func(a *Arch) { a.Name = "my net" }, []string{"my net", "name", "one word"}},
		{"zero resolution", func(a *Arch) { a.Resolution = 0 }, []string{"resolution"}},
		{"zero classes", func(a *Arch) { a.Classes = 0 }, []string{"classes"}},
		{"dropout 1", func(a *Arch) { a.Head.Dropout = 1 }, []string{"head", "dropout"}},
		{"negative head width", func(a *Arch) { a.Head.Hidden = -1 }, []string{"head"}},
		{"keep_expand on UIB", func(a *Arch) { a.Blocks[1].KeepExpand = true }, []string{"block 1", "keep_expand"}},
		{"keep_expand on the stem", func(a *Arch) { a.Stem.KeepExpand = true }, []string{"stem", "keep_expand"}},
	}
	for _, c := range cases {
		a := base()
		c.modify(a)
		err := a.Validate()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
		// The parsers report the same problems (an explicit zero resolution
		// or class count is an error too, not a default).
		if _, err := ParseJSON(a.JSON()); err == nil {
			t.Errorf("%s: ParseJSON accepted it", c.name)
		}
	}
	var nilArch *Arch
	if err := nilArch.Validate(); err == nil {
		t.Errorf("nil architecture: no error")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"stem cn_k3_s2_c16\nir_k3_sX_c24\nhead c64", "line 2"},
		{"stem cn_k3_s2_c16\nir_k3_s2_e6\nhead c64", "missing output width"},
		{"stem cn_k3_s2_c16\nzz_k3_c24\nhead c64", "unknown block kind"},
		{"stem cn_k3_s2_c16\nir_k3_k5_c24\nhead c64", "given twice"},
		{"stem cn_k3_s2_c16\nir_q3_c24\nhead c64", "unknown option"},
		{"stem cn_k3_s2_c16\nir_k3__c24\nhead c64", "empty token"},
		{"stem cn_k3_s2_c16\nir_r0_k3_c24\nhead c64", "repeat"},
		{"stem cn_k3_s2_c16\nir_k3_ex_c24\nhead c64", "bad expansion"},
		{"stem cn_k3_s2_c16\nir_k3_e6_c24 ir_k3_e6_c24\nhead c64", "one block string"},
		{"ir_k3_e6_c24\nstem cn_k3_s2_c16\nhead c64", "before the stem"},
		{"stem cn_k3_s2_c16\nhead c64\nir_k3_e6_c24", "after the head"},
		{"stem cn_k3_s2_c16\nir_k3_e6_c24", "no head"},
		{"ir_k3_e6_c24", "before the stem"},
		{"head c64", "no stem"},
		{"input 32x28x3\nstem cn_k3_s2_c16\nhead c64", "square"},
		{"classes ten\nstem cn_k3_s2_c16\nhead c64", "integer"},
		{"stem cn_k3_s2_c16\nhead c64_x3", "unknown option"},
		{"stem cn_k3_s2_c16\nhead dz", "bad dropout"},
		{"stem cn_k4_s2_c16\nhead c64", "kernel"},
		{"name a b\nstem cn_k3_s2_c16\nhead c64", "exactly one value"},
	}
	for _, c := range cases {
		_, err := Parse(c.text)
		if err == nil {
			t.Errorf("Parse(%q): no error", c.text)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): error %q does not mention %q", c.text, err, c.want)
		}
	}
	for _, js := range []string{`{`, `{"stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}, "blocks": [], "bogus": 1}`, `[]`} {
		if _, err := ParseJSON([]byte(js)); err == nil {
			t.Errorf("ParseJSON(%q): no error", js)
		}
	}
}

// FuzzParse proves Parse and ParseJSON never panic, and that whatever they
// accept survives a round trip.
func FuzzParse(f *testing.F) {
	for _, r := range References {
		f.Add(r.Spec)
		f.Add(string(r.Arch().JSON()))
	}
	for _, s := range []string{"", "stem cn_k3_s2_c16\nhead none", "stem cn_k3_c8\nuir_a0_k0_e2_c8\nhead h10_d0.5",
		"stem cn_r2_k3_s2_c16\nhead c1", "input 0x0x0\nstem cn_k3_c-8\nhead c-1", "{\"blocks\": null}",
		"stem cn_k3_s2_c16_noskip_nre\nir_e1e9_c8\nhead d0.9999999",
		`{"name": "a b", "stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}}`,
		`{"name": "x\nhead c9", "stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}}`,
		`{"stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}, "blocks": []}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := Parse(s); err == nil {
			roundTrip(t, a)
		}
		if a, err := ParseJSON([]byte(s)); err == nil {
			roundTrip(t, a)
		}
	})
}

func TestMakeDivisible(t *testing.T) {
	for _, c := range []struct {
		v       float64
		divisor int
		want    int
	}{
		{16, 8, 16}, {12, 8, 16}, {11.2, 8, 16}, // MobileNetV2 0.35's stem: 32·0.35 → 16 (8 would lose > 10%)
		{3, 8, 8}, {100, 8, 104}, {91, 8, 88}, {480, 8, 480}, {37, 32, 64}, {20, 8, 24}, {17.7, 8, 16} /* 16 ≥ 0.9·17.7 */, {18, 8, 24} /* 16 < 0.9·18 */, {0, 8, 8},
		{96 * 2.5, 8, 240}, {184, 8, 184}, {40 * 6, 8, 240},
	} {
		if got := MakeDivisible(c.v, c.divisor); got != c.want {
			t.Errorf("MakeDivisible(%g, %d) = %d, want %d", c.v, c.divisor, got, c.want)
		}
	}
}

func TestWithWidth(t *testing.T) {
	a, err := Model("multi_avg")
	if err != nil {
		t.Fatal(err)
	}
	orig := a.String()
	half := a.WithWidth(0.5)
	if half.Name != "multi_avg@0.5" || half.Stem.Out != 16 || half.Blocks[0].Out != 16 || half.Blocks[2].Out != 32 ||
		half.Head.Conv != 480 || half.Head.Hidden != 1280 {
		t.Errorf("multi_avg@0.5: name %q stem %d b0 %d b2 %d head conv %d hidden %d",
			half.Name, half.Stem.Out, half.Blocks[0].Out, half.Blocks[2].Out, half.Head.Conv, half.Head.Hidden)
	}
	// Expansion ratios are kept: widths follow from the scaled inputs.
	if half.Blocks[0].Expand != 3 || half.Blocks[0].ExpandedWidth(half.Stem.Out) != 48 {
		t.Errorf("multi_avg@0.5 block 0 expansion: %g → %d", half.Blocks[0].Expand, half.Blocks[0].ExpandedWidth(half.Stem.Out))
	}
	big := a.WithWidth(1.5)
	if big.Head.Hidden != 1920 || big.Stem.Out != 48 {
		t.Errorf("multi_avg@1.5: hidden %d (want 1920, scaled up above width 1), stem %d", big.Head.Hidden, big.Stem.Out)
	}
	if same := a.WithWidth(1); !reflect.DeepEqual(same, a) || same == a {
		t.Errorf("WithWidth(1) should return an equal copy")
	}
	// Absolute expanded widths scale too.
	m, _ := Parse("stem cn_k3_c16\nir_k3_m184_c80\nhead none")
	if got := m.WithWidth(0.5).Blocks[0].Expanded; got != 96 {
		t.Errorf("expanded 184 at width 0.5 = %d, want MakeDivisible(92, 8) = 96", got)
	}
	half.Blocks[0].Out = 999
	if a.String() != orig {
		t.Errorf("WithWidth changed the original architecture")
	}
}

func TestForSmallInput(t *testing.T) {
	a, _ := Model("multi_avg")
	orig := a.String()
	s := a.ForSmallInput(28, 1, 10)
	if s.Resolution != 28 || s.Channels != 1 || s.Classes != 10 {
		t.Errorf("ForSmallInput: input %dx%dx%d classes %d", s.Resolution, s.Resolution, s.Channels, s.Classes)
	}
	if s.Stem.Stride != 1 || s.Blocks[0].Stride != 1 {
		t.Errorf("ForSmallInput: stem stride %d, first stride-2 block stride %d, want 1 and 1", s.Stem.Stride, s.Blocks[0].Stride)
	}
	for i := 1; i < len(a.Blocks); i++ {
		if s.Blocks[i] != a.Blocks[i] {
			t.Errorf("ForSmallInput changed block %d: %s → %s", i, a.Blocks[i], s.Blocks[i])
		}
	}
	an, err := Analyze(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := an.Layers[len(an.Layers)-1]; an.Layers[len(an.Layers)-3].InSize != 4 || last.OutC != 10 {
		t.Errorf("28 px should end on a 4×4 map before pooling, got %d×%d", an.Layers[len(an.Layers)-3].InSize, an.Layers[len(an.Layers)-3].InSize)
	}
	if a.String() != orig {
		t.Errorf("ForSmallInput changed the original architecture")
	}
}

// TestAnalyzeByHand checks Analyze against figures computed by hand for a small
// net: 8×8×3 → stem 3×3 s2 → IBN with residual → IBN s2 without expansion →
// head conv → classifier.
func TestAnalyzeByHand(t *testing.T) {
	a, err := Parse(`input 8x8x3
classes 5
stem cn_k3_s2_c8
ir_k3_s1_e2_c8
ir_k3_s2_e1_c16
head c32`)
	if err != nil {
		t.Fatal(err)
	}
	an, err := Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name          string
		op            Op
		inSize, out   int
		macs, params  int64
		inElems, outE int64
	}
	want := []row{
		{"stem", OpConv, 8, 4, 3 * 3 * 3 * 8 * 16, 216 + 4*8, 192, 128},
		{"b0.expand", OpPW, 4, 4, 8 * 16 * 16, 128 + 4*16, 128, 256},
		{"b0.dw", OpDW, 4, 4, 9 * 16 * 16, 144 + 4*16, 256, 256},
		{"b0.project", OpPW, 4, 4, 16 * 8 * 16, 128 + 4*8, 256, 128},
		{"b0.add", OpAdd, 4, 4, 0, 0, 256, 128},
		// Expansion 1: expanded width 8 == input width, no expand conv.
		{"b1.dw", OpDW, 4, 2, 9 * 8 * 4, 72 + 4*8, 128, 32},
		{"b1.project", OpPW, 2, 2, 8 * 16 * 4, 128 + 4*16, 32, 64},
		{"head.conv", OpPW, 2, 2, 16 * 32 * 4, 512 + 4*32, 64, 128},
		{"head.pool", OpPool, 2, 1, 0, 0, 128, 32},
		{"classifier", OpFC, 1, 1, 32 * 5, 32*5 + 5, 32, 5},
	}
	if len(an.Layers) != len(want) {
		t.Fatalf("%d layers, want %d:\n%s", len(an.Layers), len(want), an.Table())
	}
	var macs, params int64
	for i, w := range want {
		l := an.Layers[i]
		got := row{l.Name, l.Op, l.InSize, l.OutSize, l.MACs, l.Params, l.InElems, l.OutElems}
		if got != w {
			t.Errorf("layer %d:\n got %+v\nwant %+v", i, got, w)
		}
		macs += w.macs
		params += w.params
	}
	if an.MACs != macs || an.Params != params || macs != 12864 || params != 1909 {
		t.Errorf("totals: MACs %d params %d, want 12864 and 1909", an.MACs, an.Params)
	}
	// Deployed weights fold BatchNorm into a bias: the stem holds 216 + 8.
	if an.Layers[0].Weights != 224 {
		t.Errorf("stem deployed weights %d, want 224", an.Layers[0].Weights)
	}
	if _, err := Analyze(a, -1); err == nil {
		t.Errorf("negative resolution: no error")
	}
}
