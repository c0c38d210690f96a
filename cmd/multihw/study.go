package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas/study"
)

func init() {
	register(&command{name: "study plan", summary: "plan a reproduction study (T0 sweeps, single- vs multi-target searches, retraining with seeds) in a directory", run: runStudyPlan})
	register(&command{name: "study run", summary: "run (or resume) a planned study: every unfinished search and training, in order", run: runStudyRun})
	register(&command{name: "study status", summary: "what a study has done, what is left, and what it cost", run: runStudyStatus})
	register(&command{name: "study report", summary: "the study's report (nas/SEARCH_REPORT.md): `search report --study DIR`", run: runStudyReport})
	register(&command{name: "study pilot", summary: "seed-spread pilot: train references with K seeds at a proxy setting; seeds needed per difference; the study's size", run: runStudyPilot})
}

func runStudyPlan(args []string) error {
	fs := newFlags("study plan", "--dir DIR [--quick] [study flags] [--pilot DIR [--search-rate R]] [--json]")
	dir := fs.String("dir", "", "study directory")
	pilot := fs.String("pilot", "", "pilot directory (`study pilot --out`): estimate the study's size from its measurements")
	rate := fs.Float64("search-rate", 0, "search steps per minute for the estimate (default: the pilot's timed search)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	f := &study.Flags{}
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("study plan needs --dir DIR")
	}
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: []string{"search-rate"}, Chosen: *pilot != "", For: "the estimate of --pilot DIR"}); err != nil {
		return err
	}
	if err := flaglist.NotZero(fs, "search-rate"); err != nil {
		return err
	}
	cfg, err := f.Config(fs)
	if err != nil {
		return err
	}
	p, err := study.NewPlanWithPilot(cfg, *pilot, *rate)
	if err != nil {
		return err
	}
	if err := cfg.CheckDataset(); err != nil {
		return err
	}
	if p, err = study.WritePlan(*dir, p); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(p)
	}
	printf("%srun it: multihw study run --dir %s\n", p.Summary(*dir), *dir)
	return nil
}

func runStudyRun(args []string) error {
	fs := newFlags("study run", "--dir DIR [--only search|train]")
	dir := fs.String("dir", "", "study directory (planned with `study plan`)")
	only := fs.String("only", "", "run only the jobs of one kind: search or train")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("study run needs --dir DIR")
	}
	r := study.NewRunner(*dir).Progress(os.Stderr)
	switch *only {
	case "":
	case study.KindSearch, study.KindTrain:
		r = r.Only(*only)
	default:
		return fmt.Errorf("--only %q: want search or train", *only)
	}
	ctx, stop := interruptible()
	defer stop()
	st, err := r.Run(ctx)
	if err != nil {
		return err
	}
	printf("%d of %d jobs done in %s\n", st.Done(), len(st.Jobs), *dir)
	if !st.Complete() {
		printf("not finished (blocked or not selected): run `multihw study status --dir %s`\n", *dir)
	}
	return nil
}

func runStudyStatus(args []string) error {
	fs := newFlags("study status", "--dir DIR [--json]")
	dir := fs.String("dir", "", "study directory")
	asJSON := fs.Bool("json", false, "print the jobs and the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("study status needs --dir DIR")
	}
	st, err := study.Inspect(*dir)
	if err != nil {
		return err
	}
	sum, err := study.Summarize(*dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(struct {
			Status  *study.Status  `json:"status"`
			Summary *study.Summary `json:"summary"`
		}{st, sum})
	}
	printf("%s", st.Summary(sum))
	return nil
}

func runStudyReport(args []string) error {
	fs := newFlags("study report", "--dir DIR [--out FILE] [--figures DIR] [other `search report` flags]")
	dir := fs.String("dir", "", "study directory")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fs.Usage()
		fmt.Fprintln(fs.Output(), "\nThe other flags are those of `multihw search report` (see `multihw search report -h`).")
		return errUsage
	}
	// --dir is ours; everything else goes to search report.
	var rest []string
	dirs := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--dir" || a == "-dir":
			if i+1 >= len(args) {
				return errors.New("--dir needs a value")
			}
			*dir, dirs = args[i+1], dirs+1
			i++
		case strings.HasPrefix(a, "--dir=") || strings.HasPrefix(a, "-dir="):
			*dir, dirs = a[strings.Index(a, "=")+1:], dirs+1
		default:
			rest = append(rest, a)
		}
	}
	if dirs > 1 {
		return fmt.Errorf("--dir given %d times: give it once", dirs)
	}
	if *dir == "" {
		return errors.New("study report needs --dir DIR")
	}
	return runSearchReport(append([]string{"--study", *dir}, rest...))
}

func runStudyPilot(args []string) error {
	fs := newFlags("study pilot", "--out DIR [--models LIST] [--seeds K] [--timing-steps N] [study flags] [--json]")
	var pf study.PilotFlags
	pf.Register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	f := &study.Flags{}
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if pf.Out == "" {
		return errors.New("study pilot needs --out DIR")
	}
	cfg, err := f.Config(fs)
	if err != nil {
		return err
	}
	pc, err := pf.Config(cfg)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	res, err := study.NewPilot(pf.Out, pc).Progress(os.Stderr).Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; run the same command again to resume: %w", err)
		}
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	text, err := res.StudySummary(cfg, pc, pf.Out)
	if err != nil {
		return err
	}
	printf("%s", text)
	return nil
}
