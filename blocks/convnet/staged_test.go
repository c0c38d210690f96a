package convnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/blocks"
)

// TestStagedMatchesGraph runs networks with random BatchNorm statistics as
// one inference graph (Builder.Logits) and as a Staged pipeline (graph
// segments, depthwiseDirect and pointwiseDirect): the logits must be equal
// floats, as both compute the same sums in the same order. The tiny arch
// covers every block kind, both strides, ReLU6, depthwise layers on 1×1 and
// 2×2 maps and two depthwise layers in one block (uir); the reference models
// their real structure at a reduced resolution (products on the backend's
// small-matrix path) and MultiAVG and MobileNetV2 at 224 px (most on its
// packed path); their 1×1 convolutions (and the residual additions after
// them) run as Go stages. Repeated batches reuse the Go stages' kept
// outputs; a new batch size reallocates them.
// fusedSpec has full convolutions (fused inverted bottlenecks) of 9-25 taps
// on maps of 16 pixels down to 1 (where some taps read only padding), with
// 144-1200 inputs per output (one product panel and several).
const fusedSpec = `name fused
input 32x32x3
classes 10
stem cn_k3_s2_c16
er_k3_s1_e4_c24
er_k5_s2_e3_c32
er_k3_s1_e2_c32
er_k5_s2_e2_c48
er_k3_s2_e2_c64
er_k5_s1_e1_c64_keepexp
head c128_h256
`

func TestStagedMatchesGraph(t *testing.T) {
	be := testBackend(t)
	cases := []struct {
		model string
		res   int
		batch []int
		pw    int // 1×1 Go stages at least (where the kernel exists)
	}{{"", 16, []int{1, 3, 1}, 1}, {"multi_avg", 64, []int{1, 1}, 30}, {"mobilenet_v2", 48, []int{2}, 30}, {"mnv4_conv_s", 48, []int{1}, 10},
		{"multi_avg", 224, []int{1, 2}, 30}, {"mobilenet_v2", 224, []int{1}, 30},
		{"fused", 32, []int{1, 2}, 5}, {"fused", 16, []int{1}, 5}, {"fused", 8, []int{1}, 5}, {"mobilenet_edgetpu", 64, []int{1}, 20}}
	for _, c := range cases {
		arch := tinyArch(t)
		var err error
		switch c.model {
		case "":
		case "fused":
			if arch, err = blocks.Parse(fusedSpec); err != nil {
				t.Fatal(err)
			}
		default:
			if arch, err = blocks.Model(c.model); err != nil {
				t.Fatal(err)
			}
		}
		arch.Resolution = c.res
		t.Run(arch.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(31, 32))
			x, _ := randomBatch(rng, arch, c.batch[0])
			store := initializedStore(t, be, arch, x, 5)
			randomizeBatchNorm(t, store, rng)
			b := New(arch)
			norm := &InputNorm{Sub: make([]float32, arch.Channels), Mul: make([]float32, arch.Channels)}
			for c := range arch.Channels {
				norm.Sub[c], norm.Mul[c] = float32(rng.NormFloat64()), float32(0.5+rng.Float64())
			}
			graph, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
				return b.Logits(scope.In("model"), norm.Graph(images))
			})
			if err != nil {
				t.Fatal(err)
			}
			staged, err := b.NewStaged(be, store, "model", norm)
			if noGoConv(t, err) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pw, fused, fc, conv := 0, 0, 0, 0
			for _, st := range staged.stages {
				if st.conv != nil {
					conv++
				}
				if st.fc != nil {
					fc++
				}
				if st.pw != nil {
					pw++
					if len(st.ins) == 2 {
						fused++
					}
				}
			}
			t.Logf("%d stages: %d 1×1 in Go, %d of them with the residual addition; %d fully connected; %d full convolutions", len(staged.stages), pw, fused, fc, conv)
			if pointwiseDirect != nil && c.model == "fused" && conv != 7 {
				t.Fatalf("%d full convolutions in Go, want 7 (the stem and six fused blocks)", conv)
			}
			if pointwiseDirect != nil && (pw < c.pw || (c.pw > 0 && fused == 0)) {
				t.Fatalf("%d 1×1 Go stages (%d with the residual), want at least %d", pw, fused, c.pw)
			}
			if fcDirect != nil && c.model != "" && fc == 0 {
				t.Fatal("no fully connected layer runs in Go")
			}
			for _, batch := range c.batch {
				x, _ := randomBatch(rng, arch, batch)
				out, err := graph.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				want := tensors.MustCopyFlatData[float32](out[0])
				got, err := staged.Logits(x)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Shape().Equal(out[0].Shape()) {
					t.Fatalf("batch %d: staged logits shaped %s, graph %s", batch, got.Shape(), out[0].Shape())
				}
				for i, v := range tensors.MustCopyFlatData[float32](got) {
					if v != want[i] {
						t.Fatalf("batch %d: logit %d: staged %g, graph %g", batch, i, v, want[i])
					}
				}
				if !x.Ok() {
					t.Fatal("Staged.Logits finalized its input")
				}
				// The logits are the caller's: another run must not write them.
				x2, _ := randomBatch(rng, arch, batch)
				again, err := staged.Logits(x2)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range tensors.MustCopyFlatData[float32](got) {
					if v != want[i] {
						t.Fatalf("batch %d: logit %d changed to %g by the next run", batch, i, v)
					}
				}
				again.FinalizeAll()
				got.FinalizeAll()
			}
			// On maps smaller than the kernel's reach, the convolutions
			// ran with the taps that read some input, as the graph does.
			subsets := 0
			for _, st := range staged.stages {
				if st.conv != nil {
					subsets += len(st.conv.byTaps)
				}
			}
			if pointwiseDirect != nil && c.model == "fused" && subsets == 0 {
				t.Errorf("%d px: no convolution ran on a subset of its taps (the last block's 5×5 on a 2×2 map should)", c.res)
			}
		})
	}
}

