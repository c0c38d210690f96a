package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// svgInfo is what a structural check needs from an SVG document.
type svgInfo struct {
	root  string
	texts []string
	fills map[string]int // fill colour → number of filled paths
}

func parseSVG(t *testing.T, b []byte) svgInfo {
	t.Helper()
	info := svgInfo{fills: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(b))
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if info.root == "" {
				info.root = e.Name.Local
			}
			inText = e.Name.Local == "text"
			for _, a := range e.Attr {
				if a.Name.Local == "style" && e.Name.Local == "path" {
					for _, part := range strings.Split(a.Value, ";") {
						if c, ok := strings.CutPrefix(part, "fill:"); ok && c != "none" {
							info.fills[strings.ToUpper(c)]++
						}
					}
				}
			}
		case xml.CharData:
			if inText {
				info.texts = append(info.texts, string(e))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return info
}

func (s svgInfo) hasText(txt string) bool {
	for _, x := range s.texts {
		if x == txt {
			return true
		}
	}
	return false
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	return img
}

// countColor counts the pixels of img exactly equal to c.
func countColor(img image.Image, c color.Color) int {
	r0, g0, b0, _ := c.RGBA()
	n := 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == r0 && g == g0 && b == b0 {
				n++
			}
		}
	}
	return n
}

func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

// TestRenderAll renders every figure to PNG at its default size and at a
// smaller size, and to SVG: exact pixel sizes, something drawn, the title
// present in the SVG text.
func TestRenderAll(t *testing.T) {
	for _, f := range allFixtureFigures(t) {
		t.Run(f.Name, func(t *testing.T) {
			w, h := f.DefaultSize()
			for _, size := range [][2]int{{w, h}, {640, 400}} {
				b, err := f.PNG(size[0], size[1])
				if err != nil {
					t.Fatal(err)
				}
				img := decodePNG(t, b)
				if got := img.Bounds().Size(); got.X != size[0] || got.Y != size[1] {
					t.Fatalf("PNG is %dx%d, want %dx%d", got.X, got.Y, size[0], size[1])
				}
				white := countColor(img, color.White)
				if total := size[0] * size[1]; white > total*98/100 {
					t.Errorf("PNG %dx%d is %d%% white: nothing drawn?", size[0], size[1], 100*white/total)
				}
			}
			svg, err := f.SVG(w, h)
			if err != nil {
				t.Fatal(err)
			}
			info := parseSVG(t, svg)
			if info.root != "svg" {
				t.Fatalf("SVG root element is %q", info.root)
			}
			if !info.hasText(f.Title) {
				t.Errorf("SVG has no text %q", f.Title)
			}
			for _, name := range f.LegendEntries() {
				if !info.hasText(name) {
					t.Errorf("SVG legend has no entry %q", name)
				}
			}
		})
	}
}

func TestTargetColoursInOutput(t *testing.T) {
	f, err := TargetBars(targetBarsFixture())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.PNG(f.DefaultSize())
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	svg, err := f.SVG(f.DefaultSize())
	if err != nil {
		t.Fatal(err)
	}
	info := parseSVG(t, svg)
	for _, target := range fourTargets {
		c, ok := TargetColor(target)
		if !ok {
			t.Fatalf("%s has no fixed colour", target)
		}
		// Five bars of at least a few hundred pixels each.
		if n := countColor(img, c); n < 5*300 {
			t.Errorf("%s colour %s covers only %d pixels of the PNG", target, hexColor(c), n)
		}
		// Five bars plus the legend swatch.
		if n := info.fills[hexColor(c)]; n != 6 {
			t.Errorf("%s colour %s fills %d SVG paths, want 6 (5 bars + legend)", target, hexColor(c), n)
		}
	}
}

func TestRenderSizeErrors(t *testing.T) {
	f, err := TargetBars(targetBarsFixture())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]int{{0, 100}, {100, -1}, {maxPixels + 1, 100}} {
		if _, err := f.PNG(s[0], s[1]); err == nil {
			t.Errorf("PNG(%d, %d): no error", s[0], s[1])
		}
		if _, err := f.SVG(s[0], s[1]); err == nil {
			t.Errorf("SVG(%d, %d): no error", s[0], s[1])
		}
	}
	// Tiny but valid sizes still have the exact pixel size.
	b, err := f.PNG(37, 23)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodePNG(t, b).Bounds().Size(); got.X != 37 || got.Y != 23 {
		t.Errorf("PNG is %v, want 37x23", got)
	}
}

