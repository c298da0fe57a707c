package swarm

import (
	"bufio"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/torrent"
)

// Follow implements crawler.Follower: the torrents among found (artifacts with a valid info-hash)
// are probed at every configured tracker and at up to max_trackers of the trackers the torrent
// names itself ("tracker: URL" lines of the torrent's text, as torrent.Meta.Text writes them).
// Trackers named by crawled data are untrusted: their jobs dial through the outbound guard.
func (s *Source) Follow(parent crawler.Job, found []artifact.Artifact) []crawler.Job {
	if !s.found {
		return nil
	}
	type group struct {
		trusted     bool
		hashes, ids []string
	}
	groups := map[string]*group{}
	var order []string
	add := func(tr string, trusted bool, ih, id string) {
		g, ok := groups[tr]
		if !ok {
			g = &group{trusted: trusted}
			groups[tr] = g
			order = append(order, tr)
		}
		if !contains(g.hashes, ih) {
			g.hashes, g.ids = append(g.hashes, ih), append(g.ids, id)
		}
	}
	for i := range found {
		a := &found[i]
		if a.InfoHash == "" {
			continue
		}
		ih, err := torrent.ParseInfoHash(a.InfoHash)
		if err != nil {
			continue
		}
		id := strings.ReplaceAll(a.ID, ",", "%2C")
		for _, tr := range s.trackers {
			add(tr, true, ih, id)
		}
		n := 0
		for _, tr := range TrackersInText(a.Text) {
			if n >= s.maxTrackers {
				break
			}
			if contains(s.trackers, tr) {
				continue
			}
			n++
			add(tr, false, ih, id)
		}
	}
	var jobs []crawler.Job
	for _, tr := range order {
		g := groups[tr]
		jobs = append(jobs, s.jobs(parent, tr, g.trusted, "found", g.hashes, g.ids)...)
	}
	return jobs
}

// TrackersInText returns the usable tracker URLs of a torrent artifact's text: the lines
// "tracker: URL" that torrent.Meta.Text writes, each once, http(s) and udp only.
func TrackersInText(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "tracker: ")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if checkTracker(v) == nil && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

var _ crawler.Follower = (*Source)(nil)
