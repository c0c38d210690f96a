package hwcost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/multihw/multihw/report"
)

// BenchTarget is the held-out Spearman the analytic model must reach on each
// benchmark source of a target.
const BenchTarget = 0.95

// writeBench writes the held-out benchmark networks per source.
func (r *FitResult) writeBench(d *report.Doc) error {
	w := d.Printf
	var any bool
	for _, t := range r.Targets {
		any = any || len(t.Bench) > 0
	}
	if !any {
		return nil
	}
	w("\n## NAS-Bench-201 networks held out\n\n")
	draw := ""
	if r.BenchSeed != DefaultBenchSeed {
		draw = fmt.Sprintf(" (drawn with seed %d)", r.BenchSeed)
	}
	w("Each benchmark source: %d networks in the fit%s, every other measured network held out and predicted by the ", r.BenchRows, draw)
	w("fitted model (with the source's runtime offsets). Spearman ρ, mean absolute percentage error (MAPE), share within ")
	w("±10%%; the MACs column is the held-out rank correlation of the networks' MACs (the benchmark's FLOPs). ")
	w("Target: ρ ≥ %.2f on each of the Snapdragon 855 CPU, GPU, DSP and the EdgeTPU from the analytic model.\n\n", BenchTarget)
	tb := report.NewTable("target", "benchmark column", "fit ρ", "held-out ρ", "held-out MAPE", "held-out within ±10%",
		"n held out", "MACs ρ", fmt.Sprintf("ρ ≥ %.2f", BenchTarget)).RightFrom(2).Left(8)
	for _, t := range r.Targets {
		for _, bf := range t.Bench {
			ok := "yes"
			if !(bf.HeldOut.Spearman >= BenchTarget) {
				ok = "**no**"
			}
			tb.Row(t.Target, fmt.Sprint(bf.Column), fmt.Sprintf("%.4f", bf.Fit.Spearman), fmt.Sprintf("%.4f", bf.HeldOut.Spearman),
				pct(bf.HeldOut.MAPE), pct(bf.HeldOut.Within10), fmt.Sprint(bf.HeldOut.N), fmt.Sprintf("%.3f", bf.MACsSpearman), ok)
		}
	}
	d.Table(tb)
	w("\nParameters each source is costed with (target × runtime offsets) and the offsets themselves (benchmark / ")
	w("published runtime), for the sources timed with another runtime:\n\n")
	tb = report.NewTable("target", "source", "peak", "bandwidth", "layer µs", "eltwise µs", "fixed ms").RightFrom(2)
	for _, t := range r.Targets {
		for _, bf := range t.Bench {
			p, f := bf.Params, t.Fitted
			cell := func(v, ref float64) string {
				if bf.Column.SameRuntime {
					return fmt.Sprintf("%.3g", v)
				}
				return fmt.Sprintf("%.3g (×%.2f)", v, v/ref)
			}
			tb.Row(t.Target, bf.Column.Column, cell(p.PeakGMACs, f.PeakGMACs),
				cell(p.BandwidthGBs, f.BandwidthGBs), cell(p.LayerOverheadUs, f.LayerOverheadUs),
				cell(p.EltwiseOverheadUs, f.EltwiseOverheadUs), cell(p.FixedOverheadMs, f.FixedOverheadMs))
		}
	}
	d.Table(tb)
	w("\nWhat the benchmark networks can tell: every NAS-Bench-201 cell repeats in all three stages, where each of its ops ")
	w("has the same MACs, so a device's column fixes the total cost of one conv 1×1, conv 3×3 and pooling edge, an addition ")
	w("and the fixed part — not the MAC rate and the per-layer overhead separately. The shared efficiencies are pinned by ")
	w("combining those totals with the published rows (the uncertainty table says how far); NAS-Bench-201 has no depthwise ")
	w("convolution, so eff_dw stays with the published rows and its prior.\n\n")
	return nil
}

