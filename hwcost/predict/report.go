package predict

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/jobstate"
	"github.com/multihw/multihw/internal/repo"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/report"

	"gonum.org/v1/gonum/stat"
)

// Comparison is the lookup table and the structured predictor fitted on the
// same training architectures of one device column and scored on the rest.
type Comparison struct {
	File       string  `json:"file"`
	Column     string  `json:"column"`
	Note       string  `json:"note,omitempty"` // why the column is not a measurement (excluded from the verdict)
	Lookup     Metrics `json:"lookup"`
	Structured Metrics `json:"structured"`
	Lambda     float64 `json:"lambda"` // penalty chosen by cross-validation
	Trees      int     `json:"trees"`  // boosted trees chosen by cross-validation
	// Gains are structured ρ − lookup ρ for each draw of the training set
	// (ReportConfig.Seeds of them, the first this comparison's own).
	Gains []float64 `json:"gains,omitempty"`
}

// GainInterval is the 95% Student-t interval of the mean ρ gain over the
// draws (NaN with fewer than 2).
func (c Comparison) GainInterval() stats.Interval { return stats.MeanInterval(c.Gains, 0.95) }

// Compare fits both predictors on n architectures of d drawn with seed and
// scores them on the others.
func Compare(d *Dataset, n int, seed uint64) (Comparison, error) {
	var c Comparison
	train, test, err := d.Split(n, seed)
	if err != nil {
		return c, err
	}
	if c.Lookup, err = Evaluate(NewLookup(), train, test); err != nil {
		return c, err
	}
	s := NewStructured().Seed(seed)
	if c.Structured, err = Evaluate(s, train, test); err != nil {
		return c, err
	}
	c.Lambda, c.Trees = s.Chosen()
	return c, nil
}

// ReportConfig says what RunReport compares.
type ReportConfig struct {
	Train int    // training architectures per device
	Seed  uint64 // seed of the splits and of the structured predictor
	// Seeds is the number of draws of the training set per device (seeds
	// Seed, Seed+1, ...; 0 means 1): how much the ρ gain moves with the draw.
	Seeds int
	Files []string // embedded file names; nil means nb201-brpnas, nb201-help, fbnet-help
	// Progress, when set, receives one line per device as the report runs.
	Progress io.Writer
	// State, when set, is a file (internal/jobstate) that keeps each device's
	// comparison as it finishes, so that a killed report resumes from them
	// when rerun by the same program with the same settings.
	State string
}

// EvalStateFile is the state file Report keeps next to its report.
const EvalStateFile = ".cost-eval-state"

// stateKey identifies what the saved comparisons depend on: the program and
// the settings that change them.
func (c *ReportConfig) stateKey() (string, error) {
	return jobstate.ProgramKey(fmt.Appendf(nil, "train %d seed %d seeds %d files %q", c.Train, c.Seed, c.seeds(), c.files()))
}

func (c *ReportConfig) seeds() int { return max(c.Seeds, 1) }

func (c *ReportConfig) files() []string {
	if c.Files == nil {
		return []string{devicedata.NameBRPNAS, devicedata.NameHELPNB201, devicedata.NameHELPFBNet}
	}
	return c.Files
}

