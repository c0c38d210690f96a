package blocks

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const strictBase = "name t\ninput 32x32x3\nclasses 10\nstem cn_k3_s2_c16\nir_k3_s2_e6_c24\nhead c64_d0.2\n"

// TestStrictText: explicit values are used or rejected, never replaced by a
// default; nothing is given twice; NaN and infinities are errors; a BOM is
// accepted.
func TestStrictText(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"classes 0\nstem cn_k3_s2_c16\nhead c64", "classes must be in [1, 1048576], got 0"},
		{"input 0x0x3\nstem cn_k3_s2_c16\nhead c64", "resolution must be in [1, 8192], got 0"},
		{"input 32x32x0\nstem cn_k3_s2_c16\nhead c64", "input channels must be in [1, 65536], got 0"},
		{"input 32x32x3x\nstem cn_k3_s2_c16\nhead c64", "input must be RxRxC"},
		{"input 32x32x3junk\nstem cn_k3_s2_c16\nhead c64", "input must be RxRxC"},
		{"classes 10\nclasses 20\nstem cn_k3_s2_c16\nhead c64", `"classes" given twice`},
		{"name a\nname b\nstem cn_k3_s2_c16\nhead c64", `"name" given twice`},
		{"stem cn_k3_s2_c16\nstem cn_k3_s2_c16\nhead c64", `"stem" given twice`},
		{"stem cn_k3_s2_c16\nhead c64\nhead c64", `"head" given twice`},
		{"stem cn_k3_s2_c16\nhead c64_c128", `option "c" given twice`},
		{"stem cn_k3_s2_c16\nir_k3_e6_c24_nre_nr6\nhead c64", `option "n" given twice`},
		{"stem cn_k3_s2_c16\nir_k3_e6_c24_noskip_noskip\nhead c64", `option "noskip" given twice`},
		{"stem cn_k3_s2_c16\nhead dNaN", "dropout must be in [0, 1), got NaN"},
		{"stem cn_k3_s2_c16\nhead d-0.1", "dropout"},
		{"stem cn_k3_s2_c16\nir_k3_eNaN_c24\nhead c64", "expansion ratio must be positive"},
		{"stem cn_k3_s2_c16\nir_k3_eInf_c24\nhead c64", "expansion ratio must be at most 64"},
		{"stem cn_k3_s2_c16\nir_k3_e1e300_c24\nhead c64", "expansion ratio must be at most 64"},
		{"stem cn_k3_s2_c16\nir_k3_s0_e6_c24\nhead c64", "stride"},
		{"stem cn_k3_s2_c16\nir_k3_m0_c24\nhead c64", "expansion ratio must be positive (or set expanded)"},
		{"stem cn_k3_s2_c16\nir_k3_e2_c16_g0\nhead c64", "groups must be positive"},
		{"stem cn_k3_s2_c16\nres_k3_s2_c32\nhead bn_bn", `option "bn" given twice`},
		{"stem cn_k3_s2_c16_nlin_nre\nhead none", `option "n" given twice`},
	} {
		_, err := Parse(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): got %v, want an error containing %q", c.text, err, c.want)
		}
	}
	a, err := Parse("\ufeff" + strictBase)
	if err != nil || a.Name != "t" || a.Classes != 10 {
		t.Errorf("text with a byte-order mark: %v %+v", err, a)
	}
	// Missing lines still default.
	a, err = Parse("stem cn_k3_s2_c16\nhead c64")
	if err != nil || a.Resolution != 224 || a.Channels != 3 || a.Classes != 1001 {
		t.Errorf("defaults: %v %+v", err, a)
	}
}

// TestStrictJSON: the JSON form has the same rules, plus the JSON-specific
// ones (trailing data, duplicate keys, keys in another case).
func TestStrictJSON(t *testing.T) {
	a, err := Parse(strictBase)
	if err != nil {
		t.Fatal(err)
	}
	good := string(a.JSON())
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in %s", old, good)
		}
		return strings.Replace(good, old, new, 1)
	}
	for _, c := range []struct{ js, want string }{
		{replace(`"classes": 10`, `"classes": 0`), "classes must be in [1, 1048576], got 0"},
		{replace(`"resolution": 32`, `"resolution": 0`), "resolution must be in [1, 8192], got 0"},
		{replace(`"channels": 3`, `"channels": 0`), "input channels must be in [1, 65536], got 0"},
		{good + "{}", "after top-level value"},
		{good + "garbage", "after top-level value"},
		{replace(`"classes": 10`, `"classes": 10, "classes": 20`), `key "classes" given twice`},
		{replace(`"classes": 10`, `"Classes": 10`), `unknown key "Classes" (keys are case-sensitive: did you mean "classes"?)`},
		{replace(`"kernel": 3`, `"KERNEL": 3`), `at /stem: unknown key "KERNEL"`},
		{replace(`"dropout": 0.2`, `"dropout": NaN`), "invalid character"},
		{replace(`"expand": 6`, `"expand": 1e999`), "at /blocks/0/expand"},
		{replace(`"expand": 6`, `"expand": 65`), "expansion ratio must be at most 64"},
		{replace(`"out": 24`, `"out": 24.5`), "at /blocks/0/out"},
		{replace(`"kernel": 3`, `"kernel": 33`), "stem: field kernel: 33 is above the maximum 31"},
	} {
		_, err := ParseJSON([]byte(c.js))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseJSON(%s): got %v, want an error containing %q", c.js, err, c.want)
		}
	}
	b, err := ParseJSON([]byte("\ufeff" + good))
	if err != nil || b.Classes != 10 {
		t.Errorf("JSON with a byte-order mark: %v", err)
	}
	// Load reads both forms through the BOM, and refuses devices.
	dir := t.TempDir()
	for name, content := range map[string]string{"a.json": "\ufeff  " + good, "a.txt": "\ufeff" + strictBase} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := Load(p); err != nil || got.Classes != 10 {
			t.Errorf("Load(%s): %v", name, err)
		}
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(/dev/zero): %v", err)
	}
}

