package measure

import (
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
)

// TestParseTableRefusesMalformed: a measured table changed in one node at a
// time (null, another type, numbers past their ranges, a member deleted) is
// refused or read, never a panic.
func TestParseTableRefusesMalformed(t *testing.T) {
	a := parseArch(t, chainSpec)
	tbl := synthetic(t, 0.3, 0.02, a)
	var err error
	if tbl.Overhead, err = tbl.FitOverhead(); err != nil {
		t.Fatal(err)
	}
	doc, err := tbl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	jsonmut.Check(t, "measured table", doc, func(b []byte) error { _, err := ParseTable(b); return err })
}
