package plots

import (
	"slices"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

func TestArchDiagram(t *testing.T) {
	a, err := blocks.Model("multi_avg")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ArchDiagram(a)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "arch_multi_avg" || !strings.Contains(f.Title, "16 blocks") {
		t.Errorf("name %q, title %q", f.Name, f.Title)
	}
	p := f.Panels[0]
	bars := map[string]*Series{}
	for _, s := range p.SeriesOf(KindBars) {
		bars[s.Name] = s
	}
	// Stem, 16 IBNs, head conv and hidden FC; every block expands.
	for name, want := range map[string]int{"conv": 1, "IBN": 16, "head": 2, "expanded width": 16} {
		if s := bars[name]; s == nil || len(s.Bars) != want {
			t.Errorf("series %q: %v, want %d boxes", name, s, want)
		}
	}
	if len(p.XTicks) != 19 {
		t.Errorf("%d tick labels, want one per box (19)", len(p.XTicks))
	}
	// Box height grows with channels: block 0 (32 out) < last block (192 out) < head conv (960).
	ibn := bars["IBN"].Bars
	h := func(b Bar) float64 { return b.Y1 - b.Y0 }
	if !(h(ibn[0]) < h(ibn[15]) && h(ibn[15]) < h(bars["head"].Bars[0])) {
		t.Errorf("box heights %g, %g, %g do not grow with channels 32, 192, 960", h(ibn[0]), h(ibn[15]), h(bars["head"].Bars[0]))
	}
	// Expanded box of block 0: 32 in × 3 = 96 channels, taller than its 32-channel output.
	if e := bars["expanded width"].Bars[0]; !(h(e) > h(ibn[0])) || e.X0 != ibn[0].X0 {
		t.Errorf("expanded box %+v does not stand behind block box %+v", e, ibn[0])
	}
	// Four stride-2 blocks, one dashed line before each.
	if n := len(p.SeriesOf(KindVLine)); n != 4 {
		t.Errorf("%d stride lines, want 4", n)
	}
	wantRes := 0
	in := a.Stem.Out
	for _, b := range a.Blocks {
		if b.Residual(in) {
			wantRes++
		}
		in = b.Out
	}
	if r := p.SeriesOf(KindPoints); len(r) != 1 || r[0].Len() != wantRes || wantRes == 0 {
		t.Errorf("residual markers %v, want %d", r, wantRes)
	}
	legend := f.LegendEntries()
	for _, want := range []string{"expanded width", "conv", "IBN", "head", "stride 2", "residual"} {
		if !slices.Contains(legend, want) {
			t.Errorf("legend %q lacks %q", legend, want)
		}
	}
	if _, err := f.PNG(f.DefaultSize()); err != nil {
		t.Error(err)
	}
	if _, err := f.SVG(f.DefaultSize()); err != nil {
		t.Error(err)
	}
}

func TestArchDiagramKinds(t *testing.T) {
	// MobileNetV4-Conv-Medium: conv stem, a fused IB, then UIBs (some without a
	// middle depthwise).
	a, err := blocks.Model("mnv4_conv_m")
	if err != nil {
		t.Fatal(err)
	}
	a.Name = "mnv4/medium@0.5" // not a file stem
	f, err := ArchDiagram(a)
	if err != nil {
		t.Fatal(err)
	}
	if !validName.MatchString(f.Name) {
		t.Errorf("name %q is not a file stem", f.Name)
	}
	legend := f.LegendEntries()
	for _, want := range []string{"conv", "fused IBN", "UIB"} {
		if !slices.Contains(legend, want) {
			t.Errorf("legend %q lacks %q", legend, want)
		}
	}
	found := false
	for _, tk := range f.Panels[0].XTicks {
		found = found || strings.HasPrefix(tk.Label, "a3\nk5\ne4")
	}
	if !found {
		t.Errorf("no UIB label with start kernel 3, kernel 5, expansion 4 in %v", f.Panels[0].XTicks)
	}
}

func TestArchDiagramErrors(t *testing.T) {
	_, err := ArchDiagram(nil)
	wantErr(t, "nil", err, "nil")
	a, _ := blocks.Model("mobilenet_v2")
	a.Blocks[3].Stride = 0
	_, err = ArchDiagram(a)
	wantErr(t, "invalid block", err, "block 3")
}

// TestArchDiagramExpandOne: the expanded-width box follows the block's op
// plan, so an expansion-1 block shows one exactly when it keeps its
// expansion conv (keepexp).
func TestArchDiagramExpandOne(t *testing.T) {
	for _, c := range []struct {
		spec string
		want int
	}{
		{"stem cn_k3_s2_c16\ner_k5_s1_e1_c16\nir_k3_s1_e1_c16\nhead none", 0},
		{"stem cn_k3_s2_c16\ner_k5_s1_e1_c16_keepexp\nir_k3_s1_e1_c16_keepexp\nhead none", 2},
	} {
		a, err := blocks.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ArchDiagram(a)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range f.Panels[0].SeriesOf(KindBars) {
			if s.Name == "expanded width" {
				n = len(s.Bars)
			}
		}
		if n != c.want {
			t.Errorf("%q: %d expanded boxes, want %d", c.spec, n, c.want)
		}
	}
}
