package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// outputFlag finds the flags whose value is where a command writes.
var outputFlag = regexp.MustCompile(`--(out|data|write-config)[ =](\S+)`)

// outsideTree reports whether an example's output path cannot land in the source tree when the
// example is run from a checkout: absolute, under ~ or an environment variable, or a placeholder
// in capitals (DIR, D).
func outsideTree(p string) bool {
	p = strings.Trim(p, `"'`)
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") || strings.HasPrefix(p, "$") ||
		regexp.MustCompile(`^[A-Z_]+$`).MatchString(p)
}

// Issue 17, item 8: the README's examples and every command's --help examples write outside the
// source tree (`scan --out reports/` landed in the Go package reports/).
func TestExamplesWriteOutsideTheSourceTree(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, text string) {
		for _, line := range strings.Split(text, "\n") {
			if !strings.Contains(line, "afterlife ") {
				continue
			}
			for _, m := range outputFlag.FindAllStringSubmatch(line, -1) {
				if !outsideTree(m[2]) {
					t.Errorf("%s: %q writes to %s, inside the source tree when run from a checkout:\n  %s", where, "--"+m[1], m[2], strings.TrimSpace(line))
				}
			}
		}
	}
	n := 0
	inCode := false
	var block strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			if inCode {
				check("README.md", block.String())
				block.Reset()
				n++
			}
			inCode = !inCode
			continue
		}
		if inCode {
			block.WriteString(line + "\n")
		} else if strings.Contains(line, "`") {
			for _, code := range regexp.MustCompile("`([^`]*afterlife [^`]*)`").FindAllStringSubmatch(line, -1) {
				check("README.md", code[1])
			}
		}
	}
	if n < 2 {
		t.Fatalf("README.md has %d code blocks; the test reads the wrong file", n)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check(c.CommandPath()+" --help", c.Example)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(rootCmd)
}

// `afterlife --version` and `afterlife version` print the same line.
func TestVersionFlag(t *testing.T) {
	defer rootCmd.Flags().Set("version", "false") // flags keep their values between in-process runs
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := runReportCLI(t, args...)
		if err != nil || out != "afterlife "+version+"\n" {
			t.Errorf("afterlife %v: %q, %v", args, out, err)
		}
	}
}
