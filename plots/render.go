package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// maxPixels bounds the requested size (a 20000×20000 RGBA image is 1.6 GB).
const maxPixels = 10000

// baseDPI is the resolution at the figure's default size.
const baseDPI = 96

// PNG renders the figure as a PNG image of exactly width × height pixels.
func (f *Figure) PNG(width, height int) ([]byte, error) {
	w, h, dpi, err := f.canvasSize(width, height)
	if err != nil {
		return nil, err
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	if err := f.render(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// BestSpeed: half the encoding time of the default level for a few
	// percent more bytes on flat-coloured figures.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("encoding figure %q as PNG: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// SVG renders the figure as an SVG document whose layout matches the PNG of
// the same pixel size (its width and height attributes are in points: 1 px =
// 0.75 pt at 96 dpi).
func (f *Figure) SVG(width, height int) ([]byte, error) {
	w, h, _, err := f.canvasSize(width, height)
	if err != nil {
		return nil, err
	}
	c := vgsvg.New(w, h)
	if err := f.render(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encoding figure %q as SVG: %w", f.Name, err)
	}
	return fixSVG(buf.Bytes()), nil
}

// fixSVG makes the SVG readable where Liberation Sans is not installed (a
// fallback list starting with the metric-compatible Arial), keeps raster
// layers stretched to their box (vgsvg writes <image> without
// preserveAspectRatio, which letterboxes) and labels the embedded images as
// the PNGs they are (vgsvg says JPEG, which some renderers refuse).
func fixSVG(b []byte) []byte {
	s := string(b)
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	s = strings.ReplaceAll(s, "<image ", `<image preserveAspectRatio="none" `)
	s = strings.ReplaceAll(s, `xlink:href="data:image/jpg;base64,`, `xlink:href="data:image/png;base64,`) // vgsvg encodes PNG

	return []byte(s)
}

// DefaultSize returns the figure's default size in pixels.
func (f *Figure) DefaultSize() (width, height int) {
	w, h := f.Width, f.Height
	if w <= 0 {
		w = 900
	}
	if h <= 0 {
		h = 560
	}
	return w, h
}

// canvasSize returns the drawing size and resolution for a width × height
// pixel image: the resolution scales with the requested size relative to the
// default one, so a 2× image is the same figure with sharper pixels.
func (f *Figure) canvasSize(width, height int) (w, h vg.Length, dpi int, err error) {
	if width <= 0 || height <= 0 || width > maxPixels || height > maxPixels {
		return 0, 0, 0, fmt.Errorf("figure %q: size %dx%d pixels must be within 1..%d on each side", f.Name, width, height, maxPixels)
	}
	dw, dh := f.DefaultSize()
	scale := math.Min(float64(width)/float64(dw), float64(height)/float64(dh))
	dpi = max(1, int(math.Round(baseDPI*scale)))
	w = vg.Length(float64(width)/float64(dpi)) * vg.Inch
	h = vg.Length(float64(height)/float64(dpi)) * vg.Inch
	return w, h, dpi, nil
}

// render draws the figure on c. gonum/plot panics on some inputs (log axes
// with non-positive ranges, invalid legend positions): those become errors.
func (f *Figure) render(c vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendering figure %q: %v", f.Name, r)
		}
	}()
	if err := f.check(); err != nil {
		return err
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	pad := vg.Points(8)
	area := draw.Crop(dc, pad, -pad, pad, -pad)
	if f.Title != "" {
		sty := textStyle(bold(sizeTitle), colorInk, draw.XCenter, draw.YTop)
		dc.FillText(sty, vg.Point{X: area.Center().X, Y: area.Max.Y}, f.Title)
		area.Max.Y -= sty.Height(f.Title) + vg.Points(8)
	}

	// Right margin: legend, then colour bar.
	legend, legendW, legendH := f.buildLegend()
	barW := vg.Length(0)
	if f.ColorScale != nil {
		barW = colorBarWidth(f.ColorScale)
	}
	if side := max(legendW, barW); side > 0 {
		sc := area
		sc.Min.X = area.Max.X - side
		area.Max.X = sc.Min.X - vg.Points(12)
		// Start level with the top of the data area rather than the panel title.
		sc.Max.Y -= vg.Points(4)
		if f.Panels[0] != nil && f.Panels[0].Title != "" {
			sc.Max.Y -= textStyle(sans(sizePanel), colorInk, 0, 0).Height(f.Panels[0].Title) + vg.Points(4)
		}
		if legend != nil {
			legend.Draw(sc)
			sc.Max.Y -= legendH + vg.Points(16)
		}
		if f.ColorScale != nil {
			drawColorBar(sc, f.ColorScale)
		}
	}

	plots := make([][]*plot.Plot, f.Rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, f.Cols)
	}
	for i, p := range f.Panels {
		if p != nil {
			plots[i/f.Cols][i%f.Cols] = buildPlot(p)
		}
	}
	tiles := draw.Tiles{Rows: f.Rows, Cols: f.Cols, PadX: vg.Points(18), PadY: vg.Points(14)}
	canvases := plot.Align(plots, tiles, area)
	for r := range plots {
		for c, p := range plots[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return nil
}

func textStyle(fnt font.Font, c color.Color, xa draw.XAlignment, ya draw.YAlignment) text.Style {
	return text.Style{Color: c, Font: fnt, XAlign: xa, YAlign: ya, Handler: plot.DefaultTextHandler}
}

// buildLegend returns the figure legend (nil when no series is named) and its size.
func (f *Figure) buildLegend() (*plot.Legend, vg.Length, vg.Length) {
	entries := f.legendSeries()
	if len(entries) == 0 {
		return nil, 0, 0
	}
	l := plot.NewLegend()
	l.TextStyle = textStyle(sans(sizeLeg), colorInk, draw.XLeft, draw.YBottom)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(4)
	l.ThumbnailWidth = vg.Points(22)
	for _, s := range entries {
		l.Add(s.Name, thumb{s})
	}
	r := l.Rectangle(draw.Canvas{})
	return &l, r.Max.X - r.Min.X + vg.Points(6), r.Max.Y - r.Min.Y
}

// thumb draws a series' legend icon.
type thumb struct{ s *Series }

func (t thumb) Thumbnail(c *draw.Canvas) {
	s := t.s
	mid := (c.Min.Y + c.Max.Y) / 2
	switch s.Kind {
	case KindPoints:
		// Legible even when the plotted markers are tiny and faint.
		big := *s
		big.Radius, big.Alpha = math.Max(s.Radius, 3.5), math.Max(s.Alpha, 0.9)
		drawGlyph(c, &big, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: mid})
	case KindBars, KindHeat:
		h := c.Max.Y - c.Min.Y
		r := vg.Rectangle{Min: vg.Point{X: c.Min.X + h*0.1, Y: c.Min.Y + h*0.1}, Max: vg.Point{X: c.Max.X - h*0.1, Y: c.Max.Y - h*0.1}}
		c.SetColor(seriesFill(s))
		c.Fill(r.Path())
	default:
		c.StrokeLine2(lineStyle(s), c.Min.X, mid, c.Max.X, mid)
	}
}

func seriesFill(s *Series) color.Color {
	c := s.Color
	if c == nil {
		c = colorInk
	}
	return withAlpha(c, s.Alpha)
}

func lineStyle(s *Series) draw.LineStyle {
	w := s.Width
	if w <= 0 {
		w = 1.5
	}
	ls := draw.LineStyle{Color: seriesFill(s), Width: vg.Points(w)}
	if s.Dashed {
		ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return ls
}

// buildPlot turns a panel into a gonum plot.
//
// Log axes are drawn as linear axes over log10 of the data, with ticks
// labelled in data units: gonum's LogScale places the axis label's glyph box
// at the arithmetic middle of the range, which on a log axis is near the top,
// and the layout then leaves a large empty band above the data.
func buildPlot(p *Panel) *plot.Plot {
	p = logPanel(p)
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.Title.TextStyle = textStyle(sans(sizePanel), colorInk, draw.XCenter, draw.YTop)
	pl.Title.Padding = vg.Points(6)
	styleAxes(pl)
	pl.X.Tick.Marker, pl.Y.Tick.Marker = niceTicks{}, niceTicks{}
	pl.X.Label.Text = p.XLabel
	pl.Y.Label.Text = p.YLabel
	hasBars := len(p.SeriesOf(KindBars)) > 0
	hasHeat := len(p.SeriesOf(KindHeat)) > 0
	if !p.NoGrid && !hasHeat {
		g := plotter.NewGrid()
		g.Horizontal = draw.LineStyle{Color: colorGridLine, Width: vg.Points(0.6)}
		g.Vertical = g.Horizontal
		if hasBars || p.XTicks != nil {
			g.Vertical.Color = nil
		}
		pl.Add(g)
	}
	barLabelsAbove := false
	var labelLayer []plot.Plotter // bar values go over everything, reference lines included
	for _, s := range p.Series {
		switch s.Kind {
		case KindPoints:
			if len(s.X) > denseLimit {
				pl.Add(&denseScatter{s})
				continue
			}
			sc, _ := plotter.NewScatter(xys(s))
			if sc == nil {
				continue
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: seriesFill(s), Radius: glyphRadius(s), Shape: glyphShape{s.Glyph}}
			pl.Add(sc)
		case KindLine:
			pl.Add(&linePlotter{s})
		case KindBars:
			pl.Add(&barsPlotter{s: s})
			labelLayer = append(labelLayer, &barsPlotter{s: s, labels: true})
			for _, b := range s.Bars {
				if b.Label != "" && !s.BarLabelsInside {
					barLabelsAbove = true
				}
			}
		case KindHLine, KindVLine:
			pl.Add(&refLine{s: s})
		case KindDiagonal:
			pl.Add(&refLine{s: s, xlog: p.XLog, ylog: p.YLog})
		case KindLabels:
			lp := &labelPlotter{s: s}
			for _, o := range p.Series {
				switch o.Kind {
				case KindLine, KindHLine, KindVLine, KindDiagonal:
					lp.avoid = append(lp.avoid, o)
				}
			}
			pl.Add(lp)
		case KindHeat:
			pl.Add(&heatPlotter{s})
		case KindErrorBars:
			pl.Add(errorBarPlotters(s)...)
		}
	}
	pl.Add(labelLayer...)
	if hasBars || hasHeat {
		pl.Y.Padding = 0
	}
	if hasHeat {
		pl.X.Padding = 0
	}
	finishAxes(pl, p, barLabelsAbove)
	return pl
}

// styleAxes gives both axes the figures' fonts, colours and line widths.
func styleAxes(pl *plot.Plot) {
	for _, ax := range []*plot.Axis{&pl.X, &pl.Y} {
		ax.Label.TextStyle.Font = sans(sizeLabel)
		ax.Label.TextStyle.Color = colorInk
		ax.Tick.Label.Font = sans(sizeTick)
		ax.Tick.Label.Color = colorInk
		ax.Tick.Length = vg.Points(4)
		ax.Tick.Color = colorGrey
		ax.Color = colorGrey
		ax.Width = vg.Points(0.75)
		ax.Label.Padding = vg.Points(3)
	}
}

// finishAxes sets the tick markers of p's log axes and fixed ticks, the tick
// label angle, room above bars with value labels, and p's limits.
func finishAxes(pl *plot.Plot, p *Panel, barLabelsAbove bool) {
	if p.XLog {
		pl.X.Tick.Marker = log10Ticks{}
	}
	if p.YLog {
		pl.Y.Tick.Marker = log10Ticks{}
	}
	if p.XTicks != nil {
		pl.X.Tick.Marker = constTicks(p.XTicks)
		pl.X.Tick.Length = 0
	}
	if p.YTicks != nil {
		pl.Y.Tick.Marker = constTicks(p.YTicks)
		pl.Y.Tick.Length = 0
	}
	if p.XTickAngle != 0 {
		pl.X.Tick.Label.Rotation = p.XTickAngle * math.Pi / 180
		pl.X.Tick.Label.XAlign = draw.XRight
		pl.X.Tick.Label.YAlign = draw.YTop
	}
	if barLabelsAbove && pl.Y.Max > pl.Y.Min && !p.YLog {
		pl.Y.Max += 0.08 * (pl.Y.Max - pl.Y.Min) // room for the value labels
	}
	setLimit(&pl.X.Min, p.XMin)
	setLimit(&pl.X.Max, p.XMax)
	setLimit(&pl.Y.Min, p.YMin)
	setLimit(&pl.Y.Max, p.YMax)
}

func setLimit(dst *float64, v float64) {
	if !math.IsNaN(v) {
		*dst = v
	}
}

func constTicks(ts []Tick) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ts))
	for i, t := range ts {
		out[i] = plot.Tick{Value: t.Value, Label: t.Label}
	}
	return out
}

