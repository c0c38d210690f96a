package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeFashion writes a small Fashion-MNIST-like dataset (h x w images) to a
// new directory: pixel j of image i is byte(i*5+j), label i%10.
func fakeFashion(t testing.TB, nTrain, nTest, h, w int, compress bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(prefix string, n int) {
		px := make([]byte, n*h*w)
		for i := range n {
			for j := range h * w {
				px[i*h*w+j] = byte(i*5 + j)
			}
		}
		lab := make([]byte, n)
		for i := range lab {
			lab[i] = byte(i % 10)
		}
		img, lb := idxBytes([]int{n, h, w}, px), idxBytes([]int{n}, lab)
		name := func(s string) string { return filepath.Join(dir, prefix+s) }
		if compress {
			writeFile(t, name("-images-idx3-ubyte.gz"), gz(t, img))
			writeFile(t, name("-labels-idx1-ubyte.gz"), gz(t, lb))
		} else {
			writeFile(t, name("-images-idx3-ubyte"), img)
			writeFile(t, name("-labels-idx1-ubyte"), lb)
		}
	}
	write("train", nTrain)
	write("t10k", nTest)
	return dir
}

// cifarRecords encodes n CIFAR-10 records: label i%10, R plane = i, G plane =
// pixel index (mod 256), B plane = 255-i.
func cifarRecords(n, offset int) []byte {
	b := make([]byte, 0, n*cifarRecord)
	for i := range n {
		v := offset + i
		b = append(b, byte(v%10))
		for range cifarPlane {
			b = append(b, byte(v))
		}
		for p := range cifarPlane {
			b = append(b, byte(p))
		}
		for range cifarPlane {
			b = append(b, byte(255-v))
		}
	}
	return b
}

// fakeCIFAR writes per records per file in dir and returns dir.
func fakeCIFAR(t testing.TB, dir string, per int, meta string) string {
	t.Helper()
	for k, f := range cifarTrainFiles {
		writeFile(t, filepath.Join(dir, f), cifarRecords(per, k*per))
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarRecords(per, 1000))
	if meta != "" {
		writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte(meta))
	}
	return dir
}

func solid(w, h int, c color.Color) image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	return m
}

func encodeImage(t testing.TB, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.Bytes())
}

// classColors are distinct solid colours, one per fake folder class.
var classColors = []color.NRGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
