package torrent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Target is what to probe: an info-hash, optionally with metainfo already known (from a .torrent
// file), trackers, direct peers and private DHT nodes.
type Target struct {
	InfoHash string
	// Meta is the parsed .torrent when there is one; otherwise metadata is fetched from peers.
	Meta *Meta
	// Name is a display name (magnet dn) used until metadata is known.
	Name     string
	Trackers []string
	Peers    []string
	// DHTNodes are bootstrap nodes of a DHT to ask (host:port). There is no default: without
	// them no DHT is used.
	DHTNodes []string
}

// TargetFromArg reads a probe argument: 40-hex or base32 info-hash, magnet link, or a path to a
// .torrent file (read through readFile, bounded by MaxMetainfoSize).
func TargetFromArg(arg string, readFile func(string) ([]byte, error)) (Target, error) {
	arg = strings.TrimSpace(arg)
	switch {
	case strings.HasPrefix(strings.ToLower(arg), "magnet:"):
		m, err := ParseMagnet(arg)
		if err != nil {
			return Target{}, err
		}
		return Target{InfoHash: m.InfoHash, Name: m.Name, Trackers: m.Trackers, Peers: m.Peers}, nil
	case len(arg) == 40 || len(arg) == 32:
		if ih, err := ParseInfoHash(arg); err == nil {
			return Target{InfoHash: ih}, nil
		}
	}
	b, err := readFile(arg)
	if err != nil {
		return Target{}, fmt.Errorf("%q is not an info-hash or magnet link, and reading it as a .torrent file failed: %w", arg, err)
	}
	m, err := ParseMetainfo(b)
	if err != nil {
		return Target{}, fmt.Errorf("%s: %w", arg, err)
	}
	return Target{InfoHash: m.InfoHash, Meta: m, Name: m.Name, Trackers: m.Trackers}, nil
}

// TrackerReport is one tracker's answer in a probe.
type TrackerReport struct {
	URL       string `json:"url"`
	Seeders   int    `json:"seeders"`
	Leechers  int    `json:"leechers"`
	Completed int    `json:"completed"`
	Method    string `json:"method,omitempty"` // scrape | announce
	Peers     int    `json:"peers,omitempty"`  // peers an announce returned
	Error     string `json:"error"`            // "" when the tracker answered
}

// Result is the outcome of one probe.
type Result struct {
	InfoHash string          `json:"infohash"`
	Name     string          `json:"name"`
	Files    []MetaFile      `json:"files"`
	Trackers []TrackerReport `json:"trackers"`
	// TrackersDropped counts the trackers beyond MaxTrackers that were not contacted (the
	// torrent's own announce list and the target's extra trackers together).
	TrackersDropped int    `json:"trackers_dropped,omitempty"`
	DHTPeers        int    `json:"dht_peers"`
	DHTError        string `json:"dht_error,omitempty"`
	// MetadataSource is "torrent-file", "peers" (BEP 9) or "none".
	MetadataSource string      `json:"metadata_source"`
	MetadataError  string      `json:"metadata_error,omitempty"`
	Fetch          *FetchStats `json:"metadata_fetch,omitempty"`
	// DistinctPeers counts distinct peer addresses learnt from announces and the DHT.
	DistinctPeers int       `json:"distinct_peers"`
	At            time.Time `json:"at"`
	Took          float64   `json:"took_seconds"`

	// Meta is the metainfo when known (not printed).
	Meta *Meta `json:"-"`
}

// MaxTrackerRequests bounds the tracker round trips one probe has in flight at once (sockets,
// goroutines and memory with them), however many trackers it was given.
const MaxTrackerRequests = 32

// Prober probes swarms. The zero value is not usable: set Trackers at least.
type Prober struct {
	Trackers *Trackers
	// Metadata fetches info dicts; nil means a fresh client per probe (closed afterwards).
	Metadata *MetadataClient
	// BindHost for sockets we open ("" = 127.0.0.1 when every target is on loopback, else 0.0.0.0).
	BindHost string
	// Timeout bounds the whole probe (30 s when 0).
	Timeout time.Duration
	// Sink receives one swarm probe record per probe (optional).
	Sink ProbeSink
	// Source is the artifact source for records and artifacts (default dht).
	Source string
}

// Probe measures a swarm: tracker scrape (announce where scrape is missing, and to learn peers
// when metadata must be fetched), DHT get_peers, and the info dict from peers when no .torrent
// was given. Failures of a part are reported in the result; the error return is for a target that
// cannot be probed at all.
func (p *Prober) Probe(ctx context.Context, tg Target) (*Result, error) {
	ih, err := ParseInfoHash(tg.InfoHash)
	if err != nil {
		return nil, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res := &Result{InfoHash: ih, Name: tg.Name, Files: []MetaFile{}, Trackers: []TrackerReport{}, MetadataSource: "none", At: start.UTC()}
	if tg.Meta != nil {
		res.Meta, res.MetadataSource = tg.Meta, "torrent-file"
	}
	bind := p.BindHost
	if bind == "" {
		bind = chooseBindHost(tg)
	}
	tc := p.Trackers
	if tc == nil {
		tc = &Trackers{}
	}
	if tc.BindHost == "" && bind != "0.0.0.0" {
		tc = tc.withBindHost(bind)
	}
	needMeta := tg.Meta == nil

	// Discovery (trackers, DHT) and the metadata fetch run at once: peers reach the fetch as they
	// are learnt, so a dead tracker's timeout does not delay metadata from a live one.
	var mu sync.Mutex
	peers := map[string]bool{}
	var fetchDone chan struct{}
	var peerCh chan []string
	addPeers := func(ps []string) {
		mu.Lock()
		var fresh []string
		for _, x := range ps {
			if !peers[x] {
				peers[x] = true
				fresh = append(fresh, x)
			}
		}
		mu.Unlock()
		if peerCh != nil && len(fresh) > 0 {
			select {
			case peerCh <- fresh:
			case <-fetchDone:
			}
		}
	}
	var meta *Meta
	var fst FetchStats
	var ferr error
	fctx, fcancel := context.WithCancelCause(ctx)
	defer fcancel(nil)
	if needMeta {
		peerCh, fetchDone = make(chan []string), make(chan struct{})
		go func() {
			defer close(fetchDone)
			meta, fst, ferr = p.fetch(fctx, bind, ih, tg.Peers, peerCh)
		}()
	}

	var wg sync.WaitGroup
	var dhtRes DHTResult
	var dhtErr error
	if len(tg.DHTNodes) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, dcancel := context.WithTimeout(ctx, timeout/2)
			defer dcancel()
			n, err := NewDHTNode(net.JoinHostPort(bind, "0"), tg.DHTNodes, false)
			if err != nil {
				dhtErr = err
				return
			}
			defer n.Close()
			dhtRes, dhtErr = n.GetPeers(dctx, ih)
			addPeers(dhtRes.Peers)
		}()
	}
	trackers, dropped := usableTrackers(tg.Trackers, MaxTrackers)
	res.TrackersDropped = dropped
	if tg.Meta != nil {
		res.TrackersDropped += tg.Meta.TrackersDropped
	}
	reports := make([]TrackerReport, len(trackers))
	if len(trackers) > 0 {
		// One port for every announce of this probe, reserved so no local peer has it: trackers
		// key peers by ip:port, so announces to two URLs of one tracker are one peer, and we can
		// drop ourselves from every peer list.
		port, release, err := reservePort(bind)
		if err != nil {
			return nil, err
		}
		defer release()
		// At most MaxTrackerRequests tracker round trips at once. A tracker not started before the
		// probe ends (deadline or signal) is not contacted at all.
		slots := make(chan struct{}, MaxTrackerRequests)
		run := func(i int, do func()) {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				if ctx.Err() == nil {
					do()
					return
				}
			case <-ctx.Done():
			}
			if reports[i].Method == "" && reports[i].Error == "" {
				reports[i].Error = fmt.Sprintf("not contacted: the probe stopped first (%v)", context.Cause(ctx))
			}
		}
		for i, tr := range trackers {
			reports[i] = TrackerReport{URL: tr, Seeders: -1, Leechers: -1, Completed: -1}
		}
		// Per tracker host, scrape every URL first and announce after: an announce of ours to one
		// URL must not show up as a leecher in the scrape of another URL of the same tracker.
		for _, idx := range groupByHost(trackers) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				announce := make([]bool, len(idx)) // per URL of this host only
				var gw sync.WaitGroup
				for k, i := range idx {
					gw.Add(1)
					go func() {
						defer gw.Done()
						run(i, func() { reports[i], announce[k] = scrapeTracker(ctx, tc, trackers[i], ih, needMeta) })
					}()
				}
				gw.Wait()
				for k, i := range idx {
					if announce[k] {
						gw.Add(1)
						go func() {
							defer gw.Done()
							run(i, func() { announceTracker(ctx, tc, trackers[i], ih, port, &reports[i], addPeers) })
						}()
					}
				}
				gw.Wait()
			}()
		}
	}
	wg.Wait()
	res.Trackers = reports
	res.DHTPeers = len(dhtRes.Peers)
	if dhtErr != nil {
		res.DHTError = dhtErr.Error()
	}
	mu.Lock()
	discovered := len(peers)
	mu.Unlock()

	if needMeta {
		if discovered == 0 && len(tg.Peers) == 0 {
			fcancel(errNoPeers)
		}
		<-fetchDone
		switch {
		case ferr == nil:
			res.Meta, res.MetadataSource, res.Fetch = meta, "peers", &fst
		case errors.Is(context.Cause(fctx), errNoPeers):
			res.MetadataError = errNoPeers.Error()
		default:
			res.MetadataError = ferr.Error()
			if fst.Took > 0 || fst.PeersKnown > 0 {
				res.Fetch = &fst
			}
		}
	}
	if res.Meta != nil {
		res.Name, res.Files = res.Meta.Name, res.Meta.Files
	}
	res.DistinctPeers = discovered
	res.Took = time.Since(start).Seconds()
	if p.Sink != nil {
		if err := p.Sink.RecordProbe(context.WithoutCancel(ctx), res.Record(p.artifactID(ih))); err != nil {
			return res, fmt.Errorf("record probe %s: %w", ih, err)
		}
	}
	return res, nil
}

