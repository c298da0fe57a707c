package swarm_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/swarm"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

func newSource(t *testing.T, opts map[string]string) *swarm.Source {
	t.Helper()
	s, err := swarm.New(configs.SourceConfig{Enabled: true, Options: opts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*swarm.Source)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for opts, want := range map[string]map[string]string{
		"scheme must be http":  {"trackers": "ftp://t.example/announce"},
		"no host":              {"trackers": "udp:///announce"},
		"options.timeout":      {"timeout": "soon"},
		"options.tracker_rate": {"tracker_rate": "-1"},
		"unknown option":       {"tracker": "udp://t.example:1337/announce"},
		"options.found":        {"found": "maybe"},
	} {
		_, err := swarm.New(configs.SourceConfig{Options: want}, nil)
		if err == nil || !strings.Contains(err.Error(), opts) {
			t.Errorf("options %v: err = %v, want one saying %q", want, err, opts)
		}
	}
}

// Plan makes one job per configured tracker and batch of the watched datasets' known hashes.
func TestPlanBatchesKnownHashesPerTracker(t *testing.T) {
	s := newSource(t, map[string]string{"trackers": "http://t.example/announce, udp://u.example:1337/announce", "http_batch": "2", "udp_batch": "3"})
	ds := []*configs.Dataset{
		{ID: "a", InfoHashes: []string{strings.Repeat("a", 40), strings.Repeat("B", 40), strings.Repeat("c", 40)}},
		{ID: "b", InfoHashes: []string{strings.Repeat("d", 40), strings.Repeat("e", 40), strings.Repeat("a", 40)}}, // a again
	}
	jobs, err := s.Plan(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string][]string{}
	ids := map[string]bool{}
	for _, j := range jobs {
		per[j.URL] = append(per[j.URL], j.Meta["infohashes"])
		if ids[j.ID] || j.Source != swarm.Name || j.Kind != swarm.KindScrape {
			t.Errorf("job %+v: duplicate id or wrong source/kind", j)
		}
		ids[j.ID] = true
	}
	if h := per["http://t.example/announce"]; len(h) != 3 || strings.Count(strings.Join(h, ","), ",") != 4 {
		t.Errorf("HTTP tracker jobs %v, want 5 distinct hashes in batches of 2", h)
	}
	if u := per["udp://u.example:1337/announce"]; len(u) != 2 {
		t.Errorf("UDP tracker jobs %v, want 5 hashes in batches of 3", u)
	}
	if strings.Contains(strings.Join(per["http://t.example/announce"], ","), "B") {
		t.Error("hashes are not normalised to lower case")
	}
	if _, err := s.Plan(context.Background(), []*configs.Dataset{{ID: "x", InfoHashes: []string{"nothex"}}}); err == nil {
		t.Error("a bad registry info-hash planned without error")
	}
}

// Follow probes each found torrent at the configured trackers and at the trackers its own text
// names (untrusted), up to max_trackers; artifacts without an info-hash are ignored.
func TestFollowProbesFoundTorrents(t *testing.T) {
	s := newSource(t, map[string]string{"trackers": "http://t.example/announce", "max_trackers": "1"})
	ih := strings.Repeat("1", 40)
	found := []artifact.Artifact{
		{ID: "at:" + ih, Kind: artifact.KindTorrent, InfoHash: ih,
			Text: "tracker: http://t.example/announce\ntracker: udp://crawled.example:6969/announce\ntracker: udp://second.example:1/announce\ntracker: javascript:alert(1)\n"},
		{ID: "hf:model:x/y", Kind: artifact.KindModel, Text: "tracker: udp://model.example:1/announce"},
	}
	jobs := s.Follow(crawler.Job{RunID: "r"}, found)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs: %+v, want the configured tracker and one crawled one", len(jobs), jobs)
	}
	if jobs[0].URL != "http://t.example/announce" || jobs[0].Meta["trusted"] != "1" || jobs[0].Meta["artifact_ids"] != "at:"+ih {
		t.Errorf("configured tracker job %+v", jobs[0])
	}
	if jobs[1].URL != "udp://crawled.example:6969/announce" || jobs[1].Meta["trusted"] != "" {
		t.Errorf("crawled tracker job %+v, want untrusted", jobs[1])
	}
	if off := newSource(t, map[string]string{"trackers": "http://t.example/announce", "found": "false"}); len(off.Follow(crawler.Job{}, found)) != 0 {
		t.Error("found=false still follows")
	}
}

