package plots

import (
	"hash/fnv"
	"image/color"
	"math"
	"slices"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// Okabe–Ito colours (colour-blind safe), plus a few darker extras for figures
// with more than eight distinct series.
var (
	colorBlue       = rgb(0x00, 0x72, 0xB2)
	colorGreen      = rgb(0x00, 0x9E, 0x73)
	colorVermillion = rgb(0xD5, 0x5E, 0x00)
	colorPurple     = rgb(0xCC, 0x79, 0xA7)
	colorOrange     = rgb(0xE6, 0x9F, 0x00)
	colorSky        = rgb(0x56, 0xB4, 0xE9)
	colorOlive      = rgb(0xA8, 0x9A, 0x00) // Okabe–Ito yellow, darkened to read on white
	colorGrey       = rgb(0x66, 0x66, 0x66)
	colorBrown      = rgb(0x8C, 0x56, 0x4B)
	colorTeal       = rgb(0x17, 0x8F, 0x9F)
	colorNavy       = rgb(0x2F, 0x3E, 0x8C)
	colorRed        = rgb(0xB2, 0x18, 0x2B)
	colorInk        = rgb(0x22, 0x22, 0x22)
	colorGridLine   = rgb(0xE3, 0xE3, 0xE3)
	colorRefLine    = rgb(0x44, 0x44, 0x44)
)

// extraColors are handed out to series that have no fixed colour, in order.
var extraColors = []color.Color{colorOrange, colorSky, colorOlive, colorBrown, colorTeal, colorNavy, colorGrey,
	colorRed, colorBlue, colorGreen, colorVermillion, colorPurple}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 255} }

// Target classes with a fixed colour, matched by keyword in the target name
// (case-insensitive), most specific first: "EdgeTPU", "mobile-dsp-snapdragon-855"
// and "cpu" all find their class.
var targetClasses = []struct {
	keywords []string // matched anywhere in the name
	tokens   []string // matched as a whole word only
	color    color.RGBA
}{
	{[]string{"edgetpu", "edge-tpu", "edge_tpu", "tpu"}, nil, colorPurple},
	{[]string{"dsp", "hexagon", "npu"}, []string{"ane"}, colorVermillion}, // int8 accelerators
	{[]string{"gpu", "adreno", "mali"}, nil, colorGreen},
	{[]string{"cpu", "kryo", "cortex", "xeon"}, nil, colorBlue},
}

// TargetColor returns the fixed colour of a hardware target: CPU blue, GPU
// green, DSP (and other int8 accelerators: NPU, Apple's ANE) vermillion,
// EdgeTPU purple, matched by keyword, so "pixel4-edgetpu" is purple and
// "mobile-gpu-snapdragon-855-adreno-640-int8" green. Other names get a
// colour derived from the name, the same in every figure; ok is false for them.
func TargetColor(name string) (c color.Color, ok bool) {
	if c, ok := targetClassColor(name); ok {
		return c, true
	}
	return extraColors[hashIndex(name, len(extraColors))], false
}

func targetClassColor(name string) (color.RGBA, bool) {
	n := strings.ToLower(name)
	tokens := strings.FieldsFunc(n, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') })
	for _, tc := range targetClasses {
		for _, k := range tc.keywords {
			if strings.Contains(n, k) {
				return tc.color, true
			}
		}
		for _, k := range tc.tokens {
			if slices.Contains(tokens, k) {
				return tc.color, true
			}
		}
	}
	return color.RGBA{}, false
}

func hashIndex(name string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(name)))
	return int(h.Sum32() % uint32(n))
}

// targetColors assigns colours to the targets of one figure: the class colour
// when no earlier target of the figure took it (two CPUs cannot share blue),
// otherwise the name's own colour, probing for one not yet used.
func targetColors(names []string) []color.Color {
	used := map[color.Color]bool{}
	out := make([]color.Color, len(names))
	pending := []int{}
	for i, n := range names {
		if c, ok := targetClassColor(n); ok && !used[c] {
			used[c] = true
			out[i] = c
		} else {
			pending = append(pending, i)
		}
	}
	for _, i := range pending {
		start := hashIndex(names[i], len(extraColors))
		out[i] = extraColors[start]
		for k := range extraColors {
			c := extraColors[(start+k)%len(extraColors)]
			if !used[c] {
				out[i] = c
				break
			}
		}
		used[out[i]] = true
	}
	return out
}