// TestRenderBadFigure: a figure edited into an invalid state fails with an
// error, not a panic.
func TestRenderBadFigure(t *testing.T) {
	mk := func() *Figure {
		f, err := CostFit(costFitFixture(10))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	cases := map[string]func(f *Figure){
		"non-positive on log axis": func(f *Figure) { f.Panels[0].SeriesOf(KindPoints)[0].X[3] = -1 },
		"mismatched lengths":       func(f *Figure) { s := f.Panels[1].SeriesOf(KindPoints)[0]; s.Y = s.Y[:4] },
		"NaN":                      func(f *Figure) { f.Panels[2].SeriesOf(KindPoints)[0].Y[0] = math.NaN() },
		"unknown kind":             func(f *Figure) { f.Panels[0].Series[0].Kind = "pie" },
		"empty grid":               func(f *Figure) { f.Rows = 0 },
		"too many panels":          func(f *Figure) { f.Rows, f.Cols = 1, 1 },
	}
	for name, breakIt := range cases {
		f := mk()
		breakIt(f)
		if _, err := f.PNG(300, 200); err == nil {
			t.Errorf("%s: PNG gave no error", name)
		}
		if _, err := f.SVG(300, 200); err == nil {
			t.Errorf("%s: SVG gave no error", name)
		}
	}
}

// TestRenderKeepsFigure: rendering a log-axis figure does not rewrite its
// data, and concurrent renders of one figure are safe (run with -race).
func TestRenderKeepsFigure(t *testing.T) {
	f, err := CostFit(costFitFixture(20))
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), f.Panels[0].SeriesOf(KindPoints)[0].X...)
	xmin := f.Panels[0].XMin
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.PNG(400, 300)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after := f.Panels[0].SeriesOf(KindPoints)[0].X
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("rendering changed x[%d] from %g to %g", i, before[i], after[i])
		}
	}
	if f.Panels[0].XMin != xmin {
		t.Fatalf("rendering changed XMin from %g to %g", xmin, f.Panels[0].XMin)
	}
}

func TestDisplayOutsideNotebook(t *testing.T) {
	if InNotebook() {
		t.Skip("running inside a GoNB kernel")
	}
	f, err := Breakdown(breakdownFixture())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Display(); !errors.Is(err, ErrNotNotebook) {
		t.Errorf("Display outside a notebook: got %v, want ErrNotNotebook", err)
	}
	if err := f.DisplaySVG(); !errors.Is(err, ErrNotNotebook) {
		t.Errorf("DisplaySVG outside a notebook: got %v, want ErrNotNotebook", err)
	}
}

