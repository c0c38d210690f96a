package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/rundir"
)

// runAll runs the CLI with args and returns its exit code, stdout and stderr.
func runAll(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	or, ow, _ := os.Pipe()
	er, ew, _ := os.Pipe()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = ow, ew
	outc, errc := make(chan []byte), make(chan []byte)
	go func() { b, _ := io.ReadAll(or); outc <- b }()
	go func() { b, _ := io.ReadAll(er); errc <- b }()
	code := run(args)
	ow.Close()
	ew.Close()
	os.Stdout, os.Stderr = stdout, stderr
	return code, string(<-outc), string(<-errc)
}

// folderDataset writes a two-class folder dataset of small solid images.
func folderDataset(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for c, col := range []color.RGBA{{200, 30, 30, 255}, {30, 30, 200, 255}} {
		dir := filepath.Join(root, fmt.Sprintf("class%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			img := image.NewRGBA(image.Rect(0, 0, 8, 8))
			for p := range 64 {
				img.Set(p%8, p/8, color.RGBA{col.R + uint8(i), col.G, col.B, 255})
			}
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return "folder:" + root
}

const tinySpec = "name tiny\ninput 32x32x3\nclasses 2\nstem cn_k3_s2_c8\nir_k3_s2_e2_c8\nhead none\n"

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// trainArgs trains the tiny spec for 4 steps.
// A flag of extra replaces the base's (a flag given twice is refused).
func trainArgs(spec, dataset, out string, extra ...string) []string {
	base := []string{"train", "--spec", spec, "--dataset", dataset, "--out", out, "--steps", "4", "--batch", "4",
		"--bn-recalibrate", "0", "--validation", "0.2", "--json"}
	for i := 0; i+1 < len(extra); i++ {
		if j := slices.Index(base, extra[i]); j > 0 && strings.HasPrefix(extra[i], "--") && !strings.HasPrefix(extra[i+1], "--") {
			base[j+1] = extra[i+1]
			extra = slices.Delete(extra, i, i+2)
			i--
		}
	}
	return append(base, extra...)
}

// TestOutputDirectories: no command deletes or writes into what it did not
// create; flags are validated before the output directory is touched; a
// second writer is refused naming the holder; --resume without a run says
// so; resume mismatches name the differing fields.
func TestOutputDirectories(t *testing.T) {
	user := t.TempDir()
	precious := filepath.Join(user, "thesis.tex")
	if err := os.WriteFile(precious, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		if b, err := os.ReadFile(precious); err != nil || string(b) != "precious" {
			t.Fatalf("%s: the user's file is gone or changed: %v", what, err)
		}
		if es, _ := os.ReadDir(user); len(es) != 1 {
			t.Fatalf("%s: something was written into the user's directory: %d entries", what, len(es))
		}
	}
	// The demo used to remove --out before validating its other flags.
	for _, args := range [][]string{
		{"demo", "--out", user, "--objective", "typo"},
		{"demo", "--out", user, "--train-steps", "0"},
		{"demo", "--out", user, "--seed", "-1"},
		{"demo", "--out", user},
	} {
		code, _, stderr := runAll(t, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		check(strings.Join(args, " "))
		if len(args) == 3 && !strings.Contains(stderr, "not a multihw demo run directory") && !strings.Contains(stderr, "ONNX Runtime") && !strings.Contains(stderr, "dataset") {
			t.Errorf("%v: %s", args, stderr)
		}
	}
	spec := writeSpec(t, tinySpec)
	ds := folderDataset(t)
	for _, args := range [][]string{
		trainArgs(spec, ds, user),
		trainArgs(spec, ds, user, "--overwrite"),
		trainArgs(spec, ds, user, "--resume"),
		{"search", "--out", user, "--quick", "--steps", "2"},
		{"search", "--out", user, "--overwrite", "--steps", "2"},
	} {
		code, _, stderr := runAll(t, args...)
		if code == 0 || !strings.Contains(stderr, "thesis.tex") || !strings.Contains(stderr, "refusing to write into it") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
		check(strings.Join(args, " "))
	}

	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runAll(t, trainArgs(spec, ds, out, "--resume")...)
	if code != 0 || !strings.Contains(stdout, "holds no checkpoint yet: starting a new run") {
		t.Fatalf("--resume into a new directory: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A second writer is refused, naming the holder.
	d, err := rundir.Open(out, rundir.Kind{Name: "train"})
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runAll(t, trainArgs(spec, ds, out, "--resume")...)
	d.Close()
	if code == 0 || !strings.Contains(stderr, fmt.Sprintf("is in use by process %d", os.Getpid())) {
		t.Errorf("second writer: exit %d, %s", code, stderr)
	}
	// A resume with another batch size names the field.
	code, _, stderr = runAll(t, trainArgs(spec, ds, out, "--resume", "--batch", "2")...)
	if code == 0 || !strings.Contains(stderr, "batch_size is 4 (checkpoint), 2 (given)") {
		t.Errorf("resume mismatch: exit %d, %s", code, stderr)
	}
	// A search into a training run is refused.
	code, _, stderr = runAll(t, "search", "--out", out, "--quick")
	if code == 0 || !strings.Contains(stderr, "holds a train run, not a search run") {
		t.Errorf("search into a training run: exit %d, %s", code, stderr)
	}

	// Consistency: a backend named explicitly that cannot run fails the
	// command; so does a comparison of one backend with itself.
	for _, c := range []struct{ backends, want string }{
		{"go,tpu9000", `backend "tpu9000" cannot run`},
		{"go", "nothing to compare"},
		{"go,tpu9000?", "nothing to compare"},
	} {
		code, stdout, stderr := runAll(t, "consistency", "--checkpoint", out, "--backends", c.backends, "--limit", "4", "--batch", "4")
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("consistency --backends %s: exit %d, stdout %q, stderr %q", c.backends, code, stdout, stderr)
		}
	}
	// A device as checkpoint is refused, not read forever.
	for _, cmd := range []string{"eval", "export", "consistency"} {
		args := []string{cmd, "--checkpoint", "/dev/zero"}
		if cmd == "export" {
			args = append(args, "--onnx", filepath.Join(t.TempDir(), "m.onnx"))
		}
		code, _, stderr := runAll(t, args...)
		if code == 0 || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("%s --checkpoint /dev/zero: exit %d, %s", cmd, code, stderr)
		}
	}
	code, _, stderr = runAll(t, "export", "--checkpoint", out, "--onnx", user)
	if code == 0 || !strings.Contains(stderr, "not a regular file") {
		t.Errorf("export --onnx DIR: exit %d, %s", code, stderr)
	}
	check("export --onnx DIR")
}

// TestWriteErrors: a command whose output cannot be written exits non-zero.
func TestWriteErrors(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	for _, args := range [][]string{
		{"models"}, {"models", "--json"}, {"arch", "--model", "multi_avg"}, {"arch", "--model", "multi_avg", "--text"},
		{"cost", "--model", "multi_avg"}, {"cost", "--model", "multi_avg", "--layers"}, {"space", "show", "multihw"},
		{"space", "show", "multihw", "--json"}, {"figures", "--list"}, {"search", "nb201", "--budget", "0.5"},
	} {
		stdout, stderr := os.Stdout, os.Stderr
		os.Stdout = full
		er, ew, _ := os.Pipe()
		os.Stderr = ew
		code := run(args)
		ew.Close()
		os.Stdout, os.Stderr = stdout, stderr
		msg, _ := io.ReadAll(er)
		if code == 0 || !strings.Contains(string(msg), "no space left on device") {
			t.Errorf("%v to /dev/full: exit %d, stderr %q", args, code, msg)
		}
	}
}

// TestHostileFlags: non-finite numbers, zeros that used to mean "default",
// memory estimates above the limit and oversized specs are errors naming the
// problem.
func TestHostileFlags(t *testing.T) {
	spec := writeSpec(t, tinySpec)
	ds := folderDataset(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cost", "--model", "multi_avg", "--width", "NaN"}, "--width must be a finite number"},
		{[]string{"arch", "--model", "multi_avg", "--width", "1e9"}, "--width must be in (0, 64]"},
		{[]string{"search", "--t0", "Inf"}, "--t0 must be a finite number"},
		{[]string{"cost", "sensitivity", "--model", "multi_avg", "--draws", "0"}, "--draws must be at least 2, got 0"},
		{[]string{"train", "--spec", spec, "--lr", "NaN"}, "--lr must be a finite number"},
		{[]string{"arch", "--spec", writeSpec(t, "classes 0\nstem cn_k3_s2_c8\nhead none")}, "classes must be in [1, 1048576], got 0"},
		{[]string{"arch", "--spec", writeSpec(t, "stem cn_k3_s2_c8\nhead dNaN")}, "dropout must be in [0, 1), got NaN"},
		{[]string{"cost", "--spec", writeSpec(t, "input 8192x8192x3\nstem cn_k31_s1_c65536\ner_k31_s1_m65536_c65536\nhead c65536")}, "too large at 8192 px"},
		{[]string{"arch", "--spec", "/dev/zero"}, "not a regular file"},
		{[]string{"cost", "--model", "multi_avg", "--params", "/dev/zero"}, "not a regular file"},
		{[]string{"arch", "--model", "multi_avg", "--memory-limit", "lots"}, "--memory-limit: bad memory size"},
		{trainArgs(spec, ds, filepath.Join(t.TempDir(), "r"), "--batch", "1000000000000"), "needs an estimated"},
		{trainArgs(spec, ds, filepath.Join(t.TempDir(), "r"), "--memory-limit", "1KiB"), "above the limit of 1.0 KiB (--memory-limit"},
		{trainArgs(spec, ds, filepath.Join(t.TempDir(), "r"), "--augment", "pad=100000"), "augmentation padding must be in [0, 256]"},
		{trainArgs(spec, ds, filepath.Join(t.TempDir(), "r"), "--epochs", "1e300", "--steps", "0"), "above the maximum"},
		// A 0 given for a flag whose 0 stands for "not given" is refused, not
		// replaced by the default.
		{[]string{"search", "nb201", "--budget", "0"}, "target cost T0 must be positive, got 0"},
		{[]string{"search", "nb201", "--budget", "0.5", "--algo", "random", "--max-evaluations", "0"}, "--max-evaluations must be positive, got 0"},
		{[]string{"search", "--algo", "random", "--supernet", t.TempDir(), "--queries", "0"}, "--queries must be positive, got 0"},
		{[]string{"search", "rank", "--supernet", t.TempDir(), "--repeated", "0"}, "--repeated must be positive, got 0"},
		{[]string{"cost", "--model", "multi_avg", "--reference-resolution", "0"}, "--reference-resolution must be positive, got 0"},
		{[]string{"export", "--checkpoint", "c", "--onnx", filepath.Join(t.TempDir(), "m.onnx"), "--check", "0"}, "--check must be positive, got 0"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--search-rate", "50"}, "--search-rate is for the estimate of --pilot DIR"},
		// --epochs beside a steps flag that overrides it (search rank applied
		// the two in map order: either could win).
		{trainArgs(spec, ds, filepath.Join(t.TempDir(), "r"), "--epochs", "-1"), "--epochs is for a length in epochs, which --steps 4 overrides"},
		{[]string{"search", "rank", "--supernet", t.TempDir(), "--steps", "2", "--epochs", "1e308"}, "--epochs is for a length in epochs, which --steps 2 overrides"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--train-steps", "3", "--epochs", "2"}, "which --train-steps 3 overrides"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--z", "1e308"}, "Z must be positive and at most 40, got 1e+308"},
		// A plan whose searches or retraining cannot fit the memory limit is
		// refused when made, not hours into study run.
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--search-batch", "2147483648"}, "study: searching: the supernet of the multihw space"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--search-width", "0.25", "--train-width", "16"}, "retraining the search space's largest network with batches of 32 needs"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--objectives", "", "--single-targets", "", "--train-width", "64"}, "retraining mobilenet_v2"},
		{[]string{"cost", "measure", "--spec", spec, "--runs", "2147483648"}, "--runs and --warmup must be in [1, 1000000]"},
		{[]string{"search", "ablation", "--points", "2147483648"}, "need points in [1, 100000]"},
		{[]string{"cost", "sensitivity", "--model", "mobilenet_v2,multi_avg,mobilenet_v2"}, `architecture "mobilenet_v2" given twice`},
		// A flag the chosen algorithm or reward would ignore is refused.
		{[]string{"search", "nb201", "--budget", "0.5", "--queries", "5"}, "--queries is for the non-exhaustive algorithms (--algo exhaustive"},
		{[]string{"search", "nb201", "--budget", "0.5", "--algo", "random", "--population", "5"}, "--population is for --algo evolution"},
		{[]string{"search", "nb201", "--budget", "0.5", "--beta", "-0.5"}, "--beta is for the rewards with a cost term"},
		{[]string{"search", "nb201", "--budget", "0.5", "--reward", "abs", "--cost-by-query"}, "--cost-by-query is for --reward budget"},
		{[]string{"search", "nb201", "--budget", "0.5", "--guide-beta", "-1"}, "--guide-beta is for --reward budget with the non-exhaustive algorithms (--algo exhaustive"},
		{[]string{"search", "nb201", "--budget", "0.5", "--cost-by-query"}, "--cost-by-query is for --reward budget with the non-exhaustive"},
		{[]string{"study", "plan", "--dir", filepath.Join(t.TempDir(), "s"), "--quick", "--pilot", t.TempDir(), "--search-rate", "0"}, "--search-rate must be positive, got 0"},
	} {
		code, _, stderr := runAll(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

// TestPilotPlansFirst: a study pilot whose study cannot be planned (a T0
// given twice) fails before it trains anything (it trained for its whole
// length, then refused).
func TestPilotPlansFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pilot")
	code, _, stderr := runAll(t, "study", "pilot", "--out", out, "--quick", "--t0", "1,1")
	if code == 0 || !strings.Contains(stderr, "search avg_t1_s1 is listed twice") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if es, err := os.ReadDir(out); len(es) != 0 {
		t.Errorf("the pilot ran: %v (%v)", es, err)
	}
}

// TestMemoryLimitEnv: a malformed $MULTIHW_MEMORY_LIMIT stops a command
// (it was ignored: the machine's limit applied); --memory-limit, which takes
// precedence, is used without reading it.
func TestMemoryLimitEnv(t *testing.T) {
	t.Setenv("MULTIHW_MEMORY_LIMIT", "lots")
	if code, _, stderr := runAll(t, "arch", "--model", "multi_avg"); code == 0 || !strings.Contains(stderr, `$MULTIHW_MEMORY_LIMIT: bad memory size "lots"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runAll(t, "arch", "--model", "multi_avg", "--memory-limit", "8GiB"); code != 0 {
		t.Errorf("with --memory-limit: exit %d, stderr %q", code, stderr)
	}
}

// TestExplicitZeroBeta: --beta 0 (no cost term) is a value, not the
// reward's default β: the search runs with it.
func TestExplicitZeroBeta(t *testing.T) {
	code, stdout, stderr := runAll(t, "search", "nb201", "--budget", "0.5", "--reward", "abs", "--beta", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Reward struct {
			Kind string   `json:"kind"`
			Beta *float64 `json:"beta"`
		} `json:"reward"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Reward.Kind != "abs" || res.Reward.Beta == nil || *res.Reward.Beta != 0 {
		t.Errorf("reward %+v, want abs with beta 0", res.Reward)
	}
}

// --json results whose statistics are undefined for the input print them as
// null instead of failing after the work ("json: unsupported value: NaN"):
// the fit of a target without published rows (coral-edgetpu: its held-out
// errors are NaN) and a study that has not run (no seed: no mean, no SD).
func TestJSONWithUndefinedStatistics(t *testing.T) {
	studyDir := filepath.Join(t.TempDir(), "study")
	if code, _, stderr := runAll(t, "study", "plan", "--dir", studyDir); code != 0 {
		t.Fatalf("study plan: %s", stderr)
	}
	for _, args := range [][]string{
		{"cost", "fit", "--hardware", "coral-edgetpu", "--no-studies", "--dry-run", "--json"},
		{"study", "status", "--dir", studyDir, "--json"},
	} {
		code, stdout, stderr := runAll(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || !strings.Contains(stdout, "null") {
			t.Errorf("%v: output is not JSON with a null (%v): %.200s", args, err, stdout)
		}
	}
}

// TestRepeatedFlags: every command refuses a flag given twice (the flag
// package kept the last value: `--model a --model b` costed b alone), and -h
// still prints each flag's default from its own type.
func TestRepeatedFlags(t *testing.T) {
	for name := range commands {
		args := strings.Fields(name)
		switch name {
		case "space show":
			args = append(args, "tiny")
		case "study report": // passes the rest to search report
			args = append(args, "--dir", t.TempDir())
		}
		args = append(args, "--memory-limit", "1GiB", "--"+memoryLimitFlag+"=2GiB")
		code, _, stderr := runAll(t, args...)
		if code == 0 || !strings.Contains(stderr, "--memory-limit given 2 times: give it once (lists are comma-separated") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cost", "sensitivity", "--model", "multi_avg", "--model", "multi_max"}, "--model given 2 times: give it once (lists are comma-separated, e.g. --model a,b)"},
		{[]string{"cost", "--model", "multi_avg", "--json", "-json"}, "--json given 2 times: give it once\n"},
		{[]string{"study", "report", "--dir", "a", "--dir=b"}, "--dir given 2 times: give it once"},
	} {
		code, _, stderr := runAll(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
	_, _, stderr := runAll(t, "cost", "sensitivity", "-h")
	if !strings.Contains(stderr, "(default 2000)") || strings.Contains(stderr, "(default false)") || strings.Contains(stderr, "panic") {
		t.Errorf("cost sensitivity -h prints the defaults wrongly:\n%s", stderr)
	}
}

// TestErrorPrefix: an error that names the command's operation again
// ("search: ...", "adapt: ...") is printed once under the command's name.
func TestErrorPrefix(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "--targets", bad, "--steps", "1"}, "multihw search: " + bad + ": parsing target file"},
		{[]string{"cost", "adapt", "--data", "nb201-help", "--device", "pixel2", "--train", "0"}, "multihw cost adapt: --train 0: need at least 3"},
		{[]string{"search", "bench", "--points", "0"}, "multihw search bench: points and repeats must be"},
	} {
		code, _, stderr := runAll(t, c.args...)
		if code == 0 || !strings.HasPrefix(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to start %q", c.args, code, stderr, c.want)
		}
	}
}

// Counts and sizes near math.MaxInt64 are refused with an error naming the
// bound: summed with a warm-up or multiplied into a budget or a buffer they
// overflowed (NaN results with exit 0, "slice bounds out of range", hangs
// while building a list of seeds).
func TestHugeCounts(t *testing.T) {
	const huge = "9223372036854775807"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "train", "--steps", huge}, "--steps and --warmup must be in [1, 1000000]"},
		{[]string{"bench", "train", "--warmup", huge}, "--steps and --warmup must be in [1, 1000000]"},
		{[]string{"cost", "sensitivity", "--model", "multi_avg", "--draws", huge}, "draws must be in [2, 1000000]"},
		{[]string{"cost", "fit", "--dry-run", "--no-studies", "--bench-rows", huge}, "too few to fit 9223372036854775807 and hold out"},
		{[]string{"search", "bench", "--points", huge}, "points and repeats must be in [1, 100000]"},
		{[]string{"search", "bench", "--batch", huge}, "needs an estimated more than"},
		{[]string{"search", "nb201-bench", "--queries", huge}, "queries must be in [1, 1073741824]"},
		{[]string{"search", "nb201-bench", "--seeds", huge}, "seeds must be at most 100000"},
		{[]string{"search", "nb201-bench", "--more-seeds", huge}, "seeds must be at most 100000"},
		{[]string{"cost", "eval", "--all", "--seeds", huge}, "--seeds must be in [1, 1000]"},
		{[]string{"study", "plan", "--dir", t.TempDir(), "--train-seeds", huge}, "--train-seeds must be at most 1000"},
		{[]string{"study", "plan", "--dir", t.TempDir(), "--cost-draws", huge}, "cost draws must be 0 (none) or in [2, 1000000]"},
		{[]string{"study", "plan", "--dir", t.TempDir(), "--quick", "--epochs", "1e308"}, "1e+308 epochs are +Inf steps, above the maximum"},
		{[]string{"study", "plan", "--dir", t.TempDir(), "--quick", "--dataset", "fashion-mnist:" + t.TempDir()}, "fashion-mnist"},
		{[]string{"study", "pilot", "--out", t.TempDir(), "--seeds", huge}, "seeds per model, more than 1000"},
	} {
		code, _, stderr := runAll(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "internal error") {
			t.Errorf("%v: exit %d, stderr %q, want an error containing %q", c.args, code, stderr, c.want)
		}
	}
}
