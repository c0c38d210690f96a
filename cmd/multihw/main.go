// Command multihw runs the long jobs of the multihw toolkit: architecture
// analysis, hardware cost, training, search, export and figures.
//
// Usage: multihw COMMAND [SUBCOMMAND] [flags]; `multihw help` lists the commands.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one (sub)command. Each file of this package registers its own
// commands in init, so commands stay next to the flags they parse.
type command struct {
	name    string // "models", "cost eval", ...
	summary string
	run     func(args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return 0
	}
	c, rest := lookup(args)
	if c == nil {
		fmt.Fprintf(os.Stderr, "multihw: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
		usage()
		return 2
	}
	defer func() {
		// The library recovers gomlx panics at its API; this is the last guard so
		// that a user never sees a raw stack trace.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "multihw %s: internal error: %v\n", c.name, r)
			code = 1
		}
	}()
	stdout.err = nil
	err := c.run(rest)
	if err == nil && stdout.err != nil {
		// A result that could not be written is a failure, also where the
		// command did not check a print's error.
		err = fmt.Errorf("writing the output: %w", stdout.err)
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(os.Stderr, "multihw %s: %s\n", c.name, withoutCommandPrefix(c.name, err.Error()))
		return 1
	}
	return 0
}

// withoutCommandPrefix drops from msg a leading "NAME: " or "WORD: " that
// repeats the command's name or its last word: the packages name their
// operation ("search: ...", "search bench: ...", "adapt: ..."), which the
// command line already says.
func withoutCommandPrefix(name, msg string) string {
	last := name[strings.LastIndex(name, " ")+1:]
	for _, p := range []string{name + ": ", last + ": "} {
		if strings.HasPrefix(msg, p) {
			return msg[len(p):]
		}
	}
	return msg
}

// lookup finds the longest registered command prefix of args.
func lookup(args []string) (*command, []string) {
	if len(args) >= 2 && !strings.HasPrefix(args[1], "-") {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, args[2:]
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c, args[1:]
	}
	return nil, nil
}

func usage() {
	fmt.Fprintf(os.Stderr, "multihw: multi-hardware neural architecture search\n\nUsage: multihw COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-22s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun `multihw COMMAND -h` for the flags of a command. The backend is chosen by GOMLX_BACKEND (default: go).\n")
}
