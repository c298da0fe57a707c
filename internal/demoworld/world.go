// Package demoworld is the offline demo world: one local HTTP server that speaks each implemented
// source's real response formats (modelled on recorded responses) and holds a planted afterlife.
//
// The planted artifacts live in internal/demoworld/planted/<source>.jsonl (embedded). Each line is an artifact in
// the interchange format plus demo-only fields (epochs, extra). Each source's handler, in its own
// file (huggingface.go, github.go, ...), renders the planted artifacts of its source in that source's
// API format under the path prefix /<source>/ (so the watch config's base_url for huggingface is
// http://127.0.0.1:PORT/huggingface).
package demoworld

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Planted is one artifact of the demo world.
type Planted struct {
	artifact.Artifact
	// Epochs lists the epochs the artifact exists in (empty: all epochs).
	Epochs []int `json:"epochs,omitempty"`
	// Extra holds source-specific fields a handler needs (downloads, sha, record ids, ...).
	Extra map[string]any `json:"extra,omitempty"`
}

// InEpoch reports whether the artifact exists in epoch e.
func (p *Planted) InEpoch(e int) bool {
	if len(p.Epochs) == 0 {
		return true
	}
	for _, x := range p.Epochs {
		if x == e {
			return true
		}
	}
	return false
}

// Options configure a world.
type Options struct {
	Epoch int // 1 by default
	// Latency is added to every response (so runs last long enough to be interrupted).
	Latency time.Duration
	// GitHubCrowd adds that many look-alike GitHub repositories matching "MegaFace", created one
	// a day from 2016 on, so a repository search finds more than GitHub's 1,000-result cap
	// (github.go serves at most the first 1,000 of a query, as GitHub does).
	GitHubCrowd int
	// Scale plants a proportionally larger afterlife (scale.go): 1 (or 0) is the planted files
	// exactly; N adds N-1 generated units of about a thousand artifacts each.
	Scale int
	// EpochStart is when the world entered its epoch (zero: now): what the epoch added changed
	// then. A demo run over a data directory whose last run saw the same epoch passes the time
	// the world entered it, so a repeat does not see the epoch's additions as changed again (a
	// real change has one modification time, not one per process that serves it).
	EpochStart time.Time
}

// World is the demo world's state.
type World struct {
	mu    sync.RWMutex
	epoch int
	// epochStart is when the world entered its epoch: what the epoch added changed then (epochs.go).
	epochStart time.Time
	latency    time.Duration
	planted    map[string][]Planted // by source
	scale      int
	// views holds, per epoch, each source's artifacts in that epoch and an id index (Planted and
	// Find are called on every request: at scale they must not copy or scan the whole world).
	views map[int]*epochView
	mux   *http.ServeMux
	// pdf holds the world's rendered PDFs (paperpdf.go); a field, not a package-level map keyed
	// by the world, which kept every world ever made in memory.
	pdf paperPDFs
	// Requests counts every request served, by source prefix.
	requests sync.Map // string -> *atomic.Int64
	// routes counts requests by source and route kind, and repeats (the same path and query
	// served before in this world's life): where a run's requests go (RouteCounts).
	routes routeCounter
}

// handlerFactories are registered by each source's file.
var handlerFactories = map[string]func(w *World) http.Handler{}

func registerSource(name string, f func(w *World) http.Handler) { handlerFactories[name] = f }

// Sources lists the sources the demo world serves.
func Sources() []string {
	out := make([]string, 0, len(handlerFactories))
	for k := range handlerFactories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New loads the planted afterlife and builds the world.
func New(opts Options) (*World, error) {
	if opts.Epoch == 0 {
		opts.Epoch = 1
	}
	if opts.Scale < 0 {
		return nil, fmt.Errorf("demo world scale %d: want 1 or more", opts.Scale)
	}
	start := opts.EpochStart.UTC()
	if opts.EpochStart.IsZero() {
		start = time.Now().UTC()
	}
	w := &World{epoch: opts.Epoch, epochStart: start, latency: opts.Latency, planted: map[string][]Planted{},
		mux: http.NewServeMux(), scale: max(opts.Scale, 1), views: map[int]*epochView{}}
	all, err := LoadPlanted()
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		w.planted[p.Source] = append(w.planted[p.Source], p)
	}
	w.planted[ghSource] = append(w.planted[ghSource], ghCrowd(opts.GitHubCrowd)...)
	if w.scale > 1 {
		gen := Generate(all, w.scale)
		n := map[string]int{}
		for i := range gen {
			n[gen[i].Source]++
		}
		for src, c := range n {
			w.planted[src] = append(make([]Planted, 0, len(w.planted[src])+c), w.planted[src]...)
		}
		for i := range gen {
			w.planted[gen[i].Source] = append(w.planted[gen[i].Source], gen[i])
		}
		gen = nil
		// At scale, order each source by epoch class — epoch 1 only, every epoch, epoch 2 only —
		// so each epoch's view is a sub-slice, not a copy of the source (order is free at scale;
		// scale 1 keeps the planted files' order).
		for _, ps := range w.planted {
			sort.SliceStable(ps, func(i, j int) bool { return epochClass(ps[i]) < epochClass(ps[j]) })
		}
	}
	for name, f := range handlerFactories {
		prefix := "/" + name
		w.mux.Handle(prefix+"/", http.StripPrefix(prefix, f(w)))
	}
	w.mux.Handle("/tracker/", http.StripPrefix("/tracker", &trackerHandler{w: w})) // tracker.go
	w.mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(rw, "Afterlife demo world, epoch %d. Sources: %s\n", w.Epoch(), strings.Join(Sources(), ", "))
			return
		}
		http.NotFound(rw, r)
	})
	return w, nil
}

