package data

import (
	"os"
	"slices"
	"testing"
	"time"
)

// RequireFashionEnv makes TestRealFashionMNIST fail instead of skip when the
// Debian package's files are absent (the Makefile sets it; CI installs the package).
const RequireFashionEnv = "MULTIHW_REQUIRE_FASHION_MNIST"

func TestRealFashionMNIST(t *testing.T) {
	if _, err := os.Stat(DefaultFashionMNISTDir); err != nil {
		if os.Getenv(RequireFashionEnv) == "1" {
			t.Fatalf("%s=1 but Fashion-MNIST is missing (%v): install the Debian package dataset-fashion-mnist (make setup)", RequireFashionEnv, err)
		}
		t.Skipf("%s absent (set %s=1 to make this a failure)", DefaultFashionMNISTDir, RequireFashionEnv)
	}
	start := time.Now()
	d, err := NewLoader(KindFashionMNIST).Validation(0.1).Seed(1).Load()
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	// Speed is measured by BenchmarkLoadFashionMNIST, not asserted here: the
	// machines are shared and a wall-clock bound would be flaky.
	t.Logf("%s loaded in %v; norm %+v", d, elapsed, d.Norm)
	if d.Train.Len() != 54000 || d.Validation.Len() != 6000 || d.Test.Len() != 10000 {
		t.Fatalf("sizes: %s", d)
	}
	if d.Height() != 28 || d.Width() != 28 || d.Channels() != 1 || d.NumClasses() != 10 {
		t.Fatalf("shape: %s", d)
	}
	// The test set is balanced: 1000 per class; train+validation 6000 per class.
	if c := d.Test.ClassCounts(10); slices.Min(c) != 1000 || slices.Max(c) != 1000 {
		t.Fatalf("test class counts %v", c)
	}
	tc, vc := d.Train.ClassCounts(10), d.Validation.ClassCounts(10)
	for k := range tc {
		if tc[k]+vc[k] != 6000 {
			t.Fatalf("class %d: %d train + %d validation != 6000", k, tc[k], vc[k])
		}
	}
	// Published Fashion-MNIST pixel statistics: mean 0.2860, std 0.3530 (full training set).
	if m, s := d.Norm.Mean[0], d.Norm.Std[0]; m < 0.28 || m > 0.292 || s < 0.347 || s > 0.359 {
		t.Fatalf("normalisation mean %v std %v far from the published 0.286 / 0.353", m, s)
	}
}
