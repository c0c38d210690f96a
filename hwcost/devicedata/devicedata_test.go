package devicedata

import (
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedTables(t *testing.T) {
	brp, err := BRPNAS()
	if err != nil {
		t.Fatal(err)
	}
	help, err := HELPNB201()
	if err != nil {
		t.Fatal(err)
	}
	acc, err := Accuracy()
	if err != nil {
		t.Fatal(err)
	}
	fb, err := HELPFBNet()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tab  *Table
		rows int
		cols int
	}{{&brp.Table, NumCells, 13}, {&help.Table, NumCells, 27}, {&acc.Table, NumCells, 3}, {&fb.Table, 5000, 27}} {
		if c.tab.Len() != c.rows || len(c.tab.Columns()) != c.cols {
			t.Errorf("%s: %d rows × %d columns, want %d × %d", c.tab.Source(), c.tab.Len(), len(c.tab.Columns()), c.rows, c.cols)
		}
	}
	for _, other := range []*NB201Table{help, acc} {
		if err := SameCells(brp, other); err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < brp.Len(); i += 997 {
		if brp.Index(i) != i {
			t.Errorf("row %d has NB201 index %d", i, brp.Index(i))
		}
		if r, ok := brp.Row(brp.Cell(i)); !ok || r != i {
			t.Errorf("Row(Cell(%d)) = %d, %v", i, r, ok)
		}
	}

	// Missing values are NaN, exactly on the disconnected cells for the SD855
	// CPU (the README: 341 unmeasured everywhere, SD675/SD450 miss more).
	for _, name := range Pixel4Targets {
		ci, err := brp.ColumnIndex(name)
		if err != nil {
			t.Fatal(err)
		}
		col, _ := brp.Column(name)
		missing := 0
		for i, v := range col {
			if math.IsNaN(v) {
				missing++
				if brp.Cell(i).Connected() {
					t.Errorf("%s: connected cell %s is missing", name, brp.Cell(i))
				}
			} else if v <= 0 {
				t.Errorf("%s: row %d has latency %g", name, i, v)
			}
		}
		if missing != 341 || len(brp.Measured(ci)) != NumCells-341 {
			t.Errorf("%s: %d missing values, want 341", name, missing)
		}
	}
	sd450, _ := brp.Column("mobile-cpu-snapdragon-450-cortex-a53-int8")
	if n := countNaN(sd450); n <= 341 {
		t.Errorf("SD450 CPU has %d missing values, want more than 341", n)
	}

	// 94.37%: the best CIFAR-10 test accuracy of the space, as Dong & Yang
	// (ICLR 2020, NAS-Bench-201) report it.
	top, _ := acc.Column(AccCIFAR10)
	if m := maxOf(top); math.Abs(m-94.37) > 0.01 {
		t.Errorf("max CIFAR-10 accuracy %.2f, want 94.37", m)
	}

	// Column notes: non-measurements are flagged and excluded.
	if got := len(fb.MeasuredColumns()); got != 23 {
		t.Errorf("FBNet measured columns: %d, want 23 (27 minus pixel3, raspi4, eyeriss, fpga)", got)
	}
	if fb.ColumnNote("pixel3") == "" || help.ColumnNote("pixel3") != "" || help.ColumnNote("eyeriss") == "" {
		t.Errorf("column notes are wrong: fbnet pixel3 %q, nb201 pixel3 %q, nb201 eyeriss %q",
			fb.ColumnNote("pixel3"), help.ColumnNote("pixel3"), help.ColumnNote("eyeriss"))
	}
	if a := fb.Arch(0); a.Names() != "k5_e6 skip k3_e1_g2 skip k5_e1 skip skip skip k5_e6 k5_e1 k3_e1_g2 k5_e1 k5_e6 k3_e6 k3_e3 k5_e6 k3_e6 k3_e3 k5_e1 k3_e3 k5_e1 k5_e1_g2" {
		t.Errorf("FBNet row 0 = %s", a.Names())
	}
}

func TestRelative(t *testing.T) {
	brp, err := BRPNAS()
	if err != nil {
		t.Fatal(err)
	}
	ref := brp.Cell(1)
	rel, err := brp.Relative(SD855DSP, ref)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := brp.Column(SD855DSP)
	if rel[1] != 1 || math.Abs(rel[0]-abs[0]/abs[1]) > 1e-12 {
		t.Errorf("Relative: rel[1] = %g, rel[0] = %g, want 1 and %g", rel[1], rel[0], abs[0]/abs[1])
	}
	var disc Cell // all none: disconnected, unmeasured
	if _, err := brp.Relative(SD855DSP, disc); err == nil || !strings.Contains(err.Error(), "no usable value") {
		t.Errorf("Relative to an unmeasured cell: %v", err)
	}
}

func TestColumnLookup(t *testing.T) {
	brp, err := BRPNAS()
	if err != nil {
		t.Fatal(err)
	}
	if i, err := brp.ColumnIndex("855-kryo"); err != nil || brp.Columns()[i] != SD855CPU {
		t.Errorf("substring lookup: %d, %v", i, err)
	}
	_, err = brp.ColumnIndex("pixel9")
	if err == nil || !strings.Contains(err.Error(), SD855GPU) || !strings.Contains(err.Error(), "pixel9") {
		t.Errorf("unknown column error should name it and list valid columns, got %v", err)
	}
	_, err = brp.ColumnIndex("snapdragon-855")
	if err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous column: %v", err)
	}
	help, _ := HELPNB201()
	if i, err := help.ColumnIndex("titanx_1"); err != nil || help.Columns()[i] != "titanx_1" {
		t.Errorf("exact name must win over substring matches: %d, %v", i, err)
	}
}

