package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFile: a report replaces an earlier run of the same report (same
// title), never another file (a README given as --report).
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "REPORT.md")
	for _, md := range []string{"# Latency predictors\n\nrun 1\n", "# Latency predictors\n\nrun 2\n"} {
		if err := WriteFile(path, []byte(md)); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "run 2") {
		t.Errorf("not replaced: %q", b)
	}
	readme := filepath.Join(dir, "README.md")
	_ = os.WriteFile(readme, []byte("# My project\n"), 0o644)
	err := WriteFile(readme, []byte("# Latency predictors\n"))
	if err == nil || !strings.Contains(err.Error(), `not a report titled "# Latency predictors"`) {
		t.Errorf("a README: %v", err)
	}
	if b, _ := os.ReadFile(readme); string(b) != "# My project\n" {
		t.Errorf("README changed: %q", b)
	}
	if err := WriteFile(filepath.Join(dir, "x.md"), []byte("\nno title\n")); err == nil {
		t.Error("a report without a title line: no error")
	}
}