// writeUncertainty writes each parameter's posterior width next to its prior.
func (r *FitResult) writeUncertainty(d *report.Doc) {
	w := d.Printf
	w("## Parameter uncertainty\n\n")
	w("Posterior width (Laplace) of each fitted parameter as a factor (one standard deviation in log space), then the ")
	w("prior width; **bold**: constrained by the data (posterior below half the prior width), *italic*: narrowed ")
	w("(below 90%% of it), plain: prior-bound (the data leave the prior's spread). ")
	w("`cost sensitivity` draws parameter sets from these posteriors (with their correlations). *held*: a parameter ")
	w("the target's model form holds (see Method), not fitted and drawn at its held value, so the spread of such a ")
	w("target leaves out the uncertainty of the form itself.\n\n")
	tb := report.NewTable(append([]string{"target"}, FreeParamNames()...)...).RightFrom(1)
	bound := map[string][]string{}
	for _, t := range r.Targets {
		po := t.Posterior
		if po == nil {
			continue
		}
		row := []string{t.Target}
		for _, n := range FreeParamNames() {
			k := po.Index(n)
			if k < 0 {
				row = append(row, "held ("+t.Form+")")
				continue
			}
			c := fmt.Sprintf("×%.2f / ×%.2f", math.Exp(po.SD(k)), math.Exp(po.Prior[k]))
			switch {
			case po.Constrained(k):
				c = "**" + c + "**"
			case po.PriorBound(k):
				bound[t.Target] = append(bound[t.Target], n)
			default:
				c = "*" + c + "*"
			}
			row = append(row, c)
		}
		tb.Row(row...)
	}
	d.Table(tb)
	w("\nPrior-bound parameters (the data do not decide them; they keep their priors' spread):\n\n")
	for _, t := range r.Targets {
		if ns := bound[t.Target]; len(ns) > 0 {
			w("- %s: %s\n", t.Target, strings.Join(ns, ", "))
		}
	}
	w("\nThe search chooses between IBN (1×1 expand, depthwise, 1×1 project) and fused IBN (k×k dense expand, 1×1 ")
	w("project): the ratios eff_fused and eff_dw (to the 1×1 rate) move its decisions. On the Pixel 4 targets:\n\n")
	tb = report.NewTable("target", "eff_fused (posterior ×)", "eff_dw (posterior ×)", "eff_fused / eff_dw").RightFrom(1)
	for _, t := range r.Targets {
		if t.Spec.Group != "paper" || t.Posterior == nil {
			continue
		}
		po := t.Posterior
		fi, di := po.Index("eff_fused"), po.Index("eff_dw")
		if fi < 0 || di < 0 {
			tb.Row(t.Target, "held ("+t.Form+")", "held ("+t.Form+")", fmt.Sprintf("%.2f", t.Fitted.EffFused/t.Fitted.EffDW))
			continue
		}
		tb.Row(t.Target, fmt.Sprintf("%.3g (×%.2f%s)", t.Fitted.EffFused, math.Exp(po.SD(fi)), boundMark(po, fi)),
			fmt.Sprintf("%.3g (×%.2f%s)", t.Fitted.EffDW, math.Exp(po.SD(di)), boundMark(po, di)),
			fmt.Sprintf("%.2f", t.Fitted.EffFused/t.Fitted.EffDW))
	}
	d.Table(tb)
	w("\n")
}

func boundMark(po *Posterior, k int) string { return ", " + po.Status(k) }

// writeTransfers writes how targets took their priors from another's fit.
func (r *FitResult) writeTransfers(d *report.Doc) {
	w := d.Printf
	var any bool
	for _, t := range r.Targets {
		any = any || t.Transfer != nil
	}
	if !any {
		return
	}
	w("## Priors taken from another target's fit\n\n")
	w("A target with `PriorFrom` takes that target's fitted op efficiencies as the centres of its own priors, with the ")
	w("posterior width widened by ×%.1f; everything else keeps its spec prior. How pixel4-edgetpu uses coral-edgetpu, ", math.Exp(TransferSigma))
	w("and the other transfers, in numbers (value, ×width):\n\n")
	tb := report.NewTable("target", "from", "parameter", "spec prior", "from's fit", "prior used", "fitted").RightFrom(3)
	for _, t := range r.Targets {
		tr := t.Transfer
		if tr == nil {
			continue
		}
		var from *TargetFit
		for i := range r.Targets {
			if r.Targets[i].Target == tr.From {
				from = &r.Targets[i]
			}
		}
		for i, n := range tr.Names {
			k := paramIndex(n)
			fromCell := fmt.Sprintf("%.3g", tr.Centre[i])
			if from != nil && from.Posterior != nil {
				fromCell = fmt.Sprintf("%.3g (×%.2f)", tr.Centre[i], math.Exp(from.Posterior.SD(from.Posterior.Index(n))))
			}
			fit := fmt.Sprintf("%.3g", *targetParams[k].field(&t.Fitted))
			if t.Posterior != nil {
				if j := t.Posterior.Index(n); j >= 0 {
					fit += fmt.Sprintf(" (×%.2f)", math.Exp(t.Posterior.SD(j)))
				} else {
					fit += " (held: " + t.Form + ")"
				}
			}
			tb.Row(t.Target, tr.From, n, fmt.Sprintf("%.3g (×%.2f)", tr.SpecPrior[i], math.Exp(tr.SigmaPrior[i])), fromCell,
				fmt.Sprintf("%.3g (×%.2f)", tr.Centre[i], math.Exp(tr.Sigma[i])), fit)
		}
	}
	d.Table(tb)
	w("\n")
}

