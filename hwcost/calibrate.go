package hwcost

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/jobstate"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/report"
)

// Calibration is the whole `multihw cost fit`: the fit of the targets, the
// reference devices and the adapt studies fitted from it (unless skipped),
// and the report of all three. Its JSON is the fit result with the studies.
type Calibration struct {
	*FitResult
	Studies *Studies `json:"studies,omitempty"`
	// Refs are the reference devices (nil when the studies were skipped).
	Refs *ReferenceSet `json:"-"`
	// Report is FIT_REPORT.md.
	Report string `json:"-"`
	// state holds the finished parts until WriteFiles (nil: none kept).
	state *jobstate.State
}

// Calibrate runs f, then (with studies) fits the reference devices on the
// result and runs the adapt studies, and writes the report. Progress lines
// go to w (nil: none). With a state path (see FitStateFile; "" for none) the
// reference devices and each study row are saved there as they finish, and a
// fit killed before WriteFiles resumes from them when rerun by the same
// program with the same result.
func Calibrate(f *Fitter, label string, studies bool, statePath string, w io.Writer) (*Calibration, error) {
	pr := progress.New(w)
	start := time.Now()
	at := func() string { return progress.Duration(time.Since(start).Seconds()) }
	pr.Line(fmt.Sprintf("fitting %s ...", label), false)
	res, err := f.Run()
	if err != nil {
		return nil, err
	}
	c := &Calibration{FitResult: res}
	if studies {
		if statePath != "" {
			key, err := fitStateKey(res.Params)
			if err != nil {
				return nil, err
			}
			if c.state, err = jobstate.Open(statePath, key); err != nil {
				return nil, err
			}
		}
		if refs := new(ReferenceSet); c.state.Get(refsPart, refs) {
			c.Refs = refs
			pr.Line(fmt.Sprintf("fitted in %s; reference devices from %s (an interrupted fit of the same program and parameters)", at(), statePath), false)
		} else {
			pr.Line(fmt.Sprintf("fitted in %s; reference devices ...", at()), false)
			if c.Refs, err = FitReferenceDevices(ReferenceRows, res.Params); err != nil {
				return nil, err
			}
			if err := c.state.Put(refsPart, c.Refs); err != nil {
				return nil, err
			}
		}
		pr.Line(fmt.Sprintf("reference devices done at %s; adapt studies (HELP, BRP-NAS, FBNet; %d seeds, HELP's 10-sample study also %d) ...",
			at(), len(StudySeeds), len(HELPWideSeeds)), false)
		if c.Studies, err = runStudies(LibraryFrom(res.Params, c.Refs), pr, c.state); err != nil {
			return nil, err
		}
		pr.Line(fmt.Sprintf("studies done at %s", at()), false)
	}
	if c.Report, err = res.Report(c.Refs, c.Studies); err != nil {
		return nil, err
	}
	return c, nil
}

// WriteFiles writes params.json, FIT_REPORT.md, fit_pairs.csv and (with the
// studies) reference_devices.json into dir, atomically, naming each written
// file (and what was not written) on log.
func (c *Calibration) WriteFiles(dir string, log io.Writer) error {
	// Each replaces only an earlier fit's file: --out may name a folder of
	// the user's. The JSON files' notes say how they were made.
	isCSV := func(head []byte) bool { return bytes.HasPrefix(head, []byte(pairsHeader)) }
	isJSON := atomicfile.HeadHolds(4096, fittedNote)
	type file struct {
		name string
		data []byte
		ours func([]byte) bool
	}
	files := []file{{"params.json", c.Params.JSON(), isJSON}, {"FIT_REPORT.md", []byte(c.Report), report.SameTitle([]byte(c.Report))},
		{"fit_pairs.csv", c.PairsCSV(), isCSV}}
	if c.Refs != nil {
		files = append(files, file{"reference_devices.json", c.Refs.JSON(), isJSON})
	} else {
		fmt.Fprintln(log, "--no-studies: FIT_REPORT.md has no validation sections and reference_devices.json is unchanged")
	}
	const what = "a file of `multihw cost fit`"
	for _, fl := range files { // all checked before any is written
		if err := atomicfile.CheckOwned(filepath.Join(dir, fl.name), what, fl.ours); err != nil {
			return err
		}
	}
	for _, fl := range files {
		p := filepath.Join(dir, fl.name)
		if err := atomicfile.WriteOwned(p, fl.data, 0o644, what, fl.ours); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", p)
	}
	return c.state.Remove() // the fit's files hold it all now
}

// Summary is the fit's figures per target: rows, in-sample and held-out
// error and rank correlation, the MACs baseline's, and the held-out Spearman
// of each benchmark source.
func (r *FitResult) Summary() *report.Table {
	tb := report.NewTable("target", "rows", "fit err", "fit rho", "held-out err", "held-out rho", "MACs held-out err", "MACs rho",
		"bench held-out rho").RightFrom(0)
	for _, t := range r.Targets {
		bench := ""
		for _, b := range t.Bench {
			if math.IsNaN(b.HeldOut.Spearman) {
				bench += "n/a "
			} else {
				bench += fmt.Sprintf("%.4f ", b.HeldOut.Spearman)
			}
		}
		// A target fitted to benchmark networks alone (coral-edgetpu) has no
		// published rows: its row figures are n/a, not NaN.
		tb.Row(t.Target, fmt.Sprint(len(t.Rows)), pct(t.Fit.MedianAbsErr), f3(t.Fit.Spearman),
			pct(t.HeldOut.MedianAbsErr), f3(t.HeldOut.Spearman),
			pct(t.MACsHeldOut.MedianAbsErr), f3(t.MACs.Spearman), bench)
	}
	return tb
}
