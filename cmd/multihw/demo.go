package main

func init() {
	register(&command{name: "demo", summary: "the main job: reference models, then MultiAVG's layer table", run: runDemo})
}

// runDemo is what `make demo` runs. It grows with the project: today it lists
// the reference models and analyses MultiAVG.
func runDemo(args []string) error {
	if err := parse(newFlags("demo", ""), args); err != nil {
		return err
	}
	if err := runModels(nil); err != nil {
		return err
	}
	println()
	return runArch([]string{"--model", "multi_avg"})
}
