package predict

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/hwcost/devicedata"
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

// TestReportResumes: with a state file, a report killed after its first
// device (the file as the kill left it, copied when the first device's line
// was printed) resumes from it, and its rows equal an uninterrupted run's,
// bit for bit; Report removes the file once the report is written.
func TestReportResumes(t *testing.T) {
	dir := t.TempDir()
	// 60 cells of the HELP table, two device columns, as a file of one's own.
	lat, err := devicedata.HELPNB201()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("arch_str,pixel2,raspi4\n")
	p2, _ := lat.Column("pixel2")
	r4, _ := lat.Column("raspi4")
	for i := range 60 {
		fmt.Fprintf(&b, "%s,%v,%v\n", lat.Cell(i), p2[i], r4[i])
	}
	csv := filepath.Join(dir, "mine.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	enc := func(rows []Comparison) []byte {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(rows); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cfg := ReportConfig{Train: 30, Seed: 1, Seeds: 2, Files: []string{csv}}
	plain, err := RunReport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	state, killed := filepath.Join(dir, EvalStateFile), filepath.Join(dir, "killed")
	cfg.State = state
	cfg.Progress = writerFunc(func(p []byte) {
		if _, err := os.Stat(killed); os.IsNotExist(err) {
			data, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(killed, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	if rows, err := RunReport(cfg); err != nil || !bytes.Equal(enc(rows), enc(plain)) {
		t.Fatalf("with a state file: %v, rows equal %v", err, bytes.Equal(enc(rows), enc(plain)))
	}
	var log strings.Builder
	cfg.State, cfg.Progress = killed, &log
	rows, err := RunReport(cfg)
	if err != nil || !bytes.Equal(enc(rows), enc(plain)) || strings.Count(log.String(), "from "+killed) != 1 {
		t.Errorf("resumed: %v, rows equal %v, log:\n%s", err, bytes.Equal(enc(rows), enc(plain)), log.String())
	}
	// Report keeps its state next to the report and removes it at the end.
	out := filepath.Join(dir, "REPORT.md")
	cfg.State, cfg.Progress = "", nil
	if _, _, err := Report(cfg, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, EvalStateFile)); !os.IsNotExist(err) {
		t.Errorf("state file after the report: %v", err)
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
