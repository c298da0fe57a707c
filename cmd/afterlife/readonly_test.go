package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// asUnprivileged makes cmd run as a user the file permissions apply to: as root (which ignores
// them) the child runs as nobody (uid 65534), and dirs, the binary's included, are made
// traversable for it.
func asUnprivileged(t *testing.T, cmd *exec.Cmd, dirs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	for _, d := range append(dirs, filepath.Dir(binary(t))) {
		for ; d != "/" && d != "." && d != os.TempDir(); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
				os.Chmod(d, fi.Mode().Perm()|0o005)
			}
		}
	}
}

// treeState lists every file under dir with its size and modification time.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %o %d %d\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return b.String()
}

// Issue 17, item 4: the commands that only read (runs, report, serve) work on a read-only data
// directory, and change nothing in it.
func TestReadOnlyCommandsWorkOnReadOnlyDataDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	data, out := filepath.Join(tmp, "data"), filepath.Join(tmp, "out")
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := st.BeginRun(ctx, reports.Run{ID: "run-1", Started: t0}); err != nil {
		t.Fatal(err)
	}
	a := artifact.Artifact{ID: "hf:dataset:x/ms1m", Source: "huggingface", Kind: artifact.KindDataset, URL: "https://huggingface.co/datasets/x/ms1m", Title: "x/ms1m"}
	if _, err := st.Record(ctx, "run-1", t0, a, []extract.Finding{{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinishRun(ctx, "run-1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o777)
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return os.Chmod(p, 0o555)
		}
		return os.Chmod(p, 0o444)
	})
	t.Cleanup(func() { os.Chmod(data, 0o755) })
	before := treeState(t, data)

	run := func(args ...string) (string, string, error) {
		cmd := exec.CommandContext(ctx, binary(t), args...)
		cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=", "AFTERLIFE_WEBHOOKS=", "AFTERLIFE_SLACK_WEBHOOKS=", "HOME="+tmp)
		asUnprivileged(t, cmd, data, out)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	stdout, stderr, err := run("runs", "--data", data, "--format", "json")
	var runs []struct {
		ID string `json:"id"`
	}
	if err != nil || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 1 || runs[0].ID != "run-1" {
		t.Fatalf("afterlife runs on a read-only data directory: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if _, stderr, err = run("report", "--data", data, "--out", out); err != nil {
		t.Fatalf("afterlife report on a read-only data directory: %v\n%s", err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err != nil || !strings.Contains(string(b), "hf:dataset:x/ms1m") {
		t.Fatalf("report.json from a read-only store: %v", err)
	}

	addr := freeAddr(t)
	srv := exec.CommandContext(ctx, binary(t), "serve", "--data", data, "--listen", addr)
	srv.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_SERVE_TOKEN=", "HOME="+tmp)
	asUnprivileged(t, srv, data)
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	body := scrape(t, addr, "/datasets/ms-celeb-1m", "x/ms1m", time.Minute)
	if !strings.Contains(body, "MS-Celeb-1M") {
		t.Errorf("serve on a read-only data directory: dataset page:\n%s\nlog:\n%s", body, log.String())
	}
	if after := treeState(t, data); after != before {
		t.Errorf("the read-only commands changed the data directory:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
