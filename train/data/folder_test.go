package data

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"testing"
)

// fakeFolder writes per images per class (solid class colour, various sizes)
// under root/CLASS/.
func fakeFolder(t *testing.T, root string, per int, ext string) {
	t.Helper()
	for c, col := range classColors {
		for i := range per {
			encodeImage(t, filepath.Join(root, fmt.Sprintf("class%d", c), fmt.Sprintf("img%02d%s", i, ext)), solid(40+i, 30+2*i, col))
		}
	}
}

func TestFolderSeededSplit(t *testing.T) {
	root := t.TempDir()
	fakeFolder(t, root, 5, ".png")
	writeFile(t, filepath.Join(root, "class0", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(root, "class1", ".hidden.png"), []byte("ignored"))
	var calls []int
	l := NewLoader("folder:" + root).ImageSize(16).TestFraction(0.4).Validation(0).Seed(9).
		Progress(func(done, total int) { calls = append(calls, done*100+total) })
	d := mustLoad(t, l)
	if !slices.Equal(d.Classes, []string{"class0", "class1", "class2"}) {
		t.Fatalf("classes %v", d.Classes)
	}
	if d.Train.Len() != 9 || d.Test.Len() != 6 || !slices.Equal(d.Test.ClassCounts(3), []int{2, 2, 2}) {
		t.Fatalf("split %s, test counts %v", d, d.Test.ClassCounts(3))
	}
	if d.Height() != 16 || d.Channels() != 3 || d.Augment != (Augment{Pad: 2, Flip: true}) {
		t.Fatalf("shape %dx%d, augment %+v", d.Height(), d.Channels(), d.Augment)
	}
	if len(calls) != 15 || calls[14] != 1515 {
		t.Fatalf("progress calls %v", calls)
	}
	// Solid colours survive cropping and resizing exactly.
	for _, s := range []*Split{d.Train, d.Test} {
		for i := 0; i < s.Len(); i++ {
			want := classColors[s.Labels[i]]
			img := s.Image(i)
			for p := 0; p < len(img); p += 3 {
				if img[p] != want.R || img[p+1] != want.G || img[p+2] != want.B {
					t.Fatalf("image %d pixel %d = %v, want %v", i, p/3, img[p:p+3], want)
				}
			}
		}
	}
	// Same seed, same split; another seed, another one.
	d2 := mustLoad(t, NewLoader("folder:"+root).ImageSize(16).TestFraction(0.4).Validation(0).Seed(9))
	if !slices.Equal(d.Test.Pixels, d2.Test.Pixels) {
		t.Fatal("same seed gave a different split")
	}
	grey := mustLoad(t, NewLoader("folder:"+root).ImageSize(8).Grey(true))
	if grey.Channels() != 1 || grey.Augment != (Augment{}) {
		t.Fatalf("grey: %d channels, augment %+v", grey.Channels(), grey.Augment)
	}
	// Luma of pure red is 0.299*255 = 76.
	for i := 0; i < grey.Train.Len(); i++ {
		if grey.Train.Labels[i] == 0 && grey.Train.Image(i)[0] != 76 {
			t.Fatalf("grey red = %d, want 76", grey.Train.Image(i)[0])
		}
	}
}

func TestFolderTrainTest(t *testing.T) {
	root := t.TempDir()
	fakeFolder(t, filepath.Join(root, "train"), 3, ".jpg")
	encodeImage(t, filepath.Join(root, "test", "class2", "a.JPEG"), solid(20, 20, classColors[2]))
	encodeImage(t, filepath.Join(root, "test", "class0", "b.png"), solid(20, 20, classColors[0]))
	d := mustLoad(t, NewLoader("folder:"+root).Validation(0))
	if d.Train.Len() != 9 || d.Test.Len() != 2 || !slices.Equal(d.Test.Labels, []int32{0, 2}) {
		t.Fatalf("%s, test labels %v", d, d.Test.Labels)
	}
	// JPEG is lossy: the colour is only close.
	px := d.Train.Image(0)
	if px[0] < 240 || px[1] > 15 || px[2] > 15 {
		t.Fatalf("jpeg red decoded as %v", px[:3])
	}
}

func TestFolderErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T, root string)
		want  []string
	}{
		{"unreadable image", func(t *testing.T, root string) {
			fakeFolder(t, root, 2, ".png")
			writeFile(t, filepath.Join(root, "class1", "broken.png"), []byte("not a png"))
		}, []string{"broken.png", "decoding"}},
		{"truncated png", func(t *testing.T, root string) {
			fakeFolder(t, root, 2, ".png")
			p := filepath.Join(root, "class0", "img00.png")
			encodeImage(t, p, solid(30, 30, color.White))
			b := readFile(t, p)
			writeFile(t, p, b[:len(b)/2])
		}, []string{"img00.png"}},
		{"empty class", func(t *testing.T, root string) {
			fakeFolder(t, root, 2, ".png")
			writeFile(t, filepath.Join(root, "empty", "readme.txt"), []byte("x"))
		}, []string{"empty", "has no images"}},
		{"one class", func(t *testing.T, root string) {
			encodeImage(t, filepath.Join(root, "only", "a.png"), solid(4, 4, color.White))
		}, []string{"need at least 2"}},
		{"unknown test class", func(t *testing.T, root string) {
			fakeFolder(t, filepath.Join(root, "train"), 2, ".png")
			encodeImage(t, filepath.Join(root, "test", "zebra", "a.png"), solid(4, 4, color.White))
		}, []string{`class "zebra"`}},
		{"test without train", func(t *testing.T, root string) {
			fakeFolder(t, filepath.Join(root, "test"), 2, ".png")
		}, []string{"no train/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			c.build(t, root)
			d, err := NewLoader("folder:" + root).ImageSize(8).Load()
			if d != nil {
				t.Fatal("got a dataset despite bad input")
			}
			wantErr(t, err, c.want...)
		})
	}
}