// TestStagedErrors: a network without depthwise convolutions, another
// backend or native ops, and missing variables are refused.
func TestStagedErrors(t *testing.T) {
	be := testBackend(t)
	arch := tinyArch(t)
	store := model.NewStore()
	for name, err := range map[string]error{
		"no variables": func() error { _, err := New(arch).NewStaged(be, store, "model", nil); return err }(),
		"native":       func() error { _, err := New(arch).Lowered(false).NewStaged(be, store, "model", nil); return err }(),
		"nil backend":  func() error { _, err := New(arch).NewStaged(nil, store, "model", nil); return err }(),
		"nil store":    func() error { _, err := New(arch).NewStaged(be, nil, "model", nil); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	conv, err := blocks.Parse("name convs\ninput 16x16x3\nclasses 4\nstem cn_k3_s2_c8\ncn_k3_s1_c8\nhead c16_h0_d0")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(rand.New(rand.NewPCG(1, 2)), conv, 1)
	if _, err := New(conv).NewStaged(be, initializedStore(t, be, conv, x, 1), "model", nil); !errors.Is(err, ErrNothingToStage) {
		t.Errorf("a network without depthwise convolutions, nor full ones the kernel runs: %v, want ErrNothingToStage", err)
	}
}

// TestStagedPartsChain ties Net.NewStaged to the whole network's Staged:
// the stem (StemPlan), each block and the head staged on their own, with the
// network's variables, chained, give its logits bit for bit (fused and
// inverted bottlenecks, residuals, a plain convolution block, the head).
func TestStagedPartsChain(t *testing.T) {
	be := testBackend(t)
	for _, spec := range []string{fusedSpec, tinySpec} {
		arch, err := blocks.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(41, 42))
		x, _ := randomBatch(rng, arch, 1)
		store := initializedStore(t, be, arch, x, 3)
		randomizeBatchNorm(t, store, rng)
		whole, err := New(arch).NewStaged(be, store, "model", nil)
		if noGoConv(t, err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want, err := whole.Logits(x)
		if err != nil {
			t.Fatal(err)
		}
		n := NewNet(Ops{Lowered: true})
		type part struct {
			scope string
			plan  blocks.Plan
		}
		parts := []part{{"model", StemPlan(arch.Stem, arch.Channels)}}
		c := arch.Stem.Out
		for i, b := range arch.Blocks {
			p := b.Plan(c)
			parts = append(parts, part{"model/" + BlockScope(i), p})
			c = p.Out
		}
		parts = append(parts, part{"model", arch.Head.Plan(c, arch.Classes)})
		y := x
		for i, p := range parts {
			st, err := n.NewStaged(be, store, p.scope, p.plan)
			if err != nil {
				t.Fatalf("%s: part %d: %v", arch.Name, i, err)
			}
			next, err := st.Logits(y)
			if err != nil {
				t.Fatalf("%s: part %d: %v", arch.Name, i, err)
			}
			y = next
		}
		a, b := tensors.MustCopyFlatData[float32](want), tensors.MustCopyFlatData[float32](y)
		if len(a) != len(b) {
			t.Fatalf("%s: %d logits whole, %d chained", arch.Name, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: logit %d: whole %g, parts chained %g", arch.Name, i, a[i], b[i])
			}
		}
	}
	if _, err := NewNet(Ops{}).NewStaged(be, model.NewStore(), "model", blocks.Plan{}); err == nil {
		t.Error("native ops: no error")
	}
	if _, err := NewNet(Ops{Lowered: true}).NewStaged(be, model.NewStore(), "model", blocks.Plan{}); err == nil {
		t.Error("an empty plan: no error")
	}
	// A plan whose variables the store does not hold: an error, no panic.
	arch, err := blocks.Parse(fusedSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"model", "model/" + BlockScope(0), "/"} {
		if _, err := NewNet(Ops{Lowered: true}).NewStaged(be, model.NewStore(), scope, arch.Blocks[0].Plan(16)); err == nil {
			t.Errorf("scope %q of an empty store: no error", scope)
		}
	}
}

// noGoConv reports whether err is NewStaged's ErrNothingToStage in a build
// without the Go 1×1 and full-convolution kernels (they need
// GOEXPERIMENT=simd on amd64): a network of fused blocks and plain
// convolutions then has nothing to stage, and inference runs its one graph.
// In a build with the kernels that error fails the test as any other.
func noGoConv(t *testing.T, err error) bool {
	t.Helper()
	if pointwiseDirect != nil || !errors.Is(err, ErrNothingToStage) {
		return false
	}
	t.Logf("%v: this build has no Go convolution kernels", err)
	return true
}

// TestCheckVariables: inference's check of a checkpoint's variables finds
// a missing variable and BatchNorm statistics that fold to a non-finite
// scale in any layer, whether or not the build stages it in Go (a graph
// would create the one at random and turn the other into NaN logits).
func TestCheckVariables(t *testing.T) {
	be := testBackend(t)
	arch, err := blocks.Parse(fusedSpec) // no Go stage at all in builds without the kernels
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(51, 52))
	x, _ := randomBatch(rng, arch, 1)
	store := initializedStore(t, be, arch, x, 3)
	b := New(arch)
	if err := b.CheckVariables(store, "model"); err != nil {
		t.Fatalf("initialized store: %v", err)
	}
	if err := b.CheckVariables(model.NewStore(), "model"); err == nil || !strings.Contains(err.Error(), "no variable /model/stem/weights") {
		t.Errorf("empty store: %v", err)
	}
	v := store.RootScope().At("model").At("%s", BlockScope(1)).At("%s", blocks.OpNameProject).At("%s", ScopeBN).GetVariable(BNMovingVariance)
	if v == nil {
		t.Fatal("no moving variance of block 1's projection")
	}
	vals := make([]float32, v.Shape().Size())
	vals[len(vals)-1] = -4 // γ/√(−4+ε) is NaN
	if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)); err != nil {
		t.Fatal(err)
	}
	want := "/model/" + BlockScope(1) + "/" + blocks.OpNameProject + ": BatchNorm statistics: channel " + fmt.Sprint(len(vals)-1)
	if err := b.CheckVariables(store, "model"); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("negative variance: %v, want an error containing %q", err, want)
	}
	if _, err := b.NewStaged(be, store, "model", nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("NewStaged with a negative variance: %v", err)
	}
}
