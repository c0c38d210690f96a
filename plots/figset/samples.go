package figset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/predict"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/report"
)

// AvgVsMaxModels are the reference models AvgVsMax marks among the samples.
var AvgVsMaxModels = []string{"mobilenet_v2", "mobilenet_v3_large_min", "multi_avg", "multi_max", "mobilenet_edgetpu", "mnv4_conv_s"}

// AvgVsMax draws n architectures uniformly from space (PCG stream (seed, 2))
// and scores them with m: the scatter of their AVG against their MAX
// normalised latency with the models named in refs, and the Spearman rank
// correlations of the targets' normalised latencies over the samples (how
// much the targets agree on which architecture is faster).
func AvgVsMax(m *hwcost.Metric, space *nas.Space, n int, seed uint64, refs []string) (*plots.Figure, *report.Table, error) {
	rng := rand.New(rand.NewPCG(seed, 2))
	names := m.TargetNames()
	norm := make([][]float64, len(names)) // norm[target][sample]
	samples := plots.PointGroup{Name: fmt.Sprintf("%d uniform samples", n)}
	buf := make([]float64, m.NumTargets())
	for range n {
		a, err := space.Arch(space.Sample(rng, nil))
		if err != nil {
			return nil, nil, err
		}
		s, err := m.Scores(a, buf)
		if err != nil {
			return nil, nil, err
		}
		for t := range names {
			norm[t] = append(norm[t], buf[t])
		}
		samples.X, samples.Y = append(samples.X, s.Avg), append(samples.Y, s.Max)
	}
	marked := plots.PointGroup{Name: "reference"}
	for _, name := range refs {
		a, err := blocks.Model(name)
		if err != nil {
			return nil, nil, err
		}
		s, err := m.Scores(a, buf)
		if err != nil {
			return nil, nil, err
		}
		marked.X, marked.Y, marked.Labels = append(marked.X, s.Avg), append(marked.Y, s.Max), append(marked.Labels, name)
	}
	fig, err := plots.Scatter(plots.ScatterData{Name: "avg_vs_max", Title: "AVG vs MAX normalised latency",
		XLabel: "AVG normalised latency", YLabel: "MAX normalised latency", XLog: true, YLog: true, Diagonal: true,
		XRef: 1, YRef: 1, RefName: m.Reference(), Groups: []plots.PointGroup{samples, marked}})
	if err != nil {
		return nil, nil, err
	}
	return fig, predict.SpearmanTable(names, norm), nil
}

// NB201Devices is how the four Pixel 4 stand-ins of BRP-NAS (Snapdragon 855
// CPU, GPU, DSP and the Edge TPU) rank the NAS-Bench-201 cells measured on
// all four, each latency divided by a reference cell's on the same device.
type NB201Devices struct {
	Labels []string
	// Cells is the number of cells measured on every device; Within[k] how
	// many of them are at most as slow as the reference on device k,
	// AllWithin on all four (MAX ≤ 1).
	Cells     int
	Within    []int
	AllWithin int
	// Spearman holds the rank correlations between the devices.
	Spearman *report.Table
	// Figure is the CPU against the DSP relative latency of every cell.
	Figure *plots.Figure
}

