// Package swarm is the swarm-health stage of a monitoring run: a crawler source named "swarm"
// that counts the seeders, leechers and completed downloads of BitTorrent swarms by tracker
// scrape — many info-hashes per request (package torrent batches them), announce (started, then
// stopped) where a tracker has no scrape — and hands the counts to the run as probes
// (crawler.Result.Probes), which the run stores in its swarm probe table.
//
// It probes two sets of swarms: the registry's known info-hashes of the watched datasets (planned
// at the start of the run, against the trackers of options.trackers), and every torrent another
// source finds in the run (crawler.Follower: against the configured trackers plus the trackers
// the torrent itself names). One job is one tracker and one batch of info-hashes, so a dead
// tracker fails its own jobs (an error in the source's stats) and no other.
//
// Only counts are ever asked for: never metadata or content.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/torrent"
)

// Name is the source's name in watch configs and run stats.
const Name = "swarm"

// KindScrape is the one job kind: count the swarms of Meta[infohashes] at the tracker Job.URL.
const KindScrape = "scrape"

// Job meta keys.
const (
	metaHashes  = "infohashes"   // comma-separated 40-hex info-hashes
	metaIDs     = "artifact_ids" // comma-separated artifact ids, parallel to infohashes ("" for registry hashes)
	metaOrigin  = "origin"       // registry | found
	metaTrusted = "trusted"      // "1": the tracker comes from the watch config, not from crawled data
)

// Defaults when the watch config leaves them out.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultTrackerRate  = 1.0 // requests per second per tracker host
	DefaultTrackerBurst = 2
	DefaultAnnounceMax  = 16 // hashes announced per job when a tracker has no scrape
	DefaultMaxTrackers  = 4  // trackers taken from one found torrent
	// maxTrackerBody bounds a tracker's HTTP answer (as package torrent does).
	maxTrackerBody = 2 << 20
)

func init() { crawler.Register(Name, New) }

// Source is the swarm-health source.
type Source struct {
	trackers    []string // configured, trusted
	timeout     time.Duration
	announce    bool
	announceMax int
	found       bool
	maxTrackers int
	httpBatch   int
	udpBatch    int
	limits      *hostLimits
	// trusted talks to configured trackers; crawled talks to trackers named by crawled torrents,
	// through a dial guard that refuses loopback, private and metadata addresses.
	trusted, crawled *torrent.Trackers
	guard            crawler.Guard
}

// New builds the source. Options (all strings, as in the watch config):
//
//	trackers       comma-separated announce URLs (http, https, udp) to ask about every swarm
//	timeout        bound on one tracker round trip (Go duration, default 10s)
//	tracker_rate   requests per second per tracker host (default 1), tracker_burst (default 2)
//	announce       "false" turns off the announce fallback for trackers without scrape
//	announce_max   info-hashes announced per job without scrape (default 16; the rest are noted)
//	found          "false" stops probing torrents found by other sources in the run
//	max_trackers   trackers taken from one found torrent's announce list (default 4)
//	http_batch, udp_batch  info-hashes per scrape request (defaults: torrent's 64 and 74)
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	o := cfg.Options
	s := &Source{timeout: DefaultTimeout, announce: true, announceMax: DefaultAnnounceMax, found: true,
		maxTrackers: DefaultMaxTrackers, httpBatch: torrent.DefaultHTTPScrapeBatch, udpBatch: torrent.DefaultUDPScrapeBatch}
	var errs []error
	bad := func(key, v, want string) {
		errs = append(errs, fmt.Errorf("swarm: options.%s: %q is not %s", key, v, want))
	}
	for _, tr := range splitList(o["trackers"]) {
		if err := checkTracker(tr); err != nil {
			errs = append(errs, fmt.Errorf("swarm: options.trackers: %w", err))
			continue
		}
		if !contains(s.trackers, tr) {
			s.trackers = append(s.trackers, tr)
		}
	}
	if v, ok := o["timeout"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("timeout", v, "a positive duration")
		}
		s.timeout = d
	}
	rate, burst := DefaultTrackerRate, DefaultTrackerBurst
	if v, ok := o["tracker_rate"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			bad("tracker_rate", v, "a positive number")
		}
		rate = f
	}
	intOpt := func(key string, dst *int) {
		if v, ok := o[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				bad(key, v, "a positive integer")
				return
			}
			*dst = n
		}
	}
	boolOpt := func(key string, dst *bool) {
		if v, ok := o[key]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(key, v, "true or false")
				return
			}
			*dst = b
		}
	}
	intOpt("tracker_burst", &burst)
	intOpt("announce_max", &s.announceMax)
	intOpt("max_trackers", &s.maxTrackers)
	intOpt("http_batch", &s.httpBatch)
	intOpt("udp_batch", &s.udpBatch)
	boolOpt("announce", &s.announce)
	boolOpt("found", &s.found)
	for k := range o {
		switch k {
		case "trackers", "timeout", "tracker_rate", "tracker_burst", "announce", "announce_max", "found", "max_trackers", "http_batch", "udp_batch":
		default:
			errs = append(errs, fmt.Errorf("swarm: options.%s: unknown option", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.limits = newHostLimits(rate, burst)
	ua := "Afterlife swarm health (+https://github.com/afterlife-watch/afterlife)"
	s.trusted = &torrent.Trackers{RequestTimeout: s.timeout, UserAgent: ua, HTTPBatch: s.httpBatch, UDPBatch: s.udpBatch}
	s.crawled = &torrent.Trackers{RequestTimeout: s.timeout, UserAgent: ua, HTTPBatch: s.httpBatch, UDPBatch: s.udpBatch,
		HTTP: guardedClient(s.guard, s.timeout)}
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// Trackers returns the configured trackers.
func (s *Source) Trackers() []string { return append([]string(nil), s.trackers...) }

// Plan implements crawler.Source: one job per configured tracker and batch of the watched
// datasets' known info-hashes. Without trackers or known hashes there is nothing to plan.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var hashes []string
	for _, d := range datasets {
		for _, h := range d.InfoHashes {
			ih, err := torrent.ParseInfoHash(h)
			if err != nil {
				return nil, fmt.Errorf("swarm: dataset %s: %w", d.ID, err)
			}
			if !seen[ih] {
				seen[ih] = true
				hashes = append(hashes, ih)
			}
		}
	}
	sort.Strings(hashes)
	var jobs []crawler.Job
	for _, tr := range s.trackers {
		jobs = append(jobs, s.jobs(crawler.Job{}, tr, true, "registry", hashes, make([]string, len(hashes)))...)
	}
	return jobs, nil
}

// jobs splits hashes into one job per batch for tracker tr.
func (s *Source) jobs(parent crawler.Job, tr string, trusted bool, origin string, hashes, ids []string) []crawler.Job {
	batch := s.httpBatch
	if strings.HasPrefix(tr, "udp") {
		batch = s.udpBatch
	}
	var out []crawler.Job
	for start := 0; start < len(hashes); start += batch {
		end := min(start+batch, len(hashes))
		hs := strings.Join(hashes[start:end], ",")
		meta := map[string]string{metaHashes: hs, metaIDs: strings.Join(ids[start:end], ","), metaOrigin: origin}
		if trusted {
			meta[metaTrusted] = "1"
		}
		out = append(out, crawler.Job{ID: crawler.Key(Name, KindScrape, tr+"#"+digest(hs)), RunID: parent.RunID, Source: Name,
			Kind: KindScrape, URL: tr, Dataset: parent.Dataset, Meta: meta})
	}
	return out
}
