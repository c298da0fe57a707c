package render

import (
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/reports"
)

// A run that asked three trackers is one point of the trend (the highest counts), probes without
// a run stay separate points, and a report of an earlier run never sees later probes.
func TestSwarmSeriesFoldsRunsAndStopsAtTheRun(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ih := "0123456789abcdef0123456789abcdef01234567"
	ps := []reports.SwarmProbe{
		{InfoHash: ih, RunID: "r1", Source: "udp://a/announce", At: t0, Seeders: 3, Leechers: 1, Completed: 9, Peers: -1},
		{InfoHash: ih, RunID: "r1", Source: "http://b/announce", At: t0.Add(time.Second), Seeders: 5, Leechers: 0, Completed: -1, Peers: -1},
		{InfoHash: ih, RunID: "", Source: "trackers", At: t0.Add(time.Hour), Seeders: 1, Leechers: 0, Completed: 9, Peers: 2},
		{InfoHash: ih, RunID: "r2", Source: "udp://a/announce", At: t0.Add(2 * time.Hour), Seeders: 0, Leechers: 0, Completed: 10, Peers: -1},
		{InfoHash: ih, RunID: "r2", Source: "http://b/announce", At: t0.Add(2 * time.Hour), Seeders: 0, Leechers: 0, Completed: -1, Peers: -1},
	}
	got := runSeries(ps)
	if len(got) != 3 {
		t.Fatalf("%d points, want 3: %+v", len(got), got)
	}
	if r1 := got[0]; r1.Seeders != 5 || r1.Leechers != 1 || r1.Completed != 9 || !r1.At.Equal(t0.Add(time.Second)) || r1.Source != "udp://a/announce http://b/announce" {
		t.Errorf("run r1 point %+v", r1)
	}
	if r2 := got[2]; r2.Alive() || r2.Completed != 10 {
		t.Errorf("run r2 point %+v, want dead with 10 completed", r2)
	}
	h := swarmHealth(map[string]string{ih: "at:" + ih}, ps)
	if len(h) != 1 || h[0].Trend != "down" || h[0].Alive || len(h[0].History) != 3 || !h[0].History[0].Alive || len(h[0].History[0].Sources) != 2 {
		t.Errorf("health %+v", h)
	}
	fin := t0.Add(30 * time.Minute)
	if asOf := probesAsOf(ps, RunView{Finished: &fin}); len(asOf) != 2 {
		t.Errorf("%d probes as of r1's end, want 2", len(asOf))
	}
	// Known registry hashes are reported only once probed.
	d := &configs.Dataset{ID: "x", InfoHashes: []string{ih, "ffffffffffffffffffffffffffffffffffffffff"}}
	torrents := map[string]string{}
	addKnownSwarms(torrents, d, ps)
	if len(torrents) != 1 || torrents[ih] != "" {
		t.Errorf("known swarms %v", torrents)
	}
	if swarmState(h[0]) != "dead" || swarmState(SwarmHealth{}) != "unprobed" || swarmState(SwarmHealth{Alive: true}) != "alive" {
		t.Error("swarm states")
	}
}
