package data

import (
	"fmt"
	"math"
	"strings"
)

// DefaultFashionMNISTDir is where the Debian package dataset-fashion-mnist installs the IDX files.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// Dataset kinds, as spelled before the colon in a spec.
const (
	KindFashionMNIST = "fashion-mnist"
	KindCIFAR10      = "cifar10"
	KindFolder       = "folder"
)

// SpecHelp describes the accepted dataset specs, for CLI flag usage strings.
const SpecHelp = "fashion-mnist[:DIR] | cifar10:DIR | folder:DIR"

// Dataset is a loaded dataset: training, validation and test splits with the
// class names, the normalisation computed on Train, and the default
// augmentation for its kind.
type Dataset struct {
	Kind    string   // KindFashionMNIST, KindCIFAR10 or KindFolder
	Dir     string   // the directory the files were read from
	Classes []string // class names; labels index this slice

	// Train is the training split minus Validation. Validation is carved out
	// of the original training split with the loader's seed (it may be empty);
	// the search rewards accuracy on it, never on Test.
	Train, Validation, Test *Split

	// Norm is the per-channel mean/std of Train (after the validation carve),
	// used by every stream and evaluator built from this Dataset.
	Norm Norm
	// Augment is the training augmentation: none for Fashion-MNIST, random
	// crop (pad 4 at 32 px) and horizontal flip for colour datasets. Change it
	// before building streams if wanted.
	Augment Augment
}

// Height, Width, Channels of the images.
func (d *Dataset) Height() int   { return d.Train.Height }
func (d *Dataset) Width() int    { return d.Train.Width }
func (d *Dataset) Channels() int { return d.Train.Channels }

// NumClasses is len(Classes).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// String summarises the dataset in one line.
func (d *Dataset) String() string {
	return fmt.Sprintf("%s (%s): %dx%dx%d, %d classes, train %d, validation %d, test %d",
		d.Kind, d.Dir, d.Height(), d.Width(), d.Channels(), len(d.Classes), d.Train.Len(), d.Validation.Len(), d.Test.Len())
}

// TrainStream returns the augmented, shuffled stream over Train.
func (d *Dataset) TrainStream(batchSize int, seed uint64) (*Stream, error) {
	return NewStream(d.Train, batchSize, seed, d.Norm, d.Augment)
}

// ValidationStream returns a shuffled stream over Validation without
// augmentation, e.g. for the search's reward batches.
func (d *Dataset) ValidationStream(batchSize int, seed uint64) (*Stream, error) {
	return NewStream(d.Validation, batchSize, seed, d.Norm, Augment{})
}

// Eval returns an in-order evaluator over split (d.Validation or d.Test)
// normalised with d.Norm.
func (d *Dataset) Eval(split *Split, batchSize int) (*Eval, error) {
	return NewEval(split, batchSize, d.Norm)
}

// Loader configures how a dataset is loaded. Create it with NewLoader, chain
// the setters, then call Load. Setters record the first invalid value, which
// Load reports.
type Loader struct {
	spec         string
	validation   float64
	seed         uint64
	imageSize    int
	grey         bool
	testFraction float64
	progress     func(done, total int)
	err          error
}

// Defaults of a Loader.
const (
	DefaultValidation   = 0.1 // fraction of the training split held out for validation
	DefaultImageSize    = 32  // folder images are resized to this square size
	DefaultTestFraction = 0.2 // folder datasets without train/ and test/ sub-folders
)

// NewLoader returns a Loader for spec (see SpecHelp) with the defaults:
// validation fraction 0.1, seed 0, folder images 32x32 RGB, folder test
// fraction 0.2.
func NewLoader(spec string) *Loader {
	return &Loader{spec: spec, validation: DefaultValidation, imageSize: DefaultImageSize, testFraction: DefaultTestFraction}
}

// Load loads spec with the default configuration (see NewLoader).
func Load(spec string) (*Dataset, error) { return NewLoader(spec).Load() }

func (l *Loader) fail(format string, args ...any) *Loader {
	if l.err == nil {
		l.err = fmt.Errorf(format, args...)
	}
	return l
}

// Validation sets the fraction of the training split held out as the
// validation split, in [0, 1). 0 leaves Validation empty.
func (l *Loader) Validation(fraction float64) *Loader {
	if !(fraction >= 0 && fraction < 1) {
		return l.fail("validation fraction %g not in [0, 1)", fraction)
	}
	l.validation = fraction
	return l
}

