package torrent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// floodTorrent bencodes a small single-file .torrent whose announce list names n trackers, one
// per tier, from tracker(i).
func floodTorrent(t testing.TB, n int, tracker func(i int) string) []byte {
	t.Helper()
	info, err := bencode.Marshal(map[string]any{"name": "flood.bin", "length": 1, "piece length": 16384, "pieces": strings.Repeat("x", 20)})
	if err != nil {
		t.Fatal(err)
	}
	tiers := make([][]string, n)
	for i := range tiers {
		tiers[i] = []string{tracker(i)}
	}
	b, err := bencode.Marshal(map[string]any{"announce": tracker(0), "announce-list": tiers, "info": bencode.Bytes(info)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loopbackUDPTracker is a UDP tracker URL on its own loopback host (127.x.y.z: every one is a
// distinct host to the probe, all on lo). Nothing listens there: the tracker never answers.
func loopbackUDPTracker(i int) string {
	return fmt.Sprintf("udp://127.%d.%d.%d:6969/announce", 1+i>>16&0xff, i>>8&0xff, 1+i&0x7f)
}

// A .torrent naming 5,000 trackers on 5,000 hosts (the shape of the 760 KB, 20,000-tracker file
// that took 770 MiB): the parse keeps MaxTrackers of them and says how many it dropped, the probe
// contacts at most MaxTrackers, and its allocations stay bounded (hosts × trackers was 25 MB of
// flags alone for 5,000, 400 MB for 20,000).
func TestProbeTrackerFloodIsCapped(t *testing.T) {
	const n = 5000
	m, err := ParseMetainfo(floodTorrent(t, n, loopbackUDPTracker))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trackers) != MaxTrackers || m.TrackersDropped != n-MaxTrackers {
		t.Errorf("parsed %d trackers, %d dropped; want %d and %d", len(m.Trackers), m.TrackersDropped, MaxTrackers, n-MaxTrackers)
	}
	if got := strings.Count(m.Text(), "tracker: "); got > MaxTrackers {
		t.Errorf("artifact text lists %d trackers", got)
	}
	// Every tracker again through --tracker (the magnet and command-line path): capped too.
	var extra []string
	for i := range n {
		extra = append(extra, loopbackUDPTracker(n+i))
	}
	tg := Target{InfoHash: m.InfoHash, Meta: m, Trackers: append(append([]string{}, m.Trackers...), extra...)}

	tc := &Trackers{RequestTimeout: 300 * time.Millisecond}
	p := &Prober{Trackers: tc, Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // safety net only
	defer cancel()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := p.Probe(ctx, tg)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("probe of %d trackers: %d reports, %d dropped, %d tracker requests, %d KiB allocated",
		len(tg.Trackers), len(res.Trackers), res.TrackersDropped, tc.Requests(), alloc>>10)
	// Dropped: the 4,900 the parse dropped and the 5,000 extra the probe did not take.
	if want := m.TrackersDropped + len(tg.Trackers) - MaxTrackers; len(res.Trackers) != MaxTrackers || res.TrackersDropped != want {
		t.Errorf("%d tracker reports, %d dropped; want %d and %d", len(res.Trackers), res.TrackersDropped, MaxTrackers, want)
	}
	if r := tc.Requests(); r > 2*MaxTrackers {
		t.Errorf("%d tracker requests for a probe capped at %d trackers", r, MaxTrackers)
	}
	if alloc > 16<<20 {
		t.Errorf("the probe allocated %d MiB (bound 16 MiB)", alloc>>20)
	}
	for _, r := range res.Trackers {
		if r.Error == "" {
			t.Errorf("tracker %s that never answers has no error: %+v", r.URL, r)
			break
		}
	}
}

// hangingTracker is an HTTP tracker without scrape (its URLs do not end in /announce) whose
// "started" announces hang until the client gives up; "stopped" ones are answered at once.
type hangingTracker struct {
	started, stopped atomic.Int64
	firstStarted     chan struct{}
	once             atomic.Bool
}

func (h *hangingTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("event") {
	case "started":
		h.started.Add(1)
		if h.once.CompareAndSwap(false, true) {
			close(h.firstStarted)
		}
		<-r.Context().Done()
	case "stopped":
		h.stopped.Add(1)
		w.Write([]byte("d8:completei0e10:incompletei0e8:intervali1800e5:peers0:e"))
	default:
		http.NotFound(w, r)
	}
}

// The probe ends at its deadline (--timeout) and when its context is cancelled (SIGTERM): the
// trackers it had not contacted yet are never contacted, and only announces that went out are
// followed by a "stopped" one. Before, every one of the trackers got a started announce at once
// and a stopped one after the deadline.
func TestProbeTrackerFloodStopsAtDeadlineAndCancel(t *testing.T) {
	for _, mode := range []string{"deadline", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			h := &hangingTracker{firstStarted: make(chan struct{})}
			srv := httptest.NewServer(h)
			defer srv.Close()
			m, err := ParseMetainfo(floodTorrent(t, 3, func(i int) string { return fmt.Sprintf("%s/t/%d", srv.URL, i) }))
			if err != nil {
				t.Fatal(err)
			}
			var trs []string
			for i := range 300 {
				trs = append(trs, fmt.Sprintf("%s/t/%d", srv.URL, i))
			}
			tg := Target{InfoHash: m.InfoHash, Meta: m, Trackers: trs}
			tc := &Trackers{RequestTimeout: time.Minute}
			p := &Prober{Trackers: tc, Timeout: time.Minute}
			safety, stop := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
			defer stop()
			ctx, cancel := context.WithCancel(safety)
			defer cancel()
			if mode == "deadline" {
				p.Timeout = time.Second
			} else {
				go func() {
					select {
					case <-h.firstStarted:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			res, err := p.Probe(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if safety.Err() != nil {
				t.Fatal("the probe returned only at the test's safety deadline")
			}
			st, sp := h.started.Load(), h.stopped.Load()
			t.Logf("%s: %d started announces, %d stopped, %d reports", mode, st, sp, len(res.Trackers))
			if st > MaxTrackerRequests {
				t.Errorf("%d started announces; want at most %d (the concurrency bound)", st, MaxTrackerRequests)
			}
			// A started announce the client gave up on may or may not have reached the tracker
			// (the server counts only those it began to handle): each is unannounced, so stopped
			// ones are bounded by the announces sent, not by those counted here.
			if sp > MaxTrackerRequests {
				t.Errorf("%d stopped announces; want at most %d (one per announce sent)", sp, MaxTrackerRequests)
			}
			for _, r := range res.Trackers {
				if r.Error == "" {
					t.Errorf("tracker %s has no error after the probe was stopped: %+v", r.URL, r)
					break
				}
			}
		})
	}
}