// writeStudies writes the reference devices and the adapt studies.
func writeStudies(d *report.Doc, refs *ReferenceSet, st *Studies) {
	w := d.Printf
	w("%s\n\n", ValidationHeading)
	w("`multihw cost adapt --data FILE|NAME --device COLUMN --train N --seed S` fits an analytic target to N measured ")
	w("architectures of one device and scores it on all the others. It starts from the closest known target: among the ")
	w("built-in targets and the reference devices below, in each runtime mode (compiled; eager running dead ops; eager ")
	w("with unfused BatchNorm and activations; pruned without folding constants, running the dead ops whose result is ")
	w("used, which the HW-NAS-Bench columns raspi4 and pixel3 follow), the one whose model up to a speed factor and a ")
	w("fixed overhead has the least squared log error on the N rows, the pruning mode counted %.1f higher in ", constantModePenalty)
	w("N·log(squared log error) (2·log 10: without that margin the few rows picked it where it does not hold, on HELP's ")
	w("meta-training devices), and each mode also counted −2·log P, P the share of the table's known devices (the ")
	w("library's targets and reference devices measured on the same table, Laplace's rule of succession over the three ")
	w("ways of treating dead ops) that treat dead ops the same way: a table's devices share its measurement pipeline, ")
	w("which 10 rows rarely settle alone (mean ρ on the development set, HELP's meta-training devices each left out of ")
	w("its own prior, 10 rows, seeds 1-40: 0.9522 without that prior, 0.9559 with it); ")
	w("then all nine parameters are fitted with that target as the prior centre ")
	w("(σ = %.2f per measurement). Runtimes that run independent ops concurrently (inter-op threads, GPU streams) pay ", AdaptSigmaObs)
	w("for a block with parallel branches (NAS-Bench-201 cells) less than the sum of its ops, down to its longest path: ")
	w("`overlap` ∈ [0, 1] is the share of the difference hidden. It is chosen on a grid of 0.1 with the speed factor ")
	w("and fixed overhead when the known targets are ranked, kept only if it lowers N·log(squared log error) of the N ")
	w("training rows by more than 2·log 10 (the description length of one of the grid's 10 nonzero values; the Bayesian ")
	w("information criterion's log N picked spurious overlaps more often on HELP's meta-training devices, the ")
	w("development set of this choice), and kept after the full fit only if that fit still beats the full fit without ")
	w("it by the same margin: the test rows are never seen. The built-in targets and the reference devices keep overlap 0. ")
	w("Other devices' data enter only through the library, as in HELP's meta-training; ")
	w("the test device contributes its N rows. Targets and reference devices fitted on the test device's column (also ")
	w("through a transferred prior) are left out of its library. Figures: mean over seeds 1-%d of the test-set ", len(StudySeeds))
	w("Spearman (± standard deviation over seeds), MAPE and share within ±10%%, with the MACs baseline on the same test sets.\n\n")

	w("### Reference devices\n\n")
	w("HELP's meta-training devices, each fitted on %d networks of each table where it is measured (%s). ", ReferenceRows, refs.Note)
	w("Held-out Spearman per table:\n\n")
	tb := report.NewTable("device", "runtime mode", "started from", "held-out ρ")
	for _, dev := range refs.Devices {
		var hs []string
		for i, h := range dev.HeldOut {
			hs = append(hs, fmt.Sprintf("%s %.4f", dev.Sources[i], h.Spearman))
		}
		tb.Row(dev.Name, modeName(dev.Params), dev.Prior, strings.Join(hs, ", "))
	}
	d.Table(tb)

	w("\n### HELP's test devices, NAS-Bench-201, 10 samples\n\n")
	w("Targets: mean ρ ≥ 0.95 over the six, pixel2 ≥ 0.85. HELP (10 samples, its README table) and FLOPs alone ")
	w("(mean %.3f) for comparison.\n\n", HELPFLOPsMean)
	var helpMean float64
	for _, dev := range HELPTestDevices {
		helpMean += HELPAnchors[dev] / float64(len(HELPTestDevices))
	}
	d.Table(adaptTable(st.HELP, HELPAnchors, fmt.Sprintf("%.3f", helpMean)))
	w("\n")
	w("Mean %s; pixel2 %s.\n\n", targetVerdict(st.HELP, nil, 0.95), targetVerdict(st.HELP, []string{"pixel2"}, 0.85))
	writeHELPWide(d, st.HELPWide)
	writeHELPMore(d, st.HELPMore)
	w("raspi4's MAPE is dominated by the 341 disconnected cells: its runtime folds those networks to a constant and ")
	w("times them at 0.01-0.1 ms, where any fixed overhead is a relative error of several hundred percent; eyeriss ")
	w("and fpga are simulator estimates (HW-NAS-Bench), not measurements.\n\n")

	w("### The 13 BRP-NAS devices, NAS-Bench-201, 20 samples\n\n")
	d.Table(adaptTable(st.BRPNAS, nil, ""))
	w("\n")
	w("Mean %s. The desktop CPU and GPU columns are nearly identical upstream (one is probably ", targetVerdict(st.BRPNAS, nil, 0.95))
	w("mislabelled) and count twice here. What the analytic model reaches on the devices below %.2f when fitted on %d ", BenchTarget, LargeTrain)
	w("networks instead of 20 (seed 1), i.e. the limit of the model form rather than of the few samples:")
	for i, r := range st.BRPNASLarge {
		sep := ","
		if i == len(st.BRPNASLarge)-1 {
			sep = "."
		}
		w(" %s %.4f%s", r.Device, r.Spearman, sep)
	}
	w(" On the desktop GPU/CPU, networks with the same live ops differ in latency with the cell's wiring: the overlap ")
	w("parameter is what models that (see the overlap column).\n\n")

	w("### The analytic model form on FBNet-space networks: measured phones, 20 samples\n\n")
	w("Inverted bottlenecks with depthwise 3×3/5×5, expansion 1/3/6 and grouped 1×1 convs (HW-NAS-Bench's CIFAR-100 ")
	w("setting), timed on phones (HELP, whole milliseconds). The ceiling column is the Spearman a predictor equal to the ")
	w("true latency would reach against the whole-millisecond measurements (true latency uniform within each millisecond): ")
	w("where it is near 1, rounding is not what limits a column. For what predictors trained on 900 networks reach on ")
	w("the same columns, see hwcost/predict/REPORT.md.\n\n")
	d.Table(adaptTable(st.FBNet, nil, "-"))
	w("\n")
	writeFBNetLarge(d, st.FBNetLarge)
}

