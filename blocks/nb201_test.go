package blocks

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestCellRoundTripAllCells(t *testing.T) {
	seen := make(map[string]bool, NumCells)
	for code, c := range AllCells() {
		if c.Code() != code {
			t.Fatalf("cell %v: Code() = %d, want %d", c, c.Code(), code)
		}
		back, err := CellFromCode(code)
		if err != nil || back != c {
			t.Fatalf("CellFromCode(%d) = %v, %v; want %v", code, back, err, c)
		}
		s := c.String()
		p, err := ParseCell(s)
		if err != nil {
			t.Fatalf("ParseCell(%q): %v", s, err)
		}
		if p != c {
			t.Fatalf("ParseCell(%q) = %v, want %v", s, p, c)
		}
		seen[s] = true
	}
	if len(seen) != NumCells {
		t.Fatalf("%d distinct strings, want %d", len(seen), NumCells)
	}
	if _, err := CellFromCode(NumCells); err == nil {
		t.Errorf("CellFromCode(%d) accepted an out-of-range code", NumCells)
	}
}

func TestParseCellKnown(t *testing.T) {
	s := "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
	c, err := ParseCell(s)
	if err != nil {
		t.Fatal(err)
	}
	want := Cell{CellConv3x3, CellConv3x3, CellAvgPool3x3, CellSkip, CellConv3x3, CellSkip}
	if c != want {
		t.Errorf("ParseCell = %v, want %v", c, want)
	}
	if c.String() != s {
		t.Errorf("String() = %q, want %q", c.String(), s)
	}
}

func TestParseCellErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|",                                                      // 2 nodes
		"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|",                      // 2 inputs to node 3
		"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|conv_5x5~2|",           // unknown op
		"|nor_conv_3x3~0|+|nor_conv_3x3~1|avg_pool_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",       // sources swapped
		"nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",        // missing '|'
		"|nor_conv_3x3|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",         // missing ~
		"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|+|x~0|", // 4 groups
	} {
		if c, err := ParseCell(s); err == nil {
			t.Errorf("ParseCell(%q) = %v, want an error", s, c)
		}
	}
}

