package measure

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/hwcost"
)

// chainSpec covers every block kind, both strides, residuals, ReLU6, a conv
// block and the full head.
const chainSpec = `name chain
input 16x16x3
classes 4
stem cn_k3_s2_c8
ir_k3_s1_e2_c8
ir_k5_s2_e3_c16_nr6
er_k3_s2_e2_c16
er_k3_s1_e1_c16
uir_a3_k3_s2_e2_c24
uir_a5_k0_s1_e2_c24
uir_a0_k3_s1_e2_c24
cn_k1_s1_c16
head c32_h24_d0.2`

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatalf("creating the Go backend: %v", err)
	}
	return be
}

func parseArch(t testing.TB, spec string) *blocks.Arch {
	t.Helper()
	a, err := blocks.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSegmentsChainToConvnet ties BuildSegment to convnet: chaining the
// segments of an architecture under one store reuses convnet's variables (no
// new ones) and gives convnet's logits, for both op flavours.
func TestSegmentsChainToConvnet(t *testing.T) {
	be := testBackend(t)
	arch := parseArch(t, chainSpec)
	segs, err := hwcost.Segments(arch, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, 2*16*16*3)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(img, 2, 16, 16, 3)
	for _, lowered := range []bool{true, false} {
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(5))
		ref, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
			return convnet.New(arch).Lowered(lowered).Logits(scope.In("model"), images)
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Exec(x)
		if err != nil {
			t.Fatal(err)
		}
		nvars := store.NumVariables()
		ops := convnet.Ops{Lowered: lowered}
		chain, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
			root := scope.In("model")
			y := images
			for i, s := range segs {
				sc := root
				if s.Kind == hwcost.SegBlock {
					sc = root.In("%s", convnet.BlockScope(i-1))
				}
				y = BuildSegment(sc, y, s, ops)
			}
			return y
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := chain.Exec(x)
		if err != nil {
			t.Fatalf("lowered=%v: %v", lowered, err)
		}
		if n := store.NumVariables(); n != nvars {
			t.Errorf("lowered=%v: the segment chain created %d variables convnet does not have", lowered, n-nvars)
		}
		a, b := tensors.MustCopyFlatData[float32](want[0]), tensors.MustCopyFlatData[float32](got[0])
		if len(a) != len(b) {
			t.Fatalf("lowered=%v: %d logits from convnet, %d from the segment chain", lowered, len(a), len(b))
		}
		var maxDiff, scale float64
		for i := range a {
			maxDiff = math.Max(maxDiff, math.Abs(float64(a[i]-b[i])))
			scale = math.Max(scale, math.Abs(float64(a[i])))
		}
		if scale == 0 || maxDiff > 1e-5*scale {
			t.Errorf("lowered=%v: segment chain differs from convnet: max |diff| %.3g (logit scale %.3g)", lowered, maxDiff, scale)
		}
	}
}

func TestBuildSegmentErrors(t *testing.T) {
	be := testBackend(t)
	s := hwcost.BlockSegment(blocks.Block{Kind: blocks.KindIBN, Kernel: 3, Stride: 1, Expand: 2, Out: 8}, 8, 8)
	err := catch(func() error {
		_, err := model.CallOnce(be, model.NewStore(), func(scope *model.Scope, x *Node) *Node {
			return BuildSegment(scope, x, s, convnet.Ops{Lowered: true})
		}, tensors.FromShape(SegmentInputShape(s, 1)))
		return err
	})
	if err != nil {
		t.Fatalf("right input shape: %v", err)
	}
	wrong := hwcost.BlockSegment(s.Block, 4, 8) // the graph gets 8 channels
	err = catch(func() error {
		_, err := model.CallOnce(be, model.NewStore(), func(scope *model.Scope, x *Node) *Node {
			return BuildSegment(scope, x, wrong, convnet.Ops{Lowered: true})
		}, tensors.FromShape(SegmentInputShape(s, 1)))
		return err
	})
	if err == nil {
		t.Errorf("input of 8 channels for a segment of 4: no error")
	}
}