// LoadPlanted reads every internal/demoworld/planted/*.jsonl file.
func LoadPlanted() ([]Planted, error) {
	files, err := fs.Glob(PlantedFS, "planted/*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Planted
	seen := map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(PlantedFS, f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 64<<10), artifact.MaxLine)
		line := 0
		for sc.Scan() {
			line++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var p Planted
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				return nil, fmt.Errorf("configs/%s:%d: %w", f, line, err)
			}
			if err := p.Validate(); err != nil {
				return nil, fmt.Errorf("configs/%s:%d: %w", f, line, err)
			}
			if prev, dup := seen[p.ID]; dup {
				return nil, fmt.Errorf("configs/%s:%d: id %s already planted in %s", f, line, p.ID, prev)
			}
			seen[p.ID] = path.Base(f)
			out = append(out, p)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("configs/%s: %w", f, err)
		}
	}
	return out, nil
}

// Epoch returns the current epoch.
func (w *World) Epoch() int { w.mu.RLock(); defer w.mu.RUnlock(); return w.epoch }

// EpochStart returns when the world entered its current epoch.
func (w *World) EpochStart() time.Time { w.mu.RLock(); defer w.mu.RUnlock(); return w.epochStart }

// SetEpoch switches the world to epoch e (tests switch between runs).
func (w *World) SetEpoch(e int) {
	w.mu.Lock()
	if e != w.epoch {
		w.epochStart = time.Now().UTC()
	}
	w.epoch = e
	w.mu.Unlock()
}

// epochView is one epoch's artifacts per source, in planting order, with an id index.
type epochView struct {
	mu    sync.Mutex
	by    map[string][]Planted
	index map[string]map[string]int32
	// sorted holds the artifacts in id order (SortedByID), built on first use.
	sorted map[string][]*Planted
	// tagged indexes the artifacts by lower-cased tag (WithTag), built on first use.
	tagged map[string]map[string][]*Planted
}

// view returns the source's artifacts in epoch e and their id index, built once per epoch.
func (w *World) view(e int, source string) ([]Planted, map[string]int32) {
	w.mu.Lock()
	v := w.views[e]
	if v == nil {
		v = &epochView{by: map[string][]Planted{}, index: map[string]map[string]int32{}, sorted: map[string][]*Planted{}, tagged: map[string]map[string][]*Planted{}}
		w.views[e] = v
	}
	w.mu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if ps, ok := v.by[source]; ok {
		return ps, v.index[source]
	}
	all := w.planted[source]
	ps := all
	if w.scale > 1 {
		if sub, ok := epochSubslice(all, e); ok {
			all = sub
			ps = sub
		}
	}
	for _, p := range all {
		if !p.InEpoch(e) {
			ps = nil
			for _, q := range all {
				if q.InEpoch(e) {
					ps = append(ps, q)
				}
			}
			break
		}
	}
	idx := make(map[string]int32, len(ps))
	for i := range ps {
		if _, dup := idx[ps[i].ID]; !dup {
			idx[ps[i].ID] = int32(i)
		}
	}
	v.by[source], v.index[source] = ps, idx
	return ps, idx
}

// epochClass orders artifacts at scale: 0 epoch 1 only, 1 every epoch, 2 epoch 2 only, 3 other.
func epochClass(p Planted) int {
	switch {
	case len(p.Epochs) == 0:
		return 1
	case len(p.Epochs) == 1 && p.Epochs[0] == 1:
		return 0
	case len(p.Epochs) == 1 && p.Epochs[0] == 2:
		return 2
	}
	return 3
}

// epochSubslice returns the contiguous part of a source ordered by epochClass that holds epoch
// e's artifacts (ok false when other epoch patterns make it not contiguous; view then copies).
func epochSubslice(ps []Planted, e int) ([]Planted, bool) {
	lo, hi := 0, len(ps)
	for lo < len(ps) && epochClass(ps[lo]) == 0 {
		lo++
	}
	for hi > lo && epochClass(ps[hi-1]) >= 2 {
		hi--
	}
	for _, p := range ps[hi:] {
		if epochClass(p) == 3 {
			return nil, false
		}
	}
	switch e {
	case 1:
		return ps[:hi], true
	case 2:
		return ps[lo:], true
	}
	return ps[lo:hi], true
}

// Planted returns the source's artifacts that exist in the current epoch, in planting order. The
// slice is shared: callers must not modify it (sort a copy).
func (w *World) Planted(source string) []Planted {
	ps, _ := w.view(w.Epoch(), source)
	return ps
}