// writeFile writes content to dir/name, gzipped when name ends in .gz.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(name, ".gz") {
		gz := gzip.NewWriter(f)
		if _, err := gz.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := gz.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	// Official NAS-Bench-201 cells 0 and 1 (the files' indices must match).
	cellA = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
	cellB = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)

func TestUserFiles(t *testing.T) {
	dir := t.TempDir()
	content := "nb201_index,arch_str,dev_a,dev_b\r\n1," + cellB + ",1.5,\r\n0," + cellA + ",2.5,NaN\r\n"
	for _, name := range []string{"plain.csv", "packed.csv.gz", "packed-no-suffix"} {
		var path string
		if name == "packed-no-suffix" {
			path = writeFile(t, dir, name+".gz", content)
			if err := os.Rename(path, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			path = filepath.Join(dir, name)
		} else {
			path = writeFile(t, dir, name, content)
		}
		d, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tab := d.NB201
		if tab == nil || tab.Len() != 2 || tab.Index(0) != 1 || tab.Cell(1).String() != cellA {
			t.Fatalf("%s: parsed %+v", name, d)
		}
		if v, ok := tab.Value(0, 0); !ok || v != 1.5 {
			t.Errorf("%s: value (0,0) = %g, %v", name, v, ok)
		}
		if v, ok := tab.Value(0, 1); ok || !math.IsNaN(v) {
			t.Errorf("%s: empty cell gave %g, %v; want NaN, missing", name, v, ok)
		}
		if _, ok := tab.Value(1, 1); ok {
			t.Errorf("%s: NaN cell reported as measured", name)
		}
	}
	fbContent := "help_idx,op_idx_list,op_names,dev\n0,0 1 2 3 4 5 6 7 8 0 0 0 0 0 0 0 0 0 0 0 0 8,,3.5\n"
	fb, err := OpenFBNet(writeFile(t, dir, "fb.csv", fbContent))
	if err != nil {
		t.Fatal(err)
	}
	if fb.Len() != 1 || fb.Arch(0)[8] != FBNetSkip || fb.ID(0) != 0 {
		t.Errorf("FBNet user file parsed as %v", fb.Arch(0))
	}
	if _, err := OpenNB201(filepath.Join(dir, "fb.csv")); err == nil {
		t.Error("OpenNB201 accepted an FBNet file")
	}
}

func TestBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"empty.csv", "", []string{"empty.csv", "empty file"}},
		{"noarch.csv", "nb201_index,dev\n0,1.0\n", []string{"noarch.csv", "neither arch_str"}},
		{"badnum.csv", "nb201_index,arch_str,dev\n0," + cellA + ",1.0\n1," + cellB + ",fast\n", []string{"badnum.csv:3:", `column "dev"`, `"fast" is not a number`}},
		{"badcell.csv", "nb201_index,arch_str,dev\n0,|conv~0|+|x~0|y~1|+|a~0|b~1|c~2|,1.0\n", []string{"badcell.csv:2", "arch_str", "unknown NAS-Bench-201 op"}},
		{"fields.csv", "nb201_index,arch_str,dev\n0," + cellA + ",1.0,2.0\n", []string{"fields.csv:2", "wrong number of fields"}},
		{"dup.csv", "nb201_index,arch_str,dev\n0," + cellA + ",1.0\n1," + cellA + ",2.0\n", []string{"dup.csv:3", "appears twice"}},
		{"inf.csv", "nb201_index,arch_str,dev\n0," + cellA + ",Inf\n", []string{"inf.csv:2", "infinite"}},
		{"zero.csv", "nb201_index,arch_str,dev\n0," + cellA + ",1.5\n1," + cellB + ",0\n", []string{"zero.csv:3:", `column "dev"`, "not positive"}},
		{"negative.csv", "nb201_index,arch_str,a,dev\n0," + cellA + ",2,-3.5\n", []string{"negative.csv:2:", `column "dev"`, `"-3.5" is not positive`}},
		{"negzero.csv", "nb201_index,arch_str,dev\n0," + cellA + ",-0\n", []string{"negzero.csv:2:", "not positive"}},
		{"fbzero.csv", "help_idx,op_idx_list,dev\n0,0 1 2 3 4 5 6 7 8 0 0 0 0 0 0 0 0 0 0 0 0 8,0.0\n", []string{"fbzero.csv:2:", "not positive"}},
		{"badindex.csv", "nb201_index,arch_str,dev\nx," + cellA + ",1\n", []string{"badindex.csv:2", "nb201_index"}},
		// The index must be the cell's official one: results report it.
		{"swapped.csv", "nb201_index,arch_str,dev\n1," + cellA + ",1\n", []string{"swapped.csv:2", `"nb201_index": 1 is cell ` + cellB + " in NAS-Bench-201, but the row's arch_str is " + cellA}},
		{"beyond.csv", "nb201_index,arch_str,dev\n15625," + cellA + ",1\n", []string{"beyond.csv:2", "15625 is beyond NAS-Bench-201's 15625 cells"}},
		// A unit error: 1e-300 ms drove fits to infinite rates.
		{"tiny.csv", "nb201_index,arch_str,dev\n0," + cellA + ",1e-300\n", []string{"tiny.csv:2:", `"1e-300" is outside [1e-06, 1e+09]`}},
		{"huge.csv", "nb201_index,arch_str,dev\n0," + cellA + ",2e9\n", []string{"huge.csv:2:", `"2e9" is outside`}},
		{"dupcol.csv", "nb201_index,arch_str,dev,dev\n0," + cellA + ",1,2\n", []string{"dupcol.csv:1", `duplicate column "dev"`}},
		{"headeronly.csv", "nb201_index,arch_str,dev\n", []string{"headeronly.csv", "no data rows"}},
		{"fbops.csv", "help_idx,op_idx_list,dev\n0,0 1 2,1.0\n", []string{"fbops.csv:2", "want 22 op indices"}},
		{"fbop9.csv", "help_idx,op_idx_list,dev\n0,0 1 2 3 4 5 6 7 9 0 0 0 0 0 0 0 0 0 0 0 0 0,1.0\n", []string{"fbop9.csv:2", `"9" is not an op index`}},
		{"fbnames.csv", "help_idx,op_idx_list,op_names,dev\n0,0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0,skip,1.0\n", []string{"fbnames.csv:2", "disagrees"}},
		{"quote.csv", "nb201_index,arch_str,dev\n0,\"" + cellA + ",1\n", []string{"quote.csv"}},
		{"truncated.csv.gz", "", nil}, // filled below
	} {
		var path string
		if c.name == "truncated.csv.gz" {
			full := writeFile(t, dir, "full.csv.gz", "nb201_index,arch_str,dev\n"+strings.Repeat("0,"+cellA+",1.0\n", 200))
			data, _ := os.ReadFile(full)
			path = filepath.Join(dir, c.name)
			if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			c.want = []string{c.name}
		} else {
			path = writeFile(t, dir, c.name, c.content)
		}
		_, err := Open(path)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	if _, err := Open(filepath.Join(dir, "nope.csv")); err == nil || !strings.Contains(err.Error(), NameBRPNAS) {
		t.Errorf("missing file: %v (should list the embedded names)", err)
	}
}