// NB201DevicesOf reads BRP-NAS's measurements relative to the reference
// cell ref (arch_str).
func NB201DevicesOf(ref string) (*NB201Devices, error) {
	lat, err := devicedata.BRPNAS()
	if err != nil {
		return nil, err
	}
	cell, err := devicedata.ParseCell(ref)
	if err != nil {
		return nil, err
	}
	devices := devicedata.Pixel4Targets
	d := &NB201Devices{Labels: []string{"CPU", "GPU", "DSP", "EdgeTPU"}, Within: make([]int, len(devices))}
	rel := make([][]float64, len(devices)) // rel[device][cell], NaN where not measured
	for k, dev := range devices {
		if rel[k], err = lat.Relative(dev, cell); err != nil {
			return nil, err
		}
	}
	cols := make([][]float64, len(devices)) // the cells measured on every device
	for i := range lat.Len() {
		all, within := true, true
		for k := range devices {
			all = all && !math.IsNaN(rel[k][i])
		}
		if !all {
			continue
		}
		d.Cells++
		for k := range devices {
			cols[k] = append(cols[k], rel[k][i])
			if rel[k][i] <= 1 {
				d.Within[k]++
			} else {
				within = false
			}
		}
		if within {
			d.AllWithin++
		}
	}
	d.Spearman = predict.SpearmanTable(d.Labels, cols)
	d.Figure, err = plots.Scatter(plots.ScatterData{Name: "nb201_cpu_vs_dsp", Title: "NAS-Bench-201 cells measured on the Snapdragon 855",
		XLabel: "CPU latency / reference cell", YLabel: "DSP latency / reference cell", XLog: true, YLog: true,
		Diagonal: true, XRef: 1, YRef: 1, RefName: "reference cell",
		Groups: []plots.PointGroup{{Name: fmt.Sprintf("%d cells", d.Cells), X: cols[0], Y: cols[2]}}})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Summary says how many cells are at most as slow as the reference on each
// device and on all four.
func (d *NB201Devices) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d cells measured on all four; at most as slow as the reference cell:\n", d.Cells)
	for k, l := range d.Labels {
		fmt.Fprintf(&b, "  on the %-8s %5d cells\n", l, d.Within[k])
	}
	fmt.Fprintf(&b, "  on all four   %5d cells (MAX ≤ 1)\n", d.AllWithin)
	return b.String()
}

// SpaceSizeModels are the models SpaceSize marks among the samples; the
// paper's searched ones (PaperSearched) are drawn as "searched".
var SpaceSizeModels = []string{"mobilenet_v2", "mobilenet_v3_large_min", "mobilenet_edgetpu", "efficientnet_lite0", "mnv4_conv_s", "multi_avg", "multi_max"}

// SpaceSize draws n architectures uniformly from space (PCG stream (seed,
// 1)): the scatter of their MACs against their parameters with the models
// named in refs, and a line with the 5%, 50% and 95% quantiles of their MACs.
func SpaceSize(space *nas.Space, n int, seed uint64, refs []string) (*plots.Figure, string, error) {
	if n < 1 {
		return nil, "", fmt.Errorf("space size: %d samples", n)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	samples := plots.PointGroup{Name: fmt.Sprintf("%d uniform samples", n)}
	for range n {
		a, err := space.Arch(space.Sample(rng, nil))
		if err != nil {
			return nil, "", err
		}
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			return nil, "", err
		}
		samples.X, samples.Y = append(samples.X, float64(an.MACs)/1e6), append(samples.Y, float64(an.Params)/1e6)
	}
	marked, searched := plots.PointGroup{Name: "reference"}, plots.PointGroup{Name: "searched"}
	for _, name := range refs {
		a, err := blocks.Model(name)
		if err != nil {
			return nil, "", err
		}
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			return nil, "", err
		}
		g := &marked
		if slices.Contains(PaperSearched, name) {
			g = &searched
		}
		g.X, g.Y, g.Labels = append(g.X, float64(an.MACs)/1e6), append(g.Y, float64(an.Params)/1e6), append(g.Labels, name)
	}
	sorted := slices.Sorted(slices.Values(samples.X))
	text := fmt.Sprintf("MACs of the samples: 5%% %.0f M, median %.0f M, 95%% %.0f M\n", sorted[n/20], sorted[n/2], sorted[n-1-n/20])
	fig, err := plots.Scatter(plots.ScatterData{Name: "space_size", Title: "The multihw search space: size of uniform samples",
		XLabel: "MACs (M)", YLabel: "parameters (M)", XLog: true, YLog: true,
		Groups: []plots.PointGroup{samples, marked, searched}})
	return fig, text, err
}