func (p *Prober) source() string {
	if p.Source != "" {
		return p.Source
	}
	return artifact.SourceDHT
}

func (p *Prober) artifactID(ih string) string { return IDPrefix(p.source()) + ":" + ih }

// Artifact is the probed torrent in the interchange format (nil without metadata).
func (r *Result) Artifact(source, url string) *artifact.Artifact {
	if r.Meta == nil {
		return nil
	}
	a := r.Meta.Artifact(source, url)
	return &a
}

func (p *Prober) fetch(ctx context.Context, bind, ih string, peers []string, more <-chan []string) (*Meta, FetchStats, error) {
	mc := p.Metadata
	if mc == nil {
		var err error
		mc, err = NewMetadataClient(MetadataClientConfig{BindHost: bind})
		if err != nil {
			return nil, FetchStats{}, err
		}
		defer mc.Close()
	}
	return mc.Fetch(ctx, ih, peers, more)
}

// scrapeTracker scrapes one tracker and says whether to announce to it: when it has no scrape,
// or when peers are wanted (for metadata) and it tracks the torrent.
func scrapeTracker(ctx context.Context, tc *Trackers, tr, ih string, wantPeers bool) (TrackerReport, bool) {
	rep := TrackerReport{URL: tr, Seeders: -1, Leechers: -1, Completed: -1}
	cs, err := tc.Scrape(ctx, tr, []string{ih})
	switch {
	case err == nil && len(cs) == 1:
		rep.Seeders, rep.Leechers, rep.Completed, rep.Method, rep.Error = cs[0].Seeders, cs[0].Leechers, cs[0].Completed, "scrape", cs[0].Err
		// A tracker that does not track it: an announce would only register us.
		return rep, wantPeers && cs[0].Err == ""
	case errors.Is(err, ErrScrapeUnsupported):
		return rep, true
	case err == nil:
		rep.Error = fmt.Sprintf("scrape %s: %d results for 1 hash", tr, len(cs))
	default:
		rep.Error = err.Error()
	}
	return rep, false
}

