package hwcost

import (
	_ "embed"
	"fmt"
	"math"
	"sync"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/strictjson"
)

// The reference devices are HELP's meta-training devices (Lee et al., NeurIPS
// 2021, Sec. 4.1: GPUs 1080ti at batch 1, 32, 256, Xeon Silver 4114 and
// 4210R, phones Samsung A50, Pixel 3, Essential PH-1, Samsung S7), each
// fitted once on its NAS-Bench-201 and FBNet measurements and stored in
// reference_devices.json (written by `multihw cost fit`). They are what HELP
// meta-learns from; here they are candidate priors for Adapt. HELP's test
// devices (titan_rtx_256, gold_6226, fpga, pixel2, raspi4, eyeriss) and its
// validation devices are not among them.
var ReferenceColumns = []string{"1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r", "samsung_a50", "pixel3",
	"essential_ph_1", "samsung_s7"}

// ReferenceRows is how many measured networks per table a reference device
// is fitted on.
const ReferenceRows = 300

// ReferenceDevice is a fitted reference device.
type ReferenceDevice struct {
	Name      string    `json:"name"`
	Precision Precision `json:"precision"`
	// Sources are the table:column pairs it was fitted to.
	Sources []string `json:"sources"`
	// Prior is the built-in target the fit started from.
	Prior  string `json:"prior"`
	Params Params `json:"params"`
	// HeldOut is the fit's rank correlation on the other networks of each source.
	HeldOut []BenchStats `json:"held_out"`
}

// ReferenceSet is the content of reference_devices.json.
type ReferenceSet struct {
	Note    string            `json:"note"`
	Devices []ReferenceDevice `json:"devices"`
}

//go:embed reference_devices.json
var embeddedReferences []byte

var (
	refOnce sync.Once
	refSet  *ReferenceSet
	refErr  error
)

// ReferenceDevices returns the embedded reference devices.
func ReferenceDevices() (*ReferenceSet, error) {
	refOnce.Do(func() {
		refSet, refErr = ParseReferenceSet(embeddedReferences)
		if refErr != nil {
			refErr = fmt.Errorf("embedded reference_devices.json (rerun `multihw cost fit`): %w", refErr)
		}
	})
	return refSet, refErr
}

// ParseReferenceSet decodes and validates a reference set.
func ParseReferenceSet(data []byte) (*ReferenceSet, error) {
	rs := &ReferenceSet{}
	if err := strictjson.Unmarshal(data, rs); err != nil {
		return nil, fmt.Errorf("parsing reference devices: %w", err)
	}
	for _, d := range rs.Devices {
		if err := d.Params.Validate(); err != nil {
			return nil, fmt.Errorf("reference device %s: %w", d.Name, err)
		}
		if _, err := d.Precision.Bytes(); err != nil {
			return nil, fmt.Errorf("reference device %s: %w", d.Name, err)
		}
	}
	return rs, nil
}

// JSON returns the indented JSON form.
func (rs *ReferenceSet) JSON() []byte { return indentJSON(rs) }

// Library returns Adapt's candidates: the built-in targets with the embedded
// fitted parameters, then the embedded reference devices.
func Library() ([]Candidate, error) {
	rs, err := ReferenceDevices()
	if err != nil {
		return nil, err
	}
	return LibraryFrom(DefaultParams(), rs), nil
}

// LibraryFrom returns the candidates of the built-in targets with the
// parameters of ps (their prior centres, ParamSet.PriorCentre) and of the
// reference devices of rs.
func LibraryFrom(ps *ParamSet, rs *ReferenceSet) []Candidate {
	var lib []Candidate
	for _, s := range specs {
		p, ok := ps.PriorCentre(s.Name)
		if !ok {
			p = s.Prior
		}
		c := Candidate{Name: s.Name, Spec: s, Params: p, Columns: dataColumns(s)}
		for _, b := range s.Bench {
			if b.SameRuntime {
				c.Sources = append(c.Sources, b.Table+":"+b.Column)
			}
		}
		lib = append(lib, c)
	}
	for _, d := range rs.Devices {
		lib = append(lib, d.candidate())
	}
	return lib
}

// dataColumns returns the benchmark columns a target's fit saw, its own and
// those of the targets its priors come from.
func dataColumns(s Spec) []string {
	var cols []string
	for seen := map[string]bool{}; !seen[s.Name]; {
		seen[s.Name] = true
		for _, b := range s.Bench {
			cols = append(cols, b.Column)
		}
		if s.PriorFrom == "" {
			break
		}
		next, err := LookupSpec(s.PriorFrom)
		if err != nil {
			break
		}
		s = next
	}
	return cols
}

