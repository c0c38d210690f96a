// Package nb201 is tabular multi-hardware architecture search on real
// measurements: the 15,625 NAS-Bench-201 cells with their accuracy
// (NATS-Bench) and their latency on real devices (BRP-NAS), from
// [devicedata]. It runs the generic algorithms of package nas on a table
// instead of a supernet, so the answer can be checked against the exact
// optimum.
//
// A [Bench] ([New] … [Builder.Build]) fixes the targets (default: the
// Snapdragon 855 CPU, GPU, DSP and the EdgeTPU, [devicedata.Pixel4Targets]),
// a reference cell (default [AllConv3x3]), a dataset and an objective. Every
// cell gets r_h = latency_h(cell) / latency_h(reference) per target and a cost
// T: the mean of the r_h (avg), their maximum (max), a weighted mean
// (weighted; weights normalised to sum 1) or one target's r. Cells missing a
// measurement on any target are not candidates ([Bench.Excluded]: the 341
// disconnected cells for the default targets).
//
//	bn, err := nb201.New().Objective("max").Build()
//	best, err := bn.Exhaustive(nb201.Reward(nas.RewardBudget, 0.5)) // exact: most accurate cell with MAX <= 0.5
//	found, err := bn.Search(nb201.SearchConfig{Algorithm: "evolution",
//		Reward: nb201.Reward(nas.RewardBudget, 0.5), Queries: 500, Seed: 1})
//
// Queries: a search may look up Queries distinct candidate cells; repeats
// come from a cache and proposals of non-candidate cells cost nothing (the
// algorithm skips them, [nas.ErrSkipPoint]), as NAS-Bench-101 searches do
// not count invalid graphs. Outcome.Evaluations counts every lookup. A
// cell's cost is known without a query (the latency table plays the cost
// model, as TuNAS's lookup tables do), so budget searches skip over-budget
// cells for free, as Once-for-All's constrained evolution does;
// SearchConfig.CostByQuery makes the cost cost a query instead.
//
// Guide: the budget reward (maximise accuracy subject to T <= T0) ranks
// every over-budget cell below every feasible one. On these tables that
// hides the best cells: at AVG <= 0.3 the optimum is one of 4 lucky-measured
// cells of a 341-cell family whose other members run just over the budget.
// Evolution and reinforce therefore search with a soft guide
// ([DefaultGuide]: Q·min(1, T/T0)^β, β = −0.25) and answer with the most
// accurate within-budget cell they looked up. Other rewards (abs, mnas,
// mnas_hard) guide themselves and answer with the highest reward.
//
// [Bench.Compare] is the paper's key table on real data: the winner of each
// single-target objective and of AVG and MAX at one budget, measured on
// every target (figset.NB201Comparison draws it).
// [Bench.Rates] measures how often each algorithm lands within a tolerance of
// the exhaustive optimum over seeds; [Bench.WriteReport] writes REPORT.md
// (`multihw search nb201-bench --report nas/nb201/REPORT.md`).
package nb201