// RunReport compares the predictors on every column of the configured files,
// measured or not (columns with a devicedata note are compared too, but
// WriteReport keeps them out of the verdict).
func RunReport(cfg ReportConfig) ([]Comparison, error) {
	type job struct {
		file, column string
		data         *devicedata.Data
	}
	var jobs []job
	for _, f := range cfg.files() {
		data, err := devicedata.Open(f)
		if err != nil {
			return nil, err
		}
		for _, col := range data.Table().Columns() {
			jobs = append(jobs, job{f, col, data})
		}
	}
	var st *jobstate.State
	if cfg.State != "" {
		key, err := cfg.stateKey()
		if err != nil {
			return nil, err
		}
		if st, err = jobstate.Open(cfg.State, key); err != nil {
			return nil, err
		}
	}
	var out []Comparison
	for k, j := range jobs {
		start := time.Now()
		if c := (Comparison{}); st.Get(j.file+"\x00"+j.column, &c) {
			out = append(out, c)
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "[%d/%d] %s %s: from %s (an interrupted run of the same program and settings)\n", k+1, len(jobs), j.file, j.column, cfg.State)
			}
			continue
		}
		d, err := FromData(j.data, j.column)
		if err != nil {
			return nil, err
		}
		c, err := Compare(d, cfg.Train, cfg.Seed)
		if err != nil {
			return nil, err
		}
		c.File, c.Column, c.Note = j.file, j.column, j.data.Table().ColumnNote(j.column)
		c.Gains = []float64{c.Structured.Spearman - c.Lookup.Spearman}
		for k := 1; k < cfg.seeds(); k++ {
			ck, err := Compare(d, cfg.Train, cfg.Seed+uint64(k))
			if err != nil {
				return nil, err
			}
			c.Gains = append(c.Gains, ck.Structured.Spearman-ck.Lookup.Spearman)
		}
		if err := st.Put(j.file+"\x00"+j.column, c); err != nil {
			return nil, err
		}
		out = append(out, c)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "[%d/%d] %s %s: lookup %.4f structured %.4f (%.1fs)\n", k+1, len(jobs), j.file, j.column,
				c.Lookup.Spearman, c.Structured.Spearman, time.Since(start).Seconds())
		}
	}
	return out, nil
}

// StructuredWins counts the measured device columns (rows without a note)
// and those on which the structured predictor ranks better than the lookup
// table (higher test Spearman ρ).
func StructuredWins(rows []Comparison) (wins, measured int) {
	for _, r := range rows {
		if r.Note != "" {
			continue
		}
		measured++
		if r.Structured.Spearman > r.Lookup.Spearman {
			wins++
		}
	}
	return wins, measured
}

// Report runs the comparison of cfg and writes its report to path (empty:
// hwcost/predict/REPORT.md of the repository, found before anything runs).
// It returns the path written and the rows. Finished devices are kept in
// EvalStateFile next to the report until it is written (cfg.State), so a
// killed report resumes.
func Report(cfg ReportConfig, path string) (string, []Comparison, error) {
	if path == "" {
		dir, err := repo.Find("hwcost/predict", "--out")
		if err != nil {
			return "", nil, err
		}
		path = filepath.Join(dir, "REPORT.md")
	}
	cfg.State = filepath.Join(filepath.Dir(path), EvalStateFile)
	rows, err := RunReport(cfg)
	if err != nil {
		return "", nil, err
	}
	if err := WriteReportFile(path, cfg, rows); err != nil {
		return "", nil, err
	}
	return path, rows, jobstate.Remove(cfg.State)
}

// WriteReportFile writes the comparison's markdown (WriteReport) to path,
// atomically.
func WriteReportFile(path string, cfg ReportConfig, rows []Comparison) error {
	var b bytes.Buffer
	if err := WriteReport(&b, cfg, rows); err != nil {
		return err
	}
	return report.WriteFile(path, b.Bytes())
}

