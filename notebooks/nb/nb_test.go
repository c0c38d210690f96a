package nb

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/multihw/multihw/report"
)

func TestShowStopsOnError(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("Show of a failed figure did not stop the cell")
		}
	}()
	Show(nil, errors.New("no data"))
}

func TestTable(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	tb := report.NewTable("model", "AVG").RightFrom(1)
	tb.Row("multi_avg", "0.920")
	Table(tb)
	w.Close()
	os.Stdout = stdout
	out, _ := io.ReadAll(r)
	if string(out) != tb.Text() || !strings.Contains(string(out), "multi_avg") {
		t.Errorf("printed %q", out)
	}
}
