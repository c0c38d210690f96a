package hwcost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/stats"
)

// BenchColumn is a device column of a benchmark table (package devicedata:
// NAS-Bench-201 or FBNet-space networks timed on real devices) that a target
// is fitted to besides its published rows.
type BenchColumn struct {
	// Table is an embedded devicedata table name (devicedata.Names), Column
	// one of its device columns.
	Table, Column string
	// Precision is what the benchmark ran in (it can differ from the
	// target's: BRP-NAS timed the Snapdragon 855 GPU in int8).
	Precision Precision
	// Runtime says how the networks were run.
	Runtime string
	// SameRuntime is true when the benchmark used the target's own runtime:
	// then its rows are the target's; otherwise they get runtime offsets.
	SameRuntime bool
}

func (b BenchColumn) String() string { return b.Table + ":" + b.Column }

// BenchStats compares predictions with measurements of benchmark networks.
type BenchStats struct {
	Spearman float64 `json:"spearman"`
	// MAPE is the mean of |predicted/measured − 1|; Within10 the share of
	// rows predicted within ±10%.
	MAPE     float64 `json:"mape"`
	Within10 float64 `json:"within10"`
	N        int     `json:"n"`
}

// BenchFit is a benchmark source of a target's fit and how well the fitted
// model predicts its networks, in and out of the fit.
type BenchFit struct {
	Column BenchColumn `json:"column"`
	// Params are the parameters the source is costed with: the target's,
	// times its runtime offsets.
	Params  Params     `json:"params"`
	Fit     BenchStats `json:"fit"`
	HeldOut BenchStats `json:"held_out"`
	// MACsSpearman is the held-out rank correlation of plain MACs (the
	// benchmark's FLOPs, dead ops included) with the measurements.
	MACsSpearman float64 `json:"macs_spearman"`
}

// benchTable is a benchmark table with every row's network compiled.
type benchTable struct {
	data   *devicedata.Data
	design *Design
	macs   []float64
}

var (
	benchMu     sync.Mutex
	benchTables = map[string]*benchTable{}
)

// BenchArch returns the network of row i of a benchmark table: the
// NAS-Bench-201 network (CIFAR-10 setting) of its cell, or the FBNet network
// (HW-NAS-Bench CIFAR-100 setting) of its architecture.
func BenchArch(d *devicedata.Data, i int) (*blocks.Arch, error) {
	switch {
	case d == nil || (d.NB201 == nil && d.FBNet == nil):
		return nil, fmt.Errorf("benchmark table is nil or holds no networks")
	case i < 0 || i >= d.Table().Len():
		return nil, fmt.Errorf("%s: row %d out of range [0, %d)", d.Table().Source(), i, d.Table().Len())
	case d.NB201 != nil:
		return blocks.NB201Network(d.NB201.Cell(i), blocks.NB201CIFAR10), nil
	}
	return blocks.FBNetNetwork(d.FBNet.Arch(i), blocks.FBNetCIFAR100), nil
}

// loadBench opens a benchmark table (embedded name or path) and compiles its
// networks once per process.
func loadBench(name string) (*benchTable, error) {
	benchMu.Lock()
	defer benchMu.Unlock()
	if bt, ok := benchTables[name]; ok {
		return bt, nil
	}
	d, err := devicedata.Open(name)
	if err != nil {
		return nil, err
	}
	n := d.Table().Len()
	archs := make([]*blocks.Arch, n)
	ans := make([]*blocks.Analysis, n)
	bt := &benchTable{data: d, macs: make([]float64, n)}
	for i := range n {
		if archs[i], err = BenchArch(d, i); err != nil {
			return nil, err
		}
		if ans[i], err = blocks.Analyze(archs[i], 0); err != nil {
			return nil, fmt.Errorf("%s row %d: %w", name, i, err)
		}
		bt.macs[i] = float64(ans[i].MACs)
	}
	if bt.design, err = NewDesign(archs, ans); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	benchTables[name] = bt
	return bt, nil
}

// benchSplit is a benchmark column split into fit and held-out rows.
type benchSplit struct {
	col               BenchColumn
	fit, test         *Design
	fitMeas, testMeas []float64
	testMACs          []float64
}

// splitBench draws nFit measured rows of the column for the fit (with seed:
// DefaultBenchSeed is the committed fit's draw); the others are held out.
func splitBench(bc BenchColumn, nFit int, seed uint64) (*benchSplit, error) {
	bt, err := loadBench(bc.Table)
	if err != nil {
		return nil, err
	}
	tab := bt.data.Table()
	ci, err := tab.ColumnIndex(bc.Column)
	if err != nil {
		return nil, err
	}
	rows := tab.Measured(ci)
	if nFit < 1 {
		return nil, fmt.Errorf("column %s: %d benchmark networks to fit: need at least 1", bc.Column, nFit)
	}
	if nFit > len(rows)-minFitRows { // not nFit+minFitRows: it may overflow
		return nil, fmt.Errorf("column %s has %d measured rows: too few to fit %d and hold out %d", bc.Column, len(rows), nFit, minFitRows)
	}
	rng := rand.New(rand.NewPCG(seed, 0xbe9c))
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	bs := &benchSplit{col: bc}
	vals := func(rs []int) []float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i], _ = tab.Value(r, ci)
		}
		return v
	}
	fitRows, testRows := rows[:nFit], rows[nFit:]
	bs.fit, bs.fitMeas = bt.design.Subset(fitRows), vals(fitRows)
	bs.test, bs.testMeas = bt.design.Subset(testRows), vals(testRows)
	for _, r := range testRows {
		bs.testMACs = append(bs.testMACs, bt.macs[r])
	}
	return bs, nil
}

// score predicts the fit and held-out rows with parameters p.
func (bs *benchSplit) score(p Params, spec Spec) BenchFit {
	bf := BenchFit{Column: bs.col, Params: p, MACsSpearman: stats.Spearman(bs.testMACs, bs.testMeas)}
	t, err := NewAnalytic(spec, p)
	if err != nil { // p is a fitted, validated set
		panic(err)
	}
	bf.Fit = predictStats(bs.fit, bs.fitMeas, t)
	bf.HeldOut = predictStats(bs.test, bs.testMeas, t)
	return bf
}

// predictStats costs every row of d on t and compares with measured.
func predictStats(d *Design, measured []float64, t *Analytic) BenchStats {
	pred := make([]float64, d.Len())
	d.Latencies(t, pred, nil)
	return compareStats(pred, measured)
}

func compareStats(pred, measured []float64) BenchStats {
	st := BenchStats{N: len(pred), Spearman: math.NaN(), MAPE: math.NaN(), Within10: math.NaN()}
	if len(pred) == 0 {
		return st
	}
	var ape float64
	var in int
	for i, p := range pred {
		e := math.Abs(p/measured[i] - 1)
		ape += e
		if e <= 0.1 {
			in++
		}
	}
	st.MAPE, st.Within10 = ape/float64(len(pred)), float64(in)/float64(len(pred))
	if len(pred) >= 3 {
		st.Spearman = stats.Spearman(pred, measured)
	}
	return st
}
