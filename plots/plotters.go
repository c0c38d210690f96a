package plots

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// labelPlotter writes a text next to each point, choosing for each label the
// first of eight positions around its point (right, left, above, below, then
// the diagonals) that overlaps nothing already placed, no other point and
// stays inside the panel; when every position collides it takes the one with
// the least overlap. Greedy, in input order: callers list important points
// first.
type labelPlotter struct {
	s *Series
	// avoid are the panel's lines, which labels should not sit on.
	avoid []*Series
}

func (l *labelPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	sty := textStyle(sans(sizeNote), colorInk, draw.XLeft, draw.YBottom)
	if l.s.Color != nil {
		sty.Color = l.s.Color
	}
	n := len(l.s.X)
	pts := make([]vg.Point, n)
	for i := range pts {
		pts[i] = vg.Point{X: trX(l.s.X[i]), Y: trY(l.s.Y[i])}
	}
	const markR, gap = 4.5, 2.5
	r, g := vg.Points(markR), vg.Points(gap)
	var obstacles []vg.Rectangle
	for _, p := range pts {
		obstacles = append(obstacles, vg.Rectangle{Min: vg.Point{X: p.X - r, Y: p.Y - r}, Max: vg.Point{X: p.X + r, Y: p.Y + r}})
	}
	segs := l.segments(c, plt)
	var placed []vg.Rectangle
	for i, txt := range l.s.Labels {
		if txt == "" {
			continue
		}
		box := sty.Rectangle(txt)
		w, h := box.Max.X-box.Min.X, box.Max.Y-box.Min.Y
		p := pts[i]
		cands := []vg.Point{ // lower-left corners
			{X: p.X + r + g, Y: p.Y - h/2},
			{X: p.X - r - g - w, Y: p.Y - h/2},
			{X: p.X - w/2, Y: p.Y + r + g},
			{X: p.X - w/2, Y: p.Y - r - g - h},
			{X: p.X + r, Y: p.Y + r},
			{X: p.X + r, Y: p.Y - r - h},
			{X: p.X - r - w, Y: p.Y + r},
			{X: p.X - r - w, Y: p.Y - r - h},
		}
		best, bestScore := cands[0], math.Inf(1)
		for _, ll := range cands {
			rect := vg.Rectangle{Min: ll, Max: vg.Point{X: ll.X + w, Y: ll.Y + h}}
			score := 10 * (area(rect) - overlap(rect, c.Rectangle))
			for _, q := range placed {
				score += overlap(rect, q)
			}
			for j, q := range obstacles {
				if j != i {
					score += overlap(rect, q)
				}
			}
			for _, sg := range segs {
				score += float64(h) * clipLength(sg, rect)
			}
			if score < bestScore-1e-9 {
				best, bestScore = ll, score
			}
			if score == 0 {
				break
			}
		}
		rect := vg.Rectangle{Min: best, Max: vg.Point{X: best.X + w, Y: best.Y + h}}
		placed = append(placed, rect)
		if bestScore > 0 { // on something: keep the text readable
			halo := vg.Rectangle{Min: vg.Point{X: rect.Min.X - 1, Y: rect.Min.Y}, Max: vg.Point{X: rect.Max.X + 1, Y: rect.Max.Y}}
			c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 200})
			c.Fill(halo.Path())
		}
		c.FillText(sty, vg.Point{X: best.X - box.Min.X, Y: best.Y - box.Min.Y}, txt)
	}
}

// segments returns the avoided lines as canvas segments.
func (l *labelPlotter) segments(c draw.Canvas, plt *plot.Plot) [][2]vg.Point {
	trX, trY := plt.Transforms(&c)
	var out [][2]vg.Point
	for _, s := range l.avoid {
		switch s.Kind {
		case KindLine:
			for i := 1; i < len(s.X); i++ {
				a := vg.Point{X: trX(s.X[i-1]), Y: trY(s.Y[i-1])}
				b := vg.Point{X: trX(s.X[i]), Y: trY(s.Y[i])}
				if s.Step {
					corner := vg.Point{X: b.X, Y: a.Y}
					out = append(out, [2]vg.Point{a, corner}, [2]vg.Point{corner, b})
				} else {
					out = append(out, [2]vg.Point{a, b})
				}
			}
		case KindHLine:
			y := trY(s.Value)
			out = append(out, [2]vg.Point{{X: c.Min.X, Y: y}, {X: c.Max.X, Y: y}})
		case KindVLine:
			x := trX(s.Value)
			out = append(out, [2]vg.Point{{X: x, Y: c.Min.Y}, {X: x, Y: c.Max.Y}})
		case KindDiagonal:
			lo, hi := math.Max(plt.X.Min, plt.Y.Min), math.Min(plt.X.Max, plt.Y.Max)
			if hi > lo {
				out = append(out, [2]vg.Point{{X: trX(lo), Y: trY(lo)}, {X: trX(hi), Y: trY(hi)}})
			}
		}
	}
	return out
}

