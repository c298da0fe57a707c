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

	"github.com/afterlife-watch/afterlife/internal/redistest"
)

// freeAddr returns a free loopback address (for --metrics-addr).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// scrape polls addr's path until it answers 200 and the body contains want (or the deadline).
func scrape(t *testing.T, addr, path, want string, deadline time.Duration) string {
	t.Helper()
	end := time.Now().Add(deadline)
	last := ""
	for time.Now().Before(end) {
		resp, err := http.Get("http://" + addr + path)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if resp.StatusCode == 200 && strings.Contains(last, want) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s%s never answered 200 with %q; last: %.300s", addr, path, want, last)
	return ""
}

// SIGTERM mid-run in the embedded mode: the scan stops promptly, writes no report, hands back the
// job in hand (the frontier gives leased jobs back on the next open), and the next scan on the
// same data directory resumes to the same report as an uninterrupted run: nothing is lost. The
// interrupted process serves /metrics while it runs.
func TestSIGTERMEmbeddedScanLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 20*time.Millisecond)
	tmp := t.TempDir()
	before := worldRequests(srv.World)
	runScanOK(ctx, t, cfg, filepath.Join(tmp, "data-ref"), filepath.Join(tmp, "out-ref"))
	full := worldRequests(srv.World) - before
	want := sightingSet(t, filepath.Join(tmp, "out-ref"))

	data, out := filepath.Join(tmp, "data"), filepath.Join(tmp, "out")
	maddr := freeAddr(t)
	cmd := exec.CommandContext(ctx, binary(t), "scan", "--config", cfg, "--data", data, "--out", out,
		"--progress", "never", "--log-level", "info", "--log-format", "json", "--metrics-addr", maddr)
	cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := worldRequests(srv.World)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	metrics := scrape(t, maddr, "/metrics", `afterlife_http_requests_total{source=`, 2*time.Minute)
	for worldRequests(srv.World)-start < full/3 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	err := cmd.Wait()
	stopped := time.Since(sent)
	if err == nil {
		t.Fatalf("the scan finished although it was stopped a third of the way (%d of %d requests)", worldRequests(srv.World)-start, full)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the scan was interrupted:\n%s", stderr.String())
	}
	if stopped > 30*time.Second {
		t.Errorf("took %s to stop after SIGTERM", stopped)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
		t.Fatal("a report was written for an interrupted run")
	}
	got := runScanOK(ctx, t, cfg, data, out)
	if !got.Resumed {
		t.Fatal("the next scan did not resume the interrupted run")
	}
	have := sightingSet(t, out)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("SIGTERM+resume report differs from the uninterrupted one:\n%s", diff(want, have))
	}
	t.Logf("stopped %s after SIGTERM; resumed to the same %d sightings; /metrics served %d bytes mid-run", stopped.Round(time.Millisecond), len(have), len(metrics))
}

// SIGTERM to a distributed worker mid-run: it exits 0, finishing or handing back the jobs in hand
// (a second worker takes them at once, without waiting for the lease to expire), and the run
// completes with the same sightings as the embedded reference. Both workers serve /metrics,
// /healthz and /readyz (Redis reachable).
func TestSIGTERMRedisWorkerHandsBackItsJobs(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 20*time.Millisecond)
	tmp := t.TempDir()
	before := worldRequests(srv.World)
	runScanOK(ctx, t, cfg, filepath.Join(tmp, "data-ref"), filepath.Join(tmp, "out-ref"))
	full := worldRequests(srv.World) - before
	want := sightingSet(t, filepath.Join(tmp, "out-ref"))

	startWorker := func(maddr string) (*exec.Cmd, *bytes.Buffer) {
		// A long lease: if the stopped worker did not hand its jobs back, the run would stall.
		w := exec.CommandContext(ctx, binary(t), "worker", "--redis", rs.URL, "--config", cfg, "--workers", "2",
			"--lease", "5m", "--grace", "10s", "--log-level", "info", "--data", t.TempDir(), "--metrics-addr", maddr)
		var log bytes.Buffer
		w.Stdout, w.Stderr = &log, &log
		w.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
		w.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
		return w, &log
	}
	m1 := freeAddr(t)
	w1, log1 := startWorker(m1)
	scrape(t, m1, "/healthz", "ok", time.Minute)
	scrape(t, m1, "/readyz", "ready", time.Minute)

	data, out := filepath.Join(tmp, "data"), filepath.Join(tmp, "out")
	scan := exec.CommandContext(ctx, binary(t), "scan", "--redis", rs.URL, "--workers", "0", "--config", cfg,
		"--data", data, "--out", out, "--progress", "never", "--log-level", "warn")
	scan.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
	var scanErr bytes.Buffer
	scan.Stderr = &scanErr
	start := worldRequests(srv.World)
	if err := scan.Start(); err != nil {
		t.Fatal(err)
	}
	for worldRequests(srv.World)-start < full/3 {
		time.Sleep(5 * time.Millisecond)
	}
	scrape(t, m1, "/metrics", `afterlife_jobs_total{`, time.Minute)
	if err := w1.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if err := w1.Wait(); err != nil {
		t.Fatalf("worker exited with %v after SIGTERM:\n%s", err, log1.String())
	}
	stopped := time.Since(sent)
	m2 := freeAddr(t)
	startWorker(m2)
	if err := scan.Wait(); err != nil {
		t.Fatalf("scan --redis: %v\n%s", err, scanErr.String())
	}
	scrape(t, m2, "/metrics", `afterlife_http_requests_total{`, time.Minute)
	have := sightingSet(t, out)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the run with a SIGTERMed worker differs from the embedded reference:\n%s", diff(want, have))
	}
	t.Logf("worker stopped %s after SIGTERM (grace 10s, lease 5m); the second worker finished the run: %d sightings as embedded",
		stopped.Round(time.Millisecond), len(have))
}
