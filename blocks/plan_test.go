package blocks

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// checkPlan verifies the invariants of a block's plan for input width in:
// inputs name earlier values, each op reads the width its inputs have, the
// output width and total stride are the block's, and the residual add is
// there exactly when Block.Residual says so.
func checkPlan(t *testing.T, b Block, in int) Plan {
	t.Helper()
	p := b.Plan(in)
	if p.In != in || p.Out != b.Out {
		t.Fatalf("%s (in %d): plan widths %d → %d", b, in, p.In, p.Out)
	}
	width := func(v int) int {
		if v == PlanInput {
			return in
		}
		return p.Ops[v].Out
	}
	names := map[string]bool{}
	for i, op := range p.Ops {
		if names[op.Name] {
			t.Fatalf("%s: op name %q twice", b, op.Name)
		}
		names[op.Name] = true
		if len(op.Inputs) == 0 || (op.Op == OpAdd) != (len(op.Inputs) > 1) {
			t.Fatalf("%s: op %s reads %v", b, op.Name, op.Inputs)
		}
		for _, v := range op.Inputs {
			if v < PlanInput || v >= i {
				t.Fatalf("%s: op %d (%s) reads value %d", b, i, op.Name, v)
			}
			if width(v) != op.In {
				t.Fatalf("%s: op %s reads %d channels from value %d, which has %d", b, op.Name, op.In, v, width(v))
			}
		}
		if op.Groups < 1 || op.In%op.Groups != 0 || op.Out%op.Groups != 0 || op.Op == OpDW && (op.Groups != op.In || op.Out != op.In) {
			t.Fatalf("%s: op %s has %d groups for %d channels", b, op.Name, op.Groups, op.In)
		}
	}
	if s := p.Stride(); s != b.Stride {
		t.Fatalf("%s: plan stride %d, block stride %d", b, s, b.Stride)
	}
	if p.Residual() != b.Residual(in) {
		t.Fatalf("%s (in %d): plan residual %v, block residual %v", b, in, p.Residual(), b.Residual(in))
	}
	_, expands := p.Expansion()
	if (b.Kind == KindIBN || b.Kind == KindFused || b.Kind == KindUIB) && expands != b.HasExpandConv(in) {
		t.Fatalf("%s (in %d): plan expands %v, HasExpandConv %v", b, in, expands, b.HasExpandConv(in))
	}
	return p
}

// TestPlanInvariants checks every block of random architectures and of the
// references, and that Analyze lists exactly the plan's ops.
func TestPlanInvariants(t *testing.T) {
	var as []*Arch
	for _, r := range References {
		as = append(as, r.Arch())
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		as = append(as, randomArch(rng))
	}
	for _, a := range as {
		np, err := a.Plan()
		if err != nil {
			t.Fatal(err)
		}
		in := a.Stem.Out
		for i, b := range a.Blocks {
			if p := checkPlan(t, b, in); !reflect.DeepEqual(p, np.Blocks[i]) {
				t.Fatalf("%s block %d: Arch.Plan differs from Block.Plan", a.Name, i)
			}
			in = b.Out
		}
		an, err := Analyze(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		parts := append(append([]Plan{np.Stem}, np.Blocks...), np.Head)
		for k, p := range parts {
			for _, op := range p.Ops {
				names = append(names, LayerName(k-1, len(a.Blocks), op.Name))
			}
		}
		var got []string
		for _, l := range an.Layers {
			got = append(got, l.Name)
		}
		if !reflect.DeepEqual(got, names) {
			t.Fatalf("%s: analysis layers %v, plan ops %v", a.Name, got, names)
		}
	}
}

// TestExpandOneRule pins the expansion-1 rule both ways: without keepexp an
// IBN or fused IBN whose expanded width equals its input omits the expansion
// (Model Garden; the reference models), with it the block keeps it (TuNAS).
// Old specs keep their meaning; the token and JSON field round-trip.
func TestExpandOneRule(t *testing.T) {
	a, err := Parse(`input 16x16x8
classes 4
stem cn_k1_s1_c16
er_k5_s1_e1_c16
er_k5_s1_e1_c16_keepexp
ir_k3_s2_e1_c16
ir_k3_s2_e1_c16_keepexp
er_k3_s1_e2_c16_keepexp
head none`)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, a)
	if !a.Blocks[1].KeepExpand || a.Blocks[0].KeepExpand {
		t.Fatalf("keepexp parsed wrong: %+v", a.Blocks[:2])
	}
	an, err := Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	layers := map[int][]string{}
	macs := map[int]int64{}
	for _, l := range an.Layers {
		layers[l.Block] = append(layers[l.Block], l.Name+"/"+string(l.Op))
		macs[l.Block] += l.MACs
	}
	want := map[int]string{
		0: "b0.project/pw b0.add/add",
		1: "b1.fused/fused b1.project/pw b1.add/add",
		2: "b2.dw/dw b2.project/pw",
		3: "b3.expand/pw b3.dw/dw b3.project/pw",
		4: "b4.fused/fused b4.project/pw b4.add/add",
	}
	for b, w := range want {
		if got := strings.Join(layers[b], " "); got != w {
			t.Errorf("block %d: layers %q, want %q", b, got, w)
		}
	}
	// 16×16 map, 16 channels. b0: one 1×1 16→16 projection: 16·16·256 =
	// 65,536 MACs. b1: 5×5 16→16 fused conv 25·16·16·256 = 1,638,400 plus the
	// projection: 1,703,936. b3 reads b2's 8×8 output and has stride 2 in its
	// depthwise: 1×1 expansion on 8×8 (16·16·64 = 16,384) + 3×3 depthwise to
	// 4×4 (9·16·16 = 2,304) + projection on 4×4 (16·16·16 = 4,096) = 22,784.
	for b, w := range map[int]int64{0: 65536, 1: 1703936, 3: 22784} {
		if macs[b] != w {
			t.Errorf("block %d: %d MACs, want %d", b, macs[b], w)
		}
	}
	// A fused block without expansion puts the stride in its projection.
	p := Block{Kind: KindFused, Kernel: 3, Stride: 2, Out: 16, Expand: 1}.Plan(16)
	if len(p.Ops) != 1 || p.Ops[0].Stride != 2 {
		t.Errorf("fused e1 s2 without keepexp: plan %+v", p.Ops)
	}
	// The JSON field.
	if !strings.Contains(string(a.JSON()), `"keep_expand": true`) {
		t.Errorf("JSON lacks keep_expand:\n%s", a.JSON())
	}
}

func TestPlanOfHead(t *testing.T) {
	p := Head{Conv: 32, Hidden: 16, Dropout: 0.2}.Plan(8, 5)
	var got []string
	for _, op := range p.Ops {
		got = append(got, op.Name)
	}
	if strings.Join(got, " ") != "head.conv head.pool head.hidden classifier" || p.Out != 5 {
		t.Fatalf("head plan %v → %d", got, p.Out)
	}
	if c := p.Ops[3]; c.Dropout != 0.2 || !c.Bias || c.Norm || c.In != 16 {
		t.Errorf("classifier op %+v", c)
	}
	if p := (Head{}).Plan(8, 5); len(p.Ops) != 2 || p.Ops[1].In != 8 {
		t.Errorf("empty head plan %+v", p.Ops)
	}
}
