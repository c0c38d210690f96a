package nas

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/jsonmut"
)

func TestPredefinedSpacesValidate(t *testing.T) {
	for _, n := range SpaceNames() {
		s, err := LoadSpace(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := LoadSpace("nope"); err == nil || !strings.Contains(err.Error(), "multihw") {
		t.Errorf("unknown space error should list valid names, got %v", err)
	}
}

func TestCountMatchesFormulaAndEnumeration(t *testing.T) {
	// Hand count for multihw: the seven multipliers 0.5 … 2 give distinct
	// widths 8, 16, 24, 32 for base 16 (the stem and stage 1: 0.625·16 = 10
	// rounds up to 16, 0.75·16 = 12 to 16, 1.25·16 = 20 to 24), 16, 24, 32,
	// 40, 48, 64 for base 32 (0.625·32 = 20 rounds to 24) and seven for 64,
	// 128, 256; per stage, per width, 24+24²+24³+24⁴ blocks (2 kinds · 2
	// kernels · 6 expansions = 24 per slot).
	s := MultiHWSpace()
	per := big.NewInt(24 + 24*24 + 24*24*24 + 24*24*24*24)
	want := big.NewInt(4)
	for _, widths := range []int64{4, 6, 7, 7, 7} {
		want.Mul(want, new(big.Int).Mul(big.NewInt(widths), per))
	}
	if got := s.Count(); got.Cmp(want) != 0 {
		t.Errorf("Count = %s, want %s", got, want)
	}
	if got := s.Stem.Widths(); !reflect.DeepEqual(got, []int{8, 16, 24, 32}) {
		t.Errorf("stem widths %v, want [8 16 24 32]", got)
	}
	// A tiny space where enumeration is possible: distinct text forms must
	// equal Count when stages cannot share blocks.
	tiny := &Space{Name: "tiny", Resolution: 32, Channels: 3, Classes: 10,
		Stem: StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: []float64{1, 2}},
		Stages: []StageSpace{
			{Stride: 2, BaseWidth: 16, Multipliers: []float64{1}, Depths: []int{1, 2}, Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3}, Expansions: []float64{1, 6}},
			{Stride: 2, BaseWidth: 32, Multipliers: []float64{0.5, 1}, Depths: []int{1}, Kinds: []blocks.Kind{blocks.KindIBN}, Kernels: []int{3, 5}, Expansions: []float64{2}},
		},
		Head: blocks.Head{Conv: 64}}
	// Duplicate multipliers (1 and 1.05 both give 16 channels) are one option.
	tiny.Stages[0].Multipliers = []float64{1, 1.05}
	if n := len(tiny.Stages[0].Widths()); n != 1 {
		t.Fatalf("stage 1 of tiny has %d width options, want 1", n)
	}
	for _, mode := range []ExpandOne{ExpandOneKeep, ExpandOneOmit} {
		tiny.ExpandOne = mode
		// With omit, the fused e=1 blocks of stage 1 lose their (single)
		// kernel: nothing to merge. Give it two kernels to make it count.
		tiny.Stages[0].Kernels = []int{3, 5}
		enumerateCount(t, tiny)
	}
}

// enumerateCount checks Count against the distinct networks (op plans) of
// every point of a small space whose stages cannot share blocks.
func enumerateCount(t *testing.T, tiny *Space) {
	t.Helper()
	seen := map[string]bool{}
	sizes := tiny.Layout().Sizes
	p := make(Point, len(sizes))
	var walk func(d int)
	walk = func(d int) {
		if d == len(sizes) {
			a, err := tiny.Arch(p)
			if err != nil {
				t.Fatal(err)
			}
			// The network, not its spelling: with ExpandOneOmit an
			// expansion-1 fused block's kernel is in its text but not in
			// its ops.
			np, err := a.Plan()
			if err != nil {
				t.Fatal(err)
			}
			key, _ := json.Marshal(np)
			seen[string(key)] = true
			return
		}
		for i := 0; i < sizes[d]; i++ {
			p[d] = i
			walk(d + 1)
		}
	}
	walk(0)
	if got := tiny.Count().Int64(); got != int64(len(seen)) {
		t.Errorf("tiny (expand_one %q) Count = %d, enumeration found %d distinct architectures", tiny.ExpandOne, got, len(seen))
	}
}