func TestBadNumberColumnPosition(t *testing.T) {
	// The error names line and column so that the user can find the cell.
	_, err := ReadNB201(strings.NewReader("nb201_index,arch_str,a,b\n0,"+cellA+",1,2\n1,"+cellB+",3,x\n"), "mem.csv")
	if err == nil || !strings.HasPrefix(err.Error(), "mem.csv:3:") || !strings.Contains(err.Error(), `column "b"`) {
		t.Fatalf("error %v should start with mem.csv:3: and name column b", err)
	}
}

func countNaN(x []float64) int {
	n := 0
	for _, v := range x {
		if math.IsNaN(v) {
			n++
		}
	}
	return n
}

func maxOf(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// BenchmarkLoadAll times parsing the four embedded files (the time every
// program pays once when it first needs device data):
//
//	go test ./hwcost/devicedata -run '^$' -bench LoadAll
func BenchmarkLoadAll(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, e := range embeddedFiles {
			f, _ := dataFS.Open("data/" + e.file)
			gz, _ := gzip.NewReader(f)
			var err error
			if e.fbnet {
				_, err = ReadFBNet(gz, e.file)
			} else {
				_, err = ReadNB201(gz, e.file)
			}
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestLatencyNames: every embedded file but the accuracy table.
func TestLatencyNames(t *testing.T) {
	got := LatencyNames()
	if len(got) != len(Names())-1 || slices.Contains(got, NameAccuracy) || !slices.Contains(got, NameBRPNAS) {
		t.Errorf("LatencyNames() = %v (all: %v)", got, Names())
	}
}

// SameMeasurements matches rows by architecture, not position: reordered
// rows, extra rows and columns and another number format are the same
// measurements; one changed value, a missing one or another space are not.
func TestSameMeasurements(t *testing.T) {
	dir := t.TempDir()
	open := func(name, content string) *Data {
		d, err := Open(writeFile(t, dir, name, content))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := open("a.csv", "arch_str,dev\n"+cellA+",1.5\n"+cellB+",2\n")
	for _, c := range []struct {
		content string
		same    bool
	}{
		{"arch_str,other,dev\n" + cellB + ",9,2.0\n" + cellA + ",8,1.50\n", true},
		{"arch_str,dev\n" + cellA + ",1.5\n", true},
		{"arch_str,dev\n" + cellA + ",1.5\n" + cellB + ",2.5\n", false},
		{"arch_str,dev\n" + cellA + ",1.5\n" + cellB + ",\n", false},
		{"arch_str,device\n" + cellA + ",1.5\n", false},
	} {
		if got := SameMeasurements(a, open("b.csv", c.content), "dev"); got != c.same {
			t.Errorf("%q: same %v, want %v", c.content, got, c.same)
		}
	}
	// Rows in common that neither measured say nothing.
	if empty := open("e.csv", "arch_str,dev\n"+cellA+",\n"); SameMeasurements(empty, open("e2.csv", "arch_str,dev\n"+cellA+",NaN\n"+cellB+",2\n"), "dev") {
		t.Error("no measured row in common: the same")
	}
	// FBNet rows repeat architectures: the k-th occurrence matches the k-th.
	arch := "0 1 2 3 4 5 6 7 8 0 0 0 0 0 0 0 0 0 0 0 0 8"
	other := "1 1 2 3 4 5 6 7 8 0 0 0 0 0 0 0 0 0 0 0 0 8"
	fa := open("fa.csv", "op_idx_list,dev\n"+arch+",1\n"+other+",3\n"+arch+",2\n")
	if !SameMeasurements(fa, open("fb.csv", "op_idx_list,dev\n"+arch+",1\n"+arch+",2\n"+other+",3\n"), "dev") {
		t.Error("FBNet rows in another order, each occurrence kept: not the same")
	}
	if SameMeasurements(fa, open("fc.csv", "op_idx_list,dev\n"+arch+",2\n"+arch+",1\n"+other+",3\n"), "dev") {
		t.Error("FBNet repeats with their values swapped: the same")
	}
	if SameMeasurements(a, fa, "dev") {
		t.Error("a NAS-Bench-201 and an FBNet table: the same")
	}
}