func TestLiveAndPruned(t *testing.T) {
	mustCell := func(s string) Cell {
		c, err := ParseCell(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Node 1 is fed but unused (its only consumers are none): edge 0→1 is dead.
	c := mustCell("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|")
	got := c.Live()
	want := [NumCellEdges]bool{false, true, false, false, false, true}
	if got != want {
		t.Errorf("Live(%s) = %v, want %v", c, got, want)
	}
	if p := c.Pruned(); p != (Cell{CellNone, CellConv1x1, CellNone, CellNone, CellNone, CellSkip}) {
		t.Errorf("Pruned = %v", p)
	}
	// Node 1 is used (1→3) but never fed (0→1 none): 1→3 is dead, the cell is
	// still connected through 0→3.
	c = mustCell("|none~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|")
	if got := c.Live(); got != ([NumCellEdges]bool{false, false, false, true, false, false}) {
		t.Errorf("Live(%s) = %v", c, got)
	}
	if !c.Connected() {
		t.Errorf("%s should be connected", c)
	}
	// Only dead paths.
	c = mustCell("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
	if c.Connected() {
		t.Errorf("%s should be disconnected", c)
	}

	// Over the whole space: pruning is idempotent, keeps connectivity, and
	// the data README's count of disconnected cells holds.
	disconnected := 0
	for _, c := range AllCells() {
		p := c.Pruned()
		if p.Pruned() != p || p.Connected() != c.Connected() {
			t.Fatalf("pruning %s gives %s, not a fixed point with the same connectivity", c, p)
		}
		if !c.Connected() {
			disconnected++
			if p != (Cell{}) {
				t.Fatalf("disconnected %s prunes to %s, want all none", c, p)
			}
		}
	}
	if disconnected != 341 {
		t.Errorf("%d disconnected cells, want 341", disconnected)
	}
}

// Used edges: the live ones and the dead ones whose result reaches the
// output; the analysis marks the others (and the additions of their values)
// Unused, and a runtime that prunes only unused ops pays for the same layers
// in the cell with its unused edges set to none.
func TestCellUsed(t *testing.T) {
	// Node 1 is never fed (0→1 none) but used (1→2 conv 3×3 into node 2,
	// which 2→3 skip passes to the output): 1→2 is dead and used.
	c, err := ParseCell("|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Used(), ([NumCellEdges]bool{false, true, true, false, false, true}); got != want {
		t.Errorf("Used(%s) = %v, want %v", c, got, want)
	}
	an, err := Analyze(NB201Network(c, NB201CIFAR10), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Per cell: e02.relu and e02 live; e12.relu, e12 and n2.add1 (node 2
	// sums a live and a used input) dead and used; e01, e03, e13 (zero) and
	// n3.add1, n3.add2 (node 3 has one used input) unused.
	kinds := map[string]string{}
	for _, l := range an.Layers {
		if l.Unused && !l.Dead {
			t.Errorf("layer %s is unused but not dead", l.Name)
		}
		if l.Block == 1 {
			kinds[strings.TrimPrefix(l.Name, "b1.")] = map[[2]bool]string{{false, false}: "live",
				{true, false}: "used", {true, true}: "unused"}[[2]bool{l.Dead, l.Unused}]
		}
	}
	want := map[string]string{"e01": "unused", "e02.relu": "live", "e02": "live", "e12.relu": "used", "e12": "used",
		"n2.add1": "used", "e03": "unused", "e13": "unused", "n3.add1": "unused", "n3.add2": "unused"}
	if !maps.Equal(kinds, want) {
		t.Errorf("cell layers: %v, want %v", kinds, want)
	}

	// Over the whole space: live edges are used; setting the unused edges to
	// none keeps the used ones and the used layers' MACs and count.
	usedFigures := func(c Cell) (macs int64, n int) {
		an, err := Analyze(NB201Network(c, NB201CIFAR10), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range an.Layers {
			if !l.Unused {
				macs += l.MACs
				n++
			}
		}
		return macs, n
	}
	for code, c := range AllCells() {
		if code%7 != 0 && c.Connected() { // a seventh of the connected cells, every disconnected one
			continue
		}
		used, live := c.Used(), c.Live()
		p := c
		for e := range p {
			if live[e] && !used[e] {
				t.Fatalf("%s: edge %d live but not used", c, e)
			}
			if !used[e] {
				p[e] = CellNone
			}
		}
		if p.Used() != used {
			t.Fatalf("%s with its unused edges none: used %v, want %v", c, p.Used(), used)
		}
		m1, n1 := usedFigures(c)
		m2, n2 := usedFigures(p)
		if m1 != m2 || n1 != n2 {
			t.Fatalf("%s: used layers %d (%d MACs), with its unused edges none %d (%d MACs)", c, n1, m1, n2, m2)
		}
	}
}

// torchParams counts parameters as PyTorch (and so NATS-Bench) does: a conv
// kernel plus BatchNorm's gamma and beta (its running statistics are buffers),
// where Layer.Params adds 4 per BatchNorm channel. A conv layer with BatchNorm
// has Params = k + 4·out and Weights = k + out, so k + 2·out = Weights +
// (Params − Weights)/3; a conv without BatchNorm has Params = Weights = k; a
// standalone BatchNorm has Params = 4·C, of which PyTorch counts half; the
// classifier has Params = Weights = k + bias.
func torchParams(an *Analysis) int64 {
	var n int64
	for _, l := range an.Layers {
		if l.Op == OpNorm {
			n += l.Params / 2
		} else {
			n += l.Weights + (l.Params-l.Weights)/3
		}
	}
	return n
}

// TestNB201PublishedCosts checks the networks against the FLOPs and parameters
// NATS-Bench publishes per cell (get_cost_info / query_info_str_by_arch, in
// millions). NATS-Bench's FLOPs are the MACs of every Conv2d and Linear module
// (xautodl/utils/flop_benchmark.py: pooling is not counted, a Linear adds its
// bias), so FLOPs = MACs + classes; dead and none edges are modules that run
// in PyTorch, and Analyze counts dead layers too. Sources:
//   - cell index 0: NATS-Bench issue #24 (D-X-Y/NATS-Bench): cifar10-valid
//     15.64737, cifar100 15.65322, ImageNet16-120 3.91948 MFLOPs;
//   - cell index 1: NATS-Bench issue #18, query_info_str_by_arch(1): cifar10
//     113.95 M / 0.802 MB, cifar100 113.96 / 0.808, ImageNet16-120 28.50 / 0.810;
//   - NATS-Bench issue #36: get_cost_info(hp="12") on cifar10 113.95137 MFLOPs,
//     0.802426 M params (its hp="200" value is the legacy error NATS-Bench's
//     api_utils.fix_legacy_issue corrects);
//   - the ResNet cell, index 11472: AutoDL-Projects
//     exps/NAS-Bench-201/visualize.py, params 0.559, flops 78.56;
//   - AutoDL-Projects issue #134: 0.56 M params (the other cell, 0.48,
//     is the same legacy error).
func TestNB201PublishedCosts(t *testing.T) {
	for _, tc := range []struct {
		cell           string
		cfg            NB201Config
		mflops, params float64 // millions; 0 = not published
		tol            float64 // of the published rounding
	}{
		{"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", NB201CIFAR10, 15.64737, 0, 5e-6},
		{"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", NB201CIFAR100, 15.65322, 0, 5e-6},
		{"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", NB201ImageNet16, 3.91948, 0, 5e-6},
		{"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", NB201CIFAR10, 113.95, 0.802, 5e-3},
		{"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", NB201CIFAR100, 113.96, 0.808, 5e-3},
		{"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", NB201ImageNet16, 28.50, 0.810, 5e-3},
		{"|skip_connect~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", NB201CIFAR10, 113.95137, 0.802426, 5e-6},
		{"|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|", NB201CIFAR10, 78.56, 0.559, 5e-3},
		{"|skip_connect~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|", NB201CIFAR10, 0, 0.56, 5e-3},
	} {
		c, err := ParseCell(tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		an, err := Analyze(NB201Network(c, tc.cfg), 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.cell, err)
		}
		if tc.mflops > 0 {
			if got := float64(an.MACs+int64(tc.cfg.Classes)) / 1e6; math.Abs(got-tc.mflops) > tc.tol+1e-9 {
				t.Errorf("%s (%d classes, %d px): %.6f MFLOPs, published %g", tc.cell, tc.cfg.Classes, tc.cfg.Resolution, got, tc.mflops)
			}
		}
		if tc.params > 0 {
			if got := float64(torchParams(an)) / 1e6; math.Abs(got-tc.params) > tc.tol+1e-9 {
				t.Errorf("%s (%d classes): %.6f M params, published %g", tc.cell, tc.cfg.Classes, got, tc.params)
			}
		}
	}
}

// TestNB201Network checks the skeleton, the dead layers and both text forms.
func TestNB201Network(t *testing.T) {
	// Node 1 is fed but unused: edge 0→1 (a 3×3 conv) is dead; 0→2 conv 1×1
	// and 2→3 skip are live; the other edges are none.
	c, err := ParseCell("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|")
	if err != nil {
		t.Fatal(err)
	}
	a := NB201Network(c, NB201CIFAR10)
	an, err := Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Per cell: e01.relu and e01 (conv, dead), e02.relu and e02 (conv), e12
	// (zero), n2.add1 (dead: one live input), e03 and e13 (zero), e23 nothing
	// (skip), n3.add1 and n3.add2 (dead). Live: 2 layers per cell.
	var live, dead, cells int
	for _, l := range an.Layers {
		if l.Block < 0 || l.Block >= len(a.Blocks) || a.Blocks[l.Block].Kind != KindCell {
			if l.Dead {
				t.Errorf("layer %s outside the cells is dead", l.Name)
			}
			continue
		}
		if l.Dead {
			dead++
		} else {
			live++
			if l.Name != fmt.Sprintf("b%d.e02.relu", l.Block) && l.Name != fmt.Sprintf("b%d.e02", l.Block) {
				t.Errorf("live layer %s", l.Name)
			}
		}
		if l.Name == fmt.Sprintf("b%d.e02", l.Block) {
			cells++
		}
	}
	if cells != 15 || live != 30 || dead != 15*8 {
		t.Errorf("%d cells, %d live and %d dead cell layers; want 15, 30, 120", cells, live, dead)
	}
	// Skeleton: stem 3×3 16 without activation, reductions to 32 and 64 at
	// 16 and 8 px, BatchNorm + ReLU before pooling, 64 → 10 classifier.
	first, last := an.Layers[0], an.Layers[len(an.Layers)-1]
	if first.Name != "stem" || first.Activated || first.OutC != 16 || first.OutSize != 32 {
		t.Errorf("stem %+v", first)
	}
	if last.Name != "classifier" || last.InC != 64 || last.OutC != 10 {
		t.Errorf("classifier %+v", last)
	}
	for _, name := range []string{"b5.a", "b11.a"} {
		for _, l := range an.Layers {
			if l.Name == name && (l.Stride != 2 || l.OutC != 2*l.InC) {
				t.Errorf("reduction %s: %+v", name, l)
			}
		}
	}
	if an.Layers[len(an.Layers)-3].Op != OpNorm {
		t.Errorf("layer before pooling is %s, want the BatchNorm + ReLU", an.Layers[len(an.Layers)-3].Name)
	}
	// Text and JSON round trips.
	text := a.String()
	if !strings.Contains(text, "cell_r5_o320001_c16") || !strings.Contains(text, "res_k3_s2_c32") ||
		!strings.Contains(text, "stem cn_k3_s1_c16_nlin") || !strings.Contains(text, "head bn") {
		t.Errorf("text form:\n%s", text)
	}
	back, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseJSON(a.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a) || !reflect.DeepEqual(fromJSON, a) {
		t.Errorf("round trip differs:\n%s\n%s", back, fromJSON)
	}
}

func TestNB201BlockErrors(t *testing.T) {
	base := "name x\ninput 32x32x3\nclasses 10\nstem cn_k3_s1_c16_nlin\n%s\nhead bn\n"
	for _, tc := range []struct{ block, want string }{
		{"cell_o33_c16", "op digits"},
		{"cell_o333339_c16", "op digits"},
		{"cell_c16", "field cell"},
		{"cell_o333333_c32", "keeps the width"},
		{"cell_o333333_s2_c16", "stride"},
		{"cell_o333333_k3_c16", "field kernel"},
		{"cell_o333333_e2_c16", "field expand"},
		{"res_k4_s2_c32", "field kernel"},
		{"res_k3_s2_e2_c32", "field expand"},
		{"ir_k3_s1_e1_c24_g5", "groups"},
		{"er_k3_s1_e2_c16_g2", "groups"},
	} {
		if _, err := Parse(fmt.Sprintf(base, tc.block)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.block, err, tc.want)
		}
	}
	var b Block
	if err := json.Unmarshal([]byte(`{"kind":"cell","stride":1,"out":16,"cell":"|bad|"}`), &b); err != nil {
		t.Fatal(err)
	}
	a := &Arch{Resolution: 32, Channels: 3, Classes: 10, Stem: Block{Kind: KindConv, Kernel: 3, Stride: 1, Out: 16}, Blocks: []Block{b}}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "field cell") {
		t.Errorf("bad cell string: %v", err)
	}
}