// clipLength returns the length of segment s inside rectangle r
// (Liang–Barsky clipping).
func clipLength(s [2]vg.Point, r vg.Rectangle) float64 {
	x0, y0 := float64(s[0].X), float64(s[0].Y)
	dx, dy := float64(s[1].X)-x0, float64(s[1].Y)-y0
	t0, t1 := 0.0, 1.0
	for _, e := range [4][2]float64{
		{-dx, x0 - float64(r.Min.X)}, {dx, float64(r.Max.X) - x0},
		{-dy, y0 - float64(r.Min.Y)}, {dy, float64(r.Max.Y) - y0},
	} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return 0
			}
			continue
		}
		t := q / p
		if p < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
	}
	if t1 <= t0 {
		return 0
	}
	return (t1 - t0) * math.Hypot(dx, dy)
}

func (l *labelPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range l.s.X {
		xmin, xmax = math.Min(xmin, l.s.X[i]), math.Max(xmax, l.s.X[i])
		ymin, ymax = math.Min(ymin, l.s.Y[i]), math.Max(ymax, l.s.Y[i])
	}
	return
}

func area(r vg.Rectangle) float64 {
	return float64(max(0, r.Max.X-r.Min.X) * max(0, r.Max.Y-r.Min.Y))
}

func overlap(a, b vg.Rectangle) float64 {
	w := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	h := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return float64(w * h)
}

// heatPlotter draws a heat map as one image (an SVG with thousands of cells
// as rectangles is slow to load). Cells are blown up to blocks of pixels so
// that the interpolation of image scaling only softens cell edges.
type heatPlotter struct{ s *Series }

// maxHeatPixels bounds the heat-map image side.
const maxHeatPixels = 2048

func (hp *heatPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	h := hp.s.Heat
	rows, cols := len(h.Z), len(h.Z[0])
	sx := max(1, min(int(math.Ceil(480/float64(cols))), maxHeatPixels/cols))
	sy := max(1, min(int(math.Ceil(160/float64(rows))), maxHeatPixels/rows))
	// Too many columns or rows for the bound: sample them.
	iw, ih := min(cols*sx, maxHeatPixels), min(rows*sy, maxHeatPixels)
	img := image.NewRGBA(image.Rect(0, 0, iw, ih))
	for py := range ih {
		r := rows - 1 - py*rows/ih // image rows top-down, data rows bottom-up
		for px := range iw {
			col := px * cols / iw
			img.SetRGBA(px, py, heatColor(h, h.Z[r][col]))
		}
	}
	trX, trY := plt.Transforms(&c)
	rect := vg.Rectangle{
		Min: vg.Point{X: trX(h.X0), Y: trY(-0.5)},
		Max: vg.Point{X: trX(h.X1), Y: trY(float64(rows) - 0.5)},
	}
	c.DrawImage(rect, img)
	// Thin separators between rows help reading options apart.
	sep := draw.LineStyle{Color: color.White, Width: vg.Points(0.8)}
	for r := 1; r < rows; r++ {
		y := trY(float64(r) - 0.5)
		c.StrokeLine2(sep, rect.Min.X, y, rect.Max.X, y)
	}
}

func heatColor(h *Heat, z float64) color.RGBA {
	return viridis((z - h.Min) / (h.Max - h.Min))
}

func (hp *heatPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	h := hp.s.Heat
	return h.X0, h.X1, -0.5, float64(len(h.Z)) - 0.5
}

// denseLimit is the number of points above which a points series is drawn
// as one raster layer: vector markers cost ~50 µs each to fill in PNG and
// ~100 bytes each in SVG, and thousands of overlapping markers gain nothing
// from being vectors.
const denseLimit = 2000

// denseScatter draws many round markers into one transparent image at the
// output resolution (192 dpi for SVG) and places it over the panel.
type denseScatter struct{ s *Series }

func (d *denseScatter) Plot(c draw.Canvas, plt *plot.Plot) {
	dpi := 192.0
	if r, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi = r.DPI()
	}
	w := int(math.Ceil((c.Max.X - c.Min.X).Dots(dpi)))
	h := int(math.Ceil((c.Max.Y - c.Min.Y).Dots(dpi)))
	if w <= 0 || h <= 0 || w > 8192 || h > 8192 {
		return
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	trX, trY := plt.Transforms(&c)
	rad := glyphRadius(d.s).Dots(dpi)
	cr, cg, cb, _ := seriesFill(&Series{Color: d.s.Color}).RGBA()
	alpha := d.s.Alpha
	if alpha <= 0 {
		alpha = 1
	}
	st := newDiscStamp(rad, alpha)
	rgb := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
	for i := range d.s.X {
		px := (trX(d.s.X[i]) - c.Min.X).Dots(dpi)
		py := float64(h) - (trY(d.s.Y[i]) - c.Min.Y).Dots(dpi)
		st.stamp(img, px, py, rgb)
	}
	c.DrawImage(vg.Rectangle{Min: c.Min, Max: vg.Point{X: c.Min.X + vg.Length(float64(w)/dpi)*vg.Inch, Y: c.Min.Y + vg.Length(float64(h)/dpi)*vg.Inch}}, img)
}

