package figset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/plots"
)

// Source is one producer of the figure set.
type Source struct {
	// Name selects the source (Set.Only); Summary says what it draws.
	Name, Summary string
	make          func(*env) ([]*plots.Figure, error)
}

// sources are the producers, in output order.
var sources = []Source{
	{"references", "normalised latency of the reference models on each target; published ImageNet top-1 vs AVG/MAX latency", referenceFigures},
	{"breakdown", "where MobileNet-MultiHW-AVG's time goes on each target, by op type", breakdownFigures},
	{"arch", "block diagrams of MultiAVG, MultiMAX and MobileNetV2", archFigures},
	{"cost_fit", "analytic latency models of the chosen targets: leave-one-model-out prediction vs published latency", costFitFigures},
	{"device_predictor", "structured latency predictor vs real measurements (NAS-Bench-201 on the Pixel 4 stand-ins)", devicePredictorFigures},
	{"nb201", "NAS-Bench-201 on real devices: winners of each single-target objective and of AVG/MAX at budgets 0.3 and 0.5", nb201Figures},
	{"search", "searches under the runs directory: curves, decision probabilities, final architectures on each target", searchFigures},
	{"train", "training runs under the runs directory: curves per run, test accuracy vs AVG/MAX latency with Pareto front", trainFigures},
	{"study", "reproduction studies under the runs directory: T0 sweep, accuracy vs latency on every target with seed and cost spreads, cross-evaluation", studyFigures},
}

// Sources returns the producers in output order.
func Sources() []Source { return slices.Clone(sources) }

// SourceNames returns the names of the producers in output order.
func SourceNames() []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name
	}
	return names
}

// Set configures the figure set: create it with New, chain the options, call
// Make. Options record the first invalid value, which Make reports.
type Set struct {
	runs      string
	targets   []string
	reference string
	seed      uint64
	only      []string
	progress  io.Writer
	err       error
}

// New starts the configuration of the figure set. Defaults: no runs
// directory (the run sources are skipped), the paper's targets
// (hwcost.PaperTargets) normalised to hwcost.DefaultReference, seed 1, every
// source, no progress output.
func New() *Set {
	return &Set{targets: []string{"paper"}, reference: hwcost.DefaultReference, seed: 1}
}

func (s *Set) fail(err error) *Set {
	if s.err == nil {
		s.err = err
	}
	return s
}

// Runs sets the directory searched for runs (see FindRuns); "" means none.
func (s *Set) Runs(dir string) *Set {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return s.fail(fmt.Errorf("figset: runs %s: not a directory", dir))
		}
	}
	s.runs = dir
	return s
}

// Targets sets the hardware targets of the latency figures (hwcost names and
// groups: paper, mnv4, all).
func (s *Set) Targets(names ...string) *Set {
	if len(names) == 0 {
		return s.fail(errors.New("figset: no targets"))
	}
	s.targets = slices.Clone(names)
	return s
}

// Reference sets the model the latencies are normalised to.
func (s *Set) Reference(model string) *Set { s.reference = model; return s }

// Seed sets the seed of the latency predictor's training draw.
func (s *Set) Seed(seed uint64) *Set { s.seed = seed; return s }

// Only restricts the set to the named sources (see Sources), kept in output
// order; no names means all.
func (s *Set) Only(names ...string) *Set {
	for _, n := range names {
		if !slices.Contains(SourceNames(), n) {
			return s.fail(fmt.Errorf("figset: unknown figure source %q (valid: %s)", n, strings.Join(SourceNames(), ", ")))
		}
	}
	s.only = slices.Clone(names)
	return s
}

// Progress writes one line per source (figures made and time, or why it was
// skipped) to w; nil: quiet.
func (s *Set) Progress(w io.Writer) *Set { s.progress = w; return s }

// Figure is one figure of the set and the source that made it.
type Figure struct {
	Source string
	*plots.Figure
}

// Skip says why a source drew nothing.
type Skip struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// Result is the figure set: figures in source order, and the sources skipped.
type Result struct {
	Figures []Figure
	Skipped []Skip
	// Runs are the runs found under the runs directory (nil without one).
	Runs *Runs
}

// Plots returns the figures alone, in order.
func (r *Result) Plots() []*plots.Figure {
	out := make([]*plots.Figure, len(r.Figures))
	for i, f := range r.Figures {
		out[i] = f.Figure
	}
	return out
}

// Lookup returns the figure with the given name.
func (r *Result) Lookup(name string) (*plots.Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f.Figure, true
		}
	}
	return nil, false
}

// File is a figure written by Result.Write.
type File struct {
	Source string   `json:"source"`
	Name   string   `json:"name"`
	Files  []string `json:"files"`
}

