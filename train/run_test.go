package train

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRun: a directory without a result is fs.ErrNotExist (FindRuns tells
// it from a broken run by that); a corrupt metrics line is an error naming the
// file and line.
func TestReadRun(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRun(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory: %v, want fs.ErrNotExist", err)
	}
	arch := tinyArch(t)
	raw, err := json.Marshal(arch)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ResultFile, `{"arch": `+string(raw)+`}`)
	write(MetricsFile, "{\"step\": 1}\n\n{\"step\": 2}\n")
	r, err := ReadRun(dir)
	if err != nil || len(r.Records) != 2 || r.Records[1].Step != 2 || r.Name != filepath.Base(dir) {
		t.Fatalf("ReadRun: %+v, %v", r, err)
	}
	write(MetricsFile, "{\"step\": 1}\nnot json\n")
	if _, err := ReadRun(dir); err == nil || !strings.Contains(err.Error(), MetricsFile+" line 2") {
		t.Errorf("corrupt metrics: %v, want an error naming %s line 2", err, MetricsFile)
	}
}
