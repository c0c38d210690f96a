package measure

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// FormatID identifies the JSON layout of a Table file.
const FormatID = formatName + "1"

// formatName is FormatID without its version.
const formatName = "multihw-measured-latency/"

// Table holds latencies measured on one machine and backend: per segment
// (stem, block with its input shape, head) and per whole model, plus the fitted
// per-inference overhead that turns the per-segment entries into a whole-model
// prediction. It is the data behind the "local" hardware target (see Target).
//
// Segment entries are keyed by hwcost.Segment.Key, i.e. by everything a
// segment's latency depends on (block kind, kernels, stride, expansion, output
// width, activation, skip; input width and size), so they are shared by every
// architecture containing that block at that place.
type Table struct {
	Format string `json:"format"`
	// Backend is the backend the timings ran on (e.g. "go", "onnx", "xla:cpu"),
	// BackendInfo its description (e.g. its parallelism).
	Backend     string `json:"backend"`
	BackendInfo string `json:"backend_info,omitempty"`
	Host        Host   `json:"host"`
	// Stat is the statistic of the timed runs that the lookup, the fit and the
	// predictions use (segments and whole models alike); the timings keep all
	// of them, so it can be changed at any time.
	Stat Stat `json:"stat"`
	// Ops are the convolution ops used ("lowered" or "native", see
	// convnet.Ops), with ", staged" where the networks ran as convnet.Staged.
	Ops string `json:"ops"`
	// CallOverhead is the timing of a trivial graph: what one graph call
	// costs on the backend besides computing.
	CallOverhead Timing                   `json:"call_overhead"`
	Segments     map[string]*SegmentEntry `json:"segments"`
	Models       map[string]*ModelEntry   `json:"models"`
	Overhead     Overhead                 `json:"overhead"`
	Updated      time.Time                `json:"updated"`
}