func TestMultiModelsArePointsOfTheSpace(t *testing.T) {
	s := MultiHWSpace()
	for _, name := range []string{"multi_avg", "multi_max"} {
		a, err := blocks.Model(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Encode(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := s.Arch(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Name = a.Name
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: decode(encode) differs:\n%s\nvs\n%s", name, a, b)
		}
	}
	// MobileNetV2 is not in the space (ReLU6, 7 stages).
	if _, err := s.Encode(mustModel(t, "mobilenet_v2")); err == nil {
		t.Error("mobilenet_v2 should not encode into multihw")
	}
}

func mustModel(t *testing.T, name string) *blocks.Arch {
	a, err := blocks.Model(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEverySampleIsValidAndRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []*Space{MultiHWSpace(), MobileNetV3LikeSpace()} {
		for range 300 {
			p := s.Sample(rng, nil)
			a, err := s.Arch(p)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			if _, err := blocks.Analyze(a, 0); err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			q, err := s.Encode(a)
			if err != nil {
				t.Fatalf("%s: encode of a sample: %v\n%s", s.Name, err, a)
			}
			b, _ := s.Arch(q)
			if a.String() != b.String() {
				t.Fatalf("%s: sample does not round trip", s.Name)
			}
		}
	}
}

func TestSampleFollowsProbabilities(t *testing.T) {
	s := MultiHWSpace()
	n := len(s.Layout().Sizes)
	probs := make([][]float64, n)
	probs[0] = []float64{0, 0, 0, 1} // stem width 32 always
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		if p := s.Sample(rng, probs); p[0] != 3 {
			t.Fatalf("sample ignored a one-hot distribution: %v", p[0])
		}
	}
}

func TestSpaceJSONRoundTripAndErrors(t *testing.T) {
	s := MultiHWSpace()
	back, err := ParseSpace(s.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Error("JSON round trip changed the space")
	}
	bad := []struct{ json, want string }{
		{`{"name":"x"`, "parsing"},
		{`{"name":"x","bogus":1}`, `unknown key "bogus"`},
		{strings.Replace(string(s.JSON()), `"resolution"`, `"Resolution"`, 1), `did you mean "resolution"`},
		{strings.Replace(string(s.JSON()), `"classes": 1001`, `"classes": 1001, "classes": 10`, 1), `key "classes" given twice`},
		{string(s.JSON()) + "{}", "after top-level value"},
		{strings.Replace(string(s.JSON()), `"resolution": 224`, `"resolution": 100000`, 1), "largest architecture is invalid"},
		{strings.Replace(string(s.JSON()), `"base_width": 256`, `"base_width": 1000000`, 1), "largest architecture is invalid"},
		{strings.Replace(string(s.JSON()), `"dropout": 0.2`, `"dropout": 1e999`, 1), "/head/dropout"},
		{strings.Replace(string(s.JSON()), `"stride": 1`, `"stride": 3`, 1), "stage 4: stride"},
		{strings.Replace(string(s.JSON()), `"kernels": [
        3,`, `"kernels": [
        4,`, 1), "kernels: invalid option 4"},
	}
	if back, err := ParseSpace(append([]byte("\ufeff"), s.JSON()...)); err != nil || !reflect.DeepEqual(s, back) {
		t.Errorf("space with a byte-order mark: %v", err)
	}
	for _, b := range bad {
		if _, err := ParseSpace([]byte(b.json)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("want error containing %q, got %v", b.want, err)
		}
	}
	if err := s.CheckPoint(Point{1, 2}); err == nil {
		t.Error("short point accepted")
	}
}

// TestParseSpaceRefusesMalformed: every predefined space's JSON, changed in
// one node at a time (null, another type, numbers past their ranges, a
// member deleted), is refused or read, never a panic; a space that is read
// can be sized and sampled.
func TestParseSpaceRefusesMalformed(t *testing.T) {
	for _, n := range SpaceNames() {
		s, err := LoadSpace(n)
		if err != nil {
			t.Fatal(err)
		}
		jsonmut.Check(t, n, s.JSON(), func(b []byte) error {
			s, err := ParseSpace(b)
			if err == nil {
				_ = s.Count()
				if _, err := s.Arch(s.Sample(rand.New(rand.NewPCG(1, 2)), nil)); err != nil {
					t.Errorf("a space that was read: sampled point: %v", err)
				}
			}
			return err
		})
	}
}
