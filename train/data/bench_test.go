package data

import (
	"os"
	"path/filepath"
	"testing"
)

// Batch production speed (batch 128). Compare with a training step of
// hundreds of ms: go test -run XXX -bench . ./train/data

func benchStream(b *testing.B, sp *Split, aug Augment) {
	norm, err := sp.Stats()
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewStream(sp, 128, 1, norm, aug)
	if err != nil {
		b.Fatal(err)
	}
	images, labels := make([]float32, 128*sp.ImageSize()), make([]int32, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		if err := s.Fill(k, images, labels); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFashionBatch128: 28x28x1, no augmentation (the Fashion-MNIST default).
func BenchmarkFashionBatch128(b *testing.B) { benchStream(b, idSplit(54000, 28, 28, 1), Augment{}) }

// BenchmarkCIFARBatch128Augment: 32x32x3 with crop (pad 4) and flip.
func BenchmarkCIFARBatch128Augment(b *testing.B) {
	benchStream(b, idSplit(50000, 32, 32, 3), Augment{Pad: 4, Flip: true})
}

// BenchmarkCIFARBatch128GomlxTensors: the same through the gomlx adapter (new tensors per batch).
func BenchmarkCIFARBatch128GomlxTensors(b *testing.B) {
	sp := idSplit(50000, 32, 32, 3)
	norm, _ := sp.Stats()
	s, err := NewStream(sp, 128, 1, norm, Augment{Pad: 4, Flip: true})
	if err != nil {
		b.Fatal(err)
	}
	d := NewGomlxTrain(s, "bench")
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		batch, err := d.batch(k)
		if err != nil {
			b.Fatal(err)
		}
		_ = batch.Finalize()
	}
}

// BenchmarkLoadFashionMNIST: the full load (4 gzip IDX files, holdout, stats).
func BenchmarkLoadFashionMNIST(b *testing.B) {
	if _, err := os.Stat(DefaultFashionMNISTDir); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Load(KindFashionMNIST); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFashionTrainImages: gunzip + parse of the largest file alone.
func BenchmarkReadFashionTrainImages(b *testing.B) {
	if _, err := os.Stat(DefaultFashionMNISTDir); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := readIDX(filepath.Join(DefaultFashionMNISTDir, fashionFiles[0]), 3); err != nil {
			b.Fatal(err)
		}
	}
}
