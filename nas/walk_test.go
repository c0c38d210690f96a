package nas

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// TestWalkMatchesAnalysis: the walk's input widths and sizes are those the
// static analysis of Space.Arch finds at each block, and its sites are the
// architecture's blocks.
func TestWalkMatchesAnalysis(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, s := range []*Space{MultiHWSpace(), MobileNetV3LikeSpace()} {
		for range 50 {
			p := s.Sample(rng, nil)
			w, err := s.Walk(p)
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Arch(p)
			if err != nil {
				t.Fatal(err)
			}
			an, err := blocks.Analyze(a, 0)
			if err != nil {
				t.Fatal(err)
			}
			first := map[int]blocks.Layer{}
			for _, l := range an.Layers {
				if _, ok := first[l.Block]; !ok {
					first[l.Block] = l
				}
			}
			if len(w.Sites) != len(a.Blocks) {
				t.Fatalf("%d sites for %d blocks", len(w.Sites), len(a.Blocks))
			}
			for i, site := range w.Sites {
				l := first[i]
				if site.Block != a.Blocks[i] || site.In != l.InC || site.InSize != l.InSize {
					t.Fatalf("%s block %d: site in %d×%d, analysis %d×%d", s.Name, i, site.In, site.InSize, l.InC, l.InSize)
				}
			}
			head := first[len(a.Blocks)]
			if w.Out != head.InC || w.OutSize != head.InSize {
				t.Fatalf("%s: walk ends at %d×%d, the head reads %d×%d", s.Name, w.Out, w.OutSize, head.InC, head.InSize)
			}
		}
	}
}

// TestExpandOneInTheSpace: the space's expansion-1 rule is written into its
// blocks, so every consumer of Space.Arch sees the same network.
func TestExpandOneInTheSpace(t *testing.T) {
	s := MultiHWSpace()
	l := s.Layout()
	p := make(Point, len(l.Sizes))
	p[l.Stages[0].Depth] = 1 // two blocks of stage 1
	for _, d := range l.Stages[0].Blocks[:2] {
		p[d.Kind] = 1 // fused
		p[d.Kernel] = 1
		p[d.Expand] = 0 // e = 1
	}
	a, err := s.Arch(p)
	if err != nil {
		t.Fatal(err)
	}
	// Stem 8 channels, stage 1 width 8: both blocks expand 8 → 8.
	for i, b := range a.Blocks[:2] {
		if !b.KeepExpand || !strings.HasSuffix(b.String(), "_keepexp") {
			t.Errorf("block %d %s: expansion-1 block of a keep space without keepexp", i, b)
		}
	}
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if an.Layers[1].Name != "b0.fused" || an.Layers[1].Kernel != 5 || an.Layers[1].Stride != 2 {
		t.Errorf("first block's first layer %+v, want the 5×5 stride-2 fused expansion", an.Layers[1])
	}
	// Only expansion-1 blocks carry the token (elsewhere the expansion
	// exists anyway).
	for _, b := range a.Blocks {
		if b.KeepExpand != (b.Expand == 1) {
			t.Errorf("%s: keepexp %v at expansion %g", b, b.KeepExpand, b.Expand)
		}
	}
	q, err := s.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Arch(q); b.String() != a.String() {
		t.Errorf("encode/decode changed the architecture")
	}
	// The same block without its expansion is not in the keep space ...
	a.Blocks[0].KeepExpand = false
	if _, err := s.Encode(a); err == nil || !strings.Contains(err.Error(), "keepexp") {
		t.Errorf("an expansion-1 block without its expansion encoded into a keep space: %v", err)
	}
	// ... but is in the omit space, where the fused e=1 kernel is inactive.
	omit := MultiHWSpace()
	omit.ExpandOne = ExpandOneOmit
	for i := range a.Blocks {
		a.Blocks[i].KeepExpand = false
	}
	q, err = omit.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	act, err := omit.Active(q)
	if err != nil {
		t.Fatal(err)
	}
	b0 := l.Stages[0].Blocks[0]
	if act[b0.Kernel] || !act[b0.Kind] || !act[b0.Expand] {
		t.Errorf("omit space, fused e=1 block: active kind/kernel/expand %v/%v/%v, want true/false/true", act[b0.Kind], act[b0.Kernel], act[b0.Expand])
	}
	an, err = blocks.Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if an.Layers[1].Name != "b0.project" || an.Layers[1].Stride != 2 {
		t.Errorf("omit: first block's first layer %+v, want the strided projection", an.Layers[1])
	}
	bad := MultiHWSpace()
	bad.ExpandOne = "sometimes"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "expand_one") {
		t.Errorf("unknown expand_one accepted: %v", err)
	}
}

