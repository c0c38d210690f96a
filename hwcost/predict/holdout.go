package predict

import (
	"fmt"
)

// Holdout is a predictor fitted on a random draw of the measured
// architectures of one device column and scored on all the others.
type Holdout struct {
	Predictor Predictor
	// Source names the file and column (Dataset.Source).
	Source  string
	Metrics Metrics
}

// FitHoldout loads column of the file nameOrPath (Load), draws train
// architectures with seed for fitting p (Dataset.Split) and scores p on the
// rest (Evaluate).
func FitHoldout(p Predictor, nameOrPath, column string, train int, seed uint64) (*Holdout, error) {
	ds, err := Load(nameOrPath, column)
	if err != nil {
		return nil, err
	}
	tr, te, err := ds.Split(train, seed)
	if err != nil {
		return nil, err
	}
	m, err := Evaluate(p, tr, te)
	if err != nil {
		return nil, err
	}
	return &Holdout{Predictor: p, Source: ds.Source, Metrics: m}, nil
}

// Summary is one line: the test figures, the sizes and, for the structured
// predictor, the penalty and trees cross-validation chose.
func (h *Holdout) Summary() string {
	m, extra := h.Metrics, ""
	if s, ok := h.Predictor.(*Structured); ok {
		lam, trees := s.Chosen()
		extra = fmt.Sprintf(", λ %g, %d trees", lam, trees)
	}
	return fmt.Sprintf("%s on %s: spearman %.4f  rel_rmse %.4f  within10 %.3f  (n_train %d, n_test %d%s)\n",
		h.Predictor.Name(), h.Source, m.Spearman, m.RelRMSE, m.Within10, m.NTrain, m.NTest, extra)
}
