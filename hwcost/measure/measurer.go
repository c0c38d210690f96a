package measure

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/memlimit"
)

// Defaults of a Measurer.
const (
	DefaultRuns   = 10
	DefaultWarmup = 2
	DefaultSeed   = 1
)

// MaxRuns bounds the timed and the warm-up runs per graph: every timed run's
// sample is kept (for each of a model's segments), and a million runs are
// hours of timing already.
const MaxRuns = 1_000_000

// Measurer times batch-1 inference of whole architectures and of their
// segments (stem, blocks, head) on one gomlx backend, and records the timings
// in a Table. Create it with New, configure it with its methods (each returns
// the Measurer) and check Err, or let the timing methods report the first
// configuration error.
type Measurer struct {
	be        compute.Backend
	runs      int
	warmup    int
	seed      int64
	lowered   *bool
	remeasure bool
	progress  io.Writer
	err       error
}

// New returns a Measurer on backend be (see package backend) with the defaults:
// DefaultRuns timed runs per graph after DefaultWarmup untimed ones, seed
// DefaultSeed, convnet's default ops for the backend, no progress output.
func New(be compute.Backend) *Measurer {
	m := &Measurer{be: be, runs: DefaultRuns, warmup: DefaultWarmup, seed: DefaultSeed}
	if be == nil {
		m.err = fmt.Errorf("measure: nil backend")
	}
	return m
}

func (m *Measurer) setErr(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf("measure: "+format, args...)
	}
}

// Runs sets the number of timed runs per graph (≥ 1; the median is reported).
func (m *Measurer) Runs(n int) *Measurer {
	if n < 1 || n > MaxRuns {
		m.setErr("runs must be at least 1 and at most %d, got %d", MaxRuns, n)
	}
	m.runs = n
	return m
}

// Warmup sets the untimed runs per graph before the timed ones (≥ 1: the first
// run initialises the variables and compiles).
func (m *Measurer) Warmup(n int) *Measurer {
	if n < 1 || n > MaxRuns {
		m.setErr("warm-up runs must be at least 1 and at most %d, got %d", MaxRuns, n)
	}
	m.warmup = n
	return m
}

// Seed sets the seed of the random weights and inputs.
func (m *Measurer) Seed(seed int64) *Measurer {
	m.seed = seed
	return m
}

// Lowered forces convnet's lowered (true) or native (false) ops; by default
// the choice follows the backend as in convnet.DefaultLowered.
func (m *Measurer) Lowered(lowered bool) *Measurer {
	m.lowered = &lowered
	return m
}

// Remeasure makes Measure time segments that the table already holds too
// (by default only missing segments are timed; whole models always are).
func (m *Measurer) Remeasure(yes bool) *Measurer {
	m.remeasure = yes
	return m
}

// Progress sets where progress lines go (nil: nowhere).
func (m *Measurer) Progress(w io.Writer) *Measurer {
	m.progress = w
	return m
}

// Err returns the first configuration error.
func (m *Measurer) Err() error { return m.err }

// Backend returns the backend timings run on.
func (m *Measurer) Backend() compute.Backend { return m.be }

// ops returns the convolution ops used on the backend.
func (m *Measurer) ops() convnet.Ops {
	if m.lowered != nil {
		return convnet.Ops{Lowered: *m.lowered}
	}
	return convnet.Ops{Lowered: convnet.DefaultLowered(m.be)}
}

func (m *Measurer) logf(format string, args ...any) {
	if m.progress != nil {
		fmt.Fprintf(m.progress, format+"\n", args...)
	}
}

// program is one compiled inference graph, its input and its timed runs.
// staged, when set, is the same network as train.Inference runs it on the
// pure-Go backend (convnet.Staged: the same outputs, several times faster),
// and is what is timed.
type program struct {
	label   string
	exec    *model.Exec
	staged  *convnet.Staged
	input   *tensors.Tensor
	samples []float64
	sync    bool // materialise the outputs (see once)
}

// staging reports whether the measurer times staged inference: on the
// pure-Go backend with the lowered ops, where train.Inference runs it.
func (m *Measurer) staging() bool { return backend.IsGo(m.be) && m.ops().Lowered }

// mode describes how the measurer runs the networks, as tables record it
// (Table.Ops): the convolution ops, and "staged" where it times
// convnet.Staged.
func (m *Measurer) mode() string {
	if m.staging() {
		return m.ops().String() + stagedMode
	}
	return m.ops().String()
}