func xys(s *Series) plotter.XYs {
	out := make(plotter.XYs, len(s.X))
	for i := range s.X {
		out[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
	}
	return out
}

func glyphRadius(s *Series) vg.Length {
	if s.Radius > 0 {
		return vg.Points(s.Radius)
	}
	return vg.Points(3.5)
}

func drawGlyph(c *draw.Canvas, s *Series, pt vg.Point) {
	glyphShape{s.Glyph}.DrawGlyph(c, draw.GlyphStyle{Color: seriesFill(s), Radius: glyphRadius(s)}, pt)
}

// glyphShape draws filled markers with a thin white outline, so overlapping
// markers stay distinguishable.
type glyphShape struct{ g Glyph }

func (g glyphShape) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	var p vg.Path
	switch g.g {
	case GlyphSquare:
		r *= 0.9
		p.Move(vg.Point{X: pt.X - r, Y: pt.Y - r})
		p.Line(vg.Point{X: pt.X + r, Y: pt.Y - r})
		p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r})
		p.Line(vg.Point{X: pt.X - r, Y: pt.Y + r})
		p.Close()
	case GlyphTriangle:
		r *= 1.25
		p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
		p.Line(vg.Point{X: pt.X - r*0.866, Y: pt.Y - r*0.5})
		p.Line(vg.Point{X: pt.X + r*0.866, Y: pt.Y - r*0.5})
		p.Close()
	case GlyphDiamond:
		r *= 1.2
		p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
		p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
		p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
		p.Close()
	default:
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
		p.Close()
	}
	if g.g == GlyphRing {
		c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.2)})
		c.Stroke(p)
		return
	}
	c.SetColor(sty.Color)
	c.Fill(p)
	c.SetLineStyle(draw.LineStyle{Color: color.White, Width: vg.Points(0.6)})
	c.Stroke(p)
}