// TestActive: the decisions of blocks beyond a stage's depth are inactive,
// all others active (keep space).
func TestActive(t *testing.T) {
	s := MultiHWSpace()
	l := s.Layout()
	rng := rand.New(rand.NewPCG(1, 1))
	for range 50 {
		p := s.Sample(rng, nil)
		act, err := s.Active(p)
		if err != nil {
			t.Fatal(err)
		}
		n, want := 0, 1 // the stem width
		for _, a := range act {
			if a {
				n++
			}
		}
		for i, sl := range l.Stages {
			depth := s.Stages[i].Depths[p[sl.Depth]]
			want += 2 + 3*depth
			for b, d := range sl.Blocks {
				if act[d.Kind] != (b < depth) || act[d.Kernel] != (b < depth) || act[d.Expand] != (b < depth) {
					t.Fatalf("stage %d block %d (depth %d): active %v/%v/%v", i+1, b+1, depth, act[d.Kind], act[d.Kernel], act[d.Expand])
				}
			}
		}
		if n != want {
			t.Fatalf("%d active decisions, want %d", n, want)
		}
	}
	if _, err := s.Active(Point{1}); err == nil {
		t.Error("short point accepted")
	}
}

// TestWidthOptionsAreDistinct: the width decisions list each width once and
// every option decodes to its width.
func TestWidthOptionsAreDistinct(t *testing.T) {
	for _, s := range []*Space{MultiHWSpace(), MobileNetV3LikeSpace()} {
		for _, d := range s.Decisions() {
			if d.Kind != DecideWidth {
				continue
			}
			seen := map[string]bool{}
			for _, o := range d.Options {
				if seen[o] {
					t.Errorf("%s %s: option %s twice in %v", s.Name, d.Name, o, d.Options)
				}
				seen[o] = true
			}
		}
	}
	s := MultiHWSpace()
	l := s.Layout()
	if got := l.Sizes[l.Stages[1].Width]; got != 6 {
		t.Errorf("stage 2 has %d width options, want 6 (16 24 32 40 48 64)", got)
	}
}

// TestCoveringPoints: every option of every decision is taken while active.
func TestCoveringPoints(t *testing.T) {
	for _, s := range []*Space{MultiHWSpace(), MobileNetV3LikeSpace()} {
		l := s.Layout()
		pts := s.CoveringPoints()
		seen := make([]map[int]bool, len(l.Sizes))
		for i := range seen {
			seen[i] = map[int]bool{}
		}
		combos := map[[3]int]bool{}
		for _, p := range pts {
			act, err := s.Active(p)
			if err != nil {
				t.Fatal(err)
			}
			for d, a := range act {
				if a {
					seen[d][p[d]] = true
				}
			}
			w, _ := s.Walk(p)
			for _, site := range w.Sites {
				combos[[3]int{site.Stage, site.Choice.Kind*100 + site.Choice.Kernel*10 + site.Choice.Expand, 0}] = true
			}
		}
		for d, n := range l.Sizes {
			if len(seen[d]) != n {
				t.Errorf("%s: decision %d: options %v taken while active, want all %d", s.Name, d, seen[d], n)
			}
		}
		want := 0
		for _, st := range s.Stages {
			want += len(st.Kinds) * len(st.Kernels) * len(st.Expansions)
		}
		if len(combos) != want {
			t.Errorf("%s: %d (stage, kind, kernel, expansion) combinations, want %d", s.Name, len(combos), want)
		}
		t.Logf("%s: %d covering points", s.Name, len(pts))
	}
}

// TestSampleProbabilities: Sample follows the given probabilities (a row
// with all its mass on one option always draws it) and returns nil, which
// Walk refuses, for probabilities shaped unlike the decisions.
func TestSampleProbabilities(t *testing.T) {
	s := MultiHWSpace()
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := s.Layout().Sizes
	probs := make([][]float64, len(sizes))
	probs[0] = make([]float64, sizes[0])
	probs[0][sizes[0]-1] = 1
	for range 20 {
		if p := s.Sample(rng, probs); p[0] != sizes[0]-1 {
			t.Fatalf("decision 0 drew %d, want %d", p[0], sizes[0]-1)
		}
	}
	for _, bad := range [][][]float64{probs[:1], append(append([][]float64(nil), probs[:1]...), append([][]float64{{1}}, probs[2:]...)...)} {
		p := s.Sample(rng, bad)
		if p != nil {
			t.Errorf("probabilities of %d rows: point %v, want nil", len(bad), p)
		}
		if _, err := s.Walk(p); err == nil {
			t.Error("Walk(nil): no error")
		}
	}
}
