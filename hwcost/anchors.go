package hwcost

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
)

// Anchor is one row of latency_anchors.csv: a published on-device latency.
type Anchor struct {
	Line       int     `json:"line"` // 1-based line in the file (header = 1)
	Model      string  `json:"model"`
	Task       string  `json:"task"`
	InputRes   string  `json:"input_res"`
	Precision  string  `json:"precision"`
	Hardware   string  `json:"hardware"`
	HWClass    string  `json:"hw_class"`
	Config     string  `json:"config"`
	LatencyMs  float64 `json:"latency_ms"` // NaN when the cell is empty (e.g. failed on device)
	MACsM      float64 `json:"macs_m"`     // NaN when empty
	ParamsM    float64 `json:"params_m"`   // NaN when empty
	Source     string  `json:"source"`
	Confidence string  `json:"confidence"`
	Notes      string  `json:"notes"`
}

//go:embed data/latency_anchors.csv
var embeddedAnchors []byte

// EmbeddedAnchors returns the rows of the copy of latency_anchors.csv embedded
// in the package (data/latency_anchors.csv; see data/README.md).
func EmbeddedAnchors() ([]Anchor, error) { return ReadAnchors(bytes.NewReader(embeddedAnchors)) }

// EmbeddedAnchorsID identifies the embedded anchors file (name and SHA-256 prefix).
func EmbeddedAnchorsID() string { return AnchorsID("hwcost/data/latency_anchors.csv", embeddedAnchors) }

// AnchorsID names an anchors file by path and the SHA-256 prefix of its content.
func AnchorsID(path string, data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s (sha256 %x)", path, sum[:8])
}

var anchorColumns = []string{"model", "task", "input_res", "precision", "hardware", "hw_class", "config",
	"latency_ms", "macs_M", "params_M", "top1", "source", "confidence", "notes"}

// ReadAnchors parses latency_anchors.csv.
func ReadAnchors(r io.Reader) ([]Anchor, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("latency anchors: reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // spreadsheets add a byte-order mark
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("latency anchors: column %q given twice", h)
		}
		col[h] = i
	}
	for _, c := range anchorColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("latency anchors: missing column %q (have %s)", c, strings.Join(header, ", "))
		}
	}
	var out []Anchor
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("latency anchors: %w", err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("latency anchors: line %d has %d fields, header has %d", line, len(rec), len(header))
		}
		get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		num := func(c string) (float64, error) {
			s := get(c)
			if s == "" {
				return math.NaN(), nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return 0, fmt.Errorf("latency anchors: line %d: column %s: %q is not a non-negative number", line, c, s)
			}
			return v, nil
		}
		a := Anchor{Line: line, Model: get("model"), Task: get("task"), InputRes: get("input_res"), Precision: get("precision"),
			Hardware: get("hardware"), HWClass: get("hw_class"), Config: get("config"), Source: get("source"),
			Confidence: get("confidence"), Notes: get("notes")}
		if a.LatencyMs, err = num("latency_ms"); err != nil {
			return nil, err
		}
		// 0 marks a model that did not run (the row is listed as excluded);
		// a positive value outside a measurement's range is a unit error.
		if a.LatencyMs > 0 && (a.LatencyMs < devicedata.MinValue || a.LatencyMs > devicedata.MaxValue) {
			return nil, fmt.Errorf("latency anchors: line %d: column latency_ms: %g is outside [%g, %g] ms (a unit error?)",
				line, a.LatencyMs, float64(devicedata.MinValue), float64(devicedata.MaxValue))
		}
		if a.MACsM, err = num("macs_M"); err != nil {
			return nil, err
		}
		if a.ParamsM, err = num("params_M"); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// anchorModel maps a model name of the anchors file to an architecture the
// block set describes: a reference model at a width multiplier.
type anchorModel struct {
	model string  // the anchors file's model column
	arch  string  // blocks reference name
	width float64 // width multiplier (1 = as is)
}

// anchorModels are the anchors' models the block set can describe. Models with
// squeeze-excite, h-swish or attention (MobileNetV3, MobileOne-S4, FastViT,
// EfficientViT, MNv4-Hybrid), patchify stems (ConvNeXt) or unpublished
// structure are left out.
var anchorModels = []anchorModel{
	{"MobileNetV1 1.0", "mobilenet_v1", 1},
	{"MobileNetV2 1.0", "mobilenet_v2", 1},
	{"MobileNetV2 0.5x", "mobilenet_v2_0.5", 1},
	{"MobileNetV2 2.0x", "mobilenet_v2", 2}, // Keras/slim: width 2 scales the last conv too
	{"MobileOne-S0", "mobileone_s0", 1},
	{"MNv4-Conv-S", "mnv4_conv_s", 1},
	{"MNv4-Conv-L", "mnv4_conv_l", 1},
	{"EfficientNet-Lite0", "efficientnet_lite0", 1},
	{"EfficientNet-Lite1", "efficientnet_lite1", 1},
	{"EfficientNet-Lite2", "efficientnet_lite2", 1},
	{"EfficientNet-Lite3", "efficientnet_lite3", 1},
	{"EfficientNet-Lite4", "efficientnet_lite4", 1},
	{"MobileNet-EdgeTPU dm1.0", "mobilenet_edgetpu", 1},
	{"MobileNet-EdgeTPU dm0.75", "mobilenet_edgetpu", 0.75},
}

