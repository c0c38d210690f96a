// Package plots draws the project's figures with gonum/plot.
//
// Every figure function takes plain data (small structs defined here, so the
// search, cost-model and training packages adapt their results to them rather
// than the other way round), validates it, and returns a [*Figure]: a
// declarative description of panels and series that is rendered on demand to
// PNG ([Figure.PNG]) or SVG ([Figure.SVG]), shown in a GoNB notebook
// ([Figure.Display]) or written to a directory ([WriteFiles]).
//
// The figures:
//
//   - [Tradeoff]: accuracy vs normalised AVG and MAX latency, models labelled by
//     name, Pareto front drawn (the paper's headline figure).
//   - [TargetBars]: normalised latency per target for a set of models, grouped
//     bars, a dashed line at 1.0 (the reference model).
//   - [Breakdown]: where the time goes on each target: one stacked bar per
//     target, stacked by layer group.
//   - [Curves]: search curves (reward, accuracy, cost, entropy, ...) over steps,
//     one panel each, raw and EMA-smoothed.
//   - [ControllerProbs]: controller decision probabilities over steps, one
//     small heat map per decision, one colour scale.
//   - [CostFit]: cost-model prediction vs measurement, log-log, y = x line,
//     Spearman rank correlation in the panel title.
//   - [DeviceComparison]: the NAS-Bench-201 real-device comparison: for each
//     objective's winner, normalised latency on every target, the budget line,
//     accuracy in the labels.
//
// A [Figure] records its structure (panels, series, kinds, lengths, legend
// entries), so tests check structure rather than pixels. Its fields are
// exported so a caller can retouch a title or a label before rendering;
// rendering re-checks what it needs and reports problems as errors.
//
// Style: Liberation Sans text, a fixed colour per hardware target
// ([TargetColor]: CPU blue, GPU green, DSP vermillion, EdgeTPU purple, from the
// Okabe–Ito colour-blind-safe palette), legends outside the data area on the
// right, light grid lines. A figure has a default pixel size chosen for its
// content; rendering at another size scales the resolution (text stays in
// proportion) rather than re-flowing the layout.
package plots
