// Package conventions holds no code: its tests check rules that span the
// whole module and that no single package can check for itself (see
// ARCHITECTURE.md at the repository root): the import layering, which project
// packages each package may import (TestLayering); no function outside
// tests longer than MaxFuncLines (TestFunctionLength); comments cite primary
// sources, not notes outside the repository (TestNoExternalNotes).
package conventions

// MaxFuncLines is the longest function (declaration to closing brace) allowed
// outside tests.
const MaxFuncLines = 100
