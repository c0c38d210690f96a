// Package guard turns a panic into an error at a public API boundary: gomlx
// reports graph and backend failures by panicking, and a library call must
// return an error instead of crashing its caller.
package guard

import "fmt"

// Recover, deferred directly (`defer guard.Recover(&err, "search")`), turns a
// panic of the surrounding function into *err = "WHAT: internal error: ...".
func Recover(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: internal error: %v", what, r)
	}
}
