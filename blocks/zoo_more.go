package blocks

import "strconv"

// More reference models, added for the hardware cost models: they are the
// architectures of the published on-device latencies (latency_anchors.csv) that
// the block set can describe, so that package hwcost can fit and check its
// per-hardware models on them. TestReferenceFigures checks each against its
// published MACs and parameters.
func init() {
	References = append(References, moreReferences...)
}

var moreReferences = []*Reference{
	{
		Name: "mobilenet_v1",
		Description: "MobileNetV1 1.0 (Howard et al. 2017): 3x3 depthwise + 1x1 pointwise pairs, ReLU6. " +
			"Written as expansion-1 IBNs without residuals; the ReLU6 after each pointwise conv is not represented " +
			"(IBN projections are linear), which changes neither MACs, parameters nor latency models",
		Spec: `name mobilenet_v1
input 224x224x3
classes 1001
stem cn_k3_s2_c32_nr6
ir_k3_s1_e1_c64_nr6
ir_k3_s2_e1_c128_nr6
ir_k3_s1_e1_c128_nr6_noskip
ir_k3_s2_e1_c256_nr6
ir_k3_s1_e1_c256_nr6_noskip
ir_k3_s2_e1_c512_nr6
ir_r5_k3_s1_e1_c512_nr6_noskip
ir_k3_s2_e1_c1024_nr6
ir_k3_s1_e1_c1024_nr6_noskip
head d0.001`,
		PublishedMACs: 569e6, PublishedParams: 4.24e6, PublishedResolution: 224,
		Source: "tensorflow/models research/slim/nets/mobilenet_v1.md (MobileNet_v1_1.0_224: 569 M MACs, 4.24 M params)",
	},
	{
		Name:        "mobilenet_v2_0.5",
		Description: "MobileNetV2 0.5 (Sandler et al. 2018): width 0.5 except the last 1x1 conv, which stays 1280 below width 1",
		Spec: `name mobilenet_v2_0.5
input 224x224x3
classes 1001
stem cn_k3_s2_c16_nr6
ir_k3_s1_e1_c8_nr6
ir_r2_k3_s2_e6_c16_nr6
ir_r3_k3_s2_e6_c16_nr6
ir_r4_k3_s2_e6_c32_nr6
ir_r3_k3_s1_e6_c48_nr6
ir_r3_k3_s2_e6_c80_nr6
ir_k3_s1_e6_c160_nr6
head c1280`,
		PublishedMACs: 97e6, PublishedParams: 1.95e6, PublishedResolution: 224,
		Source: "tensorflow/models research/slim/nets/mobilenet/README.md (mobilenet_v2_0.5_224: 97 M MACs, 1.95 M params)",
	},
	{
		Name:        "mobileone_s0",
		Description: "MobileOne-S0 (Vasu et al. 2023) after re-parameterisation: 3x3 depthwise + 1x1 pointwise pairs, ReLU, no SE",
		Spec: `name mobileone_s0
input 224x224x3
classes 1000
stem cn_k3_s2_c48
ir_k3_s2_e1_c48
ir_k3_s1_e1_c48_noskip
ir_k3_s2_e1_c128
ir_r7_k3_s1_e1_c128_noskip
ir_k3_s2_e1_c256
ir_r9_k3_s1_e1_c256_noskip
ir_k3_s2_e1_c1024
head none`,
		PublishedMACs: 275e6, PublishedParams: 2.1e6, PublishedResolution: 224,
		Source: "MobileOne paper Table 4 (S0: 2.1 M params, 275 M FLOPs counted as MACs); stages from apple/ml-mobileone " +
			"(blocks 2/8/10/1, widths 48/128/256/1024, stem 48)",
	},
	{
		Name:        "mnv4_conv_l",
		Description: "MobileNetV4-Conv-Large (Qin et al. 2024): fused IB then UIB blocks, ReLU, 384 px",
		Spec: `name mnv4_conv_l
input 384x384x3
classes 1000
stem cn_k3_s2_c24
er_k3_s2_e4_c48
uir_a3_k5_s2_e4_c96
uir_a3_k3_s1_e4_c96
uir_a3_k5_s2_e4_c192
uir_r3_a3_k3_s1_e4_c192
uir_a3_k5_s1_e4_c192
uir_r5_a5_k3_s1_e4_c192
uir_a3_k0_s1_e4_c192
uir_r4_a5_k5_s2_e4_c512
uir_a5_k0_s1_e4_c512
uir_a5_k3_s1_e4_c512
uir_r2_a5_k0_s1_e4_c512
uir_a5_k3_s1_e4_c512
uir_a5_k5_s1_e4_c512
uir_r3_a5_k0_s1_e4_c512
head c960_h1280_d0.2`,
		PublishedMACs: 6.4e9, PublishedParams: 32.6e6, PublishedResolution: 384,
		Source: "timm model card mobilenetv4_conv_large.e600_r384_in1k (32.6 M params, 6.4 G MACs at 384); block specs from timm " +
			"_gen_mobilenet_v4 (conv_large), identical to TF Model Garden MNV4ConvLarge_BLOCK_SPECS. The MobileNetV4 paper's " +
			"Table 6 rounds to 5.9 G MACs and 31 M params",
	},
	liteRef("efficientnet_lite1", "1.0, depth 1.1, 240 px", 240, []string{
		"ir_k3_s1_e1_c16_nr6",
		"ir_r3_k3_s2_e6_c24_nr6",
		"ir_r3_k5_s2_e6_c40_nr6",
		"ir_r4_k3_s2_e6_c80_nr6",
		"ir_r4_k5_s1_e6_c112_nr6",
		"ir_r5_k5_s2_e6_c192_nr6",
		"ir_k3_s1_e6_c320_nr6",
	}, 0.600e9, 5.417e6),
	liteRef("efficientnet_lite2", "1.1, depth 1.2, 260 px", 260, []string{
		"ir_k3_s1_e1_c16_nr6",
		"ir_r3_k3_s2_e6_c24_nr6",
		"ir_r3_k5_s2_e6_c48_nr6",
		"ir_r4_k3_s2_e6_c88_nr6",
		"ir_r4_k5_s1_e6_c120_nr6",
		"ir_r5_k5_s2_e6_c208_nr6",
		"ir_k3_s1_e6_c352_nr6",
	}, 0.860e9, 6.092e6),
	liteRef("efficientnet_lite3", "1.2, depth 1.4, 280 px", 280, []string{
		"ir_k3_s1_e1_c24_nr6",
		"ir_r3_k3_s2_e6_c32_nr6",
		"ir_r3_k5_s2_e6_c48_nr6",
		"ir_r5_k3_s2_e6_c96_nr6",
		"ir_r5_k5_s1_e6_c136_nr6",
		"ir_r6_k5_s2_e6_c232_nr6",
		"ir_k3_s1_e6_c384_nr6",
	}, 1.383e9, 8.197e6),
	liteRef("efficientnet_lite4", "1.4, depth 1.8, 300 px", 300, []string{
		"ir_k3_s1_e1_c24_nr6",
		"ir_r4_k3_s2_e6_c32_nr6",
		"ir_r4_k5_s2_e6_c56_nr6",
		"ir_r6_k3_s2_e6_c112_nr6",
		"ir_r6_k5_s1_e6_c160_nr6",
		"ir_r8_k5_s2_e6_c272_nr6",
		"ir_k3_s1_e6_c448_nr6",
	}, 2.553e9, 13.007e6),
}

// liteRef builds an EfficientNet-Lite reference. Lite scales widths (rounded to
// multiples of 8) and repeats (ceil) like EfficientNet but keeps the stem (32),
// the head (1280) and the repeats of the first and last stage fixed
// (tensorflow/tpu efficientnet/lite, fix_head_stem).
func liteRef(name, scaling string, res int, blockLines []string, macs, params float64) *Reference {
	spec := "name " + name + "\ninput " + strconv.Itoa(res) + "x" + strconv.Itoa(res) + "x3\nclasses 1000\nstem cn_k3_s2_c32_nr6\n"
	for _, l := range blockLines {
		spec += l + "\n"
	}
	spec += "head c1280_d0.2"
	return &Reference{
		Name:                name,
		Description:         "EfficientNet-Lite (Tan & Le 2019, lite variant): MBConv without SE, ReLU6, fixed stem and head; width " + scaling,
		Spec:                spec,
		PublishedMACs:       macs,
		PublishedParams:     params,
		PublishedResolution: res,
		Source: "d-li14/efficientnet-lite.pytorch README (params, GFLOPs counted as MACs); scaling rules of " +
			"tensorflow/tpu efficientnet/lite (the TF README's MAdds are ~5% higher, as for Lite0)",
	}
}
