package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/multihw/multihw/internal/memlimit"
)

// FashionMNISTClasses are the Fashion-MNIST class names, by label.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// fashionFiles are the four IDX files; each may also be present without ".gz".
var fashionFiles = [4]string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// maxIDXBytes bounds the data size an IDX header may announce, so that a
// corrupt header gets an error instead of a huge allocation.
const maxIDXBytes = 1 << 30

func loadFashionMNIST(dir string) (*Dataset, error) {
	type result struct {
		dims []int
		data []byte
		err  error
	}
	var res [4]result
	var wg sync.WaitGroup
	for i, name := range fashionFiles {
		wantDims := 3
		if strings.Contains(name, "labels") {
			wantDims = 1
		}
		wg.Go(func() {
			res[i].dims, res[i].data, res[i].err = readIDX(filepath.Join(dir, name), wantDims)
		})
	}
	wg.Wait()
	for i := range res {
		if err := res[i].err; err != nil {
			if errors.Is(err, os.ErrNotExist) && dir == DefaultFashionMNISTDir {
				return nil, fmt.Errorf("fashion-mnist: %w (install the Debian package dataset-fashion-mnist, or give fashion-mnist:DIR)", err)
			}
			return nil, fmt.Errorf("fashion-mnist: %w", err)
		}
	}
	split := func(img, lab result, what string) (*Split, error) {
		if img.dims[0] != lab.dims[0] {
			return nil, fmt.Errorf("fashion-mnist %s: %d images but %d labels", what, img.dims[0], lab.dims[0])
		}
		s := &Split{Height: img.dims[1], Width: img.dims[2], Channels: 1, Pixels: img.data, Labels: make([]int32, len(lab.data))}
		for i, l := range lab.data {
			if int(l) >= len(FashionMNISTClasses) {
				return nil, fmt.Errorf("fashion-mnist %s: label %d of image %d is not a class (0..%d)", what, l, i, len(FashionMNISTClasses)-1)
			}
			s.Labels[i] = int32(l)
		}
		return s, nil
	}
	train, err := split(res[0], res[1], "train")
	if err != nil {
		return nil, err
	}
	test, err := split(res[2], res[3], "test")
	if err != nil {
		return nil, err
	}
	return &Dataset{Dir: dir, Classes: append([]string(nil), FashionMNISTClasses...), Train: train, Test: test}, nil
}

// openMaybeGzip opens path, or path without ".gz" when only that exists, and
// returns a reader that decompresses if the content is gzip (by magic bytes).
func openMaybeGzip(path string) (io.Reader, func() error, string, error) {
	f, _, err := memlimit.OpenRegular(path)
	if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(path, ".gz") {
		if f2, _, err2 := memlimit.OpenRegular(strings.TrimSuffix(path, ".gz")); !errors.Is(err2, os.ErrNotExist) {
			f, err, path = f2, err2, strings.TrimSuffix(path, ".gz")
		}
	}
	if err != nil {
		return nil, nil, path, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, path, fmt.Errorf("%s: bad gzip header: %w", path, err)
		}
		return bufio.NewReaderSize(zr, 1<<20), f.Close, path, nil
	}
	return br, f.Close, path, nil
}

// readIDX reads an unsigned-byte IDX file (magic 0x0000 08 NDIMS, big-endian
// uint32 dimensions, then the data) with exactly wantDims dimensions. The data
// must fill the announced size exactly.
func readIDX(path string, wantDims int) (dims []int, data []byte, err error) {
	r, closeFn, path, err := openMaybeGzip(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%s: reading IDX header: %w", path, truncated(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || int(hdr[3]) != wantDims {
		return nil, nil, fmt.Errorf("%s: wrong IDX magic %02x%02x%02x%02x (want 000008%02x: unsigned bytes, %d dimensions)",
			path, hdr[0], hdr[1], hdr[2], hdr[3], wantDims, wantDims)
	}
	raw := make([]byte, 4*wantDims)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("%s: reading IDX dimensions: %w", path, truncated(err))
	}
	size := 1
	for i := 0; i < wantDims; i++ {
		d := int(binary.BigEndian.Uint32(raw[4*i:]))
		if d == 0 || size*d > maxIDXBytes || size*d < 0 {
			return nil, nil, fmt.Errorf("%s: implausible IDX dimension %d (dimensions %v)", path, d, idxDims(raw))
		}
		size *= d
		dims = append(dims, d)
	}
	if err := memlimit.Check(fmt.Sprintf("reading %s (%v)", path, dims), int64(size)); err != nil {
		return nil, nil, err
	}
	data = make([]byte, size)
	if n, err := io.ReadFull(r, data); err != nil {
		return nil, nil, fmt.Errorf("%s: truncated: header announces %v = %d bytes of data, read %d: %w", path, dims, size, n, truncated(err))
	}
	// Reading to EOF also makes gzip verify its checksum.
	var extra [1]byte
	if n, err := r.Read(extra[:]); n > 0 {
		return nil, nil, fmt.Errorf("%s: trailing bytes after the %d bytes announced by the header %v", path, size, dims)
	} else if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	} else if err == nil {
		// A reader may return 0, nil; insist on EOF.
		if _, err := io.ReadFull(r, extra[:]); err != io.EOF {
			if err == nil {
				err = fmt.Errorf("trailing bytes after the %d bytes announced by the header %v", size, dims)
			}
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return dims, data, nil
}

func idxDims(raw []byte) []uint32 {
	var d []uint32
	for i := 0; i+4 <= len(raw); i += 4 {
		d = append(d, binary.BigEndian.Uint32(raw[i:]))
	}
	return d
}

// truncated turns io.EOF-like errors into a message that says the file is short.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file is truncated (%w)", err)
	}
	return err
}
