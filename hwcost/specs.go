package hwcost

import "github.com/multihw/multihw/hwcost/devicedata"

// The built-in targets and the priors of their parameters.
//
// Priors are deliberately rough, physically motivated values: a peak MAC rate
// from the unit's published throughput times the fraction mobile runtimes
// typically reach, a realised DRAM bandwidth, per-op efficiencies from what is
// known about each unit (depthwise is slow per MAC on DSPs and EdgeTPUs, fused
// k×k expansions are fast on them), and overheads of the right order. The fit
// (fit.go) moves them toward the published latencies, regularised in log space
// with the widths in priorSigma. Where a value is unconfirmed it is marked (?).
// Ridge points (MACs/byte) published by the MobileNetV4 paper — Pixel 6 CPU
// 31.2, S23 CPU 39.7, Pixel 4 DSP 347.3, Pixel 8 EdgeTPU 433.8 — are used for the
// CPU bandwidth priors; for the accelerators they would imply bandwidths of
// 1-5 GB/s under our byte accounting (activations at every layer, no fusion or
// on-chip reuse), far slower than the measured latencies allow, so their
// priors use realised DRAM bandwidth instead and the report compares the fitted
// ridge points with the published ones.
// mnEdgeTPUCPU is why the MobileNet-EdgeTPU rows are not Pixel 4 CPU anchors.
const mnEdgeTPUCPU = "different protocol: the MobileNet-EdgeTPU README times one big core (thread count not in its table), " +
	"the other Pixel 4 CPU rows use 4 threads"

// sd855 is a Snapdragon 855 column of BRP-NAS: the Pixel 4's silicon, timed
// by BRP-NAS's LatBench, not with the TFLite delegates of the published rows.
func sd855(column string, p Precision) BenchColumn {
	return BenchColumn{Table: devicedata.NameBRPNAS, Column: column, Precision: p,
		Runtime: "BRP-NAS LatBench on a Snapdragon 855 board (Dudziak et al. 2020), NAS-Bench-201 networks, " + string(p)}
}