// groupStyle returns the colour and marker of a model group in trade-off
// plots: searched models stand out (red circles), reference models recede
// (grey squares), other groups take the extra colours in order.
func groupStyle(group string, i int) (color.Color, Glyph) {
	switch strings.ToLower(group) {
	case "searched", "search", "ours", "multi":
		return colorRed, GlyphCircle
	case "reference", "baseline", "references", "baselines":
		return colorGrey, GlyphSquare
	}
	glyphs := []Glyph{GlyphTriangle, GlyphDiamond, GlyphCircle, GlyphSquare}
	return extraColors[i%len(extraColors)], glyphs[i%len(glyphs)]
}

// seriesColor is the i-th colour for series that are not targets (metrics,
// layer groups of a qualitative set).
func seriesColor(i int) color.Color {
	pal := []color.Color{colorInk, colorBlue, colorVermillion, colorPurple, colorGreen, colorOrange, colorSky, colorBrown}
	return pal[i%len(pal)]
}

// Fonts: one sans-serif family, a few sizes.
var (
	fontSans  = font.Font{Typeface: "Liberation", Variant: "Sans"}
	fontBold  = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	sizeTitle = vg.Points(13)
	sizePanel = vg.Points(11)
	sizeLabel = vg.Points(10.5)
	sizeTick  = vg.Points(9)
	sizeNote  = vg.Points(8)
	sizeLeg   = vg.Points(9.5)
)

func sans(size vg.Length) font.Font { return font.From(fontSans, size) }
func bold(size vg.Length) font.Font { return font.From(fontBold, size) }

// withAlpha returns c with opacity a (premultiplied, as image/color wants).
func withAlpha(c color.Color, a float64) color.Color {
	if a <= 0 || a >= 1 {
		return c
	}
	r, g, b, _ := c.RGBA()
	return color.RGBA64{R: uint16(float64(r) * a), G: uint16(float64(g) * a), B: uint16(float64(b) * a), A: uint16(65535 * a)}
}

// textOn returns black or white, whichever reads better on background c.
func textOn(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	l := 0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)
	if l/65535 > 0.5 {
		return color.Black
	}
	return color.White
}

// viridis anchors (matplotlib's viridis at 0, 1/8, ..., 1).
var viridisAnchors = []color.RGBA{
	rgb(0x44, 0x01, 0x54), rgb(0x47, 0x2c, 0x7a), rgb(0x3b, 0x51, 0x8b), rgb(0x2c, 0x71, 0x8e),
	rgb(0x21, 0x90, 0x8d), rgb(0x27, 0xad, 0x81), rgb(0x5c, 0xc8, 0x63), rgb(0xaa, 0xdc, 0x32),
	rgb(0xfd, 0xe7, 0x25),
}

// viridis returns the colour of t in [0, 1] on the viridis scale (clamped).
func viridis(t float64) color.RGBA {
	if math.IsNaN(t) {
		return rgb(0xcc, 0xcc, 0xcc)
	}
	t = math.Max(0, math.Min(1, t))
	x := t * float64(len(viridisAnchors)-1)
	i := int(x)
	if i >= len(viridisAnchors)-1 {
		return viridisAnchors[len(viridisAnchors)-1]
	}
	f := x - float64(i)
	a, b := viridisAnchors[i], viridisAnchors[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p)*(1-f) + float64(q)*f)) }
	return rgb(mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B))
}

// sequentialColors returns n colours spread over viridis, avoiding its
// lightest end so that white text and thin white separators stay visible.
func sequentialColors(n int) []color.Color {
	out := make([]color.Color, n)
	for i := range out {
		t := 0.0
		if n > 1 {
			t = 0.9 * float64(i) / float64(n-1)
		}
		out[i] = viridis(t)
	}
	return out
}
