package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, l *Loader) *Dataset {
	t.Helper()
	d, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q, got nil", parts)
	}
	t.Logf("error: %v", err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func TestFashionMNISTSmall(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := fakeFashion(t, 50, 20, 4, 3, compress)
		d := mustLoad(t, NewLoader("fashion-mnist:"+dir).Validation(0.2).Seed(3))
		if d.Kind != KindFashionMNIST || d.NumClasses() != 10 || d.Classes[9] != "Ankle boot" {
			t.Fatalf("kind %q classes %v", d.Kind, d.Classes)
		}
		if d.Height() != 4 || d.Width() != 3 || d.Channels() != 1 {
			t.Fatalf("shape %dx%dx%d", d.Height(), d.Width(), d.Channels())
		}
		if d.Train.Len() != 40 || d.Validation.Len() != 10 || d.Test.Len() != 20 {
			t.Fatalf("sizes: %s", d)
		}
		// Test split kept in file order with its pixels: image i pixel j = i*5+j.
		for i := 0; i < d.Test.Len(); i++ {
			if d.Test.Labels[i] != int32(i%10) || d.Test.Image(i)[5] != byte(i*5+5) {
				t.Fatalf("test image %d: label %d pixel %d", i, d.Test.Labels[i], d.Test.Image(i)[5])
			}
		}
		// Every train/validation image is one of the originals with its own label.
		seen := map[byte]bool{}
		for _, s := range []*Split{d.Train, d.Validation} {
			for i := 0; i < s.Len(); i++ {
				first := s.Image(i)[0] // = orig*5
				orig := int(first) / 5
				if first%5 != 0 || s.Labels[i] != int32(orig%10) || seen[first] {
					t.Fatalf("image %d (first pixel %d) label %d: not an original or duplicated", i, first, s.Labels[i])
				}
				seen[first] = true
			}
		}
		if d.Augment != (Augment{}) {
			t.Fatalf("fashion-mnist default augmentation %+v, want none", d.Augment)
		}
	}
}

func TestFashionMNISTBadFiles(t *testing.T) {
	good := func() string { return fakeFashion(t, 12, 6, 4, 4, true) }
	imgPath := func(dir string) string { return filepath.Join(dir, "train-images-idx3-ubyte.gz") }
	labPath := func(dir string) string { return filepath.Join(dir, "train-labels-idx1-ubyte.gz") }
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"missing file", func(t *testing.T, dir string) { os.Remove(labPath(dir)) }, []string{"train-labels-idx1-ubyte", "no such file"}},
		{"wrong magic", func(t *testing.T, dir string) {
			raw := idxBytes([]int{12, 4, 4}, make([]byte, 12*16))
			raw[2] = 0x0D // float data
			writeFile(t, imgPath(dir), gz(t, raw))
		}, []string{"wrong IDX magic", "train-images"}},
		{"labels file with image magic", func(t *testing.T, dir string) {
			writeFile(t, labPath(dir), gz(t, idxBytes([]int{12, 4, 4}, make([]byte, 12*16))))
		}, []string{"wrong IDX magic", "train-labels"}},
		{"truncated data", func(t *testing.T, dir string) {
			raw := idxBytes([]int{12, 4, 4}, make([]byte, 12*16))
			writeFile(t, imgPath(dir), gz(t, raw[:len(raw)-5]))
		}, []string{"truncated", "train-images"}},
		{"truncated gzip stream", func(t *testing.T, dir string) {
			z := gz(t, idxBytes([]int{12, 4, 4}, make([]byte, 12*16)))
			writeFile(t, imgPath(dir), z[:len(z)-12])
		}, []string{"train-images"}},
		{"trailing bytes", func(t *testing.T, dir string) {
			writeFile(t, imgPath(dir), gz(t, append(idxBytes([]int{12, 4, 4}, make([]byte, 12*16)), 1, 2)))
		}, []string{"trailing", "train-images"}},
		{"count mismatch", func(t *testing.T, dir string) {
			writeFile(t, labPath(dir), gz(t, idxBytes([]int{11}, make([]byte, 11))))
		}, []string{"12 images but 11 labels"}},
		{"label out of range", func(t *testing.T, dir string) {
			lab := make([]byte, 12)
			lab[4] = 10
			writeFile(t, labPath(dir), gz(t, idxBytes([]int{12}, lab)))
		}, []string{"label 10 of image 4"}},
		{"empty file", func(t *testing.T, dir string) { writeFile(t, imgPath(dir), nil) }, []string{"truncated", "train-images"}},
		{"test size differs", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gz(t, idxBytes([]int{6, 5, 4}, make([]byte, 6*20))))
		}, []string{"test images are 5x4x1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := good()
			c.break_(t, dir)
			d, err := NewLoader("fashion-mnist:" + dir).Load()
			if d != nil {
				t.Fatalf("got a dataset despite the broken file")
			}
			wantErr(t, err, c.want...)
		})
	}
}