func TestResize(t *testing.T) {
	// 4x4 -> 2x2 averages 2x2 blocks exactly.
	m := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 10)
	}
	dst := make([]uint8, 4)
	toPixels(m, 2, 1, dst)
	// block (0,0): 0,10,40,50 -> 25
	if want := []uint8{25, 45, 105, 125}; !slices.Equal(dst, want) {
		t.Fatalf("2x downscale %v, want %v", dst, want)
	}
	// Same size is the identity; non-square sources are centre-cropped.
	wide := image.NewGray(image.Rect(0, 0, 6, 4))
	for i := range wide.Pix {
		wide.Pix[i] = uint8(i)
	}
	id := make([]uint8, 16)
	toPixels(wide, 4, 1, id)
	for y := range 4 {
		for x := range 4 {
			if id[y*4+x] != wide.Pix[y*6+x+1] {
				t.Fatalf("crop+identity at (%d,%d): %d, want %d", x, y, id[y*4+x], wide.Pix[y*6+x+1])
			}
		}
	}
	// Upscaling a two-value image keeps the range and is monotone.
	two := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(two.Pix, []uint8{0, 200, 0, 200})
	up := make([]uint8, 64)
	toPixels(two, 8, 1, up)
	if up[0] != 0 || up[7] != 200 {
		t.Fatalf("upscale edges %d %d", up[0], up[7])
	}
	for x := 1; x < 8; x++ {
		if up[x] < up[x-1] {
			t.Fatalf("upscale not monotone: %v", up[:8])
		}
	}
	// Odd ratios: weights of each output pixel sum to 1.
	for _, io := range [][2]int{{7, 3}, {100, 32}, {3, 7}, {33, 32}} {
		for i, tp := range axisTaps(io[0], io[1]) {
			var s float32
			for _, w := range tp.w {
				s += w
			}
			if s < 0.9999 || s > 1.0001 || tp.start < 0 || tp.start+len(tp.w) > io[0] {
				t.Fatalf("%v tap %d: start %d weights %v", io, i, tp.start, tp.w)
			}
		}
	}
}