var specs = []Spec{
	{
		Name:      "pixel4-cpu",
		Device:    "Google Pixel 4, Snapdragon 855 Kryo 485 CPU (Cortex-A76 class big cores)",
		Runtime:   "TFLite CPU, int8, 4 threads",
		Precision: Int8, Group: "paper",
		Prior: Params{
			PeakGMACs:       150,  // 4 cores × ~2.5 GHz × 32 int8 MAC/cycle (2 SDOT pipes) ≈ 320 peak; GEMM kernels reach ~50%
			EffConv:         0.7,  // im2col stems with 3 input channels make short GEMMs
			EffFused:        0.9,  // k×k convs over many channels are GEMM-efficient
			EffDW:           0.25, // depthwise cannot use SDOT reductions
			EffFC:           0.5,  // GEMV at batch 1
			BandwidthGBs:    4.8,  // peak / 31.2 (MNv4 ridge point of the Pixel 6 CPU)
			LayerOverheadUs: 8,    // 4-thread synchronisation per op
			FixedOverheadMs: 0.1,  // invoke
		},
		PriorNotes:     "Snapdragon 855 big-core throughput; ridge point of the MNv4 paper's Pixel 6 CPU (31.2 MACs/byte)",
		AnchorHardware: "Pixel 4 CPU", AnchorPrecision: "int8",
		Bench: []BenchColumn{sd855(devicedata.SD855CPU, Int8)},
		AnchorSkip: map[string]string{
			"MobileNet-EdgeTPU dm1.0":  mnEdgeTPUCPU,
			"MobileNet-EdgeTPU dm0.75": mnEdgeTPUCPU,
		},
	},
	{
		Name:      "pixel4-gpu",
		Device:    "Google Pixel 4, Adreno 640 GPU",
		Runtime:   "TFLite GPU delegate (OpenCL), fp16",
		Precision: FP16, Group: "paper",
		Prior: Params{
			PeakGMACs: 300, // ~950 GFLOPS fp32 = ~950 GMAC/s fp16 peak; TFLite GPU reaches ~30%
			EffConv:   0.6, EffFused: 0.8, EffDW: 0.3, EffFC: 0.3,
			BandwidthGBs:    15,  // LPDDR4X-4266, 34 GB/s theoretical, ~15 realised
			LayerOverheadUs: 40,  // one OpenCL kernel per op
			FixedOverheadMs: 0.5, // input upload and output read-back
		},
		PriorNotes:     "Adreno 640 published throughput; LPDDR4X bandwidth",
		AnchorHardware: "Pixel 4 GPU (Adreno 640)", AnchorPrecision: "fp16",
		Bench: []BenchColumn{sd855(devicedata.SD855GPU, Int8)},
	},
	{
		Name:      "pixel4-dsp",
		Device:    "Google Pixel 4, Snapdragon 855 Hexagon 690 DSP (HVX)",
		Runtime:   "TFLite Hexagon/NNAPI delegate, int8",
		Precision: Int8, Group: "paper",
		Prior: Params{
			PeakGMACs: 250,                                        // 4 HVX contexts × 128 int8 MAC/cycle × ~1 GHz ≈ 500 peak; ~50%
			EffConv:   0.5, EffFused: 0.9, EffDW: 0.2, EffFC: 0.2, // depthwise maps poorly onto HVX vrmpy reductions
			BandwidthGBs:    10,  // DSP share of LPDDR4X
			LayerOverheadUs: 10,  // per-op scheduling on the DSP
			FixedOverheadMs: 1.0, // FastRPC round trip CPU↔DSP per inference
		},
		PriorNotes:     "Hexagon 690 HVX throughput; FastRPC overhead of ~1 ms; MNv4 ridge point 347.3 reported for comparison",
		AnchorHardware: "Pixel 4 Hexagon DSP", AnchorPrecision: "int8",
		Bench: []BenchColumn{sd855(devicedata.SD855DSP, Int8)},
	},
	{
		Name:      "pixel4-edgetpu",
		Device:    "Google Pixel 4, Pixel Neural Core (Edge TPU class)",
		Runtime:   "TFLite EdgeTPU delegate, int8",
		Precision: Int8, Group: "paper",
		Prior: Params{
			PeakGMACs:       1000, // Edge TPU class: 4 TOPS = 2 TMAC/s peak (?); ~50% on large convs
			EffConv:         0.3,  // 3-channel stem fills the systolic array poorly
			EffFused:        1.0,  // fused IBN exists because full convs are efficient here
			EffDW:           0.1,  // depthwise uses one array column per channel
			EffFC:           0.2,
			BandwidthGBs:    8,   // off-chip parameter/activation streaming
			LayerOverheadUs: 5,   // compiled graph, little per-op overhead
			FixedOverheadMs: 0.5, // delegate invocation and I/O
			OnChipMB:        8,   // Coral Edge TPU SRAM for parameter caching; Pixel Neural Core size unpublished (?)
		},
		PriorNotes: "Edge TPU datasheet class (4 TOPS, 8 MB parameter cache); MobileNet-EdgeTPU paper on depthwise inefficiency; " +
			"op efficiencies from the fit of coral-edgetpu (PriorFrom)",
		AnchorHardware: "Pixel 4 EdgeTPU", AnchorPrecision: "int8",
		PriorFrom: "coral-edgetpu",
	},
	{
		Name:      "pixel6-cpu",
		Device:    "Google Pixel 6, Tensor G1 Cortex-X1 CPU core",
		Runtime:   "TFLite XNNPACK, int8, 1 thread on the fastest core",
		Precision: Int8, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 90, // 2.8 GHz × 64 int8 MAC/cycle (4 SDOT pipes) ≈ 180 peak; ~50%
			EffConv:   0.7, EffFused: 0.9, EffDW: 0.25, EffFC: 0.5,
			BandwidthGBs:    2.9,  // peak / 31.2 (MNv4 ridge point of this target)
			LayerOverheadUs: 2,    // single thread: no synchronisation
			FixedOverheadMs: 0.05, // invoke
		},
		PriorNotes:     "Cortex-X1 throughput; MNv4 ridge point 31.2 MACs/byte",
		AnchorHardware: "Pixel 6 CPU", AnchorPrecision: "int8",
	},
	{
		Name:      "pixel8-edgetpu",
		Device:    "Google Pixel 8, Tensor G3 EdgeTPU",
		Runtime:   "TFLite, int8",
		Precision: Int8, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 2000, // unpublished; newer than the Pixel 4 Neural Core (?)
			EffConv:   0.3, EffFused: 1.0, EffDW: 0.1, EffFC: 0.2,
			BandwidthGBs:    15,  // LPDDR5
			LayerOverheadUs: 3,   // compiled graph
			FixedOverheadMs: 0.5, // invocation
			OnChipMB:        8,   // parameter cache as on Edge TPUs (?)
		},
		PriorNotes:     "Edge TPU class; MNv4 ridge point 433.8 reported for comparison",
		AnchorHardware: "Pixel 8 EdgeTPU", AnchorPrecision: "int8",
		PriorFrom: "coral-edgetpu",
	},
	{
		Name:      "pixel7-gpu",
		Device:    "Google Pixel 7, Tensor G2 Mali-G710 MP7 GPU",
		Runtime:   "TFLite GPU delegate, fp16",
		Precision: FP16, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 250, // ~850 GFLOPS fp32 = ~850 GMAC/s fp16 peak; ~30%
			EffConv:   0.6, EffFused: 0.8, EffDW: 0.3, EffFC: 0.3,
			BandwidthGBs:    20,  // LPDDR5
			LayerOverheadUs: 80,  // Mali OpenCL dispatch is slow (MNv2 0.5 takes 8 ms)
			FixedOverheadMs: 1.0, // upload and read-back
		},
		PriorNotes:     "Mali-G710 MP7 throughput; LPDDR5 bandwidth",
		AnchorHardware: "Pixel 7 GPU (Mali-G710)", AnchorPrecision: "fp16",
	},
	{
		Name:      "s23-cpu",
		Device:    "Samsung Galaxy S23, Snapdragon 8 Gen 2 Cortex-X3 CPU core",
		Runtime:   "TFLite XNNPACK, int8, 1 thread on the fastest core",
		Precision: Int8, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 110, // 3.36 GHz × 64 int8 MAC/cycle ≈ 215 peak; ~50%
			EffConv:   0.7, EffFused: 0.9, EffDW: 0.25, EffFC: 0.5,
			BandwidthGBs:    2.8, // peak / 39.7 (MNv4 ridge point of this target)
			LayerOverheadUs: 2,
			FixedOverheadMs: 0.05,
		},
		PriorNotes:     "Cortex-X3 throughput; MNv4 ridge point 39.7 MACs/byte",
		AnchorHardware: "Samsung S23 CPU", AnchorPrecision: "int8",
	},
	{
		Name:      "s23-gpu",
		Device:    "Samsung Galaxy S23, Snapdragon 8 Gen 2 Adreno 740 GPU",
		Runtime:   "TFLite GPU delegate, fp16",
		Precision: FP16, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 600, // ~2 TFLOPS fp32 = ~2 TMAC/s fp16 peak; ~30%
			EffConv:   0.6, EffFused: 0.8, EffDW: 0.3, EffFC: 0.3,
			BandwidthGBs:    30, // LPDDR5X-8533, 68 GB/s theoretical
			LayerOverheadUs: 20,
			FixedOverheadMs: 0.3,
		},
		PriorNotes:     "Adreno 740 throughput; LPDDR5X bandwidth",
		AnchorHardware: "Samsung S23 GPU (Adreno 740)", AnchorPrecision: "fp16",
		PriorFrom: "pixel4-gpu",
	},
	{
		Name:      "iphone13-ane",
		Device:    "Apple iPhone 13, A15 Neural Engine",
		Runtime:   "CoreML MLProgram, fp16",
		Precision: FP16, Group: "mnv4",
		Prior: Params{
			PeakGMACs: 2400, // 15.8 TOPS = 7.9 TMAC/s peak; ~30%
			EffConv:   0.3, EffFused: 1.0, EffDW: 0.2, EffFC: 0.3,
			BandwidthGBs:    20, // LPDDR4X, 34 GB/s theoretical
			LayerOverheadUs: 5,
			FixedOverheadMs: 0.3,
		},
		PriorNotes:     "A15 Neural Engine published 15.8 TOPS; LPDDR4X bandwidth",
		AnchorHardware: "iPhone 13 CoreML (ANE)", AnchorPrecision: "fp16",
	},
	{
		Name:      "coral-edgetpu",
		Device:    "Google Coral Edge TPU",
		Runtime:   "TFLite EdgeTPU (BRP-NAS LatBench), int8",
		Precision: Int8, Group: "bench",
		Prior: Params{
			PeakGMACs:       1000, // 4 TOPS = 2 TMAC/s peak; ~50% on large convs
			EffConv:         0.3,  // 3-channel stem fills the systolic array poorly
			EffFused:        1.0,  // dense convs are what the array is for
			EffDW:           0.1,  // depthwise uses one array column per channel
			EffFC:           0.2,
			BandwidthGBs:    8,   // off-chip streaming
			LayerOverheadUs: 5,   // compiled graph
			FixedOverheadMs: 0.5, // host round trip and I/O
			OnChipMB:        8,   // 8 MB SRAM for parameter caching (Coral datasheet)
		},
		PriorNotes:     "Coral Edge TPU datasheet (4 TOPS, 8 MB SRAM); the same priors as the Pixel 4's Edge TPU-class Neural Core",
		AnchorHardware: "Coral Edge TPU", AnchorPrecision: "int8",
		Bench: []BenchColumn{{Table: devicedata.NameBRPNAS, Column: devicedata.EdgeTPU, Precision: Int8, SameRuntime: true,
			Runtime: "BRP-NAS LatBench (Dudziak et al. 2020), NAS-Bench-201 networks, int8"}},
	},
}

func init() {
	for i := range specs {
		p := &specs[i].Prior
		// A k×k average pool is a depthwise conv with constant weights; ops
		// without weights dispatch like the others. Unless a spec says more.
		if p.EffPool == 0 {
			p.EffPool = p.EffDW
		}
		if p.EltwiseOverheadUs == 0 {
			p.EltwiseOverheadUs = p.LayerOverheadUs
		}
	}
}
