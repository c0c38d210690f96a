package blocks

import (
	"fmt"
	"reflect"
	"testing"
)

func TestFBNetOpsMatchNames(t *testing.T) {
	for o := range FBNetOp(NumFBNetOps) {
		want := "skip"
		if o != FBNetSkip {
			want = fmt.Sprintf("k%d_e%d", o.Kernel(), o.Expansion())
			if o.Groups() > 1 {
				want += fmt.Sprintf("_g%d", o.Groups())
			}
		}
		if o.String() != want {
			t.Errorf("op %d: name %q, spec says %q", o, o.String(), want)
		}
	}
}

// TestFBNetNetwork checks the CIFAR-100 network by hand-computed MACs.
func TestFBNetNetwork(t *testing.T) {
	var allSkip FBNetArch
	for i := range allSkip {
		allSkip[i] = FBNetSkip
	}
	// All skip: stem 3·16·9·32² = 442,368; the first layer of stages 1-6
	// changes the shape, so it is a 1×1 conv: 16·24·32² = 393,216, 24·32·16² =
	// 196,608, 32·64·8² = 131,072, 64·112·8² = 458,752, 112·184·4² = 329,728,
	// 184·352·4² = 1,036,288; head 352·1504·4² = 8,470,528; classifier
	// 1504·100 = 150,400. Sum 11,608,960.
	// Position 0 as k3_e1_g2 (16 → 16 at 32 px) adds a grouped expansion
	// 8·16·32² = 131,072 (kept at ratio 1), a 3×3 depthwise 9·16·32² =
	// 147,456 and a grouped projection 131,072: 409,600.
	withG2 := allSkip
	withG2[0] = 1
	for _, tc := range []struct {
		a      FBNetArch
		macs   int64
		blocks int
	}{{allSkip, 11608960, 6}, {withG2, 12018560, 7}} {
		arch := FBNetNetwork(tc.a, FBNetCIFAR100)
		an, err := Analyze(arch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if an.MACs != tc.macs || len(arch.Blocks) != tc.blocks {
			t.Errorf("%s: %d MACs in %d blocks, want %d in %d", arch.Name, an.MACs, len(arch.Blocks), tc.macs, tc.blocks)
		}
		back, err := Parse(arch.String())
		if err != nil || !reflect.DeepEqual(back, arch) {
			t.Errorf("%s: text round trip: %v\n%s", arch.Name, err, arch)
		}
	}
	an, _ := Analyze(FBNetNetwork(withG2, FBNetCIFAR100), 0)
	var ops []string
	for _, l := range an.Layers {
		if l.Block == 0 {
			ops = append(ops, fmt.Sprintf("%s/%s/g%d", l.Name, l.Op, l.Groups))
		}
	}
	want := []string{"b0.expand/pw/g2", "b0.shuffle/shuffle/g0", "b0.mid_dw/dw/g16", "b0.project/pw/g2", "b0.add/add/g0"}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("k3_e1_g2 layers %v, want %v", ops, want)
	}
}
