package train

import (
	"flag"
	"io"
	"testing"
)

func parseTrainFlags(t *testing.T, args ...string) (*Flags, *flag.FlagSet) {
	t.Helper()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f Flags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &f, fs
}

// TestFlagsRecipe: the flags' defaults are DefaultRecipe's; a new run takes
// the flags' recipe, adaptation and seed, a resumed one only those given.
func TestFlagsRecipe(t *testing.T) {
	f, fs := parseTrainFlags(t, "--steps", "7", "--lr", "0.2", "--augment", "none", "--seed", "5")
	if _, err := f.Check(fs); err != nil {
		t.Fatal(err)
	}
	c := f.Config(nil, nil, nil)
	want := DefaultRecipe()
	want.Steps, want.LearningRate = 7, 0.2
	if c.recipe.Steps != 7 || c.recipe.LearningRate != 0.2 || c.recipe.BatchSize != want.BatchSize || c.recipe.Epochs != want.Epochs || !c.seedSet || c.seed != 5 || !c.adaptSet {
		t.Errorf("new run: recipe %+v seed %d (set %v), want %+v seed 5", c.recipe, c.seed, c.seedSet, want)
	}
	ck := &Checkpoint{}
	if c := f.Config(nil, nil, ck); !c.recipeSet || !c.seedSet || c.adaptSet {
		t.Errorf("resume with recipe flags and --seed: recipe set %v, seed set %v, adapt set %v; want true, true, false", c.recipeSet, c.seedSet, c.adaptSet)
	}
	f, fs = parseTrainFlags(t, "--out", t.TempDir(), "--resume")
	if _, err := f.Check(fs); err != nil {
		t.Fatal(err)
	}
	if c := f.Config(nil, nil, ck); c.recipeSet || c.seedSet || c.adaptSet {
		t.Error("resume without flags: the checkpoint's recipe, seed and adaptation must apply")
	}
}

func TestFlagsCheck(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--resume"}, "--resume and --overwrite need --out DIR"},
		{[]string{"--out", "d", "--resume", "--overwrite"}, "give --resume or --overwrite, not both"},
		{[]string{"--adapt", "x"}, `unknown --adapt "x" (valid: [none last stem small-input])`},
		{[]string{"--keep", "0"}, "--keep must be positive; --eval-every, --checkpoint-every and --time must not be negative"},
		// Flags of another optimizer would be ignored without a word.
		{[]string{"--decay", "1e308"}, "--decay is for --optimizer rmsprop and adam"},
		{[]string{"--optimizer", "sgd", "--epsilon", "1"}, "--epsilon is for --optimizer rmsprop and adam"},
		{[]string{"--optimizer", "adam", "--nesterov=false"}, "--nesterov is for --optimizer sgd"},
	} {
		f, fs := parseTrainFlags(t, tc.args...)
		if _, err := f.Check(fs); err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, args := range [][]string{{"--optimizer", "adam", "--decay", "0.99", "--epsilon", "1e-8"}, {"--optimizer", "rmsprop", "--decay", "0.9"}, {"--nesterov=false"}} {
		f, fs := parseTrainFlags(t, args...)
		if _, err := f.Check(fs); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	// --resume in an empty directory is a new run: no checkpoint, no error.
	f, fs := parseTrainFlags(t, "--out", t.TempDir(), "--resume")
	if ck, err := f.Check(fs); ck != nil || err != nil {
		t.Errorf("--resume of an empty directory: %v, %v", ck, err)
	}
	if got := f.DatasetSpec(nil); got != "fashion-mnist" {
		t.Errorf("DatasetSpec() = %q, want the default fashion-mnist", got)
	}
}
