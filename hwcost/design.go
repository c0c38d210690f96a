package hwcost

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
)

// Design is a set of analysed architectures compiled for costing them many
// times under changing parameters (fits, sensitivity draws): the distinct
// primitive layers over all of them and, per architecture, how many of each.
// Benchmark networks repeat a few dozen layer shapes thousands of times, so a
// latency costs one LayerMs per distinct layer and a sparse sum per row. The
// parts whose ops are not one chain (parallel branches) are kept too, as
// graphs over the distinct layers, for targets with Params.Overlap.
type Design struct {
	layers []blocks.Layer
	// usedAs[i] is the first distinct layer equal to layers[i] but for
	// Unused, which only runtimes with Params.RunsConstantOps tell apart.
	usedAs []int32
	rows   [][]layerCount
	// parts are the distinct parallel parts; rowParts[r] counts row r's.
	parts    []designPart
	rowParts [][]layerCount
}

type layerCount struct {
	layer, n int32
}

// designPart is a part with parallel branches: its ops' layers (indices
// into Design.layers) and wiring.
type designPart struct {
	layers []int32
	graph  partGraph
}

// layerKey is a layer without its name and position: what costs depend on.
func layerKey(l blocks.Layer) blocks.Layer {
	l.Name, l.Block = "", 0
	return l
}

// NewDesign compiles the architectures with their analyses, one row each, in
// order.
func NewDesign(archs []*blocks.Arch, ans []*blocks.Analysis) (*Design, error) {
	if len(archs) != len(ans) {
		return nil, fmt.Errorf("design: %d architectures, %d analyses", len(archs), len(ans))
	}
	d := &Design{rows: make([][]layerCount, len(ans)), rowParts: make([][]layerCount, len(ans))}
	index, usedIndex := map[blocks.Layer]int32{}, map[blocks.Layer]int32{}
	partIndex := map[string]int32{}
	for r, an := range ans {
		ids := make([]int32, len(an.Layers))
		for j, l := range an.Layers {
			k := layerKey(l)
			i, ok := index[k]
			if !ok {
				i = int32(len(d.layers))
				index[k] = i
				d.layers = append(d.layers, k)
				u := k
				u.Unused = false
				if _, ok := usedIndex[u]; !ok {
					usedIndex[u] = i
				}
				d.usedAs = append(d.usedAs, usedIndex[u])
			}
			ids[j] = i
		}
		d.rows[r] = countOf(ids)
		parts, err := planParts(archs[r], an)
		if err != nil {
			return nil, fmt.Errorf("design row %d: %w", r, err)
		}
		var pids []int32
		off := 0
		for _, p := range parts {
			g, parallel := newPartGraph(p)
			ls := ids[off : off+len(p.Ops)]
			off += len(p.Ops)
			if !parallel {
				continue
			}
			k := fmt.Sprint(ls, g)
			pi, ok := partIndex[k]
			if !ok {
				pi = int32(len(d.parts))
				partIndex[k] = pi
				d.parts = append(d.parts, designPart{layers: slices.Clone(ls), graph: g})
			}
			pids = append(pids, pi)
		}
		d.rowParts[r] = countOf(pids)
	}
	return d, nil
}

// countOf returns how many times each index occurs, in increasing order of
// the index (a canonical order: equal multisets, equal rows).
func countOf(ids []int32) []layerCount {
	counts := map[int32]int32{}
	var order []int32
	for _, i := range ids {
		if counts[i] == 0 {
			order = append(order, i)
		}
		counts[i]++
	}
	slices.Sort(order)
	row := make([]layerCount, len(order))
	for j, i := range order {
		row[j] = layerCount{i, counts[i]}
	}
	return row
}

// rowKey identifies what row r's cost depends on: its layer counts and its
// parallel parts. Layers that differ only in Unused count as one unless
// unused (a runtime that runs the used dead ops and removes the others).
func (d *Design) rowKey(r int, unused bool) string {
	row := d.rows[r]
	if !unused {
		row = make([]layerCount, 0, len(d.rows[r]))
		for _, lc := range d.rows[r] {
			row = append(row, layerCount{d.usedAs[lc.layer], lc.n})
		}
		slices.SortStableFunc(row, func(a, b layerCount) int { return cmp.Compare(a.layer, b.layer) })
		w := 0
		for _, lc := range row {
			if w > 0 && row[w-1].layer == lc.layer {
				row[w-1].n += lc.n
			} else {
				row[w] = lc
				w++
			}
		}
		row = row[:w]
	}
	var b strings.Builder
	for _, lc := range row {
		fmt.Fprintf(&b, "%d:%d,", lc.layer, lc.n)
	}
	b.WriteByte('|')
	for _, pc := range d.rowParts[r] {
		fmt.Fprintf(&b, "%d:%d,", pc.layer, pc.n)
	}
	return b.String()
}

// Len returns the number of rows.
func (d *Design) Len() int { return len(d.rows) }

// Layers returns the number of distinct layers.
func (d *Design) Layers() int { return len(d.layers) }

// Subset returns the design of the given rows, in that order (sharing the
// layer table).
func (d *Design) Subset(rows []int) *Design {
	s := &Design{layers: d.layers, usedAs: d.usedAs, rows: make([][]layerCount, len(rows)), rowParts: make([][]layerCount, len(rows))}
	index := map[int32]int32{} // d's part → s's
	for i, r := range rows {
		s.rows[i] = d.rows[r]
		if len(d.rowParts[r]) == 0 {
			continue
		}
		pcs := make([]layerCount, len(d.rowParts[r]))
		for j, pc := range d.rowParts[r] {
			k, ok := index[pc.layer]
			if !ok {
				k = int32(len(s.parts))
				index[pc.layer] = k
				s.parts = append(s.parts, d.parts[pc.layer])
			}
			pcs[j] = layerCount{k, pc.n}
		}
		s.rowParts[i] = pcs
	}
	return s
}

// designScratch holds the per-layer costs of one evaluation.
type designScratch struct {
	ms, w, hid, fin []float64
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
	overlap := t.p.Overlap > 0 && len(d.parts) > 0
	if overlap {
		if cap(scratch.hid) < len(d.parts) {
			scratch.hid = make([]float64, len(d.parts))
		}
		scratch.hid = scratch.hid[:len(d.parts)]
		for i := range scratch.hid {
			scratch.hid[i] = math.NaN() // computed when a row needs it
		}
	}
	for r, row := range d.rows {
		var acc [2]float64
		for _, lc := range row {
			n := float64(lc.n)
			acc[0] += n * ms[lc.layer]
			acc[1] += n * w[lc.layer]
		}
		if overlap {
			for _, pc := range d.rowParts[r] {
				h := scratch.hid[pc.layer]
				if math.IsNaN(h) {
					p := &d.parts[pc.layer]
					if cap(scratch.fin) < len(p.graph) {
						scratch.fin = make([]float64, 2*len(p.graph))
					}
					h = t.p.Overlap * p.graph.hidden(func(i int) float64 { return ms[p.layers[i]] }, scratch.fin)
					scratch.hid[pc.layer] = h
				}
				acc[0] -= float64(pc.n) * h
			}
		}
		out[r] = t.Latency(acc[:])
	}
}