// barsPlotter draws a bar series, or only its labels (labels set), so that
// the labels can be drawn after the other series.
type barsPlotter struct {
	s      *Series
	labels bool
}

func (b *barsPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	fill := seriesFill(b.s)
	edge := draw.LineStyle{Color: color.White, Width: vg.Points(0.6)}
	note := textStyle(sans(sizeNote), colorInk, draw.XCenter, draw.YBottom)
	inside := textStyle(sans(sizeNote), textOn(fill), draw.XCenter, draw.YCenter)
	for _, bar := range b.s.Bars {
		x0, x1 := trX(bar.X0), trX(bar.X1)
		y0, y1 := trY(bar.Y0), trY(bar.Y1)
		r := vg.Rectangle{Min: vg.Point{X: min(x0, x1), Y: min(y0, y1)}, Max: vg.Point{X: max(x0, x1), Y: max(y0, y1)}}
		poly := c.ClipPolygonXY([]vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
		if len(poly) == 0 {
			continue
		}
		if !b.labels {
			c.FillPolygon(fill, poly)
			c.StrokeLines(edge, append(poly, poly[0]))
			continue
		}
		if bar.Label == "" {
			continue
		}
		if b.s.BarLabelsInside {
			if r.Max.Y-r.Min.Y >= inside.Height(bar.Label)+vg.Points(2) && r.Max.X-r.Min.X >= inside.Width(bar.Label)+vg.Points(2) {
				c.FillText(inside, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, bar.Label)
			}
			continue
		}
		// A white backing keeps the value readable where a reference line
		// passes behind it.
		at := vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: r.Max.Y + vg.Points(1.5)}
		box := note.Rectangle(bar.Label).Add(at)
		c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 210})
		c.Fill(box.Path())
		c.FillText(note, at, bar.Label)
	}
}

