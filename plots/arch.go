package plots

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/multihw/multihw/blocks"
)

// Colours of the block kinds in architecture diagrams. They avoid the target
// colours (blue, green, vermillion, purple), so a diagram next to a latency
// figure does not suggest a hardware.
var archKindColors = map[blocks.Kind]color.Color{
	blocks.KindConv:  colorBrown,
	blocks.KindIBN:   colorTeal,
	blocks.KindFused: colorOrange,
	blocks.KindUIB:   colorSky,
}

var archKindNames = map[blocks.Kind]string{
	blocks.KindConv:  "conv",
	blocks.KindIBN:   "IBN",
	blocks.KindFused: "fused IBN",
	blocks.KindUIB:   "UIB",
}

const archHead = "head"

// ArchDiagram draws an architecture as a row of boxes, one per layer group:
// the stem, every block, the head's 1×1 conv and hidden FC layer (the
// classifier is left out: its width is the class count). A box is coloured by
// block kind and is as tall as the square root of its output channels, so
// widths from 16 to 1280 stay readable; a light box behind an expanding block
// shows its expanded width. Block labels give the kernel (k), the UIB start
// depthwise kernel (a) and the expansion ratio (e); stride-2 blocks are
// preceded by a dashed line and name their output resolution; rings under a
// box mark residual connections. The figure is named "arch_NAME".
func ArchDiagram(a *blocks.Arch) (*Figure, error) {
	if a == nil {
		return nil, fmt.Errorf("architecture diagram: architecture is nil")
	}
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return nil, fmt.Errorf("architecture diagram: %w", err)
	}
	// What a block contains (expansion, residual) comes from its op plan.
	np, err := a.Plan()
	if err != nil {
		return nil, fmt.Errorf("architecture diagram: %w", err)
	}
	// Output spatial size of every block (the last layer of the block has it).
	outSize := make([]int, len(a.Blocks))
	stemSize := 0
	for _, l := range an.Layers {
		switch {
		case l.Block < 0:
			stemSize = l.OutSize
		case l.Block < len(a.Blocks):
			outSize[l.Block] = l.OutSize
		}
	}

	half := func(c int) float64 { return math.Sqrt(float64(c)) / 2 }
	const boxW = 0.8
	box := func(x float64, c int) Bar { return Bar{X0: x - boxW/2, X1: x + boxW/2, Y0: -half(c), Y1: half(c)} }

	p := newPanel("", "", "channels (√ scale)")
	p.NoGrid = true
	d := &archBoxes{expanded: &Series{Kind: KindBars, Name: "expanded width", Color: rgb(0xD9, 0xD9, 0xD9)}, kinds: map[string]*Series{}}
	addBox, expanded := d.addBox, d.expanded
	strides := &Series{Kind: KindVLine, Name: "stride 2", Color: colorRefLine, Dashed: true, Width: 0.9}
	maxC := a.Stem.Out

	x := 0.0
	addBox(archKindNames[blocks.KindConv], archKindColors[blocks.KindConv], box(x, a.Stem.Out))
	p.XTicks = append(p.XTicks, Tick{Value: x, Label: fmt.Sprintf("stem\nk%d\n%d²", a.Stem.Kernel, stemSize)})
	for i, b := range a.Blocks {
		x++
		plan := np.Blocks[i]
		if e, ok := plan.Expansion(); ok {
			expanded.Bars = append(expanded.Bars, box(x, e))
			maxC = max(maxC, e)
		}
		addBox(archKindNames[b.Kind], archKindColors[b.Kind], box(x, b.Out))
		maxC = max(maxC, b.Out)
		label := blockLabel(b)
		if b.Stride > 1 {
			s := *strides // the legend shows a name once
			s.Value = x - 0.5
			d.strideLines = append(d.strideLines, &s)
			label += fmt.Sprintf("\n%d²", outSize[i])
		}
		if plan.Residual() {
			d.resX = append(d.resX, x)
		}
		p.XTicks = append(p.XTicks, Tick{Value: x, Label: label})
	}
	if a.Head.Conv > 0 {
		x++
		addBox(archHead, colorGrey, box(x, a.Head.Conv))
		p.XTicks = append(p.XTicks, Tick{Value: x, Label: "head\n1×1"})
		maxC = max(maxC, a.Head.Conv)
	}
	if a.Head.Hidden > 0 {
		x++
		addBox(archHead, colorGrey, box(x, a.Head.Hidden))
		p.XTicks = append(p.XTicks, Tick{Value: x, Label: "pool\nFC"})
		maxC = max(maxC, a.Head.Hidden)
	}

	d.finish(p, half(maxC), x, half)
	n := int(x) + 1
	name := a.Name
	if name == "" {
		name = "architecture"
	}
	f := &Figure{
		Name: "arch_" + fileStem(name),
		Title: fmt.Sprintf("%s: %d blocks, %.0f M MACs, %.2f M params at %d px", name, len(a.Blocks),
			float64(an.MACs)/1e6, float64(an.Params)/1e6, an.Resolution),
		Rows: 1, Cols: 1, Panels: []*Panel{p},
		Width: min(2400, max(640, 190+34*n)), Height: 440,
	}
	return f, nil
}

