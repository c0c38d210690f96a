package main

import (
	"fmt"

	"github.com/multihw/multihw/nas"
)

func init() {
	register(&command{name: "space show", summary: "print a search space's decisions and size", run: runSpaceShow})
}

func runSpaceShow(args []string) error {
	fs := newFlags("space show", "NAME|FILE.json [--json]")
	asJSON := fs.Bool("json", false, "print the space as JSON (the format user spaces are written in)")
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		return fmt.Errorf("missing space name (predefined: %v, or a .json file)", nas.SpaceNames())
	}
	name := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	s, err := nas.LoadSpace(name)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err = stdout.Write(s.JSON())
		return err
	}
	printf("%s", s.Describe())
	return nil
}
