package torrent

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/torrent/swarmtest"
)

// The shared loopback swarm: opentracker + aria2 + qBittorrent seeding a torrent whose payload
// has a file named like a retracted dataset's known file. Started by the first test that needs
// it, stopped by TestMain.
var (
	swarmOnce sync.Once
	swarm     *swarmtest.Swarm
	swarmErr  error
	swarmDir  string
)

// The planted payload: tiny_images.bin is a known file name of 80 Million Tiny Images (its
// size does not match the real one; the name does).
var swarmFiles = map[string][]byte{
	"README.txt":           []byte("Synthetic test payload for Afterlife's torrent tests.\n"),
	"data/tiny_images.bin": bytes.Repeat([]byte("synthetic row of a retracted dataset\n"), 30000),
}

const swarmName = "afterlife-swarm-sample"

func TestMain(m *testing.M) {
	code := m.Run()
	if swarm != nil {
		swarm.Stop()
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
		swarmDir, swarmErr = os.MkdirTemp("", "afterlife-swarm-")
		if swarmErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		swarm, swarmErr = swarmtest.Start(ctx, swarmtest.Options{
			Dir: swarmDir, Name: swarmName, Files: swarmFiles, Comment: "afterlife test swarm",
			Seeders: seeders, TTL: 10 * time.Minute, Logf: t.Logf,
		})
		t.Logf("swarm ready in %v", time.Since(start).Round(time.Millisecond))
	})
	if swarmErr != nil {
		t.Fatalf("start swarm: %v", swarmErr)
	}
	return swarm
}

func TestSwarmScrapeCountsSeeders(t *testing.T) {
	s := needSwarm(t)
	tc := &Trackers{BindHost: "127.0.0.1"}
	unknown := strings.Repeat("ab", 20)
	for _, tr := range []string{s.HTTPTracker, s.UDPTracker} {
		t.Run(tr[:4], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cs, err := tc.Scrape(ctx, tr, []string{s.InfoHash, unknown})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 2 || cs[0].Seeders != 2 || cs[0].Leechers != 0 || cs[0].Err != "" {
				t.Fatalf("counts %+v", cs)
			}
			// HTTP: opentracker leaves the non-whitelisted hash out; UDP answers zeros.
			if cs[1].Seeders != 0 || (strings.HasPrefix(tr, "http") && cs[1].Err == "") {
				t.Errorf("unknown hash: %+v", cs[1])
			}
		})
	}
}

func TestSwarmAnnounceLeavesNoGhost(t *testing.T) {
	s := needSwarm(t)
	tc := &Trackers{BindHost: "127.0.0.1"}
	for _, tr := range []string{s.HTTPTracker, s.UDPTracker} {
		t.Run(tr[:4], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := tc.Announce(ctx, tr, s.InfoHash, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.Seeders != 2 || c.Leechers != 0 {
				t.Errorf("announce counts %+v", c)
			}
			want := map[string]bool{s.Peers[swarmtest.Aria2]: true, s.Peers[swarmtest.QBittorrent]: true}
			for _, p := range c.Peers {
				delete(want, p)
			}
			if len(want) != 0 {
				t.Errorf("announce peers %v lack %v", c.Peers, want)
			}
			// We said "stopped": the tracker must not count us as a leecher any more.
			cs, err := tc.Scrape(ctx, s.HTTPTracker, []string{s.InfoHash})
			if err != nil || cs[0].Leechers != 0 {
				t.Errorf("after announce: %+v %v (ghost leecher?)", cs, err)
			}
		})
	}
}