// archBoxes collects the series of an architecture diagram.
type archBoxes struct {
	expanded    *Series
	kinds       map[string]*Series
	kindOrder   []string
	strideLines []*Series
	resX        []float64
}

// addBox adds box b to the series of its block kind.
func (d *archBoxes) addBox(kind string, c color.Color, b Bar) {
	s, ok := d.kinds[kind]
	if !ok {
		s = &Series{Kind: KindBars, Name: kind, Color: c}
		d.kinds[kind] = s
		d.kindOrder = append(d.kindOrder, kind)
	}
	s.Bars = append(s.Bars, b)
}

// finish adds the series to p (expanded widths behind the blocks, residual
// rings below them), the channel ticks and the limits: top is the half height
// of the tallest box, x the last box's position, half the box height of c
// channels.
func (d *archBoxes) finish(p *Panel, top, x float64, half func(int) float64) {
	if len(d.expanded.Bars) > 0 {
		p.add(d.expanded) // behind the blocks
	}
	for _, k := range d.kindOrder {
		p.add(d.kinds[k])
	}
	for _, s := range d.strideLines {
		p.add(s)
	}
	if len(d.resX) > 0 {
		residual := &Series{Kind: KindPoints, Name: "residual", Color: colorInk, Glyph: GlyphRing, Radius: 3, X: d.resX,
			Y: make([]float64, len(d.resX))}
		for i := range residual.Y {
			residual.Y[i] = -top - 0.9
		}
		p.add(residual)
	}
	for c := 16; c <= 4096; c *= 4 {
		if half(c) <= top*1.05 {
			p.YTicks = append(p.YTicks, Tick{Value: half(c), Label: fmt.Sprint(c)})
		}
	}
	p.XMin, p.XMax = -0.6, x+0.6
	p.YMin, p.YMax = -top-1.8, top+0.6
}

// blockLabel is a block's tick label: kernel(s) and expansion.
func blockLabel(b blocks.Block) string {
	var k string
	switch b.Kind {
	case blocks.KindUIB:
		k = fmt.Sprintf("a%d\nk%d", b.StartKernel, b.Kernel)
	default:
		k = fmt.Sprintf("k%d", b.Kernel)
	}
	switch {
	case b.Kind == blocks.KindConv:
		return k
	case b.Expanded > 0:
		return fmt.Sprintf("%s\nm%d", k, b.Expanded)
	}
	return fmt.Sprintf("%s\ne%g", k, b.Expand)
}

// fileStem turns a name into a WriteFiles-safe stem ("mobilenet_v2@0.5" →
// "mobilenet_v2_0.5").
func fileStem(name string) string {
	s := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if s == "" || !validName.MatchString(s) {
		s = "x" + s
	}
	return s
}
