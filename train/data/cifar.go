package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/multihw/multihw/internal/memlimit"
)

// CIFAR10Classes are the standard CIFAR-10 class names, used when the folder
// has no batches.meta.txt.
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

const (
	cifarSide   = 32
	cifarPlane  = cifarSide * cifarSide
	cifarRecord = 1 + 3*cifarPlane // label byte, then the R, G and B planes
)

var (
	cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifarTestFiles  = []string{"test_batch.bin"}
)

// cifarDir returns dir, or dir/cifar-10-batches-bin when the files are there
// (the layout of the official tarball).
func cifarDir(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, cifarTrainFiles[0])); err == nil {
		return dir
	}
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	if _, err := os.Stat(filepath.Join(sub, cifarTrainFiles[0])); err == nil {
		return sub
	}
	return dir
}

func loadCIFAR10(dir string) (*Dataset, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("cifar10: %s is not a directory (want the binary batches data_batch_1..5.bin and test_batch.bin, or the tarball's cifar-10-batches-bin folder)", dir)
	}
	dir = cifarDir(dir)
	classes, err := readCIFARMeta(filepath.Join(dir, "batches.meta.txt"))
	if err != nil {
		return nil, err
	}
	train, err := readCIFARFiles(dir, cifarTrainFiles, len(classes))
	if err != nil {
		return nil, err
	}
	test, err := readCIFARFiles(dir, cifarTestFiles, len(classes))
	if err != nil {
		return nil, err
	}
	return &Dataset{Dir: dir, Classes: classes, Train: train, Test: test}, nil
}

// readCIFARMeta reads the class names, one per non-empty line.
func readCIFARMeta(path string) ([]string, error) {
	b, err := memlimit.ReadFile(path, "cifar10 class names", 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return append([]string(nil), CIFAR10Classes...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cifar10: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != len(CIFAR10Classes) {
		return nil, fmt.Errorf("cifar10: %s has %d class names, want %d", path, len(names), len(CIFAR10Classes))
	}
	return names, nil
}

// readCIFARFiles reads and concatenates CIFAR-10 binary batch files into one
// split, converting each record's planar CHW pixels to HWC.
func readCIFARFiles(dir string, names []string, numClasses int) (*Split, error) {
	raws := make([][]byte, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			path := filepath.Join(dir, name)
			// 10,000 records per official batch; allow 20× that.
			b, err := memlimit.ReadFile(path, "cifar10 batch", 200_000*cifarRecord)
			if err != nil {
				errs[i] = fmt.Errorf("cifar10: %w", err)
				return
			}
			if len(b) == 0 || len(b)%cifarRecord != 0 {
				errs[i] = fmt.Errorf("cifar10: %s: %d bytes is not a whole number of %d-byte records (truncated or not CIFAR-10 binary)", path, len(b), cifarRecord)
				return
			}
			for r := 0; r < len(b); r += cifarRecord {
				if int(b[r]) >= numClasses {
					errs[i] = fmt.Errorf("cifar10: %s: record %d has label %d, not a class (0..%d)", path, r/cifarRecord, b[r], numClasses-1)
					return
				}
			}
			raws[i] = b
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	n := 0
	for _, b := range raws {
		n += len(b) / cifarRecord
	}
	s := &Split{Height: cifarSide, Width: cifarSide, Channels: 3, Pixels: make([]uint8, n*3*cifarPlane), Labels: make([]int32, n)}
	i := 0
	for _, b := range raws {
		for r := 0; r < len(b); r += cifarRecord {
			s.Labels[i] = int32(b[r])
			red, green, blue := b[r+1:r+1+cifarPlane], b[r+1+cifarPlane:r+1+2*cifarPlane], b[r+1+2*cifarPlane:r+cifarRecord]
			out := s.Pixels[i*3*cifarPlane : (i+1)*3*cifarPlane]
			for p := 0; p < cifarPlane; p++ {
				out[3*p], out[3*p+1], out[3*p+2] = red[p], green[p], blue[p]
			}
			i++
		}
	}
	return s, nil
}