func (b *barsPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, bar := range b.s.Bars {
		xmin, xmax = math.Min(xmin, math.Min(bar.X0, bar.X1)), math.Max(xmax, math.Max(bar.X0, bar.X1))
		ymin, ymax = math.Min(ymin, math.Min(bar.Y0, bar.Y1)), math.Max(ymax, math.Max(bar.Y0, bar.Y1))
	}
	return
}

// refLine draws a horizontal, vertical or diagonal (y = x) reference line
// across the whole panel.
type refLine struct {
	s *Series
	// xlog and ylog say the panel coordinates are log10 of the data (y = x
	// is then drawn through data space).
	xlog, ylog bool
}

func (l *refLine) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	ls := lineStyle(l.s)
	switch l.s.Kind {
	case KindHLine:
		y := trY(l.s.Value)
		if c.ContainsY(y) {
			c.StrokeLine2(ls, c.Min.X, y, c.Max.X, y)
		}
	case KindVLine:
		x := trX(l.s.Value)
		if c.ContainsX(x) {
			c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		}
	case KindDiagonal:
		if pts := l.diagonal(plt); len(pts) > 1 {
			line := make([]vg.Point, len(pts))
			for i, pt := range pts {
				line[i] = vg.Point{X: trX(pt[0]), Y: trY(pt[1])}
			}
			c.StrokeLines(ls, c.ClipLinesXY(line)...)
		}
	}
}

