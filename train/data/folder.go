package data

import (
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/multihw/multihw/internal/checked"
	"github.com/multihw/multihw/internal/memlimit"
)

// MaxImageSide is the largest width or height of an image a folder dataset
// may hold (64 K pixels per side; the memory limit usually binds first).
const MaxImageSide = 1 << 16

// imageExts are the file extensions read as images (case-insensitive);
// other files and hidden files in class folders are ignored.
var imageExts = []string{".png", ".jpg", ".jpeg"}

type labelled struct {
	path  string
	label int32
}

// loadFolder reads DIR/train/CLASS/* and DIR/test/CLASS/* when DIR/train
// exists (a missing test/ gets a seeded per-class split of train/), otherwise
// DIR/CLASS/* with a seeded per-class split.
func loadFolder(dir string, l *Loader) (*Dataset, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("folder: %s is not a directory", dir)
	}
	root := dir
	trainDir, testDir := filepath.Join(dir, "train"), filepath.Join(dir, "test")
	hasTrain, hasTest := isDir(trainDir), isDir(testDir)
	if hasTest && !hasTrain {
		return nil, fmt.Errorf("folder: %s has test/ but no train/", dir)
	}
	if hasTrain {
		root = trainDir
	}
	classes, files, err := listClasses(root, 2)
	if err != nil {
		return nil, err
	}
	var train, test []labelled
	if hasTest {
		testClasses, testFiles, err := listClasses(testDir, 1)
		if err != nil {
			return nil, err
		}
		for i, c := range testClasses {
			label := slices.Index(classes, c)
			if label < 0 {
				return nil, fmt.Errorf("folder: %s has class %q, which %s does not have", testDir, c, trainDir)
			}
			for _, f := range testFiles[i] {
				test = append(test, labelled{f, int32(label)})
			}
		}
		for label, fs := range files {
			for _, f := range fs {
				train = append(train, labelled{f, int32(label)})
			}
		}
	} else {
		train, test = seededSplit(files, l.testFraction, l.seed)
	}

	channels := 3
	if l.grey {
		channels = 1
	}
	all := append(append([]labelled(nil), train...), test...)
	pixels, err := decodeAll(all, l.imageSize, channels, l.progress)
	if err != nil {
		return nil, err
	}
	n := l.imageSize * l.imageSize * channels
	mk := func(items []labelled, px []uint8) *Split {
		s := &Split{Height: l.imageSize, Width: l.imageSize, Channels: channels, Pixels: px, Labels: make([]int32, len(items))}
		for i, it := range items {
			s.Labels[i] = it.label
		}
		return s
	}
	return &Dataset{Dir: dir, Classes: classes,
		Train: mk(train, pixels[:len(train)*n:len(train)*n]), Test: mk(test, pixels[len(train)*n:])}, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// listClasses returns the sorted class sub-folders of root and their sorted
// image files. A class folder without images is an error, and so is having
// fewer than minClasses classes.
func listClasses(root string, minClasses int) (classes []string, files [][]string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("folder: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		classDir := filepath.Join(root, e.Name())
		imgs, err := os.ReadDir(classDir)
		if err != nil {
			return nil, nil, fmt.Errorf("folder: %w", err)
		}
		var fs []string
		for _, im := range imgs {
			name := im.Name()
			if im.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(name))) {
				continue
			}
			fs = append(fs, filepath.Join(classDir, name))
		}
		if len(fs) == 0 {
			return nil, nil, fmt.Errorf("folder: class folder %s has no images (%s)", classDir, strings.Join(imageExts, ", "))
		}
		classes = append(classes, e.Name()) // ReadDir sorts by name
		files = append(files, fs)
	}
	if len(classes) < minClasses {
		return nil, nil, fmt.Errorf("folder: %s has %d class sub-folders, need at least %d (one sub-folder of images per class)", root, len(classes), minClasses)
	}
	return classes, files, nil
}

// seededSplit moves round(fraction*n) images of each class (at most n-1) to
// the test split, chosen by a permutation keyed by (seed, class, n). Both
// parts keep file-name order within a class.
func seededSplit(files [][]string, fraction float64, seed uint64) (train, test []labelled) {
	for label, fs := range files {
		nTest := min(int(math.Round(fraction*float64(len(fs)))), len(fs)-1)
		isTest := make([]bool, len(fs))
		for _, i := range permutation(len(fs), key(seed, tagTestSplit, uint64(label), uint64(len(fs))))[:nTest] {
			isTest[i] = true
		}
		for i, f := range fs {
			if isTest[i] {
				test = append(test, labelled{f, int32(label)})
			} else {
				train = append(train, labelled{f, int32(label)})
			}
		}
	}
	return train, test
}

// decodeAll decodes and resizes the images in parallel into one NHWC buffer.
// The first failing file (in list order) is reported.
func decodeAll(items []labelled, size, channels int, progress func(done, total int)) ([]uint8, error) {
	n := size * size * channels
	if err := memlimit.Check(fmt.Sprintf("folder: %d images of %dx%dx%d", len(items), size, size, channels),
		checked.SatMul(int64(len(items)), int64(n))); err != nil {
		return nil, err
	}
	pixels := make([]uint8, len(items)*n)
	errs := make([]error, len(items))
	jobs := make(chan int)
	done := make(chan struct{}, len(items))
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range jobs {
				errs[i] = decodeOne(items[i].path, size, channels, pixels[i*n:(i+1)*n])
				done <- struct{}{}
			}
		})
	}
	go func() {
		for i := range items {
			jobs <- i
		}
		close(jobs)
	}()
	for k := range items {
		<-done
		if progress != nil {
			progress(k+1, len(items))
		}
	}
	wg.Wait()
	if err := firstNonNil(errs); err != nil {
		return nil, err
	}
	return pixels, nil
}

func firstNonNil(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func decodeOne(path string, size, channels int, dst []uint8) (err error) {
	defer func() { // a decoder bug on a hostile file must not kill the process
		if r := recover(); r != nil {
			err = fmt.Errorf("folder: decoding %s: %v", path, r)
		}
	}()
	f, _, err := memlimit.OpenRegular(path)
	if err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	defer f.Close()
	// The header declares the dimensions: check what decoding would
	// allocate before decoding (a small PNG can declare 10⁵×10⁵ pixels).
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("folder: decoding %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("folder: %s is an empty image (%dx%d)", path, cfg.Width, cfg.Height)
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return fmt.Errorf("folder: %s declares %dx%d pixels, more than the %d per side an image may have", path, cfg.Width, cfg.Height, MaxImageSide)
	}
	// Decoding holds up to 8 bytes per pixel (16-bit RGBA), in every worker.
	est := checked.SatMul(int64(cfg.Width), int64(cfg.Height), 8, int64(max(1, runtime.GOMAXPROCS(0))))
	if err := memlimit.Check(fmt.Sprintf("folder: decoding %s (%dx%d pixels, %d at a time)", path, cfg.Width, cfg.Height, max(1, runtime.GOMAXPROCS(0))), est); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("folder: decoding %s: %w", path, err)
	}
	if img.Bounds().Empty() {
		return fmt.Errorf("folder: %s is an empty image", path)
	}
	toPixels(img, size, channels, dst)
	return nil
}
