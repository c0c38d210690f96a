package predict

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/stats"
)

// Dataset is a set of architectures of one space with a measured latency each.
type Dataset struct {
	Space   *Space
	Archs   []Arch
	Latency []float64 // ms, finite and positive
	// Source describes the origin ("nb201-brpnas / mobile-cpu-..."), for messages.
	Source string
}

// Len returns the number of architectures.
func (d *Dataset) Len() int { return len(d.Archs) }

// FromData builds the dataset of one column of a loaded file, keeping only the
// rows with a measured value.
func FromData(data *devicedata.Data, column string) (*Dataset, error) {
	tab := data.Table()
	ci, err := tab.ColumnIndex(column)
	if err != nil {
		return nil, err
	}
	name := tab.Columns()[ci]
	d := &Dataset{Source: tab.Source() + " / " + name}
	rows := tab.Measured(ci)
	if data.NB201 != nil {
		d.Space = NB201
	} else {
		d.Space = FBNet
	}
	for _, r := range rows {
		v, _ := tab.Value(r, ci)
		if v <= 0 {
			return nil, fmt.Errorf("%s: row %d: latency %g is not positive", d.Source, r+1, v)
		}
		if data.NB201 != nil {
			d.Archs = append(d.Archs, NB201Arch(data.NB201.Cell(r)))
		} else {
			d.Archs = append(d.Archs, FBNetArch(data.FBNet.Arch(r)))
		}
		d.Latency = append(d.Latency, v)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no measured values", d.Source)
	}
	return d, nil
}

// Load opens a file by embedded name or path (see devicedata.Open) and
// returns the dataset of one of its columns.
func Load(nameOrPath, column string) (*Dataset, error) {
	data, err := devicedata.Open(nameOrPath)
	if err != nil {
		return nil, err
	}
	return FromData(data, column)
}

// Split draws n architectures at random (reproducibly, from seed) for
// training and returns them and the others. n must leave at least one test
// architecture.
func (d *Dataset) Split(n int, seed uint64) (train, test *Dataset, err error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("%s: training size %d must be positive", d.Source, n)
	}
	if n >= d.Len() {
		return nil, nil, fmt.Errorf("%s: training size %d leaves no test rows: only %d rows have a measured value", d.Source, n, d.Len())
	}
	perm := rand.New(rand.NewPCG(seed, 0x6d756c7469687721)).Perm(d.Len())
	pick := func(idx []int) *Dataset {
		s := &Dataset{Space: d.Space, Source: d.Source, Archs: make([]Arch, len(idx)), Latency: make([]float64, len(idx))}
		for k, i := range idx {
			s.Archs[k], s.Latency[k] = d.Archs[i], d.Latency[i]
		}
		return s
	}
	return pick(perm[:n]), pick(perm[n:]), nil
}

// check validates the dataset for fitting.
func (d *Dataset) check() error {
	if d.Space == nil {
		return fmt.Errorf("dataset %s has no space", d.Source)
	}
	if len(d.Archs) != len(d.Latency) {
		return fmt.Errorf("dataset %s: %d architectures but %d latencies", d.Source, len(d.Archs), len(d.Latency))
	}
	for i, a := range d.Archs {
		if err := d.Space.Check(a); err != nil {
			return fmt.Errorf("dataset %s row %d: %w", d.Source, i, err)
		}
		if v := d.Latency[i]; math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return fmt.Errorf("dataset %s row %d: latency %g is not a positive number", d.Source, i, v)
		}
	}
	return nil
}

// Metrics are a predictor's held-out accuracy.
type Metrics struct {
	Spearman float64 `json:"spearman"` // rank correlation of predicted and measured latency
	RelRMSE  float64 `json:"rel_rmse"` // sqrt(mean((pred/meas − 1)²))
	Within10 float64 `json:"within10"` // fraction predicted within ±10%
	NTrain   int     `json:"n_train"`  // architectures fitted on
	NTest    int     `json:"n_test"`   // architectures evaluated on
}

// Score compares predictions with measurements.
func Score(pred, meas []float64) Metrics {
	m := Metrics{Spearman: stats.Spearman(pred, meas), NTest: len(meas)}
	var se float64
	within := 0
	for i := range pred {
		r := pred[i]/meas[i] - 1
		se += r * r
		if math.Abs(r) <= 0.1 {
			within++
		}
	}
	if n := float64(len(meas)); n > 0 {
		m.RelRMSE = math.Sqrt(se / n)
		m.Within10 = float64(within) / n
	}
	return m
}

// Evaluate fits p on train and scores it on test.
func Evaluate(p Predictor, train, test *Dataset) (Metrics, error) {
	if err := p.Fit(train); err != nil {
		return Metrics{}, err
	}
	if err := test.check(); err != nil {
		return Metrics{}, err
	}
	pred := make([]float64, test.Len())
	for i, a := range test.Archs {
		pred[i] = p.Predict(a)
	}
	m := Score(pred, test.Latency)
	m.NTrain = train.Len()
	return m, nil
}
