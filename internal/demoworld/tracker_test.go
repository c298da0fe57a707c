package demoworld_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/torrent"
)

const (
	plantedMSCeleb = "e0f896a6cd1a99881ccde415d92e768ce1b6a9a7" // planted, alive in epoch 1, dead in 2
	plantedCASIA   = "63ef079ab84e5bcaf48ceb0b2d60a9763679fba7" // planted, grows
	plantedShards  = "7ac5dcce58633f1312ccebe21ff0e9b40ab26d4d" // planted in epoch 2 only
	knownMSCeleb   = "9e67eb7cc23c9417f39778a8e06cca5e26196a97" // registry, alive in epoch 1, dead in 2
	unknownHash    = "0123456789abcdef0123456789abcdef01234567"
)

func startTrackerWorld(t *testing.T) *demoworld.Server {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// The demo tracker answers torrent's real scrape client: many hashes in one request, counts that
// change with the epoch, and unknown hashes left out (so the client flags them).
func TestDemoTrackerScrapeVariesByEpoch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := startTrackerWorld(t)
	announce := srv.URL + demoworld.TrackerAnnouncePath
	tc := &torrent.Trackers{RequestTimeout: 10 * time.Second}
	hashes := []string{plantedMSCeleb, plantedCASIA, plantedShards, knownMSCeleb, unknownHash}
	type want struct{ s, l, c int }
	check := func(epoch int, exp map[string]*want) {
		t.Helper()
		before := tc.Requests()
		cs, err := tc.Scrape(ctx, announce, hashes)
		if err != nil {
			t.Fatalf("epoch %d: scrape: %v", epoch, err)
		}
		if n := tc.Requests() - before; n != 1 {
			t.Errorf("epoch %d: %d requests for %d hashes, want 1 (multi-hash scrape)", epoch, n, len(hashes))
		}
		for _, c := range cs {
			w := exp[c.InfoHash]
			switch {
			case w == nil && c.Err == "":
				t.Errorf("epoch %d: %s: counts %d/%d/%d, want unknown to the tracker", epoch, c.InfoHash, c.Seeders, c.Leechers, c.Completed)
			case w != nil && (c.Err != "" || c.Seeders != w.s || c.Leechers != w.l || c.Completed != w.c):
				t.Errorf("epoch %d: %s: %d/%d/%d err %q, want %d/%d/%d", epoch, c.InfoHash, c.Seeders, c.Leechers, c.Completed, c.Err, w.s, w.l, w.c)
			}
		}
	}
	check(1, map[string]*want{plantedMSCeleb: {7, 2, 120}, plantedCASIA: {15, 1, 300}, knownMSCeleb: {2, 1, 58}})
	srv.World.SetEpoch(2)
	check(2, map[string]*want{plantedMSCeleb: {0, 0, 121}, plantedCASIA: {18, 4, 340}, plantedShards: {3, 11, 25}, knownMSCeleb: {0, 0, 58}})
	if n := srv.World.Requests("tracker"); n != 2 {
		t.Errorf("world counted %d tracker requests, want 2", n)
	}
}

// Announce (started, then stopped, as torrent does it) gives the counts; an unknown torrent is a
// tracker failure, not a zero.
func TestDemoTrackerAnnounce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := startTrackerWorld(t)
	announce := srv.URL + demoworld.TrackerAnnouncePath
	tc := &torrent.Trackers{RequestTimeout: 10 * time.Second}
	c, err := tc.Announce(ctx, announce, plantedCASIA, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seeders != 15 || c.Leechers != 1 || len(c.Peers) != 0 {
		t.Errorf("announce: %+v, want 15 seeders, 1 leecher and no peers", c)
	}
	if _, err := tc.Announce(ctx, announce, unknownHash, 0); err == nil || !strings.Contains(err.Error(), "not tracked") {
		t.Errorf("announce of an unknown torrent: err = %v, want the tracker's failure reason", err)
	}
	// Bad input gets a bencoded failure, and no path but announce and scrape is served.
	resp, err := http.Get(srv.URL + "/tracker/scrape?info_hash=short")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "d14:failure reason") {
		t.Errorf("scrape with a short info_hash: %q", b)
	}
	if resp, err := http.Get(srv.URL + "/tracker/other"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/tracker/other: %v %v", resp.StatusCode, err)
	}
}

// The planted .torrent files announce to the demo tracker.
func TestPlantedTorrentAnnouncesToDemoTracker(t *testing.T) {
	srv := startTrackerWorld(t)
	resp, err := http.Get(srv.URL + "/academictorrents/download/" + plantedCASIA + ".torrent")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m, err := torrent.ParseMetainfo(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trackers) != 1 || m.Trackers[0] != srv.URL+demoworld.TrackerAnnouncePath {
		t.Errorf("trackers %v, want the demo tracker", m.Trackers)
	}
	wc := srv.WatchConfig()
	if sc, ok := wc.Sources["swarm"]; !ok || !sc.Enabled || sc.Options["trackers"] != srv.URL+demoworld.TrackerAnnouncePath {
		t.Errorf("demo watch config's swarm source: %+v", sc)
	}
}