// Seed sets the seed of the validation holdout and of the folder test split.
// It is independent of the training seed given to streams.
func (l *Loader) Seed(seed uint64) *Loader { l.seed = seed; return l }

// ImageSize sets the square size folder images are resized to (8..1024 px).
// Other kinds keep their native size and ignore it.
func (l *Loader) ImageSize(px int) *Loader {
	if px < 8 || px > 1024 {
		return l.fail("image size %d px not in [8, 1024]", px)
	}
	l.imageSize = px
	return l
}

// Grey makes folder images single-channel (luma) instead of RGB.
func (l *Loader) Grey(grey bool) *Loader { l.grey = grey; return l }

// TestFraction sets the per-class fraction of a folder dataset used as the
// test split when the folder has no train/ and test/ sub-folders, in [0, 1).
func (l *Loader) TestFraction(fraction float64) *Loader {
	if !(fraction >= 0 && fraction < 1) {
		return l.fail("test fraction %g not in [0, 1)", fraction)
	}
	l.testFraction = fraction
	return l
}

// Progress sets a function called as folder images are decoded (done of
// total). It is called from the loading goroutine, in order.
func (l *Loader) Progress(fn func(done, total int)) *Loader { l.progress = fn; return l }

// ParseSpec splits a dataset spec into its kind and directory, applying the
// Fashion-MNIST default directory.
func ParseSpec(spec string) (kind, dir string, err error) {
	kind, dir, hasDir := strings.Cut(strings.TrimSpace(spec), ":")
	switch kind {
	case KindFashionMNIST:
		if !hasDir || dir == "" {
			dir = DefaultFashionMNISTDir
		}
	case KindCIFAR10, KindFolder:
		if dir == "" {
			return "", "", fmt.Errorf("dataset %q needs a directory: %s:DIR", spec, kind)
		}
	default:
		return "", "", fmt.Errorf("unknown dataset %q (want %s)", spec, SpecHelp)
	}
	return kind, dir, nil
}

// Load reads the dataset, carves the validation split and computes the
// normalisation. On error nothing is returned but the error.
func (l *Loader) Load() (*Dataset, error) {
	if l.err != nil {
		return nil, fmt.Errorf("dataset %q: %w", l.spec, l.err)
	}
	kind, dir, err := ParseSpec(l.spec)
	if err != nil {
		return nil, err
	}
	var d *Dataset
	switch kind {
	case KindFashionMNIST:
		d, err = loadFashionMNIST(dir)
	case KindCIFAR10:
		d, err = loadCIFAR10(dir)
	case KindFolder:
		d, err = loadFolder(dir, l)
	}
	if err != nil {
		return nil, err
	}
	d.Kind = kind
	if err := d.finish(l.validation, l.seed); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, dir, err)
	}
	return d, nil
}

// finish checks the splits, carves validation and sets Norm and Augment.
func (d *Dataset) finish(validation float64, seed uint64) error {
	for _, s := range []*Split{d.Train, d.Test} {
		if err := s.check(); err != nil {
			return err
		}
		for i, l := range s.Labels {
			if l < 0 || int(l) >= len(d.Classes) {
				return fmt.Errorf("image %d has label %d outside the %d classes", i, l, len(d.Classes))
			}
		}
	}
	if d.Train.Len() == 0 {
		return fmt.Errorf("the training split is empty")
	}
	if d.Test.Height != d.Train.Height || d.Test.Width != d.Train.Width || d.Test.Channels != d.Train.Channels {
		return fmt.Errorf("train images are %dx%dx%d but test images are %dx%dx%d",
			d.Train.Height, d.Train.Width, d.Train.Channels, d.Test.Height, d.Test.Width, d.Test.Channels)
	}
	nVal := int(math.Round(validation * float64(d.Train.Len())))
	if nVal >= d.Train.Len() {
		nVal = d.Train.Len() - 1
	}
	train, val, err := d.Train.Holdout(nVal, seed)
	if err != nil {
		return err
	}
	d.Train, d.Validation = train, val
	if d.Norm, err = d.Train.Stats(); err != nil {
		return err
	}
	d.Augment = DefaultAugment(d.Kind, d.Train.Height, d.Train.Channels)
	return nil
}

// DefaultAugment is the default training augmentation for a dataset kind and
// image size: none for Fashion-MNIST (and any single-channel data), random
// crop with padding size/8 (4 at 32 px) and horizontal flip for colour data.
func DefaultAugment(kind string, size, channels int) Augment {
	if kind == KindFashionMNIST || channels == 1 {
		return Augment{}
	}
	return Augment{Pad: max(1, size/8), Flip: true}
}