// discStamp holds antialiased disc coverage masks (times the opacity, in
// 0..255) for centres at quarter-pixel offsets, so stamping thousands of
// markers is table look-ups and integer blends.
type discStamp struct {
	size, off int
	masks     [16][]uint8
}

func newDiscStamp(r, alpha float64) *discStamp {
	off := int(math.Ceil(r)) + 1
	st := &discStamp{size: 2*off + 1, off: off}
	for q := range st.masks {
		cx := float64(off) + (float64(q%4)+0.5)/4
		cy := float64(off) + (float64(q/4)+0.5)/4
		m := make([]uint8, st.size*st.size)
		for y := range st.size {
			for x := range st.size {
				d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
				m[y*st.size+x] = uint8(math.Round(255 * alpha * math.Max(0, math.Min(1, r+0.5-d))))
			}
		}
		st.masks[q] = m
	}
	return st
}

// stamp composites the disc centred at pixel coordinates (cx, cy) over img
// ("over" operator, premultiplied alpha).
func (st *discStamp) stamp(img *image.RGBA, cx, cy float64, rgb [3]uint32) {
	ix, iy := math.Floor(cx), math.Floor(cy)
	q := min(3, int((cy-iy)*4))*4 + min(3, int((cx-ix)*4))
	m := st.masks[q]
	x0, y0 := int(ix)-st.off, int(iy)-st.off
	b := img.Bounds()
	for j := range st.size {
		y := y0 + j
		if y < b.Min.Y || y >= b.Max.Y {
			continue
		}
		for i := range st.size {
			x := x0 + i
			a := uint32(m[j*st.size+i])
			if a == 0 || x < b.Min.X || x >= b.Max.X {
				continue
			}
			inv := 255 - a
			p := img.Pix[img.PixOffset(x, y):]
			p[0] = uint8((rgb[0]*a + uint32(p[0])*inv + 127) / 255)
			p[1] = uint8((rgb[1]*a + uint32(p[1])*inv + 127) / 255)
			p[2] = uint8((rgb[2]*a + uint32(p[2])*inv + 127) / 255)
			p[3] = uint8((255*a + uint32(p[3])*inv + 127) / 255)
		}
	}
}

func (d *denseScatter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = minMax(d.s.X)
	ymin, ymax = minMax(d.s.Y)
	return
}

// lineLimit is the number of points above which a line is decimated to
// lineBuckets buckets for drawing (the figure keeps all its data).
const (
	lineLimit   = 2000
	lineBuckets = 600
)

// decimate keeps, in each of n buckets of consecutive points, the first
// point and the points with the lowest and the highest y, in their order:
// the drawn envelope of a noisy curve is unchanged while the number of
// segments drops to at most 3n.
func decimate(x, y []float64, n int) ([]float64, []float64) {
	if len(x) <= 3*n {
		return x, y
	}
	var ox, oy []float64
	for b := range n {
		lo, hi := b*len(x)/n, (b+1)*len(x)/n
		imin, imax := lo, lo
		for i := lo; i < hi; i++ {
			if y[i] < y[imin] {
				imin = i
			}
			if y[i] > y[imax] {
				imax = i
			}
		}
		keep := []int{lo, imin, imax}
		if imin > imax {
			keep[1], keep[2] = imax, imin
		}
		last := -1
		for _, i := range keep {
			if i != last {
				ox, oy = append(ox, x[i]), append(oy, y[i])
				last = i
			}
		}
	}
	ox, oy = append(ox, x[len(x)-1]), append(oy, y[len(y)-1])
	return ox, oy
}

// linePlotter strokes a polyline in chunks: freetype's rasterizer slows down
// more than linearly with the number of segments in one path (a 3,000-point
// line took most of a second), chunks of a few hundred keep it linear.
type linePlotter struct{ s *Series }

const lineChunk = 256

func (l *linePlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	x, y := l.s.X, l.s.Y
	if len(x) > lineLimit && !l.s.Step {
		x, y = decimate(x, y, lineBuckets)
	}
	trX, trY := plt.Transforms(&c)
	pts := make([]vg.Point, 0, 2*len(x))
	for i := range x {
		p := vg.Point{X: trX(x[i]), Y: trY(y[i])}
		if l.s.Step && i > 0 {
			pts = append(pts, vg.Point{X: p.X, Y: pts[len(pts)-1].Y})
		}
		pts = append(pts, p)
	}
	ls := lineStyle(l.s)
	for _, part := range c.ClipLinesXY(pts) {
		for i := 0; i < len(part)-1; i += lineChunk {
			c.StrokeLines(ls, part[i:min(len(part), i+lineChunk+1)])
		}
	}
}

func (l *linePlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = minMax(l.s.X)
	ymin, ymax = minMax(l.s.Y)
	return
}
