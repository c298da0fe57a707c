package torrent

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/torrent/swarmtest"
)

// A private DHT on loopback: our own router node (with a peer store), an aria2 seeder whose only
// DHT entry point is that router, and a probe that knows only the info-hash and the router (no
// tracker, no peer). The probe must find aria2 by get_peers and fetch the
// metadata from it.
func TestPrivateDHTFindsSeederAndMetadata(t *testing.T) {
	if m := swarmtest.Missing([]string{swarmtest.Aria2}); m != "" {
		t.Skipf("%s is not installed (CI installs opentracker, mktorrent, aria2)", m)
	}
	router, err := NewDHTNode("127.0.0.1:0", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "afterlife-dht-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sw, err := swarmtest.Start(ctx, swarmtest.Options{
		Dir: dir, Name: "dht-only-sample", Files: swarmFiles, Seeders: []string{swarmtest.Aria2},
		DHTEntry: router.Addr(), Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Stop()
	aria := sw.Peers[swarmtest.Aria2]

	// aria2 announces to the DHT on its own schedule: poll with a querier until it is there.
	q, err := NewDHTNode("127.0.0.1:0", []string{router.Addr()}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var res DHTResult
	for ctx.Err() == nil {
		lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
		res, err = q.GetPeers(lctx, sw.InfoHash)
		lcancel()
		if err == nil && slices.Contains(res.Peers, aria) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	if !slices.Contains(res.Peers, aria) {
		t.Fatalf("aria2 %s never found in the DHT: %+v %v", aria, res, err)
	}
	t.Logf("get_peers: %+v", res)

	p := &Prober{Timeout: 60 * time.Second}
	pr, err := p.Probe(ctx, Target{InfoHash: sw.InfoHash, DHTNodes: []string{router.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if pr.DHTPeers < 1 || pr.DHTError != "" {
		t.Errorf("dht peers %d, error %q", pr.DHTPeers, pr.DHTError)
	}
	if pr.MetadataSource != "peers" || pr.Name != "dht-only-sample" || pr.Fetch == nil || pr.Fetch.ContentBytesRead != 0 {
		t.Errorf("probe %+v (metadata error %q)", pr, pr.MetadataError)
	}
	rec := pr.Record("dht:" + pr.InfoHash)
	if rec.Source != "dht" || rec.Peers < 1 || rec.Seeders != -1 {
		t.Errorf("record %+v", rec)
	}
}

// A DHT bootstrap node that never answers is an error within the deadline, not a hang.
func TestDHTSilentBootstrapIsAnError(t *testing.T) {
	silent := listenUDP(t)
	n, err := NewDHTNode("127.0.0.1:0", []string{silent}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := n.GetPeers(ctx, strings.Repeat("ab", 20))
	if err == nil || !strings.Contains(err.Error(), "answered") || len(res.Peers) != 0 {
		t.Errorf("silent DHT: %+v %v", res, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}
