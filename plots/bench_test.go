package plots

import "testing"

// BenchmarkRender renders each fixture figure at its default size; compare
// PNG and SVG side by side with -bench . (one figure should take well under
// a second).
func BenchmarkRender(b *testing.B) {
	for _, f := range allFixtureFigures(b) {
		w, h := f.DefaultSize()
		b.Run(f.Name+"/png", func(b *testing.B) {
			for range b.N {
				if _, err := f.PNG(w, h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.Name+"/svg", func(b *testing.B) {
			for range b.N {
				if _, err := f.SVG(w, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderLarge renders the largest inputs the project produces: a
// cost fit over all 15,625 NAS-Bench-201 cells on four targets, 10,000 search
// steps of curves, and 24 controller decisions over 10,000 steps.
func BenchmarkRenderLarge(b *testing.B) {
	fit, err := CostFit(costFitFixture(15625))
	if err != nil {
		b.Fatal(err)
	}
	curves, err := Curves(curvesFixture(10000))
	if err != nil {
		b.Fatal(err)
	}
	ctrl, err := ControllerProbs(controllerFixture(24, 10000))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []*Figure{fit, curves, ctrl} {
		w, h := f.DefaultSize()
		b.Run(f.Name+"/png", func(b *testing.B) {
			for range b.N {
				if _, err := f.PNG(w, h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.Name+"/svg", func(b *testing.B) {
			var n int
			for range b.N {
				s, err := f.SVG(w, h)
				if err != nil {
					b.Fatal(err)
				}
				n = len(s)
			}
			b.ReportMetric(float64(n)/1e6, "MB")
		})
	}
}