func TestSwarmMetadataByInfoHashAlone(t *testing.T) {
	s := needSwarm(t)
	mc, err := NewMetadataClient(MetadataClientConfig{BindHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	for _, seeder := range []string{swarmtest.QBittorrent, swarmtest.Aria2} {
		t.Run(seeder, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			m, st, err := mc.Fetch(ctx, s.InfoHash, []string{s.Peers[seeder]}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.InfoHash != s.InfoHash || m.Name != swarmName {
				t.Errorf("meta %s %q", m.InfoHash, m.Name)
			}
			got := map[string]int64{}
			for _, f := range m.Files {
				got[f.Path] = f.Size
			}
			for p, b := range swarmFiles {
				if got[p] != int64(len(b)) {
					t.Errorf("file %s: size %d, want %d (files %+v)", p, got[p], len(b), m.Files)
				}
			}
			if st.MetadataChunks < 1 || st.InfoBytes != len(m.InfoBytes) {
				t.Errorf("stats %+v", st)
			}
			if st.ContentBytesRead != 0 || st.ChunksRead != 0 || st.ContentBytesWritten != 0 {
				t.Errorf("content moved: %+v", st)
			}
		})
	}
	// The torrents were dropped: the client holds none.
	if n := len(mc.cl.Torrents()); n != 0 {
		t.Errorf("%d torrents left in the client", n)
	}
	cs := mc.cl.ConnStats()
	if cs.BytesReadData.Int64() != 0 || cs.ChunksRead.Int64() != 0 {
		t.Errorf("client read content: %d bytes, %d chunks", cs.BytesReadData.Int64(), cs.ChunksRead.Int64())
	}
}

func TestSwarmProbeByInfoHashViaTracker(t *testing.T) {
	s := needSwarm(t)
	var recs []ProbeRecord
	p := &Prober{Timeout: 60 * time.Second, Sink: ProbeSinkFunc(func(_ context.Context, r ProbeRecord) error {
		recs = append(recs, r)
		return nil
	})}
	// Only the info-hash and the trackers: peers come from our own announces.
	res, err := p.Probe(context.Background(), Target{InfoHash: s.InfoHash, Trackers: []string{s.HTTPTracker, s.UDPTracker}})
	if err != nil {
		t.Fatal(err)
	}
	if res.MetadataSource != "peers" || res.Name != swarmName || len(res.Files) != 2 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Trackers) != 2 {
		t.Fatalf("trackers %+v", res.Trackers)
	}
	for _, tr := range res.Trackers {
		if tr.Seeders != 2 || tr.Leechers != 0 || tr.Error != "" || tr.Method != "scrape" {
			t.Errorf("tracker %+v", tr)
		}
	}
	if res.DistinctPeers != 2 {
		t.Errorf("distinct peers %d", res.DistinctPeers)
	}
	if res.Fetch == nil || res.Fetch.ContentBytesRead != 0 {
		t.Errorf("fetch %+v", res.Fetch)
	}
	if len(recs) != 1 || recs[0].Seeders != 2 || recs[0].Peers != 2 || recs[0].InfoHash != s.InfoHash || recs[0].ArtifactID != "dht:"+s.InfoHash {
		t.Errorf("records %+v", recs)
	}
	// Our announces were followed by "stopped": no leecher left behind.
	cs, err := (&Trackers{BindHost: "127.0.0.1"}).Scrape(context.Background(), s.UDPTracker, []string{s.InfoHash})
	if err != nil || cs[0].Leechers != 0 {
		t.Errorf("after probe: %+v %v", cs, err)
	}
}

func TestSwarmProbeTorrentFileNeedsNoPeers(t *testing.T) {
	s := needSwarm(t)
	tg, err := TargetFromArg(s.Torrent, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Prober{Timeout: 30 * time.Second}).Probe(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if res.MetadataSource != "torrent-file" || res.Fetch != nil || res.Name != swarmName {
		t.Errorf("%+v", res)
	}
	if len(res.Trackers) != 2 || res.Trackers[0].Seeders != 2 || res.Trackers[1].Seeders != 2 {
		t.Errorf("trackers %+v", res.Trackers)
	}
	a := res.Artifact("dht", "")
	if a == nil || a.Validate() != nil || !strings.Contains(a.Text, "comment: afterlife test swarm") {
		t.Errorf("artifact %+v", a)
	}
}

func TestSwarmDeadTrackersCostBoundedTime(t *testing.T) {
	s := needSwarm(t)
	dead := deadTrackers(t)
	tc := &Trackers{BindHost: "127.0.0.1", RequestTimeout: 2 * time.Second}
	p := &Prober{Trackers: tc, Timeout: 20 * time.Second}
	start := time.Now()
	res, err := p.Probe(context.Background(), Target{InfoHash: s.InfoHash, Trackers: append(dead, s.UDPTracker),
		Peers: []string{s.Peers[swarmtest.QBittorrent]}})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > 15*time.Second {
		t.Errorf("probe with dead trackers took %v", took)
	}
	for i, tr := range res.Trackers {
		if i < len(dead) {
			if tr.Error == "" || tr.Seeders != -1 {
				t.Errorf("dead tracker %s reported %+v", tr.URL, tr)
			}
		} else if tr.Error != "" || tr.Seeders != 2 {
			t.Errorf("live tracker %+v", tr)
		}
	}
	if res.MetadataSource != "peers" || res.Name != swarmName {
		t.Errorf("metadata: %s %q %s", res.MetadataSource, res.Name, res.MetadataError)
	}
	t.Logf("took %v: %+v", took, res.Trackers)
}

// deadTrackers are a UDP socket that never answers, an HTTP server that accepts and never
// answers, and a closed TCP port.
func deadTrackers(t *testing.T) []string {
	t.Helper()
	silentUDP := listenUDP(t)
	silentTCP := listenTCP(t)
	closed, err := swarmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"udp://" + silentUDP + "/announce",
		"http://" + silentTCP + "/announce",
		fmt.Sprintf("http://127.0.0.1:%d/announce", closed),
	}
}

// opentracker answers at most 64 hashes per HTTP scrape (65 get an empty answer, 200 a 500), and
// a UDP scrape holds 74: 150 hashes must go in 3 requests each way and still find the live one.
func TestSwarmScrapeBatchesManyHashes(t *testing.T) {
	s := needSwarm(t)
	ihs := make([]string, 150)
	for i := range ihs {
		ihs[i] = fmt.Sprintf("%040x", i+1)
	}
	ihs[149] = s.InfoHash
	for _, c := range []struct {
		tracker  string
		requests int64 // HTTP requests, or UDP datagrams (1 connect + scrapes)
	}{{s.HTTPTracker, 3}, {s.UDPTracker, 4}} {
		tc := &Trackers{BindHost: "127.0.0.1"}
		cs, err := tc.Scrape(context.Background(), c.tracker, ihs)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 150 || cs[149].InfoHash != s.InfoHash || cs[149].Seeders != 2 || cs[0].Seeders != 0 {
			t.Errorf("%s: %d results, last %+v", c.tracker, len(cs), cs[len(cs)-1])
		}
		if tc.Requests() != c.requests {
			t.Errorf("%s: %d requests, want %d", c.tracker, tc.Requests(), c.requests)
		}
	}
}

// Every socket of the swarm daemons and of this test process (metadata client, DHT node, tracker
// clients, all open at once) is on loopback.
func TestSwarmEverythingListensOnLoopback(t *testing.T) {
	s := needSwarm(t)
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is not installed")
	}
	mc, err := NewMetadataClient(MetadataClientConfig{BindHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	n, err := NewDHTNode("127.0.0.1:0", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	u, _ := url.Parse(s.UDPTracker)
	ut, err := (&Trackers{}).dialUDP(context.Background(), u) // BindHost "" picks 127.0.0.1 for a loopback tracker
	if err != nil {
		t.Fatal(err)
	}
	defer ut.Close()
	pids := append(s.PIDs(), os.Getpid())
	socks, err := swarmtest.Sockets(context.Background(), pids)
	if err != nil {
		t.Fatal(err)
	}
	// opentracker tcp+udp, aria2, qBittorrent peer + web UI, our client, DHT node, UDP tracker socket.
	if len(socks) < 7 {
		t.Fatalf("only %d sockets found for pids %v: %v", len(socks), pids, socks)
	}
	for _, sk := range socks {
		if !swarmtest.IsLoopback(strings.Fields(sk)[1]) {
			t.Errorf("socket not on loopback: %s", sk)
		}
	}
	t.Logf("%d sockets, all on loopback", len(socks))
}
