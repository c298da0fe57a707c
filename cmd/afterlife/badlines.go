package main

import (
	"fmt"
	"io"
)

// shownBadLines is how many bad input lines a command shows, with their line numbers, before it
// only counts them (a binary file would otherwise print a line of errors per "line").
const shownBadLines = 5

// badLines is the one policy for bad input lines (match, eval, report --artifacts): skip the
// line, count it, show the first few with their line numbers, and end with a non-zero exit.
type badLines struct {
	w   io.Writer
	cmd string
	n   int
}

func (b *badLines) add(err error) {
	b.n++
	switch {
	case b.n <= shownBadLines:
		fmt.Fprintf(b.w, "afterlife: %s: %v\n", b.cmd, err)
	case b.n == shownBadLines+1:
		fmt.Fprintf(b.w, "afterlife: %s: more bad lines: counted, not shown\n", b.cmd)
	}
}

// err is the command's error when any line was bad (exit status 1), else nil.
func (b *badLines) err(name string) error {
	if b.n == 0 {
		return nil
	}
	return &exitError{code: 1, err: fmt.Errorf("%s: %d bad line(s) in %s were skipped (%d shown above)", b.cmd, b.n, name, min(b.n, shownBadLines))}
}
