package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/reports"
)

// `afterlife serve` as an operator runs it: loopback by default, refuses a non-loopback address
// without a token, read-only, token auth, the CSP and hardening headers, a slowloris client cut
// off, /metrics beside it, and SIGTERM ends it cleanly.
func TestServeSecureByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=", "AFTERLIFE_SERVE_TOKEN=")

	// The default --listen is loopback.
	var help bytes.Buffer
	h := exec.CommandContext(ctx, binary(t), "serve", "--help")
	h.Stdout = &help
	if err := h.Run(); err != nil || !strings.Contains(help.String(), `"127.0.0.1:8080"`) {
		t.Fatalf("serve --help does not show a 127.0.0.1 default (%v):\n%s", err, help.String())
	}
	// Not loopback, no token: refused before listening.
	var stderr bytes.Buffer
	bad := exec.CommandContext(ctx, binary(t), "serve", "--data", data, "--listen", "0.0.0.0:0")
	bad.Env, bad.Stderr = env, &stderr
	if err := bad.Run(); err == nil || !strings.Contains(stderr.String(), "not loopback") {
		t.Fatalf("serve on 0.0.0.0 without a token: err=%v\n%s", err, stderr.String())
	}

	addr, maddr := freeAddr(t), freeAddr(t)
	srv := exec.CommandContext(ctx, binary(t), "serve", "--data", data, "--listen", addr, "--metrics-addr", maddr)
	srv.Env = append(env, "AFTERLIFE_SERVE_TOKEN=s3cret-token")
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	scrape(t, maddr, "/metrics", "process_resident_memory_bytes", time.Minute)
	scrape(t, maddr, "/readyz", "ready", time.Minute)
	// The metrics server is up before serve has opened its store and listens (it starts with the
	// command): wait for the listener itself (under load the first request was refused).
	for deadline := time.Now().Add(time.Minute); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	do := func(method, path, token string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// An empty store's pages answer 503 (no run yet); /healthz goes through the same auth and headers.
	if r := do("GET", "/healthz", ""); r.StatusCode != 401 {
		t.Errorf("no token: %d, want 401", r.StatusCode)
	}
	r := do("GET", "/healthz", "s3cret-token")
	if r.StatusCode != 200 {
		t.Fatalf("with token: %d\n%s", r.StatusCode, log.String())
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q must forbid script, inline included", csp)
	}
	for hdr, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if r.Header.Get(hdr) != want {
			t.Errorf("%s = %q, want %q", hdr, r.Header.Get(hdr), want)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if r := do(m, "/", "s3cret-token"); r.StatusCode != 405 {
			t.Errorf("%s: %d, want 405 (read-only)", m, r.StatusCode)
		}
	}
	// A slowloris client (headers never finished) is cut off by the header timeout.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	c.SetReadDeadline(time.Now().Add(time.Minute))
	start := time.Now()
	_, rerr := io.ReadAll(c)
	if held := time.Since(start); rerr != nil || held > 45*time.Second {
		t.Errorf("a slowloris connection was held %s (err %v)", held, rerr)
	} else {
		t.Logf("slowloris connection closed by serve after %s", held.Round(time.Millisecond))
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("serve did not stop within 30s of SIGTERM")
	}
	if strings.Contains(log.String(), "s3cret-token") {
		t.Errorf("serve logged its token:\n%s", log.String())
	}
}