// stagedMode ends Table.Ops where the networks ran as convnet.Staged.
const stagedMode = ", staged"

// compile builds the graph of fn on a random [1,size,size,c] input, runs it
// warm-up times (the first run initialises the variables and compiles) and
// returns it ready to be timed. With staging, stage makes the staged form of
// the same network from the initialised variables, which is then warmed up
// and timed; where it has nothing to stage (convnet.ErrNothingToStage),
// train.Inference runs the graph, and so is the graph timed.
func (m *Measurer) compile(label string, size, c int, stream uint64, fn func(scope *model.Scope, x *Node) *Node, stage func(*model.Store) (*convnet.Staged, error)) (p *program, err error) {
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, m.seed)
	rng := rand.New(rand.NewPCG(uint64(m.seed), stream))
	data := make([]float32, size*size*c)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	p = &program{label: label, input: tensors.FromFlatDataAndDimensions(data, 1, size, size, c),
		sync: backend.Asynchronous(m.be)}
	if err = catch(func() error {
		var e error
		p.exec, e = model.NewExec(m.be, store, fn)
		return e
	}); err != nil {
		p.close()
		return nil, fmt.Errorf("measure: %s: building the graph: %w", label, err)
	}
	warm := func(n int) error {
		for i := range n {
			if _, err := p.once(); err != nil {
				p.close()
				return fmt.Errorf("measure: %s: warm-up run %d: %w", label, i+1, err)
			}
		}
		return nil
	}
	// Warmup is at least 1: the first run initialises the variables stage reads.
	if err := warm(m.warmup); err != nil {
		return nil, err
	}
	if stage == nil || !m.staging() {
		return p, nil
	}
	if err := catch(func() error {
		var e error
		p.staged, e = stage(store)
		return e
	}); errors.Is(err, convnet.ErrNothingToStage) {
		return p, nil // as train.Inference: the graph runs
	} else if err != nil {
		p.close()
		return nil, fmt.Errorf("measure: %s: staging: %w", label, err)
	}
	if err := warm(m.warmup); err != nil {
		return nil, err
	}
	return p, nil
}

// once runs the program and returns the elapsed wall-clock time in ms, then
// frees the outputs. The Go and ONNX Runtime backends return from Exec once the
// outputs are computed; on other backends (XLA) the outputs are also
// materialised, so that the time includes the wait for completion (and, off
// CPU, the copy back).
func (p *program) once() (ms float64, err error) {
	err = catch(func() error {
		start := time.Now()
		var out []*tensors.Tensor
		if p.staged != nil {
			y, err := p.staged.Logits(p.input)
			if err != nil {
				return err
			}
			out = []*tensors.Tensor{y}
		} else if out, err = p.exec.Exec(p.input); err != nil {
			return err
		}
		if p.sync {
			for _, o := range out {
				o.MaterializeLocal()
			}
		}
		ms = float64(time.Since(start).Nanoseconds()) / 1e6
		for _, o := range out {
			_ = o.FinalizeAll()
		}
		return nil
	})
	return ms, err
}

// catch runs fn and returns its error, or the panic it raised (gomlx reports
// errors by panicking) as an error.
func catch(fn func() error) (err error) {
	if e := exceptions.Try(func() { err = fn() }); e != nil {
		if ee, ok := e.(error); ok {
			return ee
		}
		return fmt.Errorf("%v", e)
	}
	return err
}

// time appends n timed runs to the program's samples.
func (p *program) time(n int) error {
	for range n {
		ms, err := p.once()
		if err != nil {
			return fmt.Errorf("measure: %s: %w", p.label, err)
		}
		p.samples = append(p.samples, ms)
	}
	return nil
}

func (p *program) close() {
	if p.staged != nil {
		p.staged.Finalize()
		p.staged = nil
	}
	if p.exec != nil {
		p.exec.Finalize()
		p.exec = nil
	}
	if p.input != nil {
		_ = p.input.FinalizeAll()
		p.input = nil
	}
}