// SortedByID returns the source's artifacts in the current epoch sorted by id, built once per
// epoch and shared: callers must not modify them. Handlers that list in id order use it instead
// of copying and sorting the whole source on every request.
func (w *World) SortedByID(source string) []*Planted {
	e := w.Epoch()
	ps, _ := w.view(e, source)
	w.mu.RLock()
	v := w.views[e]
	w.mu.RUnlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.sorted[source]; ok {
		return s
	}
	s := make([]*Planted, len(ps))
	for i := range ps {
		s[i] = &ps[i]
	}
	sort.Slice(s, func(i, j int) bool { return s[i].ID < s[j].ID })
	v.sorted[source] = s
	return s
}

// WithTag returns the source's artifacts in the current epoch that carry tag (case-insensitive),
// in id order, shared (read only). An artifact's tags are its planted tags plus the ones the Hub
// derives from its card: dataset:<d> for each declared dataset and base_model:<id> for each base
// model. A route that filters by tag (the Hub's filter=base_model:X, a lineage step) reads the
// matches instead of scanning the whole source: at scale 100 the Hub holds 75,000 repositories.
func (w *World) WithTag(source, tag string) []*Planted {
	sorted := w.SortedByID(source)
	e := w.Epoch()
	w.mu.RLock()
	v := w.views[e]
	w.mu.RUnlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	idx, ok := v.tagged[source]
	if !ok {
		idx = map[string][]*Planted{}
		for _, p := range sorted {
			seen := map[string]bool{}
			add := func(t string) {
				t = strings.ToLower(t)
				if !seen[t] {
					seen[t] = true
					idx[t] = append(idx[t], p)
				}
			}
			for _, t := range p.Tags {
				add(t)
			}
			for _, d := range p.DeclaredDatasets {
				add("dataset:" + d)
			}
			for _, b := range p.BaseModels {
				add("base_model:" + b)
			}
		}
		v.tagged[source] = idx
	}
	return idx[strings.ToLower(tag)]
}

// Find returns the source's artifact with the given id in the current epoch.
func (w *World) Find(source, id string) (Planted, bool) {
	ps, idx := w.view(w.Epoch(), source)
	if i, ok := idx[id]; ok {
		return ps[i], true
	}
	return Planted{}, false
}

// Scale is the world's scale (1: the planted files exactly).
func (w *World) Scale() int { return w.scale }

// All returns every planted artifact of every source in epoch e (the demo's ground truth reads it).
func (w *World) All(e int) []Planted {
	var out []Planted
	for _, src := range w.sourcesPlanted() {
		ps, _ := w.view(e, src)
		out = append(out, ps...)
	}
	return out
}

func (w *World) sourcesPlanted() []string {
	out := make([]string, 0, len(w.planted))
	for s := range w.planted {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP serves the world, adding latency and counting requests.
func (w *World) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	src := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	c, _ := w.requests.LoadOrStore(src, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	w.routes.count(src, r)
	if w.latency > 0 {
		select {
		case <-time.After(w.latency):
		case <-r.Context().Done():
			return
		}
	}
	w.mux.ServeHTTP(rw, r)
}

// Requests returns how many requests the world served for source.
func (w *World) Requests(source string) int64 {
	if c, ok := w.requests.Load(source); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// Server is a running demo world.
type Server struct {
	World *World
	URL   string // http://127.0.0.1:PORT
	srv   *http.Server
	ln    net.Listener
}

// Start serves the world on addr (127.0.0.1:0 picks a free port). Only loopback addresses are allowed.
func Start(w *World, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("demo world listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo world listen address %q: only loopback addresses are allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo world: %w", err)
	}
	s := &Server{World: w, URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// WatchConfig returns a watch plan pointing every demo source at this server, with loopback allowed.
func (s *Server) WatchConfig() *configs.Watch {
	w := &configs.Watch{
		Contact:       "https://github.com/afterlife-watch/afterlife (demo)",
		AllowLoopback: true,
		Demo:          true,
		Workers:       4,
		Sources:       map[string]configs.SourceConfig{},
	}
	maxPages := 5
	if s.World.scale > 1 {
		// At scale, listings are long by design: no page cap hides the planted world.
		maxPages = 1 << 20
	}
	for _, name := range Sources() {
		w.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: s.URL + "/" + name, Rate: 200, Burst: 50, MaxPages: maxPages}
	}
	if s.World.scale > 1 {
		// Nor a cap on the catalogue's matches followed (500 by default: scale 100 has 594
		// torrents, and epoch 2 missed its 32 new copies behind the cap).
		c := w.Sources["academictorrents"]
		c.Options = map[string]string{"max_matches": "1048576"}
		w.Sources["academictorrents"] = c
	}
	// Swarm health: the demo tracker (tracker.go) for the registry's known info-hashes and the
	// torrents found in the run.
	w.Sources["swarm"] = configs.SourceConfig{Enabled: true, Rate: 200, Burst: 50,
		Options: map[string]string{"trackers": s.URL + TrackerAnnouncePath, "tracker_rate": "50", "tracker_burst": "10", "timeout": "5s"}}
	return w
}
