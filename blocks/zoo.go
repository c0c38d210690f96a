package blocks

import (
	"fmt"
	"sort"
	"strings"
)

// Reference is a published architecture with the figures its source reports.
type Reference struct {
	Name        string
	Description string
	// Spec is the text form (see Parse).
	Spec string
	// PublishedMACs and PublishedParams are the figures of Source, at
	// PublishedResolution with the architecture's class count.
	PublishedMACs       float64
	PublishedParams     float64
	PublishedResolution int
	// PublishedRounding is the unit the published figures were rounded to
	// (e.g. 0.1e9 for "0.2 G MACs"); 0 means exact.
	PublishedRounding float64
	Source            string
}

// Tolerance returns the relative tolerance within which an analysis should
// match the published figure v: 5%, or half the rounding unit when the source
// rounded more coarsely than that.
func (r *Reference) Tolerance(v float64) float64 {
	return max(0.05, r.PublishedRounding/2/v)
}

// Arch parses the reference's spec.
func (r *Reference) Arch() *Arch {
	a, err := Parse(r.Spec)
	if err != nil { // The specs are constants checked by the tests.
		panic(fmt.Sprintf("reference model %q: %v", r.Name, err))
	}
	return a
}

// References are the reference models, ImageNet-shaped (224×224×3, 1001
// classes as in the TF releases unless said otherwise). Block specs follow the
// sources named in each Source; MobileNet-MultiHW figures are from the TF
// Model Garden release of Chu et al. 2021 (arXiv 2008.08178;
// official/vision/modeling/backbones/mobilenet.py, MobileNetMultiAVG/MAX).
var References = []*Reference{
	{
		Name:        "mobilenet_v2",
		Description: "MobileNetV2 1.0 (Sandler et al. 2018): IBN, ReLU6",
		Spec: `name mobilenet_v2
input 224x224x3
classes 1001
stem cn_k3_s2_c32_nr6
ir_k3_s1_e1_c16_nr6
ir_r2_k3_s2_e6_c24_nr6
ir_r3_k3_s2_e6_c32_nr6
ir_r4_k3_s2_e6_c64_nr6
ir_r3_k3_s1_e6_c96_nr6
ir_r3_k3_s2_e6_c160_nr6
ir_k3_s1_e6_c320_nr6
head c1280`,
		PublishedMACs: 300.8e6, PublishedParams: 3540265, PublishedResolution: 224,
		Source: "TF Model Garden / Keras MobileNetV2 (3,538,984 params at 1000 classes incl. BN statistics); Sandler et al. 2018, arXiv 1801.04381",
	},
	{
		Name:        "mobilenet_v3_large_min",
		Description: "MobileNetV3-Large-Minimalistic 1.0 (Howard et al. 2019): no SE, no h-swish, 3x3 kernels",
		Spec: `name mobilenet_v3_large_min
input 224x224x3
classes 1001
stem cn_k3_s2_c16
ir_k3_s1_e1_c16
ir_k3_s2_e4_c24
ir_k3_s1_e3_c24
ir_r3_k3_s2_e3_c40
ir_k3_s2_e6_c80
ir_k3_s1_e2.5_c80
ir_r2_k3_s1_m184_c80
ir_r2_k3_s1_e6_c112
ir_r3_k3_s2_e6_c160
head c960_h1280_d0.2`,
		PublishedMACs: 209e6, PublishedParams: 3.9e6, PublishedResolution: 224,
		Source: "TF-slim mobilenet_v3.py V3_LARGE_MINIMALISTIC and its README table (209 M MACs, 3.9 M params)",
	},
	{
		Name:        "multi_avg",
		Description: "MobileNet-MultiHW-AVG (Chu et al. 2021): searched for the average normalised latency over Pixel 4 CPU/GPU/DSP/EdgeTPU",
		Spec: `name multi_avg
input 224x224x3
classes 1001
stem cn_k3_s2_c32
ir_k3_s2_e3_c32
ir_k3_s1_e2_c32
ir_k5_s2_e5_c64
ir_k3_s1_e3_c64
ir_k3_s1_e2_c64
ir_k3_s1_e3_c64
ir_k5_s2_e6_c128
ir_r3_k3_s1_e3_c128
ir_k3_s1_e6_c160
ir_k3_s1_e4_c160
ir_k3_s2_e6_c192
ir_r3_k5_s1_e4_c192
head c960_h1280_d0.2`,
		PublishedMACs: 432.5e6, PublishedParams: 4982857, PublishedResolution: 224,
		Source: "TF Model Garden MobileNetMultiAVG block specs (official/vision/modeling/backbones/mobilenet.py); Chu et al. 2021, arXiv 2008.08178",
	},
	{
		Name:        "multi_max",
		Description: "MobileNet-MultiHW-MAX (Chu et al. 2021): searched for the worst-case normalised latency over Pixel 4 CPU/GPU/DSP/EdgeTPU",
		Spec: `name multi_max
input 224x224x3
classes 1001
stem cn_k3_s2_c32
ir_k3_s2_e3_c32
ir_k5_s2_e6_c64
ir_r2_k3_s1_e2_c64
ir_k5_s2_e6_c128
ir_k3_s1_e4_c128
ir_r2_k3_s1_e3_c128
ir_k3_s1_e6_c128
ir_k3_s1_e3_c128
ir_k3_s2_e6_c160
ir_k5_s1_e4_c160
ir_k3_s1_e5_c160
ir_k5_s1_e4_c160
head c960_h1280_d0.2`,
		PublishedMACs: 349.2e6, PublishedParams: 4453001, PublishedResolution: 224,
		Source: "TF Model Garden MobileNetMultiMAX block specs (official/vision/modeling/backbones/mobilenet.py); Chu et al. 2021, arXiv 2008.08178",
	},
	{
		Name:        "mobilenet_edgetpu",
		Description: "MobileNet-EdgeTPU 1.0 (Gupta & Akin 2019): fused IBN early, IBN late",
		Spec: `name mobilenet_edgetpu
input 224x224x3
classes 1001
stem cn_k3_s2_c32
er_k3_s1_e1_c16
er_k3_s2_e8_c32
er_r3_k3_s1_e4_c32
er_k3_s2_e8_c48
er_r3_k3_s1_e4_c48
ir_k3_s2_e8_c96
ir_r3_k3_s1_e4_c96
ir_k3_s1_e8_c96_noskip
ir_r3_k3_s1_e4_c96
ir_k5_s2_e8_c160
ir_r3_k5_s1_e4_c160
ir_k3_s1_e8_c192
head c1280`,
		PublishedMACs: 990e6, PublishedParams: 4.0e6, PublishedResolution: 224,
		Source: "TF-slim mobilenet_v3.py V3_EDGETPU and the MobileNet-EdgeTPU README (990 M MACs, 4.0 M params)",
	},
	{
		Name:        "efficientnet_lite0",
		Description: "EfficientNet-Lite0 (Tan & Le 2019, lite variant): MBConv without SE, ReLU6, fixed stem and head",
		Spec: `name efficientnet_lite0
input 224x224x3
classes 1000
stem cn_k3_s2_c32_nr6
ir_k3_s1_e1_c16_nr6
ir_r2_k3_s2_e6_c24_nr6
ir_r2_k5_s2_e6_c40_nr6
ir_r3_k3_s2_e6_c80_nr6
ir_r3_k5_s1_e6_c112_nr6
ir_r4_k5_s2_e6_c192_nr6
ir_k3_s1_e6_c320_nr6
head c1280_d0.2`,
		PublishedMACs: 385e6, PublishedParams: 4.652e6, PublishedResolution: 224,
		Source: "d-li14/efficientnet-lite.pytorch README (4.652 M params, 0.385 G MACs). The tensorflow/tpu lite README lists 4.7 M params and 407 M MAdds, 5.4% above the conv+FC MACs of the same spec",
	},
	{
		Name:        "mnv4_conv_s",
		Description: "MobileNetV4-Conv-Small (Qin et al. 2024): UIB blocks, ReLU",
		Spec: `name mnv4_conv_s
input 224x224x3
classes 1000
stem cn_k3_s2_c32
cn_k3_s2_c32
cn_k1_s1_c32
cn_k3_s2_c96
cn_k1_s1_c64
uir_a5_k5_s2_e3_c96
uir_r4_a0_k3_s1_e2_c96
uir_a3_k0_s1_e4_c96
uir_a3_k3_s2_e6_c128
uir_a5_k5_s1_e4_c128
uir_a0_k5_s1_e4_c128
uir_a0_k5_s1_e3_c128
uir_r2_a0_k3_s1_e4_c128
head c960_h1280_d0.2`,
		PublishedMACs: 0.2e9, PublishedParams: 3.8e6, PublishedResolution: 224, PublishedRounding: 0.1e9,
		Source: "MobileNetV4 paper and timm model card mobilenetv4_conv_small (3.8 M params, 0.2 G MACs at 224, one decimal); block specs from timm _gen_mobilenet_v4",
	},
	{
		Name:        "mnv4_conv_m",
		Description: "MobileNetV4-Conv-Medium (Qin et al. 2024): fused IB then UIB blocks, ReLU",
		Spec: `name mnv4_conv_m
input 256x256x3
classes 1000
stem cn_k3_s2_c32
er_k3_s2_e4_c48
uir_a3_k5_s2_e4_c80
uir_a3_k3_s1_e2_c80
uir_a3_k5_s2_e6_c160
uir_r2_a3_k3_s1_e4_c160
uir_a3_k5_s1_e4_c160
uir_a3_k3_s1_e4_c160
uir_a3_k0_s1_e4_c160
uir_a0_k0_s1_e2_c160
uir_a3_k0_s1_e4_c160
uir_a5_k5_s2_e6_c256
uir_a5_k5_s1_e4_c256
uir_r2_a3_k5_s1_e4_c256
uir_a0_k0_s1_e4_c256
uir_a3_k0_s1_e4_c256
uir_a3_k5_s1_e2_c256
uir_a5_k5_s1_e4_c256
uir_r2_a0_k0_s1_e4_c256
uir_a5_k0_s1_e2_c256
head c960_h1280_d0.2`,
		PublishedMACs: 1.1e9, PublishedParams: 9.7e6, PublishedResolution: 256, PublishedRounding: 0.1e9,
		Source: "timm model card mobilenetv4_conv_medium.e500_r256_in1k (9.7 M params, 1.1 G MACs at 256, one decimal); block specs from timm _gen_mobilenet_v4",
	},
}

// ReferenceNames lists the reference model names in declaration order.
func ReferenceNames() []string {
	names := make([]string, len(References))
	for i, r := range References {
		names[i] = r.Name
	}
	return names
}

// LookupReference returns the named reference, or an error listing the valid names.
func LookupReference(name string) (*Reference, error) {
	for _, r := range References {
		if r.Name == name {
			return r, nil
		}
	}
	names := ReferenceNames()
	sort.Strings(names)
	return nil, fmt.Errorf("unknown model %q (valid models: %s)", name, strings.Join(names, ", "))
}

// Model returns the architecture of the named reference model.
func Model(name string) (*Arch, error) {
	r, err := LookupReference(name)
	if err != nil {
		return nil, err
	}
	return r.Arch(), nil
}

// Models returns the reference models of the given names, in order (see
// Model).
func Models(names ...string) ([]*Arch, error) {
	archs := make([]*Arch, len(names))
	for i, name := range names {
		a, err := Model(name)
		if err != nil {
			return nil, err
		}
		archs[i] = a
	}
	return archs, nil
}
