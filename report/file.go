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
	title := titleLine(markdown)
	if len(bytes.TrimSpace(title)) == 0 {
		return fmt.Errorf("report %s: no title line", path)
	}
	return atomicfile.WriteOwned(path, markdown, 0o644, fmt.Sprintf("a report titled %q", title), SameTitle(markdown))
}

// SameTitle returns a recogniser (atomicfile.WriteOwned) of files whose
// first line is doc's.
func SameTitle(doc []byte) func(head []byte) bool {
	title := titleLine(doc)
	return func(head []byte) bool { return bytes.Equal(titleLine(head), title) }
}

// titleLine is b up to its first newline.
func titleLine(b []byte) []byte {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return line
}
