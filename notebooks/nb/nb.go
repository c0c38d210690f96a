// Package nb holds the few helpers the notebooks' cells share; everything
// else a cell shows comes from the library (figures from plots and
// plots/figset, tables from the result types and package report). A cell
// stops on an error with github.com/janpfeifer/must: must.M1(value, err),
// must.M2(a, b, err), must.M(err).
package nb

import (
	"fmt"
	"os"

	"github.com/janpfeifer/must"

	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/report"
)

// FullEnv switches the notebooks from quick settings (minutes) to full runs
// when set to 1.
const FullEnv = "MULTIHW_FULL"

// Full reports whether the notebooks run their full settings ($MULTIHW_FULL=1).
var Full = os.Getenv(FullEnv) == "1"

// Show displays a figure in the cell: nb.Show(plots.TargetBars(data)). The
// figure's error, or the display's, stops the cell.
func Show(f *plots.Figure, err error) {
	must.M(err)
	must.M(f.Display())
}

// Table prints a result table in the cell as aligned text.
func Table(t *report.Table) { fmt.Print(t.Text()) }
