// Package devicedata loads real measured latencies of whole architectures on
// many devices, and NAS-Bench-201 accuracies, for checking cost models, fitting
// latency predictors (package hwcost/predict) and tabular multi-hardware search.
//
// Four files are embedded (gzipped CSV, see data/README.md for origin,
// licences and citations) and opened by name; user files in the same format
// are opened by path, plain or gzipped:
//
//	nb201-brpnas    NAS-Bench-201, 13 devices (BRP-NAS), ms     → [BRPNAS]
//	nb201-help      NAS-Bench-201, 27 settings (HELP), ms       → [HELPNB201]
//	nb201-accuracy  NAS-Bench-201 CIFAR-10/100, ImageNet16-120  → [Accuracy]
//	fbnet-help      5,000 FBNet-space archs, 27 settings, ms    → [HELPFBNet]
//
// A NAS-Bench-201 cell is a [Cell]: the [Op] on each of its 6 [Edges]
// ([ParseCell] and [Cell.String] convert the standard arch_str). [Cell.Live]
// and [Cell.Pruned] tell which edges actually run. An FBNet-space
// architecture is an [FBNetArch]: one of 9 [FBNetOp]s at 22 positions.
//
// Tables ([Table], embedded in [NB201Table] and [FBNetTable]) hold one float
// column per device or metric, every value positive (a zero or negative cell
// is refused as a data error). Missing measurements are NaN, never 0: the 341
// cells whose output is disconnected from the input were not measured by
// BRP-NAS, and its SD675/SD450 columns miss a few more ([Table.Measured] lists
// the rows with a value). [Table.ColumnIndex] accepts an exact column name or
// a substring that matches exactly one column; errors list the valid names.
// Columns that are not measurements (HELP's eyeriss/fpga simulator estimates,
// and the FBNet pixel3/raspi4/eyeriss/fpga columns, which are sums of per-op
// lookup tables) carry a [Table.ColumnNote]; [Table.MeasuredColumns] omits them.
// Caveat from upstream: BRP-NAS's desktop-cpu column is nearly identical to
// desktop-gpu; do not count them as two devices.
//
// # Tabular multi-hardware search on NAS-Bench-201
//
// The three embedded NAS-Bench-201 tables list the same 15,625 cells in the
// same (official index) order, so row i of each describes the same cell
// ([SameCells] checks this for user files). A search over cells with their
// accuracy and latencies normalised to a reference cell on the paper's four
// targets ([Pixel4Targets]):
//
//	acc, _ := devicedata.Accuracy()
//	lat, _ := devicedata.BRPNAS()
//	top1, _ := acc.Column(devicedata.AccCIFAR10)
//	ref, _ := devicedata.ParseCell("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|")
//	rel := make([][]float64, len(devicedata.Pixel4Targets))
//	for k, dev := range devicedata.Pixel4Targets {
//		rel[k], _ = lat.Relative(dev, ref) // latency / latency(ref); NaN = not measured
//	}
//	for i := 0; i < lat.Len(); i++ {
//		// cell lat.Cell(i), accuracy top1[i], relative latency rel[k][i] per target;
//		// skip rows where any rel[k][i] is NaN (disconnected cells).
//	}
//
// Loading is fast (all four files in well under a second) and the embedded
// tables are parsed once per process and shared: they are immutable, and
// accessors return copies.
package devicedata