// Host describes the machine a table was measured on.
type Host struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPU        string `json:"cpu,omitempty"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

// ThisHost describes the running machine.
func ThisHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

// SegmentEntry is the timing of one segment run alone.
type SegmentEntry struct {
	Segment    hwcost.Segment `json:"-"`
	Timing     Timing         `json:"timing"`
	MeasuredAt time.Time      `json:"measured_at"`
}

// ModelEntry is the timing of one whole architecture at one resolution.
type ModelEntry struct {
	Arch *blocks.Arch `json:"arch"`
	// Segments are the keys of the model's segments, in order.
	Segments   []string  `json:"segments"`
	Timing     Timing    `json:"timing"`
	MeasuredAt time.Time `json:"measured_at"`
}

// Overhead turns the sum of a model's segment entries into its predicted
// latency: predicted = FixedMs + Σ (entry + PerSegmentMs). PerSegmentMs is
// usually negative: every segment timed alone pays one graph call (dispatch,
// variable and buffer handling) that the whole model pays only once.
type Overhead struct {
	FixedMs      float64 `json:"fixed_ms"`
	PerSegmentMs float64 `json:"per_segment_ms"`
	// Models are the keys of the whole-model measurements it was fitted on
	// (empty: not fitted, both zero).
	Models []string `json:"models,omitempty"`
}

// NewTable returns an empty table for the named backend.
func NewTable(backend string) *Table {
	return &Table{Format: FormatID, Backend: backend, Host: ThisHost(), Stat: DefaultStat,
		Segments: map[string]*SegmentEntry{}, Models: map[string]*ModelEntry{}}
}

// ModelKey is the key of a whole-model entry: "name@resolution".
func ModelKey(a *blocks.Arch) string { return modelLabel(a) }

// SetSegment records the timing of segment s.
func (t *Table) SetSegment(s hwcost.Segment, tm Timing, at time.Time) error {
	if _, err := s.Layers(); err != nil {
		return err
	}
	if err := checkTiming(tm); err != nil {
		return fmt.Errorf("segment %s: %w", s.Key(), err)
	}
	t.Segments[s.Key()] = &SegmentEntry{Segment: s, Timing: tm, MeasuredAt: at.UTC()}
	return nil
}

// SetModel records the whole-model timing of a (at a.Resolution).
func (t *Table) SetModel(a *blocks.Arch, tm Timing, at time.Time) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := checkTiming(tm); err != nil {
		return fmt.Errorf("model %s: %w", ModelKey(a), err)
	}
	keys, err := segmentsOf(a)
	if err != nil {
		return err
	}
	t.Models[ModelKey(a)] = &ModelEntry{Arch: a.Clone(), Segments: keys, Timing: tm, MeasuredAt: at.UTC()}
	return nil
}

func checkTiming(tm Timing) error {
	if len(tm.SamplesMs) == 0 || !(tm.MedianMs >= 0) || math.IsInf(tm.MedianMs, 0) {
		return fmt.Errorf("invalid timing (median %g ms, %d samples)", tm.MedianMs, len(tm.SamplesMs))
	}
	return nil
}

// Missing returns the keys of the segments of a (at a.Resolution) that the
// table has no entry for, in order, without duplicates.
func (t *Table) Missing(a *blocks.Arch) ([]string, error) {
	segs, err := hwcost.Segments(a, 0)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range segs {
		k := s.Key()
		if _, ok := t.Segments[k]; !ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// segmentsOf returns the segment keys of a at a.Resolution, in order.
func segmentsOf(a *blocks.Arch) ([]string, error) {
	segs, err := hwcost.Segments(a, 0)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(segs))
	for i, s := range segs {
		keys[i] = s.Key()
	}
	return keys, nil
}

// SumMs returns the sum of the segment timings of a (statistic Stat) and the number of segments.
func (t *Table) SumMs(a *blocks.Arch) (sum float64, n int, err error) {
	segs, err := hwcost.Segments(a, 0)
	if err != nil {
		return 0, 0, err
	}
	for _, s := range segs {
		e, ok := t.Segments[s.Key()]
		if !ok {
			return 0, 0, t.missingErr(s.Key(), a)
		}
		sum += e.Timing.Value(t.Stat)
	}
	return sum, len(segs), nil
}

func (t *Table) missingErr(key string, a *blocks.Arch) error {
	hint := "`multihw cost measure --model NAME` or `--spec FILE` at the resolution you cost it at"
	if a != nil {
		hint = fmt.Sprintf("`multihw cost measure --spec FILE --resolution %d`", a.Resolution)
		if _, err := blocks.LookupReference(a.Name); err == nil {
			hint = fmt.Sprintf("`multihw cost measure --model %s --resolution %d`", a.Name, a.Resolution)
		}
	}
	return fmt.Errorf("local table (backend %s): no measurement for segment %q; measure the architecture with %s", t.Backend, key, hint)
}

// Predict returns the predicted whole-model latency (ms) of a at a.Resolution:
// Overhead.FixedMs + Σ over its segments (timing + Overhead.PerSegmentMs).
func (t *Table) Predict(a *blocks.Arch) (float64, error) {
	sum, n, err := t.SumMs(a)
	if err != nil {
		return 0, err
	}
	return t.Overhead.FixedMs + sum + float64(n)*t.Overhead.PerSegmentMs, nil
}

// Target returns the table as a hwcost target named name: an hwcost.Measured
// whose entries are the segment timings (statistic Stat) plus
// Overhead.PerSegmentMs and whose
// fixed cost is Overhead.FixedMs, so that hwcost.ArchLatency, Metric and Table
// give the same figure as Predict. Segments without an entry are errors that
// name the segment and the command that measures it.
func (t *Table) Target(name string) (hwcost.Target, error) {
	mt := hwcost.NewMeasured(name, t.Overhead.FixedMs)
	for k, e := range t.Segments {
		// hwcost.Measured entries are non-negative: a segment faster than the
		// (negative) per-segment correction means the fit is unreliable.
		v := e.Timing.Value(t.Stat) + t.Overhead.PerSegmentMs
		if v < 0 {
			return nil, fmt.Errorf("local table: segment %q: %s %.4f ms is below the per-segment overhead correction %.4f ms", k, t.Stat, e.Timing.Value(t.Stat), t.Overhead.PerSegmentMs)
		}
		if err := mt.Set(e.Segment, v); err != nil {
			return nil, err
		}
	}
	return &target{Measured: mt, tbl: t}, nil
}

// target wraps hwcost.Measured to say how to measure a missing segment.
type target struct {
	*hwcost.Measured
	tbl *Table
}

// AddCost implements hwcost.Target.
func (t *target) AddCost(s hwcost.Segment, acc []float64) error {
	if err := t.Measured.AddCost(s, acc); err != nil {
		if _, ok := t.tbl.Segments[s.Key()]; !ok {
			return t.tbl.missingErr(s.Key(), nil)
		}
		return err
	}
	return nil
}

// segmentJSON is the file form of a SegmentEntry: the segment spelled out
// (kind by name) next to its timing.
type segmentJSON struct {
	Kind       string        `json:"kind"`
	Block      *blocks.Block `json:"block,omitempty"`
	Head       *blocks.Head  `json:"head,omitempty"`
	Classes    int           `json:"classes,omitempty"`
	InC        int           `json:"in_c"`
	InSize     int           `json:"in_size"`
	Timing     Timing        `json:"timing"`
	MeasuredAt time.Time     `json:"measured_at"`
}

// MarshalJSON implements json.Marshaler.
func (e *SegmentEntry) MarshalJSON() ([]byte, error) {
	j := segmentJSON{Kind: e.Segment.Kind.String(), InC: e.Segment.InC, InSize: e.Segment.InSize, Timing: e.Timing, MeasuredAt: e.MeasuredAt}
	if e.Segment.Kind == hwcost.SegHead {
		h := e.Segment.Head
		j.Head, j.Classes = &h, e.Segment.Classes
	} else {
		b := e.Segment.Block
		j.Block = &b
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *SegmentEntry) UnmarshalJSON(data []byte) error {
	var j segmentJSON
	if err := strictjson.Unmarshal(data, &j); err != nil {
		return err
	}
	var s hwcost.Segment
	switch j.Kind {
	case "stem", "block":
		if j.Block == nil {
			return fmt.Errorf("segment of kind %s without a block", j.Kind)
		}
		s = hwcost.StemSegment(*j.Block, j.InC, j.InSize)
		if j.Kind == "block" {
			s = hwcost.BlockSegment(*j.Block, j.InC, j.InSize)
		}
	case "head":
		if j.Head == nil {
			return fmt.Errorf("segment of kind head without a head")
		}
		s = hwcost.HeadSegment(*j.Head, j.Classes, j.InC, j.InSize)
	default:
		return fmt.Errorf("unknown segment kind %q (valid: stem, block, head)", j.Kind)
	}
	*e = SegmentEntry{Segment: s, Timing: j.Timing, MeasuredAt: j.MeasuredAt}
	return nil
}

// JSON returns the indented JSON form of the table.
func (t *Table) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encoding the measured table: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseTable decodes and checks a table: format, entry keys that match their
// segments, valid segments and architectures, valid timings.
func ParseTable(data []byte) (*Table, error) {
	t := &Table{}
	if err := strictjson.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("decoding the measured table: %w", err)
	}
	if t.Format != FormatID {
		return nil, fmt.Errorf("measured table: format %q, want %q", t.Format, FormatID)
	}
	st, err := ParseStat(string(t.Stat))
	if err != nil {
		return nil, fmt.Errorf("measured table: %w", err)
	}
	t.Stat = st
	if t.Segments == nil {
		t.Segments = map[string]*SegmentEntry{}
	}
	if t.Models == nil {
		t.Models = map[string]*ModelEntry{}
	}
	for k, e := range t.Segments {
		if e == nil {
			return nil, fmt.Errorf("measured table: segment %q: empty entry", k)
		}
		if got := e.Segment.Key(); got != k {
			return nil, fmt.Errorf("measured table: entry %q holds segment %q", k, got)
		}
		if _, err := e.Segment.Layers(); err != nil {
			return nil, fmt.Errorf("measured table: %w", err)
		}
		if err := checkTiming(e.Timing); err != nil {
			return nil, fmt.Errorf("measured table: segment %q: %w", k, err)
		}
	}
	for k, e := range t.Models {
		if e == nil || e.Arch == nil {
			return nil, fmt.Errorf("measured table: model %q: no architecture", k)
		}
		if err := e.Arch.Validate(); err != nil {
			return nil, fmt.Errorf("measured table: model %q: %w", k, err)
		}
		if got := ModelKey(e.Arch); got != k {
			return nil, fmt.Errorf("measured table: entry %q holds model %q", k, got)
		}
		if keys, _ := segmentsOf(e.Arch); !slices.Equal(keys, e.Segments) {
			return nil, fmt.Errorf("measured table: model %q: its segment list does not match its architecture", k)
		}
		if err := checkTiming(e.Timing); err != nil {
			return nil, fmt.Errorf("measured table: model %q: %w", k, err)
		}
	}
	if len(t.CallOverhead.SamplesMs) > 0 {
		if err := checkTiming(t.CallOverhead); err != nil {
			return nil, fmt.Errorf("measured table: call overhead: %w", err)
		}
	}
	for _, v := range []float64{t.Overhead.FixedMs, t.Overhead.PerSegmentMs} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("measured table: overhead must be finite, got %g", v)
		}
	}
	return t, nil
}

// Load reads a table file.
func Load(path string) (*Table, error) {
	data, err := memlimit.ReadFile(path, "measured table", 256<<20)
	if err != nil {
		return nil, err
	}
	t, err := ParseTable(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// LoadOrNew reads the table file at path, or returns an empty table for
// backend when the file does not exist. A table measured on another backend
// is an error (timings from different backends must not be mixed).
func LoadOrNew(path, backend string) (*Table, error) {
	t, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewTable(backend), nil
	}
	if err != nil {
		return nil, err
	}
	if t.Backend != backend {
		return nil, fmt.Errorf("%s was measured on backend %q, not %q: use another --table file", path, t.Backend, backend)
	}
	return t, nil
}

// Save writes the table atomically (temporary file + rename), creating the
// directory if needed.
func (t *Table) Save(path string) error {
	data, err := t.JSON()
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("saving the measured table: %w", err)
		}
	}
	// A table (of any version) replaces only a table: --table may be
	// mistyped.
	return atomicfile.WriteOwned(path, data, 0o644, "a latency table", atomicfile.HeadHolds(4096, formatName))
}

// ModelKeys returns the keys of the whole-model entries, sorted.
func (t *Table) ModelKeys() []string {
	keys := make([]string, 0, len(t.Models))
	for k := range t.Models {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