// WriteReport writes the comparison as markdown. The text depends only on
// the inputs, so a re-run with the same configuration reproduces it byte for
// byte.
func WriteReport(w io.Writer, cfg ReportConfig, rows []Comparison) error {
	d := &report.Doc{}
	p := d.Printf
	p("# Latency predictors on real measurements\n\n")
	command := fmt.Sprintf("multihw cost eval --all --train %d --seed %d", cfg.Train, cfg.Seed)
	if cfg.seeds() > 1 {
		command += fmt.Sprintf(" --seeds %d", cfg.seeds())
	}
	p("Generated by `%s` (package `hwcost/predict`); do not edit by hand.\n\n", command)
	p("For every device column, %d architectures with a measured latency are drawn at random (seed %d) to fit both\n", cfg.Train, cfg.Seed)
	p("predictors; all other measured architectures are the test set. Figures are test-set Spearman rank correlation\n")
	p("(ρ), relative RMSE and the fraction predicted within ±10%%.\n\n")
	p("- **lookup**: TuNAS-style lookup table, one cost per (position, op), summed, least squares.\n")
	p("- **structured**: shared op costs for positions with the same layer shapes plus penalised per-position\n")
	p("  deviations, separate costs for NAS-Bench-201 ops that cannot run (dead edges), node/addition terms, Huber loss,\n")
	p("  boosted trees on the residuals; penalty λ and number of trees chosen by 5-fold cross-validation on the\n")
	p("  training set only.\n\n")

	measured := writeVerdict(d, cfg, rows)
	p("Pixel 4 stand-ins (nb201-brpnas, target ρ ≥ 0.95):\n\n")
	tb := report.NewTable("target", "lookup ρ", "structured ρ")
	for _, col := range devicedata.Pixel4Targets {
		for _, r := range rows {
			if r.File == devicedata.NameBRPNAS && r.Column == col {
				tb.Row(col, fmt.Sprintf("%.4f", r.Lookup.Spearman), fmt.Sprintf("%.4f", r.Structured.Spearman))
			}
		}
	}
	d.Table(tb)
	p("\n")

	files := []string{}
	for _, r := range rows {
		if !slices.Contains(files, r.File) {
			files = append(files, r.File)
		}
	}
	for _, f := range files {
		p("## %s\n\n", f)
		var measured, excluded []Comparison
		for _, r := range rows {
			switch {
			case r.File != f:
			case r.Note != "":
				excluded = append(excluded, r)
			default:
				measured = append(measured, r)
			}
		}
		d.Table(ComparisonTable(measured))
		if len(excluded) > 0 {
			p("\nNot measurements, excluded from the verdict (shown for reference):\n\n")
			ex := report.NewTable("column", "why", "lookup ρ", "structured ρ")
			for _, r := range excluded {
				ex.Row(r.Column, r.Note, fmt.Sprintf("%.4f", r.Lookup.Spearman), fmt.Sprintf("%.4f", r.Structured.Spearman))
			}
			d.Table(ex)
		}
		p("\n")
	}
	p("## Caveats\n\n")
	p("- nb201-brpnas: desktop-cpu and desktop-gpu are nearly identical upstream (probably one is mislabelled);\n")
	p("  they are listed separately but are one device.\n")
	p("- The HELP phone columns (pixel2, essential_ph_1, samsung_a50, samsung_s7) hold whole milliseconds: ties\n")
	p("  and rounding cap the attainable ρ.\n")
	p("- nb201-help's eyeriss/fpga and fbnet-help's pixel3/raspi4/eyeriss/fpga are simulator estimates or per-op\n")
	p("  lookup-table sums: a lookup table fits them (nearly) exactly, so they cannot test a predictor.\n")
	p("- nb201-help pixel3/raspi4 (HW-NAS-Bench) time the ~200 cells whose output ignores the input at ~0.003-0.06 ms\n")
	p("  (the compiler folds the whole network): their relative errors are huge and dominate rel RMSE there.\n")
	if cfg.seeds() < 2 {
		p("- One split per device: differences below ~0.001 in ρ are within what another seed would change.\n")
	}
	for _, r := range measured {
		if math.IsNaN(r.Structured.Spearman) || math.IsNaN(r.Lookup.Spearman) {
			p("- %s %s: ρ is undefined (constant predictions or measurements).\n", r.File, r.Column)
		}
	}
	_, err := io.WriteString(w, d.String())
	return err
}

// writeVerdict writes the verdict section: the columns on which structured
// ranks better than lookup on the first draw, and with several draws how
// many of those gains the draws resolve. It returns the measured columns.
func writeVerdict(d *report.Doc, cfg ReportConfig, rows []Comparison) (measured []Comparison) {
	for _, r := range rows {
		if r.Note == "" {
			measured = append(measured, r)
		}
	}
	wins, _ := StructuredWins(rows)
	var gains []float64
	for _, r := range measured {
		gains = append(gains, r.Structured.Spearman-r.Lookup.Spearman)
	}
	d.Printf("## Verdict\n\n")
	d.Printf("Structured beats lookup on **%d of %d** measured device columns", wins, len(measured))
	if cfg.seeds() > 1 {
		d.Printf(" on the draw of seed %d", cfg.Seed)
	}
	if len(gains) > 0 {
		d.Printf(" (ρ gain: min %+.5f, median %+.4f, max %+.4f)", slices.Min(gains), stats.Median(gains), slices.Max(gains))
	}
	d.Printf(".\n\n")
	if cfg.seeds() > 1 {
		writeDrawVerdict(d, cfg, measured)
	}
	return measured
}

