package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/nb201"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/plots/figset"
)

func init() {
	register(&command{name: "search nb201", summary: "tabular multi-hardware search on NAS-Bench-201 with real device latencies (BRP-NAS)", run: runSearchNB201})
	register(&command{name: "search nb201-compare", summary: "NAS-Bench-201 winners of each single-target objective and of AVG/MAX, measured on every target", run: runSearchNB201Compare})
	register(&command{name: "search nb201-bench", summary: "success rates of evolution/random/reinforce vs the exhaustive optimum over seeds (--report: REPORT.md)", run: runSearchNB201Bench})
}

func runSearchNB201(args []string) error {
	fs := newFlags("search nb201", "--budget B [--targets COLS] [--objective avg|max|weighted|COLUMN] [--weights W,...] "+
		"[--reference ARCH] [--dataset cifar10|cifar100|imagenet16] [--algo exhaustive|evolution|reinforce|random] "+
		"[--reward budget|abs|mnas|mnas_hard] [--queries Q] [--seed S] [--json]")
	var bf nb201.BenchFlags
	bf.Register(fs, true)
	var sf nb201.SearchFlags
	sf.Register(fs)
	budget := fs.Float64("budget", 0, "target cost T0 (normalised latency under the objective); required")
	algo := fs.String("algo", nb201.AlgoExhaustive, "algorithm: "+strings.Join(nb201.Algorithms, ", "))
	reward := fs.String("reward", string(nas.RewardBudget), "reward: budget (max accuracy with cost <= budget), abs, mnas, mnas_hard")
	beta := fs.Float64("beta", 0, "reward β (default: the kind's: abs -0.10, mnas -0.07)")
	queries := fs.Int("queries", 500, "distinct candidate cells a non-exhaustive search may look up")
	seed := fs.Uint64("seed", 1, "seed of the search")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	given := flaglist.Given(fs)
	if !given["budget"] {
		return fmt.Errorf("missing --budget (e.g. --budget 0.5: half the reference's normalised latency)")
	}
	if !slices.Contains(nb201.Algorithms, *algo) {
		return fmt.Errorf("unknown --algo %q (valid: %s)", *algo, strings.Join(nb201.Algorithms, ", "))
	}
	if err := nb201FlagsApply(fs, *algo, nas.RewardKind(*reward)); err != nil {
		return err
	}
	r := nb201.Reward(nas.RewardKind(*reward), *budget)
	if given["beta"] { // 0 is a value: no cost term
		r.Beta = *beta
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("--reward/--budget/--beta: %w", err)
	}
	cfg, err := sf.Config(fs, r)
	if err != nil {
		return err
	}
	bn, err := bf.Build(os.Stderr)
	if err != nil {
		return err
	}
	cfg.Algorithm, cfg.Queries, cfg.Seed = *algo, *queries, *seed
	res, err := bn.SearchAgainstOptimum(cfg)
	if err != nil {
		return err
	}
	return emit(*asJSON, res, res.Summary)
}

// nb201FlagsApply returns an error for the first flag given (set) that the
// algorithm or the reward kind would ignore.
func nb201FlagsApply(fs *flag.FlagSet, algo string, reward nas.RewardKind) error {
	ctx := fmt.Sprintf(" (--algo %s, --reward %s)", algo, reward)
	return flaglist.Unused(fs,
		flaglist.Mode{Flags: []string{"population", "sample", "retries", "aging"}, Chosen: algo == nb201.AlgoEvolution, For: "--algo evolution" + ctx},
		flaglist.Mode{Flags: []string{"lr"}, Chosen: algo == nb201.AlgoReinforce, For: "--algo reinforce" + ctx},
		flaglist.Mode{Flags: []string{"queries", "max-evaluations", "seed"}, Chosen: algo != nb201.AlgoExhaustive, For: "the non-exhaustive algorithms" + ctx},
		// The exhaustive search looks every cell up: no guide, no queries.
		flaglist.Mode{Flags: []string{"guide-beta", "cost-by-query"}, Chosen: reward == nas.RewardBudget && algo != nb201.AlgoExhaustive,
			For: "--reward budget with the non-exhaustive algorithms" + ctx},
		flaglist.Mode{Flags: []string{"beta"}, Chosen: reward != nas.RewardBudget, For: "the rewards with a cost term (abs, mnas, mnas_hard)" + ctx})
}

func runSearchNB201Compare(args []string) error {
	fs := newFlags("search nb201-compare", "[--budget B] [--targets COLS] [--reference ARCH] [--dataset D] [--plot DIR] [--json]")
	var bf nb201.BenchFlags
	bf.Register(fs, false)
	budget := fs.Float64("budget", 0.3, "budget on every objective (normalised latency)")
	plotDir := fs.String("plot", "", "also write device_comparison.png/.svg to this directory")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkPlotDir(*plotDir); err != nil {
		return err
	}
	bn, err := bf.Build(os.Stderr)
	if err != nil {
		return err
	}
	c, err := bn.Compare(*budget)
	if err != nil {
		return err
	}
	if *plotDir != "" {
		fig, err := plots.DeviceComparison(figset.NB201ComparisonData(c))
		if err != nil {
			return err
		}
		paths, err := plots.WriteFiles(*plotDir, 1, fig)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", strings.Join(paths, ", "))
	}
	if *asJSON {
		return printJSON(c)
	}
	printf("Budget %g on each objective; %s accuracy; latency normalised to %s\n\n", c.Budget, nb201.DatasetLabel(c.Dataset), c.Reference)
	return c.WriteTable(stdout)
}

func runSearchNB201Bench(args []string) error {
	fs := newFlags("search nb201-bench", "[--seeds 20] [--queries 500] [--budgets 0.3,0.5,0.7] [--algos evolution,random,reinforce] "+
		"[--more-seeds N] [--report FILE [--compare 0.3,0.5]] [--json]")
	var bf nb201.BenchFlags
	bf.Register(fs, true)
	var sf nb201.SearchFlags
	sf.Register(fs)
	var stf nb201.StudyFlags
	stf.Register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	search, err := sf.Config(fs, nas.Reward{Kind: nas.RewardBudget, T0: 1}) // T0 follows each budget
	if err != nil {
		return err
	}
	cfg, err := stf.Config(fs, search, os.Stderr, "multihw search nb201-bench "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	bn, err := bf.Build(os.Stderr)
	if err != nil {
		return err
	}
	rep, err := bn.Study(cfg)
	if err != nil {
		return err
	}
	if stf.Report != "" {
		if err := bn.WriteReportFile(stf.Report, *rep); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", stf.Report)
	}
	if *asJSON {
		return printJSON(struct {
			Rates []nb201.RateRow `json:"rates"`
			More  []nb201.RateRow `json:"more,omitempty"`
		}{rep.Rates, rep.More})
	}
	printf("%s", bn.Summary(rep))
	return nil
}
