// Package repo finds files of the repository for the commands that write
// its generated reports by default: under $MULTIHW_ROOT (set by the
// Makefile), else under the working directory.
package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RootEnv is the environment variable holding the repository's path.
const RootEnv = "MULTIHW_ROOT"

// Find returns the first of $MULTIHW_ROOT/rel and ./rel that exists (rel
// in slash form, e.g. "hwcost/params.json"). The error names what was
// looked for, where, and the flag that gives the path instead.
func Find(rel, flag string) (string, error) {
	var cands []string
	if root := os.Getenv(RootEnv); root != "" {
		cands = append(cands, filepath.Join(root, filepath.FromSlash(rel)))
	}
	cands = append(cands, filepath.FromSlash(rel))
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("cannot find %s of the repository (tried %s): run from the repository root, set %s, or give %s",
		rel, strings.Join(cands, ", "), RootEnv, flag)
}