func TestInlineSVG(t *testing.T) {
	f, err := Breakdown(breakdownFixture())
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG(300, 200)
	if err != nil {
		t.Fatal(err)
	}
	in := inlineSVG(svg)
	if !strings.HasPrefix(in, "<svg") || !strings.HasSuffix(strings.TrimSpace(in), "</svg>") {
		t.Errorf("inline SVG starts %q", in[:min(40, len(in))])
	}
	if parseSVG(t, []byte(in)).root != "svg" {
		t.Error("inline SVG does not parse")
	}
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	a, err := TargetBars(targetBarsFixture())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Breakdown(breakdownFixture())
	if err != nil {
		t.Fatal(err)
	}
	paths, err := WriteFiles(filepath.Join(dir, "figs"), 0.5, a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"target_bars.png", "target_bars.svg", "breakdown.png", "breakdown.svg"}
	if len(paths) != len(want) {
		t.Fatalf("wrote %v, want %v", paths, want)
	}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("path %d is %s, want %s", i, p, want[i])
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".png") {
			w, h := a.DefaultSize()
			if i >= 2 {
				w, h = b.DefaultSize()
			}
			got := decodePNG(t, data).Bounds().Size()
			if got.X != int(float64(w)*0.5+0.5) || got.Y != int(float64(h)*0.5+0.5) {
				t.Errorf("%s is %v, want half of %dx%d", p, got, w, h)
			}
		} else if parseSVG(t, data).root != "svg" {
			t.Errorf("%s is not an SVG document", p)
		}
	}

	// Written again: the figures replace themselves, never a user's file of
	// a figure's name (a photo saved as breakdown.png).
	if _, err := WriteFiles(filepath.Join(dir, "figs"), 0.5, a, b); err != nil {
		t.Errorf("rewriting the figures: %v", err)
	}
	user := filepath.Join(dir, "user")
	_ = os.MkdirAll(user, 0o755)
	_ = os.WriteFile(filepath.Join(user, "breakdown.svg"), []byte("my notes"), 0o644)
	if _, err := WriteFiles(user, 0.5, b); err == nil || !strings.Contains(err.Error(), "not a figure") {
		t.Errorf("a user's file named like a figure: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(user, "breakdown.svg")); string(got) != "my notes" {
		t.Errorf("the user's file changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(user, "breakdown.png")); err == nil {
		t.Error("the refused write left breakdown.png behind")
	}

	// Bad input: nothing written.
	empty := filepath.Join(dir, "empty")
	bad, _ := Breakdown(breakdownFixture())
	bad.Rows = 0
	for name, figs := range map[string][]*Figure{
		"duplicate": {a, a},
		"bad name":  {a.WithName("../x")},
		"render":    {b, bad.WithName("bad")},
		"nil":       {nil},
	} {
		if _, err := WriteFiles(empty, 1, figs...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	a.WithName("target_bars")
	if _, err := WriteFiles(empty, 0, a); err == nil {
		t.Error("scale 0: no error")
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("failed writes created %s", empty)
	}
}

// TestDenseLayers: thousands of points are drawn as one raster layer and long
// lines decimated, keeping what the eye sees: the colour in the PNG, an image
// in the SVG, the envelope of the line.
func TestDenseLayers(t *testing.T) {
	d := costFitFixture(denseLimit + 500)
	d.Fits = d.Fits[:1]
	f, err := CostFit(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.PNG(f.DefaultSize())
	if err != nil {
		t.Fatal(err)
	}
	cpu, _ := TargetColor("CPU")
	// Translucent markers: count pixels that are clearly blue-dominated.
	img := decodePNG(t, b)
	blue := 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if bl > r+0x3000 && bl > g+0x1000 {
				blue++
			}
		}
	}
	if blue < 2000 {
		t.Errorf("only %d blue-ish pixels for %d points coloured %s", blue, denseLimit+500, hexColor(cpu))
	}
	svg, err := f.SVG(f.DefaultSize())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(svg, []byte("<image ")); n != 1 {
		t.Errorf("SVG has %d images, want the one points layer", n)
	}
	if !bytes.Contains(svg, []byte("data:image/png;base64,")) {
		t.Errorf("SVG images are not declared as PNG")
	}
}

func TestDecimate(t *testing.T) {
	n := 10000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float64(i)
		y[i] = math.Sin(float64(i)*0.37) * float64(i%97)
	}
	y[4321] = 1e3 // a spike must survive
	dx, dy := decimate(x, y, 100)
	if len(dx) > 301 || len(dx) != len(dy) {
		t.Fatalf("decimated to %d/%d points, want at most 301", len(dx), len(dy))
	}
	lo, hi := minMax(y)
	dlo, dhi := minMax(dy)
	if lo != dlo || hi != dhi {
		t.Errorf("envelope %g..%g became %g..%g", lo, hi, dlo, dhi)
	}
	if dx[0] != 0 || dx[len(dx)-1] != float64(n-1) {
		t.Errorf("ends %g..%g not kept", dx[0], dx[len(dx)-1])
	}
	for i := 1; i < len(dx); i++ {
		if dx[i] <= dx[i-1] {
			t.Fatalf("x not increasing at %d: %g after %g", i, dx[i], dx[i-1])
		}
	}
	if sx, _ := decimate(x[:250], y[:250], 100); len(sx) != 250 {
		t.Errorf("short input should be kept whole")
	}
}
