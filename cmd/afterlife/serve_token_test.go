package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/reports"
)

// `serve` refuses a token that is blank (a single space was accepted: anyone sending
// "Authorization: Bearer  " got in) or that has whitespace around it (an HTTP header value never
// carries it, so the token could only travel in URLs), before it listens.
func TestServeRefusesBlankToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
	defer cancel()
	data := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, tok := range []string{" ", "\t", "  \n ", " s3cret", "s3cret\n"} {
		cmd := exec.CommandContext(ctx, binary(t), "serve", "--data", data, "--listen", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=", "AFTERLIFE_SERVE_TOKEN="+tok)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "Serving ") {
				cmd.Process.Kill()
				break
			}
		}
		err = cmd.Wait()
		text := strings.Join(lines, "\n")
		t.Logf("token %q: %d lines: %q", tok, len(lines), text)
		if err == nil || strings.Contains(text, "Serving ") || !strings.Contains(text, "AFTERLIFE_SERVE_TOKEN") || !strings.Contains(text, "whitespace") {
			t.Errorf("token %q: exit %v, output:\n%s\nwant a refusal naming $AFTERLIFE_SERVE_TOKEN and whitespace", tok, err, text)
		}
	}
}

// --help says that a password in --redis is visible to other users and to prefer the environment.
func TestRedisFlagHelpWarnsAboutPasswords(t *testing.T) {
	for _, sub := range []string{"worker", "scan"} {
		out, err := exec.Command(binary(t), sub, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --help: %v\n%s", sub, err, out)
		}
		var line string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "--redis string") {
				line = l
			}
		}
		if !strings.Contains(line, "password") || !strings.Contains(line, "shows in ps") || !strings.Contains(line, "put such a URL in AFTERLIFE_REDIS_URL") {
			t.Errorf("%s --help, --redis: %q", sub, line)
		}
	}
}
