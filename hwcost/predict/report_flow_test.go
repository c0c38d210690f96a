package predict

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReportWritesNothingOnError: a comparison that cannot run writes no
// report (an earlier one stays as it was).
func TestReportWritesNothingOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "REPORT.md")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, rows, err := Report(ReportConfig{Train: 10, Seed: 1, Files: []string{"no-such-table"}}, path)
	if err == nil || rows != nil || got != "" {
		t.Errorf("Report of a missing table = %q, %d rows, %v; want an error", got, len(rows), err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("the report file was replaced: %q", b)
	}
}