func TestCIFAR10(t *testing.T) {
	meta := "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n\n"
	for _, sub := range []string{"", "cifar-10-batches-bin"} {
		base := t.TempDir()
		fakeCIFAR(t, filepath.Join(base, sub), 4, meta)
		d := mustLoad(t, NewLoader("cifar10:"+base).Validation(0))
		if d.Train.Len() != 20 || d.Test.Len() != 4 || d.Validation.Len() != 0 {
			t.Fatalf("sizes %s", d)
		}
		if d.Classes[3] != "c3" || d.Height() != 32 || d.Channels() != 3 {
			t.Fatalf("classes %v shape %dx%d", d.Classes, d.Height(), d.Channels())
		}
		// Record i: R = i, G = pixel index, B = 255-i, in HWC order.
		for _, i := range []int{0, 7, 19} {
			img := d.Train.Image(i)
			p := 33 // row 1, column 1
			if d.Train.Labels[i] != int32(i%10) || img[3*p] != byte(i) || img[3*p+1] != byte(p) || img[3*p+2] != byte(255-i) {
				t.Fatalf("image %d: label %d pixel %v", i, d.Train.Labels[i], img[3*p:3*p+3])
			}
		}
		if d.Test.Image(2)[0] != byte(1002%256) {
			t.Fatalf("test image 2 R = %d", d.Test.Image(2)[0])
		}
		if d.Augment != (Augment{Pad: 4, Flip: true}) {
			t.Fatalf("cifar default augmentation %+v", d.Augment)
		}
	}
	// Without batches.meta.txt the standard names are used.
	d := mustLoad(t, NewLoader("cifar10:"+fakeCIFAR(t, t.TempDir(), 2, "")))
	if d.Classes[0] != "airplane" {
		t.Fatalf("default names: %v", d.Classes)
	}
}

func TestCIFAR10BadFiles(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"missing batch", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "data_batch_4.bin")) }, []string{"data_batch_4.bin", "no such file"}},
		{"missing test", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "test_batch.bin")) }, []string{"test_batch.bin"}},
		{"truncated", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "data_batch_2.bin"), cifarRecords(3, 0)[:2*cifarRecord+100])
		}, []string{"data_batch_2.bin", "whole number of 3073-byte records"}},
		{"bad label", func(t *testing.T, dir string) {
			b := cifarRecords(3, 0)
			b[cifarRecord] = 12
			writeFile(t, filepath.Join(dir, "data_batch_1.bin"), b)
		}, []string{"data_batch_1.bin", "record 1 has label 12"}},
		{"bad meta", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte("a\nb\n"))
		}, []string{"batches.meta.txt has 2 class names"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fakeCIFAR(t, t.TempDir(), 3, "")
			c.break_(t, dir)
			d, err := Load("cifar10:" + dir)
			if d != nil {
				t.Fatal("got a dataset despite the broken file")
			}
			wantErr(t, err, c.want...)
		})
	}
}

func TestSpecsAndOptions(t *testing.T) {
	for spec, want := range map[string]string{
		"mnist":                "unknown dataset",
		"cifar10":              "needs a directory",
		"folder:":              "needs a directory",
		"fashion-mnist:/nope/": "no such file",
		"folder:/nope/":        "no such file",
		"cifar10:/nope/":       "/nope/ is not a directory",
	} {
		_, err := Load(spec)
		wantErr(t, err, want)
	}
	kind, dir, err := ParseSpec("fashion-mnist")
	if err != nil || kind != KindFashionMNIST || dir != DefaultFashionMNISTDir {
		t.Fatalf("ParseSpec: %q %q %v", kind, dir, err)
	}
	dir0 := fakeFashion(t, 10, 5, 2, 2, true)
	for name, l := range map[string]*Loader{
		"validation": NewLoader("fashion-mnist:" + dir0).Validation(1),
		"size":       NewLoader("fashion-mnist:" + dir0).ImageSize(3),
		"test":       NewLoader("fashion-mnist:" + dir0).TestFraction(-0.1),
	} {
		if _, err := l.Load(); err == nil {
			t.Errorf("%s: invalid option accepted", name)
		}
	}
}

func TestHoldoutAndStats(t *testing.T) {
	s := &Split{Height: 1, Width: 2, Channels: 1, Pixels: make([]uint8, 200), Labels: make([]int32, 100)}
	for i := range s.Labels {
		s.Labels[i] = int32(i)
		s.Pixels[2*i], s.Pixels[2*i+1] = uint8(i), uint8(i)
	}
	rest, held, err := s.Holdout(30, 5)
	if err != nil || rest.Len() != 70 || held.Len() != 30 {
		t.Fatalf("holdout: %v %d %d", err, rest.Len(), held.Len())
	}
	in := map[int32]bool{}
	for _, p := range []*Split{rest, held} {
		for i, l := range p.Labels {
			if in[l] || p.Pixels[2*i] != uint8(l) || (i > 0 && l < p.Labels[i-1]) {
				t.Fatalf("label %d duplicated, misplaced or out of order", l)
			}
			in[l] = true
		}
	}
	_, held2, _ := s.Holdout(30, 5)
	_, held3, _ := s.Holdout(30, 6)
	if !slices.Equal(held.Labels, held2.Labels) || slices.Equal(held.Labels, held3.Labels) {
		t.Fatal("holdout must depend on the seed, and only on it")
	}
	if _, _, err := s.Holdout(101, 0); err == nil {
		t.Fatal("holdout larger than the split accepted")
	}

	// Known statistics: half the pixels 0, half 255 -> mean 0.5, std 0.5.
	bw := &Split{Height: 1, Width: 2, Channels: 3, Pixels: []uint8{0, 0, 0, 255, 255, 7}, Labels: []int32{0}}
	n, err := bw.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !near(n.Mean[0], 0.5) || !near(n.Std[0], 0.5) || !near(n.Mean[2], 3.5/255) || !near(n.Std[2], 3.5/255) {
		t.Fatalf("stats %+v", n)
	}
	constant := &Split{Height: 1, Width: 1, Channels: 1, Pixels: []uint8{9}, Labels: []int32{0}}
	if n, _ := constant.Stats(); n.Std[0] != 1 {
		t.Fatalf("constant channel std %v, want 1", n.Std[0])
	}
	broken := &Split{Height: 2, Width: 2, Channels: 1, Pixels: make([]uint8, 3), Labels: []int32{0}}
	if _, err := broken.Stats(); err == nil {
		t.Fatal("inconsistent split accepted")
	}
}

func near(a float32, b float64) bool { d := float64(a) - b; return d < 1e-5 && d > -1e-5 }