// Figures are written at MinScale to MaxScale times their default size:
// below a quarter the text is unreadable (a scale of 5e-324 wrote 1×1-pixel
// images), above 8 the images are tens of megapixels.
const (
	MinScale = 0.25
	MaxScale = 8
)

// CheckScale reports a scale outside [MinScale, MaxScale].
func CheckScale(scale float64) error {
	if !(scale >= MinScale && scale <= MaxScale) {
		return fmt.Errorf("scale must be in [%g, %g], got %g", MinScale, float64(MaxScale), scale)
	}
	return nil
}

// Write writes every figure to dir as NAME.png and NAME.svg at scale times its
// default size (see plots.WriteFiles) and returns the files, in order.
func (r *Result) Write(dir string, scale float64) ([]File, error) {
	if err := CheckScale(scale); err != nil {
		return nil, fmt.Errorf("figset: %w", err)
	}
	if len(r.Figures) == 0 {
		return nil, nil
	}
	paths, err := plots.WriteFiles(dir, scale, r.Plots()...)
	if err != nil {
		return nil, err
	}
	files := make([]File, len(r.Figures))
	for i, f := range r.Figures {
		files[i] = File{Source: f.Source, Name: f.Name, Files: paths[2*i : 2*i+2]}
	}
	return files, nil
}

// WritePNG writes only the PNGs (NAME.png, e.g. small images committed for a
// README), at scale times each figure's default size, atomically; every
// figure is rendered before any file is written.
func (r *Result) WritePNG(dir string, scale float64) ([]File, error) {
	if err := CheckScale(scale); err != nil {
		return nil, fmt.Errorf("figset: %w", err)
	}
	pngs := make([][]byte, len(r.Figures))
	for i, f := range r.Figures {
		w, h := f.DefaultSize()
		w, h = max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
		var err error
		if pngs[i], err = f.PNG(w, h); err != nil {
			return nil, fmt.Errorf("figset: %s: %w", f.Name, err)
		}
	}
	for _, f := range r.Figures {
		if err := plots.CheckFigureFile(filepath.Join(dir, f.Name+".png")); err != nil {
			return nil, fmt.Errorf("figset: %w", err)
		}
	}
	files := make([]File, len(r.Figures))
	for i, f := range r.Figures {
		path := filepath.Join(dir, f.Name+".png")
		if err := plots.WriteFigureFile(path, pngs[i]); err != nil {
			return files[:i], err
		}
		files[i] = File{Source: f.Source, Name: f.Name, Files: []string{path}}
	}
	return files, nil
}

// env is what every source may use.
type env struct {
	metric *hwcost.Metric
	seed   uint64
	// runs are the runs found (nil without a runs directory).
	runs *Runs
}

// skipError says why a source has nothing to draw (its data is absent).
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// Make produces the figures of the selected sources. A source whose data is
// absent is skipped (Result.Skipped); any other failure is an error naming the
// source. Figure names are unique across sources. It never panics.
func (s *Set) Make() (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("figset: %v", r)
		}
	}()
	if s.err != nil {
		return nil, s.err
	}
	m, err := hwcost.NewMetric().Targets(s.targets...).ReferenceModel(s.reference).Done()
	if err != nil {
		return nil, fmt.Errorf("figset: %w", err)
	}
	e := &env{metric: m, seed: s.seed}
	res = &Result{}
	if s.runs != "" {
		if e.runs, err = FindRuns(s.runs); err != nil {
			return nil, err
		}
		res.Runs = e.runs
		if s.progress != nil {
			for _, p := range e.runs.Pending {
				fmt.Fprintf(s.progress, "runs: %s\n", p)
			}
		}
	}
	names := map[string]string{} // figure name → source
	for _, src := range sources {
		if len(s.only) > 0 && !slices.Contains(s.only, src.Name) {
			continue
		}
		start := time.Now()
		figs, err := src.make(e)
		var skip *skipError
		if errors.As(err, &skip) {
			res.Skipped = append(res.Skipped, Skip{src.Name, skip.reason})
			if s.progress != nil {
				fmt.Fprintf(s.progress, "%-17s skipped: %s\n", src.Name, skip.reason)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("figset: %s: %w", src.Name, err)
		}
		for _, f := range figs {
			if prev, dup := names[f.Name]; dup {
				return nil, fmt.Errorf("figset: %s: figure name %q is also produced by %s", src.Name, f.Name, prev)
			}
			names[f.Name] = src.Name
			res.Figures = append(res.Figures, Figure{Source: src.Name, Figure: f})
		}
		if s.progress != nil {
			fmt.Fprintf(s.progress, "%-17s %d figures in %.1f s\n", src.Name, len(figs), time.Since(start).Seconds())
		}
	}
	return res, nil
}

// fileStem makes a run name usable as part of a figure name (plots.WriteFiles
// accepts letters, digits, '.', '-' and '_').
func fileStem(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
