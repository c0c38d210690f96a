// Package toydata writes a tiny, learnable Fashion-MNIST-shaped dataset for
// tests: training runs on it take a second.
package toydata

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// Spec is a tiny architecture for tests, in the blocks text form.
const Spec = `name tiny
input 224x224x3
classes 1001
stem cn_k3_s2_c8
ir_k3_s1_e2_c8
ir_k3_s2_e2_c16
ir_k3_s1_e2_c16
head c32_d0.2
`

// idxFile encodes an unsigned-byte IDX file, gzipped.
func idxFile(dims []int, payload []byte) ([]byte, error) {
	var raw bytes.Buffer
	raw.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&raw, binary.BigEndian, uint32(d))
	}
	raw.Write(payload)
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFashion writes nTrain training and nTest test images of size×size
// into dir, as the four Fashion-MNIST IDX files, and returns the dataset spec
// "fashion-mnist:DIR". Class k (of 10) is a bright bar, horizontal for k < 5
// and vertical otherwise, at one of 5 positions, on seeded noise.
func WriteFashion(dir string, nTrain, nTest, size int) (string, error) {
	if size < 10 {
		return "", fmt.Errorf("toydata: size %d < 10", size)
	}
	state := uint64(12345)
	rnd := func() byte {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return byte(state % 64)
	}
	gen := func(n, offset int) ([]byte, []byte) {
		px := make([]byte, n*size*size)
		lab := make([]byte, n)
		for i := range n {
			k := (i + offset) % 10
			lab[i] = byte(k)
			pos := (k%5)*size/5 + size/10
			for y := range size {
				for x := range size {
					v := rnd()
					c := y
					if k >= 5 {
						c = x
					}
					if c == pos || c == pos+1 {
						v += 160
					}
					px[i*size*size+y*size+x] = v
				}
			}
		}
		return px, lab
	}
	write := func(name string, dims []int, payload []byte) error {
		b, err := idxFile(dims, payload)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	px, lab := gen(nTrain, 0)
	tpx, tlab := gen(nTest, 3)
	for _, f := range []struct {
		name    string
		dims    []int
		payload []byte
	}{
		{"train-images-idx3-ubyte.gz", []int{nTrain, size, size}, px},
		{"train-labels-idx1-ubyte.gz", []int{nTrain}, lab},
		{"t10k-images-idx3-ubyte.gz", []int{nTest, size, size}, tpx},
		{"t10k-labels-idx1-ubyte.gz", []int{nTest}, tlab},
	} {
		if err := write(f.name, f.dims, f.payload); err != nil {
			return "", fmt.Errorf("toydata: %w", err)
		}
	}
	return "fashion-mnist:" + dir, nil
}
