package hwcost

import (
	"slices"

	"github.com/multihw/multihw/blocks"
)

// Design is a set of analysed architectures compiled for costing them many
// times under changing parameters (fits, sensitivity draws): the distinct
// primitive layers over all of them and, per architecture, how many of each.
// Benchmark networks repeat a few dozen layer shapes thousands of times, so a
// latency costs one LayerMs per distinct layer and a sparse sum per row.
type Design struct {
	layers []blocks.Layer
	rows   [][]layerCount
}

type layerCount struct {
	layer, n int32
}

// layerKey is a layer without its name and position: what costs depend on.
func layerKey(l blocks.Layer) blocks.Layer {
	l.Name, l.Block = "", 0
	return l
}

// NewDesign compiles the analyses, one row each, in order.
func NewDesign(ans []*blocks.Analysis) *Design {
	d := &Design{rows: make([][]layerCount, len(ans))}
	index := map[blocks.Layer]int32{}
	for r, an := range ans {
		counts := map[int32]int32{}
		var order []int32
		for _, l := range an.Layers {
			k := layerKey(l)
			i, ok := index[k]
			if !ok {
				i = int32(len(d.layers))
				index[k] = i
				d.layers = append(d.layers, k)
			}
			if counts[i] == 0 {
				order = append(order, i)
			}
			counts[i]++
		}
		slices.Sort(order) // a canonical order: equal multisets, equal rows
		row := make([]layerCount, len(order))
		for j, i := range order {
			row[j] = layerCount{i, counts[i]}
		}
		d.rows[r] = row
	}
	return d
}

// Len returns the number of rows.
func (d *Design) Len() int { return len(d.rows) }

// Layers returns the number of distinct layers.
func (d *Design) Layers() int { return len(d.layers) }

// Subset returns the design of the given rows, in that order (sharing the
// layer table).
func (d *Design) Subset(rows []int) *Design {
	s := &Design{layers: d.layers, rows: make([][]layerCount, len(rows))}
	for i, r := range rows {
		s.rows[i] = d.rows[r]
	}
	return s
}

// designScratch holds the per-layer costs of one evaluation.
type designScratch struct {
	ms, w []float64
}

// Latencies writes the latency (ms) of every row on target t into out
// (len Len()). scratch may be nil.
func (d *Design) Latencies(t *Analytic, out []float64, scratch *designScratch) {
	if scratch == nil {
		scratch = &designScratch{}
	}
	if cap(scratch.ms) < len(d.layers) {
		scratch.ms, scratch.w = make([]float64, len(d.layers)), make([]float64, len(d.layers))
	}
	ms, w := scratch.ms[:len(d.layers)], scratch.w[:len(d.layers)]
	for i := range d.layers {
		var acc [2]float64
		t.AddLayerCost(&d.layers[i], acc[:])
		ms[i], w[i] = acc[0], acc[1]
	}
	for r, row := range d.rows {
		var acc [2]float64
		for _, lc := range row {
			n := float64(lc.n)
			acc[0] += n * ms[lc.layer]
			acc[1] += n * w[lc.layer]
		}
		out[r] = t.Latency(acc[:])
	}
}