// writeFBNetLarge says what the model form reaches on the FBNet phones
// with LargeTrain networks: whether the samples or the form limit them.
func writeFBNetLarge(d *report.Doc, rows []AdaptRow) {
	if len(rows) == 0 {
		return
	}
	var each []string
	var gap float64
	for _, r := range rows {
		each = append(each, fmt.Sprintf("%s %.4f (MACs alone %.4f)", r.Device, r.Spearman, r.MACsSpearman))
		gap = max(gap, math.Abs(r.Spearman-r.MACsSpearman))
	}
	d.Printf("Fitted on %d networks instead of 20 (seed 1; test set the other %d), the form reaches %s: at most %.3f from MACs alone. ",
		rows[0].Train, rows[0].NTest, strings.Join(each, ", "), gap)
	d.Printf("Where that gap is small and the rounding ceiling (the table) is near 1, ")
	d.Printf("the roofline form, not the number of samples, is what limits these columns.\n")
}

// writeHELPWide says what the 10-sample study reaches over HELPWideSeeds:
// the mean's verdict, each device's mean, and how many blocks of ten
// consecutive seeds (the protocol) reach the target.
func writeHELPWide(d *report.Doc, rows []AdaptRow) {
	if len(rows) == 0 || len(rows[0].PerSeed) < 2*len(StudySeeds) {
		return
	}
	var each []string
	for _, r := range rows {
		each = append(each, fmt.Sprintf("%s %.4f", r.Device, r.Spearman))
	}
	seeds, k := len(rows[0].PerSeed), len(StudySeeds)
	var blocks, reach int
	for b := 0; b+k <= seeds; b += k {
		var m float64
		for _, r := range rows {
			for _, v := range r.PerSeed[b : b+k] {
				m += v / float64(k*len(rows))
			}
		}
		blocks++
		if m >= 0.95 {
			reach++
		}
	}
	d.Printf("The table's %d seeds are one draw of training sets. Over seeds 1-%d (the same first %d), the mean is %s; pixel2 %s; ",
		k, seeds, k, targetVerdict(rows, nil, 0.95), targetVerdict(rows, []string{"pixel2"}, 0.85))
	d.Printf("by device: %s. Of the %d blocks of %d consecutive seeds (the target's protocol: a mean over %d seeds), %d reach 0.95.\n\n",
		strings.Join(each, ", "), blocks, k, k, reach)
}

