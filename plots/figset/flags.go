package figset

import (
	"flag"
	"path/filepath"

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
