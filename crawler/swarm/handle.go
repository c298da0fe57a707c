package swarm

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/torrent"
)

// Handle implements crawler.Source: it counts the job's swarms at the job's tracker — one
// batched scrape (HTTP through the run's fetcher, so the outbound guard, the per-host limit and
// the source's request stats apply; UDP through package torrent), or, where the tracker has no
// scrape, one announce (started, then stopped) per info-hash. A tracker that cannot be reached
// fails the job: an error in the source's stats, bounded in time by options.timeout.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if job.Kind != KindScrape {
		return res, &crawler.StatusError{URL: job.URL, Msg: fmt.Sprintf("swarm: unknown job kind %q", job.Kind)}
	}
	tr := job.URL
	if err := checkTracker(tr); err != nil {
		return res, &crawler.StatusError{URL: tr, Msg: "swarm: " + err.Error()}
	}
	hashes := splitList(job.Meta[metaHashes])
	ids := strings.Split(job.Meta[metaIDs], ",")
	for i, h := range hashes {
		ih, err := torrent.ParseInfoHash(h)
		if err != nil {
			return res, &crawler.StatusError{URL: tr, Msg: "swarm: " + err.Error()}
		}
		hashes[i] = ih
	}
	if len(hashes) == 0 {
		return res, nil
	}
	trusted := job.Meta[metaTrusted] == "1"
	tc := s.trusted
	if !trusted {
		tc = s.crawled
	}
	// Everything this job does is bounded: a scrape round per batch, or announce_max announces.
	ctx, cancel := context.WithTimeout(ctx, s.timeout*time.Duration(4+2*s.announceMax))
	defer cancel()
	u, _ := url.Parse(tr)
	offline := crawler.IsOffline(f)
	if offline && strings.HasPrefix(u.Scheme, "udp") {
		// A replay reaches no network: only the fetcher's HTTP exchanges are in the cassettes.
		return res, fmt.Errorf("swarm: UDP tracker %s: %w", tr, crawler.ErrOffline)
	}
	if !trusted && strings.HasPrefix(u.Scheme, "udp") {
		// Crawled torrents name trackers: never let one aim our UDP socket at an internal address.
		if err := checkHost(ctx, s.guard, u.Hostname()); err != nil {
			return res, fmt.Errorf("swarm: tracker %s: %w", tr, err)
		}
	}
	counts, err := s.scrape(ctx, f, tc, tr, hashes)
	method := "scrape"
	if errors.Is(err, torrent.ErrScrapeUnsupported) {
		if !s.announce {
			return res, &crawler.StatusError{URL: tr, Msg: "swarm: tracker has no scrape and options.announce is false"}
		}
		if offline {
			return res, fmt.Errorf("swarm: tracker %s has no scrape; announcing: %w", tr, crawler.ErrOffline)
		}
		method = "announce"
		var note string
		counts, note, err = s.announceEach(ctx, tc, tr, hashes)
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
	}
	if err != nil {
		return res, fmt.Errorf("swarm: tracker %s: %w", tr, err)
	}
	now := time.Now().UTC()
	alive, unknown := 0, 0
	for i, c := range counts {
		id := ""
		if i < len(ids) {
			id = strings.ReplaceAll(ids[i], "%2C", ",")
		}
		p := crawler.SwarmProbe{InfoHash: c.InfoHash, ArtifactID: id, Source: tr, At: now,
			Seeders: c.Seeders, Leechers: c.Leechers, Completed: c.Completed, Peers: -1}
		switch {
		case c.Err != "" && method == "scrape":
			// The tracker answered and has no swarm for it: nobody shares it there.
			p.Seeders, p.Leechers, p.Completed = 0, 0, -1
			unknown++
		case c.Err != "":
			continue // this announce failed: no measurement
		case method == "announce":
			p.Peers = len(c.Peers)
		}
		if p.Seeders > 0 || p.Peers > 0 {
			alive++
		}
		res.Probes = append(res.Probes, p)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("swarm: %s (%s): %d swarms counted, %d alive, %d unknown to the tracker",
		trackerHost(tr), method, len(res.Probes), alive, unknown))
	return res, nil
}

