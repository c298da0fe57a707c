package hostile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/torrent"
)

// A tracker that answers garbage (bencode nested a million deep, absurd integers, HTML with NUL
// bytes, truncated dictionaries; over UDP, noise and wrong transaction ids): torrent's scrape and
// announce return errors or unknown counts in bounded time, never a panic or a bogus count.
func TestTrackerGarbage(t *testing.T) {
	world := startWorld(t)
	tc := &torrent.Trackers{RequestTimeout: 3 * time.Second}
	hashes := []string{"55a8925a8d546b9ca47d309ab438b91f7959e77f", "0123456789abcdef0123456789abcdef01234567"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	httpTracker := world.URL + "/" + "tracker" + "/announce"
	for i := 0; i < 4; i++ { // the world cycles through four kinds of garbage
		start := time.Now()
		counts, err := tc.Scrape(ctx, httpTracker, hashes)
		took := time.Since(start)
		t.Logf("http scrape %d: %d counts, err=%v (%s)", i, len(counts), err, took.Round(time.Millisecond))
		if took > 30*time.Second {
			t.Errorf("scrape took %s", took)
		}
		for _, c := range counts {
			if c.Err == "" && (c.Seeders > 1<<40 || c.Seeders < -1 || c.Leechers < -1) {
				t.Errorf("garbage accepted as counts: %+v", c)
			}
		}
	}
	for i := 0; i < 4; i++ {
		c, err := tc.Announce(ctx, httpTracker, hashes[0], 6881)
		t.Logf("http announce %d: %+v err=%v", i, c, err)
		if err == nil && (c.Seeders < -1 || c.Leechers < -1) {
			t.Errorf("garbage accepted: %+v", c)
		}
	}
	start := time.Now()
	counts, err := tc.Scrape(ctx, world.UDPTracker, hashes)
	t.Logf("udp scrape: %d counts, err=%v (%s)", len(counts), err, time.Since(start).Round(time.Millisecond))
	if err == nil {
		for _, c := range counts {
			if c.Err == "" {
				t.Errorf("a UDP tracker answering noise produced counts: %+v", c)
			}
		}
	}
	if time.Since(start) > time.Minute {
		t.Errorf("UDP scrape took %s", time.Since(start))
	}
	if !strings.HasPrefix(world.UDPTracker, "udp://127.0.0.1:") {
		t.Fatalf("UDP tracker on %s", world.UDPTracker)
	}
}
