package render

import (
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/reports"
)

// SwarmPoint is a swarm's health at one run: the highest counts any tracker gave in that run
// (trackers share peers, so counts are never summed).
type SwarmPoint struct {
	RunID     string    `json:"run_id,omitempty"`
	At        time.Time `json:"at"`
	Seeders   int       `json:"seeders"`
	Leechers  int       `json:"leechers"`
	Completed int       `json:"completed"`
	Peers     int       `json:"peers"`
	Alive     bool      `json:"alive"`
	// Sources lists what answered in the run (tracker URLs, "dht", "trackers").
	Sources []string `json:"sources"`
}

// runSeries folds a swarm's probes (oldest first) into one probe per run, so a run that asked
// three trackers is one point of the trend, not three. Probes without a run (`afterlife torrent
// probe --record`) stay one point each.
func runSeries(ps []reports.SwarmProbe) []reports.SwarmProbe {
	if len(ps) < 2 {
		return ps
	}
	idx := map[string]int{}
	var out []reports.SwarmProbe
	for _, p := range ps {
		key := "run:" + p.RunID
		if p.RunID == "" {
			key = "at:" + p.At.UTC().Format(time.RFC3339Nano) + "|" + p.Source
		}
		i, ok := idx[key]
		if !ok {
			idx[key] = len(out)
			out = append(out, p)
			continue
		}
		q := &out[i]
		q.Seeders, q.Leechers = max(q.Seeders, p.Seeders), max(q.Leechers, p.Leechers)
		q.Completed, q.Peers = max(q.Completed, p.Completed), max(q.Peers, p.Peers)
		if p.At.After(q.At) {
			q.At = p.At
		}
		if q.ArtifactID == "" {
			q.ArtifactID = p.ArtifactID
		}
		if !containsSource(q.Source, p.Source) {
			q.Source += " " + p.Source
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func containsSource(list, s string) bool {
	for _, x := range strings.Fields(list) {
		if x == s {
			return true
		}
	}
	return false
}

// swarmPoints is the per-run history of a swarm, for report.json.
func swarmPoints(ps []reports.SwarmProbe) []SwarmPoint {
	out := make([]SwarmPoint, 0, len(ps))
	for _, p := range ps {
		out = append(out, SwarmPoint{RunID: p.RunID, At: p.At.UTC(), Seeders: p.Seeders, Leechers: p.Leechers, Completed: p.Completed,
			Peers: p.Peers, Alive: p.Alive(), Sources: strings.Fields(p.Source)})
	}
	return out
}

// addKnownSwarms adds the registry's known info-hashes of d that have been probed to torrents
// (infohash -> artifact id; "" for a registry hash with no sighting), so their swarm health is
// reported even when no source found the torrent.
func addKnownSwarms(torrents map[string]string, d *configs.Dataset, probes []reports.SwarmProbe) {
	if len(d.InfoHashes) == 0 {
		return
	}
	probed := map[string]bool{}
	for _, p := range probes {
		probed[p.InfoHash] = true
	}
	for _, h := range d.InfoHashes {
		ih := strings.ToLower(strings.TrimSpace(h))
		if _, ok := torrents[ih]; !ok && probed[ih] {
			torrents[ih] = ""
		}
	}
}

// swarmState is alive, dead or unprobed, as the Markdown and HTML pages say it.
func swarmState(sw SwarmHealth) string {
	switch {
	case sw.Alive:
		return "alive"
	case sw.At.IsZero():
		return "unprobed"
	}
	return "dead"
}

// probedKnown says whether a registry dataset has a known info-hash that has been probed: its
// swarm health is reported even when no source found anything of it.
func probedKnown(reg *configs.Registry, id string, probes []reports.SwarmProbe) bool {
	d, ok := reg.Get(id)
	if !ok || len(d.InfoHashes) == 0 || len(probes) == 0 {
		return false
	}
	torrents := map[string]string{}
	addKnownSwarms(torrents, d, probes)
	return len(torrents) > 0
}

// probesAsOf keeps the probes a finished run's report can know: none made after the run ended
// (a report of an earlier run must not show later swarm counts).
func probesAsOf(ps []reports.SwarmProbe, run RunView) []reports.SwarmProbe {
	if run.Finished == nil {
		return ps
	}
	at := *run.Finished
	out := ps[:0:0]
	for _, p := range ps {
		if !p.At.After(at) {
			out = append(out, p)
		}
	}
	return out
}