// scrape counts hashes at tr in batches: HTTP through the run's fetcher, UDP through torrent.
func (s *Source) scrape(ctx context.Context, f crawler.Fetcher, tc *torrent.Trackers, tr string, hashes []string) ([]torrent.Counts, error) {
	host := trackerHost(tr)
	if strings.HasPrefix(tr, "udp") {
		var out []torrent.Counts
		for start := 0; start < len(hashes); start += s.udpBatch {
			if err := s.limits.wait(ctx, host); err != nil {
				return out, err
			}
			cs, err := tc.Scrape(ctx, tr, hashes[start:min(start+s.udpBatch, len(hashes))])
			if err != nil {
				return out, err
			}
			out = append(out, cs...)
		}
		return out, nil
	}
	su, err := torrent.ScrapeURL(tr)
	if err != nil {
		return nil, err
	}
	var out []torrent.Counts
	for start := 0; start < len(hashes); start += s.httpBatch {
		if err := s.limits.wait(ctx, host); err != nil {
			return out, err
		}
		cs, err := scrapeHTTP(ctx, f, su, tr, hashes[start:min(start+s.httpBatch, len(hashes))])
		if err != nil {
			return out, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// scrapeHTTP sends one multi-hash scrape (info_hash repeated, BEP 48) through the fetcher.
func scrapeHTTP(ctx context.Context, f crawler.Fetcher, scrapeURL, tr string, hashes []string) ([]torrent.Counts, error) {
	u, err := url.Parse(scrapeURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	keys := make([][20]byte, len(hashes))
	for i, h := range hashes {
		if _, err := hex.Decode(keys[i][:], []byte(h)); err != nil {
			return nil, err
		}
		q.Add("info_hash", string(keys[i][:]))
	}
	u.RawQuery = q.Encode()
	resp, err := f.Fetch(ctx, crawler.Request{Source: Name, URL: u.String(), NoConditional: true, MaxBody: maxTrackerBody,
		Header: http.Header{"Accept": {"text/plain, application/x-bittorrent, */*"}}})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return nil, fmt.Errorf("%s: HTTP 404: %w", scrapeURL, torrent.ErrScrapeUnsupported)
	case resp.Status != http.StatusOK:
		return nil, &crawler.StatusError{URL: scrapeURL, Status: resp.Status}
	}
	got, err := torrent.ParseScrapeResponse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", scrapeURL, err)
	}
	out := make([]torrent.Counts, len(hashes))
	for i, h := range hashes {
		c := torrent.Counts{InfoHash: h, Tracker: tr, Method: "scrape"}
		if r, ok := got[keys[i]]; ok {
			c.Seeders, c.Leechers, c.Completed = int(r.Seeders), int(r.Leechers), int(r.Completed)
		} else {
			c.Err = "not in the scrape response (torrent unknown to the tracker)"
		}
		out[i] = c
	}
	return out, nil
}

// announceEach counts up to announce_max hashes by announcing (started, then stopped: torrent
// never leaves a ghost leecher). The job fails only when no announce got an answer.
func (s *Source) announceEach(ctx context.Context, tc *torrent.Trackers, tr string, hashes []string) ([]torrent.Counts, string, error) {
	note := ""
	if len(hashes) > s.announceMax {
		note = fmt.Sprintf("swarm: %s has no scrape: %d of %d swarms counted by announce (options.announce_max)",
			trackerHost(tr), s.announceMax, len(hashes))
		hashes = hashes[:s.announceMax]
	}
	host := trackerHost(tr)
	out := make([]torrent.Counts, 0, len(hashes))
	var firstErr error
	ok := 0
	for _, ih := range hashes {
		if err := s.limits.wait(ctx, host); err != nil {
			return out, note, err
		}
		c, err := tc.Announce(ctx, tr, ih, 0)
		if err != nil {
			c.Err = err.Error()
			if firstErr == nil {
				firstErr = err
			}
		} else {
			ok++
		}
		out = append(out, c)
	}
	if ok == 0 && firstErr != nil {
		return nil, note, firstErr
	}
	return out, note, nil
}
