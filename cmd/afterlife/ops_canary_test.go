package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/internal/redistest"
)

// canaries are fake tokens in every variable a source reads; none may appear in any output.
var canaries = map[string]string{
	"GITHUB_TOKEN":     "CANARYgithub9f8e7d6c5b4a3928",
	"HF_TOKEN":         "CANARYhf1a2b3c4d5e6f7a8b9c0d",
	"OPENALEX_API_KEY": "CANARYopenalex5e4d3c2b1a0f9e",
	"S2_API_KEY":       "CANARYs2key7c6b5a4f3e2d1c0b9",
	"KAGGLE_USERNAME":  "CANARYkaggleuser3b2a1f0e9d8c",
	"KAGGLE_KEY":       "CANARYkagglekey8d7c6b5a4f3e2",
	"KAGGLE_API_TOKEN": "CANARYkaggletoken2e1d0c9b8a7",
	"ZENODO_TOKEN":     "CANARYzenodo6f5e4d3c2b1a0f9e",
}

// canaryForms are the ways a token could be written down: raw, URL-escaped, in a Basic header.
func canaryForms() map[string]string {
	forms := map[string]string{}
	for k, v := range canaries {
		forms[v] = k
		forms[url.QueryEscape(v)] = k + " (escaped)"
	}
	basic := base64.StdEncoding.EncodeToString([]byte(canaries["KAGGLE_USERNAME"] + ":" + canaries["KAGGLE_KEY"]))
	forms[basic] = "KAGGLE basic auth"
	return forms
}

func canaryEnv() []string {
	env := append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
	for k, v := range canaries {
		env = append(env, k+"="+v)
	}
	return env
}

// searchCanaries reports every canary found in the named blobs.
func searchCanaries(t *testing.T, blobs map[string][]byte) {
	t.Helper()
	forms := canaryForms()
	total := 0
	for name, b := range blobs {
		total += len(b)
		for form, what := range forms {
			if i := bytes.Index(b, []byte(form)); i >= 0 {
				lo, hi := max(0, i-80), min(len(b), i+len(form)+40)
				t.Errorf("%s leaks %s: …%q…", name, what, b[lo:hi])
			}
		}
	}
	t.Logf("searched %d outputs (%d bytes) for %d canary forms", len(blobs), total, len(forms))
}

// readTree reads every file under dir (SQLite files, their WAL, the HTTP cache, every report).
func readTree(t *testing.T, dir string, into map[string][]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		into[p] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A demo-world scan with canary tokens in every source's variable, debug JSON logs, then every
// report format rendered again with `afterlife report`: no canary in stdout, stderr, the data
// directory (store, frontier, HTTP cache, WAL files) or the reports.
func TestCanaryTokensNeverLeakEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, cfg := demoWorld(t, 0)
	data, out := t.TempDir(), t.TempDir()
	blobs := map[string][]byte{}
	for _, lf := range []string{"json", "text"} {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, binary(t), "scan", "--config", cfg, "--data", data, "--out", out,
			"--progress", "never", "--log-level", "debug", "--log-format", lf)
		cmd.Env = canaryEnv()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("scan: %v\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "level") && !strings.Contains(stderr.String(), "DEBUG") {
			t.Fatalf("no debug log captured:\n%s", stderr.String())
		}
		blobs["scan stdout ("+lf+")"] = stdout.Bytes()
		blobs["scan stderr ("+lf+")"] = stderr.Bytes()
	}
	// `afterlife report` renders every format again into a second directory.
	out2 := t.TempDir()
	var stdout, stderr bytes.Buffer
	rep := exec.CommandContext(ctx, binary(t), "report", "--data", data, "--out", out2, "--log-level", "debug")
	rep.Env = canaryEnv()
	rep.Stdout, rep.Stderr = &stdout, &stderr
	if err := rep.Run(); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	blobs["report stdout"], blobs["report stderr"] = stdout.Bytes(), stderr.Bytes()
	readTree(t, out2, blobs)
	readTree(t, data, blobs)
	readTree(t, out, blobs)
	if len(blobs) < 8 {
		t.Fatalf("only %d outputs to search", len(blobs))
	}
	searchCanaries(t, blobs)
}

// The same in the distributed mode: a real redis-server, `afterlife scan --redis` with in-process
// workers, then every Redis key (queue payloads, findings stream, dedup sets, caches) is read.
func TestCanaryTokensNeverLeakRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, cfg := demoWorld(t, 0)
	data, out := t.TempDir(), t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary(t), "scan", "--redis", srv.URL, "--workers", "2", "--config", cfg,
		"--data", data, "--out", out, "--progress", "never", "--log-level", "debug", "--log-format", "json")
	cmd.Env = canaryEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scan --redis: %v\n%s", err, stderr.String())
	}
	blobs := map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()}
	readTree(t, data, blobs)
	readTree(t, out, blobs)
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("Redis holds no keys after the run")
	}
	for _, k := range keys {
		var buf bytes.Buffer
		buf.WriteString(k + "\n")
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			v, _ := rdb.Get(ctx, k).Result()
			buf.WriteString(v)
		case "hash":
			v, _ := rdb.HGetAll(ctx, k).Result()
			fmt.Fprint(&buf, v)
		case "list":
			v, _ := rdb.LRange(ctx, k, 0, -1).Result()
			fmt.Fprint(&buf, v)
		case "set":
			v, _ := rdb.SMembers(ctx, k).Result()
			fmt.Fprint(&buf, v)
		case "zset":
			v, _ := rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
			fmt.Fprint(&buf, v)
		case "stream":
			v, _ := rdb.XRange(ctx, k, "-", "+").Result()
			fmt.Fprint(&buf, v)
		default:
			fmt.Fprintf(&buf, "(type %s)", typ)
		}
		blobs["redis "+typ+" "+k] = buf.Bytes()
	}
	t.Logf("read %d Redis keys", len(keys))
	searchCanaries(t, blobs)
}