// TestSizeBounds: every size has a documented maximum, and sizes within the
// field maxima whose product would overflow the analysis are refused by
// Validate (the analysis of whatever Validate accepts is exact).
func TestSizeBounds(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"input 8193x8193x3\nstem cn_k3_s2_c16\nhead c64", "resolution must be in [1, 8192]"},
		{"input 32x32x65537\nstem cn_k3_s2_c16\nhead c64", "input channels must be in [1, 65536]"},
		{"classes 1048577\nstem cn_k3_s2_c16\nhead c64", "classes must be in"},
		{"stem cn_k33_s2_c16\nhead c64", "kernel: 33 is above the maximum 31"},
		{"stem cn_k3_s2_c16\nuir_a33_k3_e2_c16\nhead c64", "start_kernel: 33 is above the maximum 31"},
		{"stem cn_k3_s2_c65537\nhead c64", "out: 65537 is above the maximum 65536"},
		{"stem cn_k3_s2_c16\nir_k3_m65537_c16\nhead c64", "expanded: 65537 is above the maximum 65536"},
		{"stem cn_k3_s2_c4096\nir_k3_e64_c16\nhead c64", "expanded width must be in [1, 65536], got 262144"},
		{"stem cn_k3_s2_c16\nhead c65537", "head: widths must be at most 65536"},
		{"stem cn_k3_s2_c16\nhead h65537", "head: widths must be at most 65536"},
		{"stem cn_k3_s2_c16\nres_k99_s2_c32\nhead none", "kernel: 99 is above the maximum 31"},
		{"input 8192x8192x3\nstem cn_k3_s1_c65536\ncell_o333333_c65536\nhead none", "its MACs are more than an int64 holds"},
		// Each field is within its maximum, the products are not: the
		// overflow of the issue (kernel, width, resolution, expansion).
		{"input 8192x8192x3\nstem cn_k31_s1_c65536\ner_k31_s1_m65536_c65536\nhead c65536", "too large at 8192 px: its MACs are"},
		{"input 4096x4096x3\nstem cn_k3_s1_c2048\ner_r64_k31_s1_e32_c2048\nhead c64", "too large"},
		{"stem cn_k3_s2_c16\nhead h65536\nclasses 1048576", ""}, // 6.9e10 parameters: allowed
	} {
		_, err := Parse(c.text)
		if c.want == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", c.text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): got %v, want an error containing %q", c.text, err, c.want)
		}
	}
	many := "stem cn_k3_s2_c16\n" + strings.Repeat("ir_r64_k3_e1_c16\n", 17) + "head c64"
	if _, err := Parse(many); err == nil || !strings.Contains(err.Error(), "more than 1024 blocks") {
		t.Errorf("1088 blocks: %v", err)
	}
	// Analyze at a resolution other than the architecture's checks the
	// bounds there too.
	a, _ := Model("mnv4_conv_l")
	if _, err := Analyze(a, 9000); err == nil || !strings.Contains(err.Error(), "resolution 9000 is above the maximum 8192") {
		t.Errorf("Analyze at 9000 px: %v", err)
	}
	// The largest accepted sizes analyse to exact, non-negative figures: a
	// network near every bound at once.
	big, err := Parse("input 8192x8192x3\nstem cn_k3_s2_c64\ner_k5_s2_e4_c128\nir_k7_s2_e6_c256\nuir_a5_k5_s2_e4_c512\nhead c4096_h65536\nclasses 1048576")
	if err != nil {
		t.Fatal(err)
	}
	an, err := Analyze(big, 0)
	if err != nil {
		t.Fatal(err)
	}
	var macs, params int64
	for _, l := range an.Layers {
		if l.MACs < 0 || l.Params < 0 || l.Weights < 0 || l.InElems < 0 || l.OutElems < 0 {
			t.Fatalf("negative figure in %+v", l)
		}
		macs += l.MACs
		params += l.Params
	}
	if macs != an.MACs || params != an.Params || an.MACs <= 0 || float64(an.MACs) > MaxMACs {
		t.Errorf("totals %d %d vs layers %d %d", an.MACs, an.Params, macs, params)
	}
	if MakeDivisible(math.NaN(), 8) != math.MaxInt || MakeDivisible(1e300, 8) != math.MaxInt {
		t.Errorf("MakeDivisible of NaN or huge values must saturate (then Validate rejects the width)")
	}
	if w := a.WithWidth(1e300); w.Validate() == nil {
		t.Errorf("width multiplier 1e300 accepted")
	}
}