func (m *Measurer) compileModel(a *blocks.Arch, stream uint64) (*program, error) {
	b := convnet.New(a)
	if err := b.Err(); err != nil {
		return nil, err
	}
	est, err := convnet.MemoryEstimate(a, 1, false)
	if err != nil {
		return nil, err
	}
	if err := memlimit.Check("measuring "+modelLabel(a), est); err != nil {
		return nil, err
	}
	ops := m.ops()
	b = b.Lowered(ops.Lowered)
	return m.compile(modelLabel(a), a.Resolution, a.Channels, stream, func(scope *model.Scope, x *Node) *Node {
		return b.Logits(scope.In("model"), x)
	}, func(store *model.Store) (*convnet.Staged, error) { return b.NewStaged(m.be, store, "model", nil) })
}

func (m *Measurer) compileSegment(s hwcost.Segment, stream uint64) (*program, error) {
	if _, err := s.Layers(); err != nil { // Validates the segment.
		return nil, err
	}
	ops := m.ops()
	return m.compile(s.Key(), s.InSize, s.InC, stream, func(scope *model.Scope, x *Node) *Node {
		return BuildSegment(scope.In("segment"), x, s, ops)
	}, func(store *model.Store) (*convnet.Staged, error) {
		p, err := SegmentPlan(s)
		if err != nil {
			return nil, err
		}
		return convnet.NewNet(ops).NewStaged(m.be, store, "segment", p)
	})
}

func modelLabel(a *blocks.Arch) string {
	name := a.Name
	if name == "" {
		name = "architecture"
	}
	return fmt.Sprintf("%s@%d", name, a.Resolution)
}

// Model times whole-model inference of a at its resolution (warm-up, then the
// configured number of runs in a row).
func (m *Measurer) Model(a *blocks.Arch) (Timing, error) {
	if m.err != nil {
		return Timing{}, m.err
	}
	if err := a.Validate(); err != nil {
		return Timing{}, fmt.Errorf("measure: %w", err)
	}
	p, err := m.compileModel(a, 0)
	if err != nil {
		return Timing{}, err
	}
	defer p.close()
	if err := p.time(m.runs); err != nil {
		return Timing{}, err
	}
	return NewTiming(p.samples)
}

// Segment times segment s alone (warm-up, then the configured number of runs in a row).
func (m *Measurer) Segment(s hwcost.Segment) (Timing, error) {
	if m.err != nil {
		return Timing{}, m.err
	}
	p, err := m.compileSegment(s, 0)
	if err != nil {
		return Timing{}, err
	}
	defer p.close()
	if err := p.time(m.runs); err != nil {
		return Timing{}, err
	}
	return NewTiming(p.samples)
}

// Measure times the whole models archs (each at its own resolution) and their
// segments, and records the timings in tbl: every whole model, the segments
// tbl has no entry for (all of them with Remeasure; segments shared by several
// models are timed once) and the cost of a trivial graph call
// (Table.CallOverhead). It does not refit tbl.Overhead (see Table.FitOverhead).
//
// The timed runs are interleaved: each of Runs passes runs every whole model
// once and, right after it, each of its segments once. Load from other
// processes (the machines are shared) thus hits a model and its segments alike,
// and the medians of the whole model and of the summed segments stay
// comparable even when absolute times drift. Runs alone back to back, a
// segment would also find its weights in cache, which it does not inside a
// whole model.
func (m *Measurer) Measure(tbl *Table, archs ...*blocks.Arch) error {
	if err := m.checkTable(tbl); err != nil {
		return err
	}
	if len(archs) == 0 {
		return fmt.Errorf("measure: no architectures")
	}
	queued := map[string]bool{}
	jobs := make([]*job, len(archs))
	for i, a := range archs {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("measure: %w", err)
		}
		segs, err := hwcost.Segments(a, 0)
		if err != nil {
			return fmt.Errorf("measure: %w", err)
		}
		jobs[i] = &job{arch: a, segs: m.pending(tbl, segs, queued)}
	}
	return m.run(tbl, jobs)
}

// MeasureSegments times the given segments alone (those tbl has no entry
// for, or all with Remeasure), interleaved, and records them in tbl: e.g. every
// option of a search space, so that a search can cost any architecture of it
// with the table. No whole model is timed, so it does not help the fit.
func (m *Measurer) MeasureSegments(tbl *Table, segs ...hwcost.Segment) error {
	if err := m.checkTable(tbl); err != nil {
		return err
	}
	for _, s := range segs {
		if _, err := s.Layers(); err != nil {
			return fmt.Errorf("measure: %w", err)
		}
	}
	return m.run(tbl, []*job{{segs: m.pending(tbl, segs, map[string]bool{})}})
}

