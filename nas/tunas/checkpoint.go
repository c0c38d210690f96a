package tunas

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/nas"
)

// Checkpoint file format: one file, replaced atomically (internal/atomicfile),
// so a killed search leaves the previous checkpoint or the new one:
//
//	8 bytes   magic "MHWSRCH1"
//	8 bytes   little-endian uint64 H, the header length
//	H bytes   JSON header (checkpoint): configuration, step, controller,
//	          history, snapshots
//	rest      the supernet's state (supernet.WriteState), absent for a
//	          synthetic-quality search
const checkpointMagic = "MHWSRCH1"

type checkpoint struct {
	Format     string          `json:"format"`
	Config     Config          `json:"config"`
	Step       int             `json:"step"`
	Controller *nas.Controller `json:"controller"`
	History    []Record        `json:"history"`
	Snapshots  []Snapshot      `json:"snapshots"`
	Seconds    float64         `json:"seconds"`
	Resumes    int             `json:"resumes"`
	Synthetic  bool            `json:"synthetic"`
	Created    time.Time       `json:"created"`

	path   string // where it was read from
	offset int64  // of the supernet state
}

// checkpointFormat names the checkpoint header's format; see ResultFormat
// for what changed in version 2.
const checkpointFormat = "multihw-search-checkpoint/2"

// formatHint explains a format of an earlier version.
func formatHint(got string) string {
	if strings.HasSuffix(got, "/1") {
		return " (written before the supernet, cost and retrained network were one network and before width options were distinct: its points and supernet mean something else now; rerun the search)"
	}
	return ""
}

// checkpoint saves the search state.
func (r *run) checkpoint() error {
	if r.s.out == "" {
		return nil
	}
	ck := checkpoint{Format: checkpointFormat, Config: r.cfg, Step: r.step, Controller: r.ctl, History: r.history,
		Snapshots: r.snapshots, Seconds: r.seconds(), Resumes: r.resumes, Synthetic: r.sn == nil, Created: time.Now().UTC()}
	hdr, err := json.Marshal(ck)
	if err != nil {
		return fmt.Errorf("search: checkpoint: %w", err)
	}
	path := filepath.Join(r.s.out, CheckpointFile)
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
		if _, err := bw.Write(append(append([]byte(checkpointMagic), n[:]...), hdr...)); err != nil {
			return err
		}
		if r.sn != nil {
			if err := r.sn.WriteState(bw); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("search: checkpoint: %w", err)
	}
	r.lastCkpt = time.Now()
	return nil
}

// loadCheckpoint reads a checkpoint's header (os.ErrNotExist, wrapped, when
// there is none).
func loadCheckpoint(path string) (*checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pre [16]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil {
		return nil, fmt.Errorf("search: checkpoint %s: %w", path, err)
	}
	if string(pre[:8]) != checkpointMagic {
		return nil, fmt.Errorf("search: %s is not a search checkpoint", path)
	}
	n := binary.LittleEndian.Uint64(pre[8:])
	if n > 1<<30 {
		return nil, fmt.Errorf("search: checkpoint %s: header of %d bytes is too large", path, n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("search: checkpoint %s: %w", path, err)
	}
	ck := &checkpoint{}
	if err := json.Unmarshal(hdr, ck); err != nil {
		return nil, fmt.Errorf("search: checkpoint %s: %w", path, err)
	}
	if ck.Format != checkpointFormat {
		return nil, fmt.Errorf("search: checkpoint %s has format %q, want %q%s", path, ck.Format, checkpointFormat, formatHint(ck.Format))
	}
	ck.path, ck.offset = path, int64(16+n)
	return ck, nil
}

// restore continues from ck.
func (r *run) restore(ck *checkpoint) error {
	c := ck.Controller
	if c == nil || len(c.Logits) != len(r.sizes) {
		return fmt.Errorf("search: checkpoint %s: controller does not match the space", ck.path)
	}
	for d, l := range c.Logits {
		if len(l) != r.sizes[d] || len(c.M[d]) != r.sizes[d] || len(c.V[d]) != r.sizes[d] {
			return fmt.Errorf("search: checkpoint %s: controller decision %d has the wrong number of options", ck.path, d)
		}
	}
	if ck.Step < 0 || ck.Step > r.cfg.Steps || len(ck.History) != ck.Step {
		return fmt.Errorf("search: checkpoint %s: step %d with %d history records", ck.path, ck.Step, len(ck.History))
	}
	r.ctl, r.step, r.history, r.snapshots = c, ck.Step, ck.History, ck.Snapshots
	r.priorSecs, r.resumes = ck.Seconds, ck.Resumes+1
	if r.sn == nil {
		return nil
	}
	f, err := os.Open(ck.path)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(ck.offset, io.SeekStart); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := r.sn.ReadState(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("search: checkpoint %s: %w", ck.path, err)
	}
	r.prog.done(fmt.Sprintf("resumed from step %d", ck.Step))
	return nil
}

func sameJSON(a, b any) bool { return jsonString(a) == jsonString(b) }

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

// writeResult writes search.json and the final architecture's spec files.
func writeResult(dir string, res *Result) error {
	if err := writeJSON(filepath.Join(dir, ResultFile), res); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ArchTextFile), []byte(res.Final.Text), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ArchJSONFile), res.Final.Arch.JSON(), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

// ReadResult reads a search.json.
func ReadResult(path string) (*Result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("search result: %w", err)
	}
	res := &Result{}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("search result %s: %w", path, err)
	}
	if res.Format != ResultFormat {
		return nil, fmt.Errorf("search result %s has format %q, want %q%s", path, res.Format, ResultFormat, formatHint(res.Format))
	}
	return res, nil
}
