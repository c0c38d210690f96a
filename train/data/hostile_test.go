package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/memlimit"
)

// bombPNG returns a valid 1×1 PNG whose header declares w×h pixels (the
// IHDR chunk and its CRC rewritten): a few hundred bytes that make a decoder
// allocate w·h·4 bytes.
func bombPNG(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, solid(1, 1, classColors[0])); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// 8-byte signature, then IHDR: length (4), "IHDR" (4), width, height, ..., CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestFolderHostileImages: an image declaring enormous dimensions is refused
// from its header, before decoding; so is a device in place of an image;
// the dataset buffer is checked against the memory limit before allocation.
func TestFolderHostileImages(t *testing.T) {
	root := t.TempDir()
	fakeFolder(t, root, 2, ".png")
	bomb := filepath.Join(root, "class1", "bomb.png")
	writeFile(t, bomb, bombPNG(t, 60000, 60000))
	_, err := NewLoader("folder:" + root).ImageSize(16).Validation(0).Load()
	if err == nil || !strings.Contains(err.Error(), "bomb.png (60000x60000 pixels") || !strings.Contains(err.Error(), "needs an estimated") {
		t.Errorf("PNG declaring 60000x60000: %v", err)
	}
	writeFile(t, bomb, bombPNG(t, 1<<20, 1))
	if _, err := NewLoader("folder:" + root).ImageSize(16).Validation(0).Load(); err == nil || !strings.Contains(err.Error(), "more than the 65536 per side") {
		t.Errorf("PNG declaring 2^20 pixels wide: %v", err)
	}
	_ = os.Remove(bomb)
	if err := os.Symlink("/dev/zero", bomb); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader("folder:" + root).ImageSize(16).Validation(0).Load(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("device as image: %v", err)
	}
	_ = os.Remove(bomb)
	t.Setenv(memlimit.Env, "1KiB")
	if _, err := NewLoader("folder:" + root).ImageSize(64).Validation(0).Load(); err == nil || !strings.Contains(err.Error(), "images of 64x64x3 needs an estimated") {
		t.Errorf("dataset above the memory limit: %v", err)
	}
}

// TestCIFARDevice: a batch file that is a device is refused, not read forever.
func TestCIFARDevice(t *testing.T) {
	dir := t.TempDir()
	for _, name := range append(append([]string(nil), cifarTrainFiles...), cifarTestFiles...) {
		if err := os.Symlink("/dev/zero", filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load("cifar10:" + dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("cifar10 batches on /dev/zero: %v", err)
	}
}