// checkTable checks the measurer's configuration and that tbl can take its timings.
func (m *Measurer) checkTable(tbl *Table) error {
	if m.err != nil {
		return m.err
	}
	if tbl == nil {
		return fmt.Errorf("measure: nil table")
	}
	if mode := m.mode(); tbl.Ops != "" && tbl.Ops != mode && len(tbl.Segments) > 0 {
		return fmt.Errorf("measure: the table holds timings of the %s ops, this measurer uses the %s ops: measure into another table (--table FILE)", tbl.Ops, mode)
	}
	return nil
}

// pending returns the segments of segs to time: not yet queued, and not in
// tbl unless remeasuring.
func (m *Measurer) pending(tbl *Table, segs []hwcost.Segment, queued map[string]bool) []hwcost.Segment {
	var out []hwcost.Segment
	for _, s := range segs {
		k := s.Key()
		if queued[k] {
			continue
		}
		if _, ok := tbl.Segments[k]; ok && !m.remeasure {
			continue
		}
		queued[k] = true
		out = append(out, s)
	}
	return out
}

// job is a whole model (arch may be nil: segments only) and the segments
// timed with it.
type job struct {
	arch  *blocks.Arch
	segs  []hwcost.Segment
	whole *program
	progs []*program
}

// run compiles and warms up every graph of jobs, times them in interleaved
// passes and records the timings in tbl.
func (m *Measurer) run(tbl *Table, jobs []*job) error {
	var all []*program
	defer func() {
		for _, p := range all {
			p.close()
		}
	}()
	total := 0
	for _, j := range jobs {
		total += len(j.segs)
		if j.arch != nil {
			total++
		}
	}
	start := time.Now()
	// A trivial graph on a 1-element input: the cost of a graph call itself.
	call, err := m.compile("call overhead", 1, 1, 0, func(_ *model.Scope, x *Node) *Node { return AddScalar(x, 1) }, nil)
	if err != nil {
		return err
	}
	all = append(all, call)
	done := 0
	var stream uint64
	progress := func() {
		done++
		if done%10 == 0 || done == total {
			m.logf("measure: compiled and warmed up %d/%d graphs (%.0f s)", done, total, time.Since(start).Seconds())
		}
	}
	for _, j := range jobs {
		if j.arch != nil {
			stream++
			if j.whole, err = m.compileModel(j.arch, stream); err != nil {
				return err
			}
			all = append(all, j.whole)
			progress()
		}
		for _, s := range j.segs {
			stream++
			p, err := m.compileSegment(s, stream)
			if err != nil {
				return err
			}
			all = append(all, p)
			j.progs = append(j.progs, p)
			progress()
		}
	}
	// Collect the garbage of compiling now rather than inside a timed run.
	runtime.GC()
	for pass := range m.runs {
		for _, j := range jobs {
			if err := call.time(1); err != nil {
				return err
			}
			if j.whole != nil {
				if err := j.whole.time(1); err != nil {
					return err
				}
			}
			for _, p := range j.progs {
				if err := p.time(1); err != nil {
					return err
				}
			}
		}
		m.logf("measure: pass %d/%d done (%.0f s)", pass+1, m.runs, time.Since(start).Seconds())
	}
	return m.record(tbl, call, jobs)
}

// record stores the timings of the call-overhead graph and of jobs in tbl.
func (m *Measurer) record(tbl *Table, call *program, jobs []*job) error {
	now := time.Now()
	ct, err := NewTiming(call.samples)
	if err != nil {
		return fmt.Errorf("measure: call overhead: %w", err)
	}
	tbl.CallOverhead = ct
	tbl.Ops = m.mode()
	if tbl.BackendInfo == "" {
		tbl.BackendInfo = m.be.Description()
	}
	for _, j := range jobs {
		if j.whole != nil {
			tm, err := NewTiming(j.whole.samples)
			if err != nil {
				return fmt.Errorf("measure: %s: %w", j.whole.label, err)
			}
			if err := tbl.SetModel(j.arch, tm, now); err != nil {
				return err
			}
		}
		for i, p := range j.progs {
			tm, err := NewTiming(p.samples)
			if err != nil {
				return fmt.Errorf("measure: %s: %w", p.label, err)
			}
			if err := tbl.SetSegment(j.segs[i], tm, now); err != nil {
				return err
			}
		}
	}
	tbl.Updated = now.UTC()
	return nil
}
