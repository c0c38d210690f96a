package data

import (
	"image"
	"image/color"
	"math"
)

// taps are the contiguous source pixels (from start) and weights that make
// one output pixel along one axis.
type taps struct {
	start int
	w     []float32
}

// axisTaps returns the resampling taps mapping in pixels to out pixels:
// area averaging (box filter with fractional coverage) when shrinking, so
// that large photos do not alias; bilinear with centre alignment when
// enlarging or keeping the size (identity for in == out).
func axisTaps(in, out int) []taps {
	t := make([]taps, out)
	scale := float64(in) / float64(out)
	for i := range t {
		if scale > 1 {
			lo, hi := float64(i)*scale, float64(i+1)*scale
			j0, j1 := int(math.Floor(lo)), int(math.Ceil(hi))
			j1 = min(j1, in)
			w := make([]float32, j1-j0)
			for j := j0; j < j1; j++ {
				w[j-j0] = float32((math.Min(hi, float64(j+1)) - math.Max(lo, float64(j))) / scale)
			}
			t[i] = taps{start: j0, w: w}
			continue
		}
		c := (float64(i)+0.5)*scale - 0.5
		c = math.Max(0, math.Min(c, float64(in-1)))
		j0 := int(math.Floor(c))
		f := float32(c - float64(j0))
		if j0+1 >= in || f == 0 {
			t[i] = taps{start: j0, w: []float32{1}}
		} else {
			t[i] = taps{start: j0, w: []float32{1 - f, f}}
		}
	}
	return t
}

// rowReader returns a function filling dst (side*3 floats, RGB in 0..255)
// with row y of the side x side square at (x0, y0) of img. Common decoder
// outputs get fast paths; anything else goes through color.Color.
// Transparent pixels are composited over black.
func rowReader(img image.Image, x0, y0, side int) func(y int, dst []float32) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(y int, dst []float32) {
			for x := 0; x < side; x++ {
				c := m.YCbCrAt(x0+x, y0+y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				dst[3*x], dst[3*x+1], dst[3*x+2] = float32(r), float32(g), float32(b)
			}
		}
	case *image.Gray:
		return func(y int, dst []float32) {
			for x := 0; x < side; x++ {
				v := float32(m.GrayAt(x0+x, y0+y).Y)
				dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			}
		}
	case *image.RGBA:
		return func(y int, dst []float32) {
			for x := 0; x < side; x++ {
				c := m.RGBAAt(x0+x, y0+y) // premultiplied: already over black
				dst[3*x], dst[3*x+1], dst[3*x+2] = float32(c.R), float32(c.G), float32(c.B)
			}
		}
	case *image.NRGBA:
		return func(y int, dst []float32) {
			for x := 0; x < side; x++ {
				c := m.NRGBAAt(x0+x, y0+y)
				a := float32(c.A) / 255
				dst[3*x], dst[3*x+1], dst[3*x+2] = float32(c.R)*a, float32(c.G)*a, float32(c.B)*a
			}
		}
	}
	return func(y int, dst []float32) {
		for x := 0; x < side; x++ {
			r, g, b, _ := img.At(x0+x, y0+y).RGBA() // premultiplied 16-bit
			dst[3*x], dst[3*x+1], dst[3*x+2] = float32(r)/257, float32(g)/257, float32(b)/257
		}
	}
}

// toPixels centre-crops img to a square, resizes it to size x size and writes
// it to dst (size*size*channels bytes, HWC) as RGB or, for channels == 1,
// ITU-R BT.601 luma.
func toPixels(img image.Image, size, channels int, dst []uint8) {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	read := rowReader(img, x0, y0, side)
	hTaps, vTaps := axisTaps(side, size), axisTaps(side, size)

	// Horizontal pass row by row (never holding the full-size image as floats),
	// then the vertical pass.
	row := make([]float32, 3*side)
	tmp := make([]float32, side*size*3)
	for y := 0; y < side; y++ {
		read(y, row)
		out := tmp[y*size*3 : (y+1)*size*3]
		for x, tp := range hTaps {
			var r, g, bl float32
			for k, w := range tp.w {
				s := 3 * (tp.start + k)
				r += w * row[s]
				g += w * row[s+1]
				bl += w * row[s+2]
			}
			out[3*x], out[3*x+1], out[3*x+2] = r, g, bl
		}
	}
	for y, tp := range vTaps {
		for x := 0; x < size; x++ {
			var r, g, bl float32
			for k, w := range tp.w {
				s := ((tp.start+k)*size + x) * 3
				r += w * tmp[s]
				g += w * tmp[s+1]
				bl += w * tmp[s+2]
			}
			o := (y*size + x) * channels
			if channels == 1 {
				dst[o] = toByte(0.299*r + 0.587*g + 0.114*bl)
			} else {
				dst[o], dst[o+1], dst[o+2] = toByte(r), toByte(g), toByte(bl)
			}
		}
	}
}

func toByte(v float32) uint8 {
	v = float32(math.Round(float64(v)))
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
