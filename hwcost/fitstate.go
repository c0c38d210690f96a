package hwcost

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
)

// FitStateFile is where `multihw cost fit` keeps what it has finished (in
// its output directory), so that a killed fit resumes there: the reference
// devices and each adapt study's rows, device by device. The fit of the
// targets itself (about a minute) is redone; its parameters and the program
// key the rest. The file is removed when the fit's files are written.
const FitStateFile = ".cost-fit-state"

// fitStateMagic starts the file; a SHA-256 of the rest follows it.
const fitStateMagic = "multihw-cost-fit-state/1\n"

// fitState is the state file's content. gob keeps every float exactly, NaN
// included (an AdaptRow's ceiling is NaN for columns of fractional ms).
type fitState struct {
	Key  string
	Refs *ReferenceSet
	Rows map[string]AdaptRow // by study name and device, see rowKey
}

// fitCheckpoint saves and restores a calibration's finished parts.
type fitCheckpoint struct {
	path    string
	mu      sync.Mutex
	st      fitState
	resumed int // rows (and the reference devices) taken from the file
}

func rowKey(study, device string) string { return study + "\x00" + device }

// openFitCheckpoint reads the state at path if it was written for key (the
// same program and fitted parameters); a state for another key is replaced
// when the first part is saved. A file that is not a state file, or is
// damaged, is an error: it is not ours to replace, or its content cannot be
// trusted.
func openFitCheckpoint(path, key string) (*fitCheckpoint, error) {
	c := &fitCheckpoint{path: path, st: fitState{Key: key, Rows: map[string]AdaptRow{}}}
	data, err := memlimit.ReadFile(path, "cost fit state", 64<<20)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cost fit state: %w", err)
	}
	st, err := decodeFitState(data)
	if err != nil {
		return nil, fmt.Errorf("cost fit state %s: %w (remove it to start over)", path, err)
	}
	if st.Key == key {
		c.st = *st
		if c.st.Rows == nil {
			c.st.Rows = map[string]AdaptRow{}
		}
	}
	return c, nil
}

func decodeFitState(data []byte) (*fitState, error) {
	if !bytes.HasPrefix(data, []byte(fitStateMagic)) {
		return nil, fmt.Errorf("not a cost fit state file")
	}
	rest := data[len(fitStateMagic):]
	if len(rest) < sha256.Size {
		return nil, fmt.Errorf("truncated")
	}
	sum, body := rest[:sha256.Size], rest[sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("damaged (checksum mismatch)")
	}
	st := &fitState{}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(st); err != nil {
		return nil, fmt.Errorf("damaged: %w", err)
	}
	return st, nil
}

// refs returns the saved reference devices, nil when there are none.
func (c *fitCheckpoint) refs() *ReferenceSet {
	if c == nil || c.st.Refs == nil {
		return nil
	}
	c.resumed++
	return c.st.Refs
}

func (c *fitCheckpoint) saveRefs(rs *ReferenceSet) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Refs = rs
	return c.write()
}

// row returns a saved study row.
func (c *fitCheckpoint) row(study, device string) (AdaptRow, bool) {
	if c == nil {
		return AdaptRow{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.st.Rows[rowKey(study, device)]
	if ok {
		c.resumed++
	}
	return r, ok
}

func (c *fitCheckpoint) saveRow(study, device string, r AdaptRow) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Rows[rowKey(study, device)] = r
	return c.write()
}

// write replaces the file atomically (a kill leaves the last whole state).
func (c *fitCheckpoint) write() error {
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(&c.st); err != nil {
		return fmt.Errorf("cost fit state: %w", err)
	}
	sum := sha256.Sum256(body.Bytes())
	data := append(append([]byte(fitStateMagic), sum[:]...), body.Bytes()...)
	if err := atomicfile.WriteFile(c.path, data, 0o644); err != nil {
		return fmt.Errorf("cost fit state: %w", err)
	}
	return nil
}

// remove deletes the state file once the fit's files are written.
func (c *fitCheckpoint) remove() error {
	if c == nil {
		return nil
	}
	if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cost fit state: %w", err)
	}
	return nil
}

// fitStateKey identifies what the saved parts depend on: the program (its
// executable's bytes: another build may compute them differently) and the
// fitted parameters the reference devices and studies start from.
func fitStateKey(params *ParamSet) (string, error) {
	h := sha256.New()
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cost fit state: the program's file: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("cost fit state: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("cost fit state: reading %s: %w", exe, err)
	}
	h.Write(params.JSON())
	return hex.EncodeToString(h.Sum(nil)), nil
}