// A tracker named by a crawled torrent never aims our UDP socket at an internal address.
func TestCrawledTrackerOnLoopbackIsRefused(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSource(t, map[string]string{"timeout": "1s"})
	ih := strings.Repeat("2", 40)
	jobs := s.Follow(crawler.Job{}, []artifact.Artifact{{ID: "at:" + ih, InfoHash: ih, Text: "tracker: udp://" + pc.LocalAddr().String() + "/announce\n"}})
	if len(jobs) != 1 {
		t.Fatalf("jobs %+v", jobs)
	}
	_, err = s.Handle(context.Background(), jobs[0], nil)
	if !errors.Is(err, crawler.ErrBlockedAddress) || !crawler.Permanent(err) {
		t.Errorf("err = %v, want a permanent ErrBlockedAddress", err)
	}
	pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := pc.ReadFrom(make([]byte, 64)); err == nil {
		t.Errorf("the refused tracker received %d bytes", n)
	}
}

// A tracker without scrape (its /scrape is 404) is counted by announce, through the real fetcher,
// against the demo tracker behind a front that hides its scrape.
func TestAnnounceFallbackWhenScrapeIsMissing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	announces := 0
	front := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/announce" {
			http.NotFound(rw, r)
			return
		}
		announces++
		r.URL.Path = demoworld.TrackerAnnouncePath
		w.ServeHTTP(rw, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: front}
	go hs.Serve(ln)
	defer hs.Close()
	tr := "http://" + ln.Addr().String() + "/announce"
	s := newSource(t, map[string]string{"trackers": tr, "tracker_rate": "100"})
	casia := "63ef079ab84e5bcaf48ceb0b2d60a9763679fba7"
	jobs, err := s.Plan(ctx, []*configs.Dataset{{ID: "casia", InfoHashes: []string{casia, strings.Repeat("3", 40)}}})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("plan: %v %+v", err, jobs)
	}
	f, err := crawler.NewFetcher(&configs.Watch{Contact: "test", AllowLoopback: true}, crawler.FetcherOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Handle(ctx, jobs[0], f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Probes) != 1 {
		t.Fatalf("probes %+v, want the tracked torrent only (the other announce failed)", res.Probes)
	}
	p := res.Probes[0]
	if p.InfoHash != casia || p.Seeders != 15 || p.Leechers != 1 || p.Peers != 0 || p.Source != tr {
		t.Errorf("probe %+v, want 15 seeders, 1 leecher by announce", p)
	}
	if announces != 4 { // started + stopped for each of the two hashes
		t.Errorf("%d announces, want 4 (started and stopped per hash)", announces)
	}
	if !strings.Contains(strings.Join(res.Notes, " "), "(announce)") {
		t.Errorf("notes %v do not say the counts came by announce", res.Notes)
	}
}

// The embedded default watch plan enables the swarm source with public trackers it accepts.
func TestDefaultWatchPlanHasSwarmSource(t *testing.T) {
	w, err := configs.LoadWatch("")
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := w.Sources[swarm.Name]
	if !ok || !sc.Enabled {
		t.Fatalf("default watch plan: swarm source %+v", sc)
	}
	src, err := swarm.New(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if trs := src.(*swarm.Source).Trackers(); len(trs) < 2 {
		t.Errorf("default trackers %v", trs)
	}
}