// diagonal returns points of y = x over the panel, in panel coordinates:
// two points, or a polyline when exactly one axis is logarithmic.
func (l *refLine) diagonal(plt *plot.Plot) [][2]float64 {
	toData := func(v float64, isLog bool) float64 {
		if isLog {
			return math.Pow(10, v)
		}
		return v
	}
	toPanel := func(v float64, isLog bool) float64 {
		if isLog {
			return math.Log10(v)
		}
		return v
	}
	lo := math.Max(toData(plt.X.Min, l.xlog), toData(plt.Y.Min, l.ylog))
	hi := math.Min(toData(plt.X.Max, l.xlog), toData(plt.Y.Max, l.ylog))
	if !(hi > lo) || (l.xlog || l.ylog) && lo <= 0 {
		return nil
	}
	n := 2
	if l.xlog != l.ylog {
		n = 64
	}
	out := make([][2]float64, n)
	for i := range out {
		v := lo + (hi-lo)*float64(i)/float64(n-1)
		if l.xlog && l.ylog {
			v = lo * math.Pow(hi/lo, float64(i)/float64(n-1))
		}
		out[i] = [2]float64{toPanel(v, l.xlog), toPanel(v, l.ylog)}
	}
	return out
}

// DataRange makes the line's value part of the axis range, leaving the other
// axis alone (±Inf are neutral in plot.Add).
func (l *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	switch l.s.Kind {
	case KindHLine:
		ymin, ymax = l.s.Value, l.s.Value
	case KindVLine:
		xmin, xmax = l.s.Value, l.s.Value
	}
	return
}

// drawColorBar draws a vertical viridis bar with ticks and label at the top
// left of c.
func drawColorBar(c draw.Canvas, cs *ColorScale) {
	w := vg.Points(12)
	h := min(vg.Points(180), (c.Max.Y-c.Min.Y)*0.8)
	x0, y1 := c.Min.X, c.Max.Y
	y0 := y1 - h
	const n = 256
	img := image.NewRGBA(image.Rect(0, 0, 1, n))
	for i := range n {
		img.SetRGBA(0, n-1-i, viridis((float64(i)+0.5)/n))
	}
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + w, Y: y1}}, img)
	tick := textStyle(sans(sizeTick), colorInk, draw.XLeft, draw.YCenter)
	labelX := x0 + w + vg.Points(6)
	var widest vg.Length
	for _, t := range colorBarTicks(cs) {
		y := y0 + h*vg.Length((t.Value-cs.Min)/(cs.Max-cs.Min))
		c.StrokeLine2(draw.LineStyle{Color: colorInk, Width: vg.Points(0.6)}, x0+w, y, x0+w+vg.Points(3), y)
		c.FillText(tick, vg.Point{X: labelX, Y: y}, t.Label)
		widest = max(widest, tick.Width(t.Label))
	}
	if cs.Label != "" {
		// Rotated a quarter turn like a Y axis label; YTop puts it right of the anchor.
		ls := textStyle(sans(sizeLabel), colorInk, draw.XCenter, draw.YTop)
		ls.Rotation = math.Pi / 2
		c.FillText(ls, vg.Point{X: labelX + widest + vg.Points(6), Y: y0 + h/2}, cs.Label)
	}
}

