package plots_test

import (
	"fmt"

	"github.com/multihw/multihw/plots"
)

// A figure from plain data: validate, inspect, render, display or write.
func ExampleTargetBars() {
	fig, err := plots.TargetBars(plots.TargetBarsData{
		Targets: []string{"CPU", "GPU", "DSP", "EdgeTPU"},
		Models: []plots.LatencyRow{
			{Name: "MobileNetV2", Latency: []float64{1, 1, 1, 1}},
			{Name: "Multi-AVG", Latency: []float64{1.15, 0.92, 0.88, 0.86}, Note: "75.3%"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.LegendEntries(), fig.Panels[0].NumBars())
	png, err := fig.PNG(800, 500) // or fig.SVG(800, 500)
	fmt.Println(len(png) > 0, err)
	// In a GoNB cell: fig.Display(); in a program: plots.WriteFiles(dir, 1, fig).
	// Output:
	// [CPU GPU DSP EdgeTPU reference model (1)] 8
	// true <nil>
}
