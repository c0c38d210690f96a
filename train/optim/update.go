package optim

import "math"

// The update rules on runs of float32 values (weights, optimizer slots and
// gradients of one length), in Go: the supernet applies them to the slices a
// path used, the train package to every trainable variable after each step.
// A training step updates millions of values, so the loops are vectorized
// (update_simd.go). Vector and scalar loops compute the same float32
// operations in the same order: the results are identical, and identical to
// the same formulas as graph ops. Graph ops round every product, so the
// scalar loops round each product before adding it (float32(x·y): no build
// fuses them, see package fma).

// Coeffs are the float32 constants of an update: the learning rate lr,
// weight decay wd, momentum (Adam: β1) mu, decay (RMSProp ρ, Adam β2) rho and
// 1−rho as the caller rounds it (rho1), epsilon eps, Adam's 1−β1 (mu1) and
// bias corrections c1 = 1−β1^t, c2 = 1−β2^t.
type Coeffs struct {
	LR, WD, Mu, Rho, Rho1, Eps, Mu1, C1, C2 float32
}

// RMSPropRun updates weights w and slots ms, mom with gradient g: g' = g +
// wd·w, ms = ρ·ms + (1−ρ)·g'², mom = μ·mom + lr·g'/√(ms+ε), w −= mom.
func RMSPropRun(w, ms, mom, g []float32, c Coeffs) {
	i := 0
	if hasVectorUpdate {
		i = rmspropVector(w, ms, mom, g, c)
	}
	for ; i < len(w); i++ {
		gi := g[i] + float32(c.WD*w[i])
		ms[i] = float32(c.Rho*ms[i]) + float32(c.Rho1*gi*gi)
		mom[i] = float32(c.Mu*mom[i]) + c.LR*gi/float32(math.Sqrt(float64(ms[i]+c.Eps)))
		w[i] -= mom[i]
	}
}

// SGDRun is SGD with momentum on one run: g' = g + wd·w, mom = μ·mom + g',
// w −= lr·(g' + μ·mom) with Nesterov momentum, else w −= lr·mom.
func SGDRun(w, mom, g []float32, nesterov bool, c Coeffs) {
	i := 0
	if hasVectorUpdate {
		i = sgdVector(w, mom, g, nesterov, c)
	}
	for ; i < len(w); i++ {
		gi := g[i] + float32(c.WD*w[i])
		mom[i] = float32(c.Mu*mom[i]) + gi
		if nesterov {
			w[i] -= float32(c.LR * (gi + float32(c.Mu*mom[i])))
		} else {
			w[i] -= float32(c.LR * mom[i])
		}
	}
}

// AdamRun is Adam with bias correction and decoupled weight decay (AdamW) on
// one run: m1 = β1·m1 + (1−β1)·g, m2 = β2·m2 + (1−β2)·g², w −= lr·((m1/c1)
// / (√(m2/c2) + ε) + wd·w).
func AdamRun(w, m1, m2, g []float32, c Coeffs) {
	i := 0
	if hasVectorUpdate {
		i = adamVector(w, m1, m2, g, c)
	}
	for ; i < len(w); i++ {
		a := float32(c.Mu*m1[i]) + float32(c.Mu1*g[i])
		b := float32(c.Rho*m2[i]) + float32(c.Rho1*(g[i]*g[i]))
		m1[i], m2[i] = a, b
		u := (a / c.C1) / (float32(math.Sqrt(float64(b/c.C2))) + c.Eps)
		if c.WD != 0 {
			u += float32(c.WD * w[i])
		}
		w[i] -= float32(c.LR * u)
	}
}
