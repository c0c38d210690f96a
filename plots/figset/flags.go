package figset

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas/study"
)

// SearchReportFlags bind a SearchReportInput to the command-line flags of
// `multihw search report`: Register defines them, Input reads the runs'
// lists and the study.
type SearchReportFlags struct {
	in                                        SearchReportInput
	study, searches, ranks, trained, ablation string

	Out string // the report file (empty: stdout)
}

// Register defines the flags in fs.
func (f *SearchReportFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.study, "study", "", "a reproduction study's directory (`multihw study`): its settings and size, claims, searches, T0 sweep, retraining with seeds and cross-evaluation")
	fs.StringVar(&f.searches, "search", "", "searches: NAME=DIR (output directories of `multihw search`; their baseline-*.json give the equal-budget section)")
	fs.StringVar(&f.ranks, "rank", "", "ranking studies: NAME=DIR (output directories of `multihw search rank`)")
	fs.StringVar(&f.trained, "trained", "", "retrained models: NAME=DIR (output directories of `multihw train`)")
	fs.StringVar(&f.in.BenchFile, "bench", "", "JSON output of `multihw search bench --json`")
	fs.StringVar(&f.ablation, "ablation", "", "JSON outputs of `multihw search ablation --json` (comma-separated: one column per run)")
	fs.StringVar(&f.in.CommandsFile, "commands", "", "text file with the commands that produced the runs (quoted verbatim)")
	fs.StringVar(&f.in.NotesFile, "notes", "", "markdown file appended verbatim (hand-written discussion)")
	fs.StringVar(&f.Out, "out", "", "output file (default: stdout)")
	fs.StringVar(&f.in.FigureDir, "figures", "", "also write figures (search curves, decision probabilities, accuracy vs latency) as PNG+SVG into this directory, linked from the report")
}

// Input is the report's input the flags describe; figures are linked
// relative to Out.
func (f *SearchReportFlags) Input() (SearchReportInput, error) {
	in := f.in
	var err error
	for _, l := range []struct {
		dst  *[]NamedDir
		flag string
		val  string
	}{{&in.Searches, "search", f.searches}, {&in.Trained, "trained", f.trained}, {&in.Ranks, "rank", f.ranks}} {
		pairs, err := flaglist.Pairs(l.val, l.flag)
		if err != nil {
			return in, err
		}
		for _, p := range pairs {
			*l.dst = append(*l.dst, NamedDir{Name: p[0], Dir: p[1]})
		}
	}
	in.AblationFiles = flaglist.Split(f.ablation)
	if in.FigureDir != "" && f.Out != "" {
		if in.FigureRel, err = filepath.Rel(filepath.Dir(f.Out), in.FigureDir); err != nil {
			in.FigureRel = in.FigureDir
		}
	}
	if f.study != "" {
		if in.Study, err = study.Summarize(f.study); err != nil {
			return in, err
		}
	}
	return in, nil
}

// Flags bind a figure set to the command-line flags of `multihw figures`:
// Register defines them, Set checks them and configures the set.
type Flags struct {
	runs, only, hardware, reference string
	seed                            uint64

	Out           string
	Scale         float64
	PNGOnly, List bool
}

// Register defines the flags in fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Out, "out", "", "output directory (created if needed); every figure is written as NAME.png and NAME.svg")
	fs.StringVar(&f.runs, "runs", "", "directory searched for runs: searches (DIR/.../search.json) and training runs (DIR/.../result.json), e.g. DIR/avg, DIR/train/NAME")
	fs.StringVar(&f.only, "only", "", "comma-separated sources to run (see --list; default all)")
	fs.StringVar(&f.hardware, "hardware", "paper", "targets of the latency figures (comma-separated, groups paper, mnv4, all)")
	fs.StringVar(&f.reference, "reference", hwcost.DefaultReference, "reference model of the normalised latencies")
	fs.Float64Var(&f.Scale, "scale", 1, "pixel scale of the PNGs (2: twice the pixels, same layout)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the predictor's training draw")
	fs.BoolVar(&f.PNGOnly, "png-only", false, "write NAME.png only (e.g. small images for a README: --scale 0.7)")
	fs.BoolVar(&f.List, "list", false, "list the figure sources and exit")
}

// Set checks the flags and returns the figure set they describe, writing
// progress to progress.
func (f *Flags) Set(progress io.Writer) (*Set, error) {
	if f.Out == "" {
		return nil, fmt.Errorf("missing --out DIR")
	}
	if err := CheckScale(f.Scale); err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	if st, err := os.Stat(f.Out); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("--out %s exists and is not a directory", f.Out) // before the figures are made
	}
	set := New().Runs(f.runs).Targets(flaglist.Split(f.hardware)...).Reference(f.reference).Seed(f.seed).Progress(progress)
	if strings.TrimSpace(f.only) != "" {
		set.Only(flaglist.Split(f.only)...)
	}
	return set, nil
}
