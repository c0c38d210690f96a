// Package jobstate keeps the finished parts of a long computation in a file,
// so that a run killed part-way resumes from them: `cost fit`'s reference
// devices and study rows, `cost eval --all`'s device comparisons. Each part
// is a gob value under a name; the file is replaced atomically after every
// part (a kill leaves the last whole state) and carries a SHA-256 of its
// content. A key says what the parts depend on (the program's bytes and the
// run's inputs): a file of another key is not used, and is replaced when the
// first part is saved.
package jobstate

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

// magic starts a state file; a SHA-256 of the rest follows it.
const magic = "multihw-job-state/1\n"

// maxBytes bounds a state file read back.
const maxBytes = 256 << 20

// content is what the file holds. gob keeps every float exactly, NaN
// included.
type content struct {
	Key   string
	Parts map[string][]byte
}

// State is an open state file. A nil *State keeps nothing: Get finds
// nothing, Put and Remove do nothing.
type State struct {
	path    string
	mu      sync.Mutex
	c       content
	resumed int
}

// Open reads the state at path if it was written with key; otherwise the
// state starts empty. A file that is not a state file, or is damaged, is an
// error naming it: it is not ours to replace, or cannot be trusted.
func Open(path, key string) (*State, error) {
	s := &State{path: path, c: content{Key: key, Parts: map[string][]byte{}}}
	data, err := memlimit.ReadFile(path, "state file", maxBytes)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	c, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w (remove it to start over)", path, err)
	}
	if c.Key == key {
		s.c.Parts = c.Parts
		if s.c.Parts == nil {
			s.c.Parts = map[string][]byte{}
		}
	}
	return s, nil
}

func decode(data []byte) (*content, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, fmt.Errorf("not a multihw state file")
	}
	rest := data[len(magic):]
	if len(rest) < sha256.Size {
		return nil, fmt.Errorf("truncated")
	}
	sum, body := rest[:sha256.Size], rest[sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("damaged (checksum mismatch)")
	}
	c := &content{}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(c); err != nil {
		return nil, fmt.Errorf("damaged: %w", err)
	}
	return c, nil
}

// Get decodes the part called name into v and reports whether it was there
// (and decoded: a part that no longer decodes into v's type is not used).
func (s *State) Get(name string, v any) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, ok := s.c.Parts[name]
	if !ok || gob.NewDecoder(bytes.NewReader(raw)).Decode(v) != nil {
		return false
	}
	s.resumed++
	return true
}

// Put saves v as the part called name and rewrites the file.
func (s *State) Put(name string, v any) error {
	if s == nil {
		return nil
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return fmt.Errorf("state file: part %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Parts[name] = b.Bytes()
	return s.write()
}

// Resumed is the number of parts Get has taken from the file.
func (s *State) Resumed() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumed
}

func (s *State) write() error {
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(&s.c); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	sum := sha256.Sum256(body.Bytes())
	data := append(append([]byte(magic), sum[:]...), body.Bytes()...)
	if err := atomicfile.WriteFile(s.path, data, 0o644); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// Remove deletes the file, once what it kept is written elsewhere.
func (s *State) Remove() error {
	if s == nil {
		return nil
	}
	return Remove(s.path)
}

// Remove deletes the state file at path if there is one: only a state file
// (a file of another kind there is an error, and stays).
func Remove(path string) error {
	data, err := memlimit.ReadFile(path, "state file", maxBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if !bytes.HasPrefix(data, []byte(magic)) {
		return fmt.Errorf("state file %s: not a multihw state file: left in place", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// ProgramKey is a key for parts computed by this program from inputs: a
// SHA-256 of the executable's bytes (another build may compute them
// differently) and of each input.
func ProgramKey(inputs ...[]byte) (string, error) {
	h := sha256.New()
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("state file: the program's file: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("state file: reading %s: %w", exe, err)
	}
	for _, in := range inputs {
		// Length-prefixed: ("ab", "c") and ("a", "bc") differ.
		fmt.Fprintf(h, "%d:", len(in))
		h.Write(in)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
