package blocks

// Top1 is a published ImageNet top-1 accuracy of a reference model.
type Top1 struct {
	// Percent is the top-1 accuracy on the ImageNet validation set, float
	// model at the reference's resolution.
	Percent float64
	Source  string
}

// publishedTop1 holds the accuracies published with the models (the source
// of each is its Source) and the top1 column of
// hwcost/data/latency_anchors.csv, float models only.
// Training recipes differ between sources (MobileNet-MultiHW-AVG's is a
// 500-epoch one), so the numbers place models roughly, not exactly.
// MobileNet-MultiHW-MAX is missing: no source at hand gives its accuracy.
var publishedTop1 = map[string]Top1{
	"mobilenet_v1":           {71.0, "TFLite hosted models (float MobileNet_V1_1.0_224); latency_anchors.csv"},
	"mobilenet_v2":           {71.8, "TF-slim MobileNetV2 README (mobilenet_v2_1.0_224); latency_anchors.csv"},
	"mobilenet_v2_0.5":       {65.4, "TF-slim MobileNetV2 README (mobilenet_v2_0.5_224); latency_anchors.csv"},
	"mobilenet_v3_large_min": {72.3, "TF-slim MobileNetV3 README (Large-Minimalistic 1.0 float)"},
	"multi_avg":              {75.27, "Chu et al. 2021, arXiv 2008.08178 (fp32, 500-epoch RMSProp recipe)"},
	"mobilenet_edgetpu":      {75.6, "TF-slim MobileNet-EdgeTPU README (dm1.0 float); latency_anchors.csv"},
	"efficientnet_lite0":     {75.1, "tensorflow/tpu EfficientNet-Lite README (float); latency_anchors.csv"},
	"efficientnet_lite1":     {76.7, "tensorflow/tpu EfficientNet-Lite README (float); latency_anchors.csv"},
	"efficientnet_lite2":     {77.6, "tensorflow/tpu EfficientNet-Lite README (float); latency_anchors.csv"},
	"efficientnet_lite3":     {79.8, "tensorflow/tpu EfficientNet-Lite README (float); latency_anchors.csv"},
	"efficientnet_lite4":     {81.5, "tensorflow/tpu EfficientNet-Lite README (float); latency_anchors.csv"},
	"mobileone_s0":           {71.4, "MobileNetV4 paper Table 6; latency_anchors.csv"},
	"mnv4_conv_s":            {73.8, "MobileNetV4 paper Table 6; latency_anchors.csv"},
	"mnv4_conv_l":            {82.9, "MobileNetV4 paper Table 6; latency_anchors.csv"},
}

// PublishedTop1 returns the published ImageNet top-1 accuracy of the named
// reference model, if a source gives one (see the sources: recipes differ).
func PublishedTop1(name string) (Top1, bool) {
	t, ok := publishedTop1[name]
	return t, ok
}