// AnchorArch returns the architecture of an anchor row (at the row's input
// resolution when it gives one), or an error saying why the row's model cannot
// be described.
func AnchorArch(a Anchor) (*blocks.Arch, error) {
	for _, m := range anchorModels {
		if m.model != a.Model {
			continue
		}
		arch, err := blocks.Model(m.arch)
		if err != nil {
			return nil, err
		}
		arch = arch.WithWidth(m.width)
		if res, err := strconv.Atoi(strings.TrimSpace(a.InputRes)); err == nil {
			arch.Resolution = res
		} // "n/s (likely 224)": the architecture's own resolution
		arch.Name = anchorArchName(m, arch.Resolution)
		return arch, nil
	}
	return nil, fmt.Errorf("model %q is not described by the block set", a.Model)
}

func anchorArchName(m anchorModel, res int) string {
	n := m.arch
	if m.width != 1 {
		n += "@" + strconv.FormatFloat(m.width, 'g', -1, 64)
	}
	return fmt.Sprintf("%s/%d", n, res)
}

// AnchorRow is a target's measurement of one architecture: the geometric mean
// of the duplicate rows of the anchors file (duplicates are error bars, not
// extra points).
type AnchorRow struct {
	Target string `json:"target"`
	Model  string `json:"model"` // the anchors file's name
	Arch   string `json:"arch"`  // reference@width/resolution
	arch   *blocks.Arch
	MACs   int64 `json:"macs"`
	// MeasuredMs is the geometric mean of N rows ranging from MinMs to MaxMs.
	MeasuredMs   float64 `json:"measured_ms"`
	N            int     `json:"n"`
	MinMs, MaxMs float64 `json:"-"`
	Lines        []int   `json:"lines"`
}

// Excluded is an anchors row not used for a target, with the reason.
type Excluded struct {
	Line   int    `json:"line"`
	Model  string `json:"model"`
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// SelectAnchors returns the rows of anchors measured on the target (see
// Spec.AnchorHardware), merged per architecture and ordered by MACs, and the
// rows of that hardware it had to leave out.
func SelectAnchors(spec Spec, anchors []Anchor) ([]AnchorRow, []Excluded, error) {
	byArch := map[string]*AnchorRow{}
	var ex []Excluded
	for _, a := range anchors {
		if a.Hardware != spec.AnchorHardware {
			continue
		}
		skip := func(reason string) { ex = append(ex, Excluded{a.Line, a.Model, spec.Name, reason}) }
		switch {
		case a.Task != "classification":
			skip("task " + a.Task)
			continue
		case !strings.HasPrefix(a.Precision, spec.AnchorPrecision):
			skip(fmt.Sprintf("precision %s (target runs %s)", a.Precision, spec.AnchorPrecision))
			continue
		case math.IsNaN(a.LatencyMs) || a.LatencyMs <= 0:
			skip("no latency (" + a.Notes + ")")
			continue
		case spec.AnchorSkip[a.Model] != "":
			skip(spec.AnchorSkip[a.Model])
			continue
		}
		arch, err := AnchorArch(a)
		if err != nil {
			skip("not describable by the block set")
			continue
		}
		an, err := blocks.Analyze(arch, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("anchor line %d (%s): %w", a.Line, a.Model, err)
		}
		r := byArch[arch.Name]
		if r == nil {
			r = &AnchorRow{Target: spec.Name, Model: a.Model, Arch: arch.Name, arch: arch, MACs: an.MACs,
				MeasuredMs: 1, MinMs: math.Inf(1), MaxMs: math.Inf(-1)}
			byArch[arch.Name] = r
		}
		r.MeasuredMs *= a.LatencyMs // geometric mean, finished below
		r.N++
		r.MinMs, r.MaxMs = math.Min(r.MinMs, a.LatencyMs), math.Max(r.MaxMs, a.LatencyMs)
		r.Lines = append(r.Lines, a.Line)
	}
	rows := make([]AnchorRow, 0, len(byArch))
	for _, r := range byArch {
		r.MeasuredMs = math.Pow(r.MeasuredMs, 1/float64(r.N))
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].MACs != rows[j].MACs {
			return rows[i].MACs < rows[j].MACs
		}
		return rows[i].Arch < rows[j].Arch
	})
	return rows, ex, nil
}