// writeHELPMore says what HELP's test devices reach with HELPMoreTrain
// samples instead of 10.
func writeHELPMore(d *report.Doc, rows []AdaptRow) {
	if len(rows) == 0 {
		return
	}
	var each []string
	for _, r := range rows {
		each = append(each, fmt.Sprintf("%s %.4f", r.Device, r.Spearman))
	}
	d.Printf("With %d samples instead of 10 (the same seeds: each seed's 10 networks are among its %d), the mean is %s: %s.",
		rows[0].Train, rows[0].Train, targetVerdict(rows, nil, 0.95), strings.Join(each, ", "))
	d.Printf(" `multihw cost adapt --data nb201-help --device COLUMN --curve 5,10,20,50,100` gives a device's whole curve, with intervals over the seeds.\n\n")
}

// adaptTable tabulates adapt study rows, with the published figures of
// anchors; a mean row closes it unless published is "-" (else published is
// the mean row's published cell).
func adaptTable(rows []AdaptRow, anchors map[string]float64, published string) *report.Table {
	tb := report.NewTable("device", "n train / test", "ρ", "± sd", "MAPE", "within ±10%", "MACs ρ", "published",
		"rounding ceiling", "overlap (seeds)", "priors started from").RightFrom(2).Left(1, 10)
	for _, r := range rows {
		anchor := ""
		if v, ok := anchors[r.Device]; ok {
			anchor = fmt.Sprintf("%.3f (HELP)", v)
		}
		ceil := ""
		if !math.IsNaN(r.Ceiling) {
			ceil = fmt.Sprintf("%.4f", r.Ceiling)
		}
		tb.Row(r.Device, fmt.Sprintf("%d / %d", r.Train, r.NTest), fmt.Sprintf("%.4f", r.Spearman), fmt.Sprintf("%.4f", r.SpearmanSD),
			pct(r.MAPE), pct(r.Within10), fmt.Sprintf("%.4f", r.MACsSpearman), anchor, ceil,
			fmt.Sprintf("%.2f (%d)", r.Overlap, r.OverlapSeeds), priorCounts(r.Priors))
	}
	if published != "-" {
		tb.Row("**mean**", "", fmt.Sprintf("**%.4f**", meanOf(rows, nil)), "", "", "", fmt.Sprintf("%.4f", meanMACs(rows)), published)
	}
	return tb
}

func priorCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]] != m[names[j]] {
			return m[names[i]] > m[names[j]]
		}
		return names[i] < names[j]
	})
	var s []string
	for _, n := range names {
		s = append(s, fmt.Sprintf("%s ×%d", n, m[n]))
	}
	return strings.Join(s, ", ")
}

func meanMACs(rows []AdaptRow) float64 {
	var s float64
	for _, r := range rows {
		s += r.MACsSpearman
	}
	return s / float64(len(rows))
}

func modeName(p Params) string {
	switch {
	case p.Unfused:
		return "eager, unfused"
	case p.RunsDeadOps:
		return "eager"
	case p.RunsConstantOps:
		return "pruned, unfolded"
	}
	return "compiled"
}

// targetVerdict is the mean Spearman of the rows (optionally of the named
// devices only) with its 95% interval over the seeds, and whether it meets
// target: reached or not reached when the interval lies on one side of it,
// unresolved when the interval contains it.
func targetVerdict(rows []AdaptRow, only []string, target float64) string {
	mean, ci := meanOf(rows, only), meanInterval(rows, only)
	verdict := "reached"
	switch {
	case math.IsNaN(float64(ci.Lo)):
		if mean < target {
			verdict = "**not reached**"
		}
		return fmt.Sprintf("%.4f (target %g: %s; one seed, no interval)", mean, target, verdict)
	case float64(ci.Hi) < target:
		verdict = "**not reached**"
	case float64(ci.Lo) < target && mean >= target:
		verdict = "at it, unresolved: the mean is above it and the interval contains it"
	case float64(ci.Lo) < target:
		verdict = "**not reached**, unresolved: the mean is below it and the interval contains it"
	}
	return fmt.Sprintf("%.4f, 95%% interval over the seeds %.4f-%.4f (target %g: %s)", mean, ci.Lo, ci.Hi, target, verdict)
}
