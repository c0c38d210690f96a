package report

import (
	"bytes"
	"fmt"

	"github.com/multihw/multihw/internal/atomicfile"
)

// WriteFile writes a generated markdown report to path atomically. An
// existing file there is replaced only if it starts with the same line, the
// report's title (an earlier run of the same report): a report path mistyped
// as README.md must not destroy it.
func WriteFile(path string, markdown []byte) error {
	title := FirstLine(markdown)
	if len(bytes.TrimSpace(title)) == 0 {
		return fmt.Errorf("report %s: no title line", path)
	}
	return atomicfile.WriteOwned(path, markdown, 0o644, fmt.Sprintf("a report titled %q", title), SameTitle(markdown))
}

// SameTitle returns a recogniser (atomicfile.WriteOwned) of files whose
// first line is doc's.
func SameTitle(doc []byte) func(head []byte) bool {
	title := FirstLine(doc)
	return func(head []byte) bool { return bytes.Equal(FirstLine(head), title) }
}

// FirstLine is b up to its first newline.
func FirstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}
