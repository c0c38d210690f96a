package report

import "testing"

func TestTableMarkdown(t *testing.T) {
	tb := NewTable("model", "MACs (M)", "AVG").RightFrom(1)
	tb.Row("a", "1.0", "0.900")
	tb.Row("long name", "", "1.100")
	want := "| model | MACs (M) | AVG |\n|---|---:|---:|\n| a | 1.0 | 0.900 |\n| long name | | 1.100 |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableText(t *testing.T) {
	tb := NewTable("model", "τ", "AVG").RightFrom(1)
	tb.Row("a", "0.5", "0.900")
	tb.Row("long name", "-0.25", "1.1")
	// Widths: 9 ("long name"), 5 ("-0.25"), 5 ("0.900"); τ is one rune.
	want := "model          τ    AVG\n" +
		"a            0.5  0.900\n" +
		"long name  -0.25    1.1\n"
	if got := tb.Text(); got != want {
		t.Errorf("text:\n%q\nwant:\n%q", got, want)
	}
}

func TestInsertColumn(t *testing.T) {
	tb := NewTable("model", "AVG").RightFrom(1)
	tb.Row("a", "0.9")
	tb.Row("b", "1.1")
	tb.InsertColumn(1, "accuracy", true, []string{"91.0%"})
	want := "| model | accuracy | AVG |\n|---|---:|---:|\n| a | 91.0% | 0.9 |\n| b | | 1.1 |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("after InsertColumn:\n%s\nwant:\n%s", got, want)
	}
	tb.InsertColumn(9, "recipe", false, []string{"sgd", "rmsprop"})
	if got := tb.Rows[1][3]; got != "rmsprop" || tb.Header[3] != "recipe" {
		t.Errorf("appended column: header %v, row %v", tb.Header, tb.Rows[1])
	}
}

func TestDoc(t *testing.T) {
	var d Doc
	d.Heading(2, "Searches (%d)", 2)
	d.Printf("text %s\n\n", "here")
	tb := NewTable("a")
	tb.Row("x")
	d.Table(tb)
	want := "## Searches (2)\n\ntext here\n\n| a |\n|---|\n| x |\n"
	if d.String() != want {
		t.Errorf("doc:\n%q\nwant\n%q", d.String(), want)
	}
}