// writeDrawVerdict says on how many measured columns the ρ gain over the
// draws of the training set is resolved: its mean's 95% interval above 0,
// below 0, or containing 0 (listed).
func writeDrawVerdict(d *report.Doc, cfg ReportConfig, measured []Comparison) {
	var above, below int
	var open []string
	for _, r := range measured {
		ci := r.GainInterval()
		switch {
		case ci.Lo > 0:
			above++
		case ci.Hi < 0:
			below++
		default:
			open = append(open, fmt.Sprintf("%s %s (%+.5f [%+.5f, %+.5f])", r.File, r.Column, stat.Mean(r.Gains, nil), ci.Lo, ci.Hi))
		}
	}
	d.Printf("Over %d draws of the training architectures (seeds %d..%d), the mean ρ gain's 95%% interval (Student t over "+
		"the draws) lies above 0 on **%d of %d** measured columns and below 0 on %d", cfg.seeds(), cfg.Seed,
		cfg.Seed+uint64(cfg.seeds())-1, above, len(measured), below)
	if len(open) == 0 {
		d.Printf("; none is unresolved.\n\n")
		return
	}
	d.Printf("; unresolved (the interval contains 0) on %d: %s.\n\n", len(open), strings.Join(open, "; "))
}

// ComparisonTable tabulates comparisons, one row per device column: test
// size, both predictors' Spearman ρ and its difference, relative RMSE and
// share within ±10%, and the structured predictor's chosen penalty and
// trees.
func ComparisonTable(rows []Comparison) *report.Table {
	draws := slices.ContainsFunc(rows, func(r Comparison) bool { return len(r.Gains) > 1 })
	header := []string{"device", "n test", "lookup ρ", "structured ρ", "Δρ"}
	if draws {
		header = append(header, "Δρ over draws: mean [95% CI]")
	}
	tb := report.NewTable(append(header, "lookup rel RMSE", "structured rel RMSE", "lookup ±10%", "structured ±10%", "λ", "trees")...)
	for _, r := range rows {
		cells := []string{r.Column, fmt.Sprint(r.Lookup.NTest), fmt.Sprintf("%.4f", r.Lookup.Spearman), fmt.Sprintf("%.4f", r.Structured.Spearman),
			fmt.Sprintf("%+.5f", r.Structured.Spearman-r.Lookup.Spearman)}
		if draws {
			ci := r.GainInterval()
			cells = append(cells, fmt.Sprintf("%+.5f [%+.5f, %+.5f]", stat.Mean(r.Gains, nil), ci.Lo, ci.Hi))
		}
		tb.Row(append(cells, fmt.Sprintf("%.3f", r.Lookup.RelRMSE),
			fmt.Sprintf("%.3f", r.Structured.RelRMSE), fmt.Sprintf("%.3f", r.Lookup.Within10),
			fmt.Sprintf("%.3f", r.Structured.Within10), fmt.Sprintf("%g", r.Lambda), fmt.Sprint(r.Trees))...)
	}
	return tb
}

// SpearmanTable is the matrix of Spearman rank correlations between the
// columns (one per label): how much the columns agree about the order of the
// rows.
func SpearmanTable(labels []string, columns [][]float64) *report.Table {
	tb := report.NewTable(append([]string{"Spearman ρ"}, labels...)...).RightFrom(1)
	for i, a := range labels {
		row := []string{a}
		for j := range labels {
			row = append(row, fmt.Sprintf("%.3f", Score(columns[i], columns[j]).Spearman))
		}
		tb.Row(row...)
	}
	return tb
}