func (d ReferenceDevice) candidate() Candidate {
	c := Candidate{Name: d.Name, Params: d.Params,
		Spec: Spec{Name: d.Name, Device: d.Name, Runtime: "reference device (HELP meta-training set)", Precision: d.Precision,
			Group: "reference", Prior: d.Params}}
	for _, s := range d.Sources {
		_, col, _ := cutSource(s)
		c.Columns = append(c.Columns, col)
		c.Sources = append(c.Sources, s)
	}
	return c
}

func cutSource(s string) (table, column string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

// FitReferenceDevices fits every reference device on up to rows measured
// networks of each of its tables (nb201-help, and fbnet-help where the
// column is a measurement), starting from the closest built-in target fitted
// on published rows only (parameters of ps), in each runtime mode, and
// scores it on the other networks.
func FitReferenceDevices(rows int, ps *ParamSet) (*ReferenceSet, error) {
	rs := &ReferenceSet{Note: fmt.Sprintf(fittedNote+": HELP's meta-training devices, %d networks per table, "+
		"the rest held out (held_out: Spearman, MAPE, within10)", rows)}
	builtins := referenceStarts(ps)
	for _, col := range ReferenceColumns {
		dev, err := fitReferenceColumn(col, rows, builtins)
		if err != nil {
			return nil, err
		}
		rs.Devices = append(rs.Devices, *dev)
	}
	return rs, nil
}

// fitReferenceColumn fits the reference device of one column.
func fitReferenceColumn(col string, rows int, builtins []Candidate) (*ReferenceDevice, error) {
	var splits []*benchSplit
	var sources []string
	for _, table := range []string{devicedata.NameHELPNB201, devicedata.NameHELPFBNet} {
		bt, err := loadBench(table)
		if err != nil {
			return nil, err
		}
		tab := bt.data.Table()
		if i, err := tab.ColumnIndex(col); err != nil || tab.Columns()[i] != col || tab.ColumnNote(col) != "" {
			continue // no such measured column in this table
		}
		bs, err := splitBench(BenchColumn{Table: table, Column: col, Precision: FP32, SameRuntime: true}, rows, DefaultBenchSeed)
		if err != nil {
			return nil, fmt.Errorf("reference device %s: %w", col, err)
		}
		splits = append(splits, bs)
		sources = append(sources, table+":"+col)
	}
	if len(splits) == 0 {
		return nil, fmt.Errorf("reference device %s: no measured column", col)
	}
	return fitReference(col, splits, sources, builtins)
}

// referenceStarts are the reference fits' starting points: the built-in
// targets fitted on published rows only (parameters of ps), so that no
// benchmark column reaches a reference device through its prior.
func referenceStarts(ps *ParamSet) []Candidate {
	var builtins []Candidate
	for _, s := range specs {
		if len(dataColumns(s)) > 0 {
			continue
		}
		p, ok := ps.PriorCentre(s.Name)
		if !ok {
			p = s.Prior
		}
		builtins = append(builtins, Candidate{Name: s.Name, Spec: s, Params: p})
	}
	return builtins
}

// fitReference fits one reference device in every runtime mode from its
// closest built-in target and keeps the better fit.
func fitReference(name string, splits []*benchSplit, sources []string, builtins []Candidate) (*ReferenceDevice, error) {
	var best *ReferenceDevice
	bestJ := math.Inf(1)
	for _, mode := range runtimeModes {
		// Closest built-in target on the first table's fit rows.
		var centre Params
		var from string
		loss := math.Inf(1)
		for _, c := range builtins {
			p := c.Params
			mode.apply(&p)
			spec := c.Spec
			spec.Precision = FP32
			q, l, err := fitSpeed(spec, p, splits[0].fit, splits[0].fitMeas, false)
			if err != nil {
				return nil, err
			}
			if l < loss {
				centre, loss, from = q, l, c.Name
			}
		}
		spec := Spec{Name: name, Precision: FP32, Prior: centre}
		var srcs []*fitSource
		for _, bs := range splits {
			s, err := newFitSource(bs.col.String(), bs.fit, bs.fitMeas, BenchSigmaObs, spec, centre)
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, s)
		}
		sigma := make([]float64, len(targetParams))
		for k, fp := range targetParams {
			sigma[k] = fp.sigma
		}
		pr := newProblem(centre, sigma, srcs)
		theta := pr.minimize(nil)
		if j := pr.objective(theta); j < bestJ {
			bestJ = j
			p := pr.params(theta)
			dev := &ReferenceDevice{Name: "reference:" + name, Precision: FP32, Sources: sources, Prior: from, Params: p}
			for _, bs := range splits {
				dev.HeldOut = append(dev.HeldOut, bs.score(p, spec).HeldOut)
			}
			best = dev
		}
	}
	return best, nil
}