// announceTracker announces (started, then stopped) to learn peers, and takes the counts from it
// when the scrape gave none.
func announceTracker(ctx context.Context, tc *Trackers, tr, ih string, port uint16, rep *TrackerReport, addPeers func([]string)) {
	c, err := tc.Announce(ctx, tr, ih, port)
	addPeers(c.Peers)
	rep.Peers = len(c.Peers)
	if rep.Method == "scrape" {
		return
	}
	rep.Seeders, rep.Leechers, rep.Completed, rep.Method = c.Seeders, c.Leechers, c.Completed, "announce"
	if err != nil {
		rep.Error = err.Error()
	}
}

var errNoPeers = errors.New("no peers known (give --peer, a tracker that knows the torrent, or --dht)")

// groupByHost groups tracker indices by host name.
func groupByHost(trackers []string) [][]int {
	by := map[string]int{}
	var out [][]int
	for i, tr := range trackers {
		h := tr
		if u, err := url.Parse(tr); err == nil {
			h = strings.ToLower(u.Hostname())
		}
		g, ok := by[h]
		if !ok {
			g = len(out)
			by[h] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], i)
	}
	return out
}

// usableTrackers keeps http(s) and udp trackers, each once, up to limit of them, and counts the
// usable entries after those as dropped (without remembering them: the list may be huge).
func usableTrackers(trs []string, limit int) (out []string, dropped int) {
	seen := map[string]bool{}
	for _, tr := range trs {
		tr = strings.TrimSpace(tr)
		u, err := url.Parse(tr)
		if err != nil || seen[tr] {
			continue
		}
		switch u.Scheme {
		case "http", "https", "udp", "udp4":
			if len(out) >= limit {
				dropped++
				continue
			}
			seen[tr] = true
			out = append(out, tr)
		}
	}
	return out, dropped
}

// chooseBindHost is 127.0.0.1 when every tracker, peer and DHT node is on loopback (tests, local
// swarms), else 0.0.0.0.
func chooseBindHost(tg Target) string {
	trs, _ := usableTrackers(tg.Trackers, MaxTrackers)
	for _, tr := range trs {
		u, _ := url.Parse(tr)
		if !isLoopbackHost(u.Hostname()) {
			return "0.0.0.0"
		}
	}
	for _, hp := range append(append([]string{}, tg.Peers...), tg.DHTNodes...) {
		h, _, err := net.SplitHostPort(hp)
		if err != nil || !isLoopbackHost(h) {
			return "0.0.0.0"
		}
	}
	return "127.0.0.1"
}
