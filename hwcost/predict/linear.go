package predict

import (
	"errors"
	"math"
	"slices"

	"github.com/multihw/multihw/internal/stats"
)

// sparseRow is one row of a design matrix: the columns and values of its
// non-zeros. One-hot encodings have a few non-zeros among hundreds of columns.
type sparseRow struct {
	idx []int32
	val []float64
}

func (r sparseRow) dot(beta []float64) float64 {
	s := 0.0
	for k, j := range r.idx {
		s += r.val[k] * beta[j]
	}
	return s
}

// jitter is the ridge added to every coefficient so that columns never seen in
// training (an op never drawn at a position) get 0 instead of a singular
// system. It is tiny next to the diagonal of XᵀX, which counts rows.
const jitter = 1e-6

var errNotPD = errors.New("normal equations are not positive definite")

// solveRidge returns β minimising Σᵢ wᵢ(yᵢ − xᵢ·β)² + Σⱼ (λ·penⱼ + jitter)·βⱼ²
// (w nil means all 1) by Cholesky on the p×p normal equations.
func solveRidge(X []sparseRow, y, w []float64, pen []float64, lambda float64, p int) ([]float64, error) {
	a := make([]float64, p*p) // lower triangle used
	b := make([]float64, p)
	for i, r := range X {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if wi == 0 {
			continue
		}
		for k, j := range r.idx {
			v := wi * r.val[k]
			b[j] += v * y[i]
			row := a[int(j)*p:]
			for k2, j2 := range r.idx {
				if j2 <= j {
					row[j2] += v * r.val[k2]
				}
			}
		}
	}
	for j := 0; j < p; j++ {
		a[j*p+j] += jitter
		if pen != nil {
			a[j*p+j] += lambda * pen[j]
		}
	}
	if err := cholesky(a, p); err != nil {
		return nil, err
	}
	return cholSolve(a, p, b), nil
}

// cholesky factors the symmetric positive definite matrix whose lower
// triangle is in a (row-major p×p) in place: a = L·Lᵀ.
func cholesky(a []float64, p int) error {
	for j := 0; j < p; j++ {
		rj := a[j*p : j*p+j+1]
		d := rj[j]
		for k := 0; k < j; k++ {
			d -= rj[k] * rj[k]
		}
		if !(d > 0) {
			return errNotPD
		}
		d = math.Sqrt(d)
		rj[j] = d
		for i := j + 1; i < p; i++ {
			ri := a[i*p : i*p+j+1]
			s := ri[j]
			for k := 0; k < j; k++ {
				s -= ri[k] * rj[k]
			}
			ri[j] = s / d
		}
	}
	return nil
}

// cholSolve solves L·Lᵀ·x = b given the factor from cholesky; b is overwritten.
func cholSolve(l []float64, p int, b []float64) []float64 {
	for i := 0; i < p; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= l[i*p+k] * b[k]
		}
		b[i] = s / l[i*p+i]
	}
	for i := p - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < p; k++ {
			s -= l[k*p+i] * b[k]
		}
		b[i] = s / l[i*p+i]
	}
	return b
}

// huberK is the Huber threshold in units of the residual scale: 95% efficiency
// under Gaussian noise, bounded influence of the outliers that pepper the
// on-device measurements (a few are 10-100× the typical error).
const huberK = 1.345

// robustScale is the normalised median absolute deviation of r, at least floor.
func robustScale(r []float64, floor float64) float64 {
	a := make([]float64, len(r))
	for i, v := range r {
		a[i] = math.Abs(v)
	}
	return max(1.4826*stats.Median(a), floor)
}

// fitHuber minimises Σᵢ ρ(yᵢ − xᵢ·β) + ridge penalties, ρ being Huber's loss
// with threshold huberK·scale, by iteratively reweighted least squares. The
// scale is re-estimated (MAD of the residuals) at every step. init, when not
// nil, is a starting β (a nearby fit, e.g. at another λ); otherwise the start
// is the least-squares fit. It returns β and the final scale.
func fitHuber(X []sparseRow, y []float64, pen []float64, lambda float64, p int, init []float64) ([]float64, float64, error) {
	beta := init
	if beta == nil {
		var err error
		if beta, err = solveRidge(X, y, nil, pen, lambda, p); err != nil {
			return nil, 0, err
		}
	}
	// No timing is more precise than 0.1%: without this floor, data a model
	// fits exactly (lookup-table sums) drive the scale to 0 and rows with rare
	// ops, still off by the ridge shrinkage, would be treated as outliers.
	floor := 1e-3 * math.Abs(stats.Median(y))
	if floor == 0 {
		floor = 1e-12
	}
	w := make([]float64, len(y))
	r := make([]float64, len(y))
	scale := 0.0
	for it := 0; it < 50; it++ {
		for i, row := range X {
			r[i] = y[i] - row.dot(beta)
		}
		scale = robustScale(r, floor)
		for i := range r {
			w[i] = min(1, huberK*scale/math.Abs(r[i]))
		}
		next, err := solveRidge(X, y, w, pen, lambda, p)
		if err != nil {
			return nil, 0, err
		}
		delta, size := 0.0, 0.0
		for j := range next {
			delta = max(delta, math.Abs(next[j]-beta[j]))
			size = max(size, math.Abs(next[j]))
		}
		beta = next
		if delta <= 1e-6*(1+size) {
			break
		}
	}
	return beta, scale, nil
}

// meanAbs returns the mean absolute value of r.
func meanAbs(r []float64) float64 {
	s := 0.0
	for _, v := range r {
		s += math.Abs(v)
	}
	return s / float64(len(r))
}

// argmin returns the index of the smallest value (the first on ties).
func argmin(x []float64) int {
	return slices.Index(x, slices.Min(x))
}