func colorBarTicks(cs *ColorScale) []plot.Tick {
	var out []plot.Tick
	for _, t := range (niceTicks{}).Ticks(cs.Min, cs.Max) {
		if t.Label != "" && t.Value >= cs.Min && t.Value <= cs.Max {
			out = append(out, t)
		}
	}
	return out
}

// colorBarWidth is the width drawColorBar needs.
func colorBarWidth(cs *ColorScale) vg.Length {
	tick := textStyle(sans(sizeTick), colorInk, draw.XLeft, draw.YCenter)
	var widest vg.Length
	for _, t := range colorBarTicks(cs) {
		widest = max(widest, tick.Width(t.Label))
	}
	w := vg.Points(12+6) + widest
	if cs.Label != "" {
		w += vg.Points(6) + textStyle(sans(sizeLabel), colorInk, 0, 0).FontExtents().Height
	}
	return w
}

// log10Ticks marks an axis whose coordinates are log10 of the data with
// logTicks computed in data units.
type log10Ticks struct{}

func (log10Ticks) Ticks(min, max float64) []plot.Tick {
	ts := logTicks{}.Ticks(math.Pow(10, min), math.Pow(10, max))
	for i := range ts {
		ts[i].Value = math.Log10(ts[i].Value)
	}
	return ts
}

// logPanel returns p with the data of its log axes replaced by their log10
// (a shallow copy; p is not modified). Validation guarantees positive data.
func logPanel(p *Panel) *Panel {
	if !p.XLog && !p.YLog {
		return p
	}
	fx := func(v float64) float64 { return v }
	fy := fx
	if p.XLog {
		fx = math.Log10
	}
	if p.YLog {
		fy = math.Log10
	}
	q := *p
	lim := func(v float64, f func(float64) float64) float64 {
		if math.IsNaN(v) {
			return v
		}
		return f(v)
	}
	q.XMin, q.XMax = lim(p.XMin, fx), lim(p.XMax, fx)
	q.YMin, q.YMax = lim(p.YMin, fy), lim(p.YMax, fy)
	q.XTicks, q.YTicks = logTickList(p.XTicks, fx), logTickList(p.YTicks, fy)
	q.Series = make([]*Series, len(p.Series))
	for i, s := range p.Series {
		t := *s
		t.X, t.Y = mapSlice(s.X, fx), mapSlice(s.Y, fy)
		t.XLo, t.XHi, t.YLo, t.YHi = mapSlice(s.XLo, fx), mapSlice(s.XHi, fx), mapSlice(s.YLo, fy), mapSlice(s.YHi, fy)
		switch s.Kind {
		case KindHLine:
			t.Value = fy(s.Value)
		case KindVLine:
			t.Value = fx(s.Value)
		case KindBars:
			t.Bars = make([]Bar, len(s.Bars))
			for j, b := range s.Bars {
				t.Bars[j] = Bar{X0: fx(b.X0), X1: fx(b.X1), Y0: fy(b.Y0), Y1: fy(b.Y1), Label: b.Label}
			}
		}
		q.Series[i] = &t
	}
	return &q
}

func mapSlice(v []float64, f func(float64) float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

func logTickList(ts []Tick, f func(float64) float64) []Tick {
	if ts == nil {
		return nil
	}
	out := make([]Tick, len(ts))
	for i, t := range ts {
		out[i] = Tick{Value: f(t.Value), Label: t.Label}
	}
	return out
}
