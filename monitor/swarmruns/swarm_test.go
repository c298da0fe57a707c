package swarmruns_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/torrent/swarmtest"
)

// A real swarm on 127.0.0.1: opentracker (HTTP and UDP) with aria2 and qBittorrent seeding.
var (
	swarmOnce sync.Once
	live      *swarmtest.Swarm
	swarmErr  error
	swarmDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if live != nil {
		live.Stop()
	}
	if swarmDir != "" {
		os.RemoveAll(swarmDir)
	}
	os.Exit(code)
}

func needSwarm(t *testing.T) *swarmtest.Swarm {
	t.Helper()
	seeders := []string{swarmtest.Aria2, swarmtest.QBittorrent}
	if m := swarmtest.Missing(seeders); m != "" {
		t.Skipf("%s is not installed (CI installs opentracker, mktorrent, aria2, qbittorrent-nox)", m)
	}
	swarmOnce.Do(func() {
		swarmDir, swarmErr = os.MkdirTemp("", "afterlife-swarmsrc-")
		if swarmErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		live, swarmErr = swarmtest.Start(ctx, swarmtest.Options{
			Dir: swarmDir, Name: "afterlife-swarm-source", Comment: "afterlife swarm source test",
			Files:   map[string][]byte{"part.bin": bytes.Repeat([]byte("synthetic swarm source payload\n"), 20000)},
			Seeders: seeders, TTL: 10 * time.Minute, Logf: t.Logf,
		})
	})
	if swarmErr != nil {
		t.Fatalf("start swarm: %v", swarmErr)
	}
	return live
}

// swarmRun runs one embedded monitoring run with only the swarm source, over a registry whose
// ms-celeb-1m entry lists the test swarm's info-hash as a known copy.
func swarmRun(ctx context.Context, t *testing.T, ih string, trackers []string) (reports.Run, *reports.SQLiteStore) {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := reg.Get("ms-celeb-1m")
	if !ok {
		t.Fatal("ms-celeb-1m not in the registry")
	}
	d.InfoHashes = []string{ih}
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wc := &configs.Watch{Contact: "test", AllowLoopback: true, Datasets: []string{"ms-celeb-1m"},
		Sources: map[string]configs.SourceConfig{"swarm": {Enabled: true, Rate: 100, Burst: 10,
			Options: map[string]string{"trackers": strings.Join(trackers, ","), "timeout": "1s", "tracker_rate": "20"}}}}
	res, err := monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: wc, Registry: reg, Workers: 4, Version: "test",
		Env: func(string) string { return "" }, RetryBase: 50 * time.Millisecond,
		FetcherOptions: crawler.FetcherOptions{Timeout: 2 * time.Second, DialTimeout: time.Second, MaxAttempts: 2, BaseBackoff: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Run, st
}

func probesOf(ctx context.Context, t *testing.T, st *reports.SQLiteStore, ih, runID string) map[string]reports.SwarmProbe {
	t.Helper()
	ps, err := st.Probes(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reports.SwarmProbe{}
	for _, p := range ps {
		if p.RunID == runID {
			out[p.Source] = p
		}
	}
	return out
}

// A run against a real swarm records its two seeders for the configured info-hash, from the HTTP
// tracker (batched scrape through the run's fetcher) and the UDP tracker (torrent's UDP scrape).
func TestRunRecordsRealSwarmSeeders(t *testing.T) {
	s := needSwarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, st := swarmRun(ctx, t, s.InfoHash, []string{s.HTTPTracker, s.UDPTracker})
	if len(run.Sources) != 1 || run.Sources[0].Status != monitor.StatusOK || run.Sources[0].Requests == 0 {
		t.Fatalf("run sources: %+v, want the swarm source ok with its HTTP requests counted", run.Sources)
	}
	got := probesOf(ctx, t, st, s.InfoHash, run.ID)
	for _, tr := range []string{s.HTTPTracker, s.UDPTracker} {
		p, ok := got[tr]
		if !ok {
			t.Errorf("no probe from %s (got %+v)", tr, got)
			continue
		}
		if p.Seeders != 2 || p.Leechers != 0 || p.At.IsZero() || !p.Alive() {
			t.Errorf("%s: %+v, want 2 seeders and no leecher (aria2 and qBittorrent seed)", tr, p)
		}
	}
}

// Dead trackers — a UDP socket that never answers, an HTTP server that never answers, a closed
// port — fail their own jobs: the run still finishes, the live tracker's count is stored, and the
// source is degraded with the error in its stats.
func TestRunWithDeadTrackersIsDegradedNotStalled(t *testing.T) {
	s := needSwarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	silentUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silentUDP.Close()
	silentTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silentTCP.Close()
	go func() { // accept and never answer
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silentTCP.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	closed, err := swarmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := []string{"udp://" + silentUDP.LocalAddr().String() + "/announce", "http://" + silentTCP.Addr().String() + "/announce",
		fmt.Sprintf("http://127.0.0.1:%d/announce", closed)}
	run, st := swarmRun(ctx, t, s.InfoHash, append([]string{s.HTTPTracker}, dead...))
	if !run.Complete || len(run.Sources) != 1 {
		t.Fatalf("run: %+v", run)
	}
	src := run.Sources[0]
	if src.Status != monitor.StatusDegraded || src.Errors == 0 || src.Message == "" {
		t.Errorf("swarm source: %+v, want degraded with errors and a message", src)
	}
	t.Logf("swarm source after dead trackers: %+v", src)
	got := probesOf(ctx, t, st, s.InfoHash, run.ID)
	if p := got[s.HTTPTracker]; p.Seeders != 2 {
		t.Errorf("live tracker probe %+v, want 2 seeders", p)
	}
	for _, tr := range dead {
		if p, ok := got[tr]; ok {
			t.Errorf("dead tracker %s recorded a probe: %+v", tr, p)
		}
	}
}
