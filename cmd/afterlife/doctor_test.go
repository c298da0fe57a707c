package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// doctor runs `afterlife doctor --config cfg` and returns its lines by source and exit code.
func doctor(ctx context.Context, t *testing.T, cfg string, env ...string) (map[string]string, int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary(t), "doctor", "--config", cfg, "--log-level", "error")
	cmd.Env = append(append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=", "GITHUB_TOKEN=", "HF_TOKEN="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			lines[f[0]] = l
		}
	}
	return lines, code, stderr.String()
}

func writeWatch(t *testing.T, w *configs.Watch) string {
	t.Helper()
	b, err := w.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Against the demo world every enabled source is reachable, anonymous, and where the service
// sends rate-limit headers their budget is read; the exit status is 0.
func TestDoctorAnswersOneLinePerSourceAgainstTheDemoWorld(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 0)
	lines, code, stderr := doctor(ctx, t, cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%v\n%s", code, lines, stderr)
	}
	for _, l := range lines {
		t.Log(l)
	}
	want := append(demoworld.Sources(), "swarm")
	if len(lines) != len(want) {
		t.Errorf("%d lines for %d sources: %v", len(lines), len(want), lines)
	}
	for _, name := range want {
		l := lines[name]
		if !strings.Contains(l, " ok ") || !strings.Contains(l, "reachable") {
			t.Errorf("%s: %q", name, l)
		}
		if strings.Contains(l, "\n") {
			t.Errorf("%s: more than one line", name)
		}
	}
	for name, budget := range map[string]string{"github": "budget 4999/5000 left (core)", "huggingface": "budget 499/500 left, resets in 5m0s",
		"zenodo": "budget 29/30 left", "openalex": "budget 99/100 left, resets in 1s"} {
		if !strings.Contains(lines[name], budget) {
			t.Errorf("%s: %q lacks %q", name, lines[name], budget)
		}
	}
	if !strings.Contains(lines["github"], "anonymous (no token set)") {
		t.Errorf("github: %q", lines["github"])
	}
	if worldRequests(srv.World) > int64(len(want)) {
		t.Errorf("doctor sent %d requests to the world for %d sources", worldRequests(srv.World), len(want))
	}
}

// With the server stopped every source fails, saying why, and the exit status is 1; a token the
// service rejects is a failure too.
func TestDoctorFailsOnAStoppedServerAndOnARejectedToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	wc := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{}}
	for _, name := range demoworld.Sources() {
		wc.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: dead + "/" + name, Rate: 100, Burst: 10}
	}
	lines, code, stderr := doctor(ctx, t, writeWatch(t, wc))
	if code != 1 || !strings.Contains(stderr, "cannot work") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, name := range demoworld.Sources() {
		if l := lines[name]; !strings.Contains(l, " fail ") || !strings.Contains(l, "connection refused") {
			t.Errorf("%s: %q", name, l)
		}
	}

	// GitHub answering a token with 401 "Bad credentials", as api.github.com does.
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "59")
		fmt.Fprint(w, `{"resources":{"core":{"limit":60,"remaining":59,"reset":0,"used":1}},"rate":{"limit":60,"remaining":59,"reset":0,"used":1}}`)
	}))
	defer gh.Close()
	one := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{
		"github": {Enabled: true, BaseURL: gh.URL, Rate: 100, Burst: 10}}}
	cfg := writeWatch(t, one)
	lines, code, _ = doctor(ctx, t, cfg, "GITHUB_TOKEN=ghp_not_a_real_token_0000")
	if code != 1 || !strings.Contains(lines["github"], "GITHUB_TOKEN rejected (HTTP 401)") {
		t.Errorf("rejected token: exit %d, %q", code, lines["github"])
	}
	lines, code, _ = doctor(ctx, t, cfg)
	if code != 0 || !strings.Contains(lines["github"], "budget 59/60 left") {
		t.Errorf("anonymous: exit %d, %q", code, lines["github"])
	}
}
