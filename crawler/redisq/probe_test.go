package redisq

import (
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/redistest"
	"github.com/afterlife-watch/afterlife/reports"
)

// A distributed worker's swarm probes travel the findings stream (once per identical probe) and
// the builder stores them under the run.
func TestSwarmProbesStreamIntoStore(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	cfg := Config{Prefix: freshPrefix(), LeaseTimeout: time.Minute}
	rdb := srv.Client(t)
	const run = "run-probes"
	ih := strings.Repeat("ab", 20)
	pub := NewPublisher(rdb, cfg)
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	p := reports.SwarmProbe{InfoHash: ih, ArtifactID: "at:" + ih, RunID: run, Source: "udp://t.example:1337/announce", At: at,
		Seeders: 5, Leechers: 2, Completed: 40, Peers: -1}
	for i := 0; i < 2; i++ { // a retried job publishes the same probe again
		if err := pub.RecordProbe(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := rdb.XRange(ctx, pub.k.events(run), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d events on the stream, want 1 (identical probes deduplicated)", len(msgs))
	}
	store, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var st BuildStats
	if err := NewBuilder(rdb, cfg).apply(ctx, run, msgs[0], store, &st); err != nil {
		t.Fatal(err)
	}
	got, err := store.Probes(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].RunID != run || got[0].Seeders != 5 || got[0].Completed != 40 || !got[0].At.Equal(at) || got[0].Source != p.Source {
		t.Fatalf("stored probes %+v, want the published one under run %s", got, run)
	}
}
