package render

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// ReportSchemaVersion is the version of report.json (docs/report.schema.json).
const ReportSchemaVersion = 1

// Report is everything every output format renders: one run, seen from the store.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	GeneratedAt   time.Time `json:"generated_at"`
	Run           RunView   `json:"run"`
	// Runs is the run history, oldest first (the timeline's x axis).
	Runs     []RunView       `json:"runs"`
	Datasets []DatasetReport `json:"datasets"`
	// NothingFound lists the registry's retracted datasets no run has a sighting of (as of the
	// report's run), so that "not listed" is never mistaken for "not looked for".
	NothingFound []DatasetRef `json:"nothing_found"`

	// texts, when set, reads the artifacts' texts for the excerpts of the HTML rows being
	// written (the views then hold none: fillExcerpts); textCtx is the context it reads with.
	texts   reports.TextReader
	textCtx context.Context
}

// fillExcerpts sets the excerpt of each row (copies of the report's views) from the store, when
// the report keeps no texts.
func (rep *Report) fillExcerpts(rows []SightingView) error {
	if rep.texts == nil || len(rows) == 0 {
		return nil
	}
	ids := make([]string, 0, len(rows))
	for i := range rows {
		ids = append(ids, rows[i].Artifact.ID)
	}
	texts, err := rep.texts.ArtifactTexts(rep.textCtx, ids)
	if err != nil {
		return fmt.Errorf("excerpts: %w", err)
	}
	for i := range rows {
		rows[i].Excerpt = truncate(texts[rows[i].Artifact.ID], ExcerptRunes)
	}
	return nil
}

// DatasetRef names a registry dataset.
type DatasetRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// RunView is a run as reports show it.
type RunView struct {
	ID       string     `json:"id"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished"`
	Mode     string     `json:"mode,omitempty"`
	Complete bool       `json:"complete"`
	New      int        `json:"new"`
	Gone     int        `json:"gone"`
	// Reappeared counts sightings that had gone and came back in this run.
	Reappeared int                  `json:"reappeared"`
	Sources    []reports.SourceStat `json:"sources"`
	// Coverage says what the run could check (nil for a run without sources: an artifacts file).
	Coverage *Coverage `json:"coverage,omitempty"`
	// Failures names each URL the run could not use and why (stores implementing FailureLister).
	Failures []reports.JobFailure `json:"failures,omitempty"`
	// FailureGroups are the failures by source and cause: one row per cause, with a count and
	// examples.
	FailureGroups []FailureGroup `json:"failure_groups,omitempty"`
}

// At is when the run's data is as of: its end, or its start while it runs.
func (r RunView) At() time.Time {
	if r.Finished != nil {
		return *r.Finished
	}
	return r.Started
}

// DatasetReport is one dataset's afterlife.
type DatasetReport struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Retracted is true for retraction statuses (the ones scored as afterlife).
	Retracted       bool            `json:"retracted"`
	RetractedOn     string          `json:"retracted_on,omitempty"`
	Reason          string          `json:"reason,omitempty"`
	AnnouncementURL string          `json:"announcement_url,omitempty"`
	Summary         Summary         `json:"summary"`
	Sightings       []SightingView  `json:"sightings"`
	Actions         []HostActions   `json:"actions"`
	Swarms          []SwarmHealth   `json:"swarms"`
	Timeline        []TimelinePoint `json:"timeline"`
	PapersPerYear   []YearCount     `json:"papers_per_year"`
	// Retraction is the dataset's retraction date as a year (0 when unknown), for the charts.
	retractionYear int
}

// Summary counts what a steward looks at first. Live means not gone.
type Summary struct {
	LiveCopies            int `json:"live_copies"`
	Derivatives           int `json:"derivatives"`
	TrainedOnModels       int `json:"trained_on_models"`
	PapersSinceRetraction int `json:"papers_since_retraction"`
	SwarmsAlive           int `json:"swarms_alive"`
	Torrents              int `json:"torrents"`
	Uses                  int `json:"uses"`
	Studies               int `json:"studies"`
	Mentions              int `json:"mentions"`
	Live                  int `json:"live"`
	Gone                  int `json:"gone"`
	Total                 int `json:"total"`
	// NewSinceLastRun and GoneSinceLastRun are the changes the report's run made.
	NewSinceLastRun  int `json:"new_since_last_run"`
	GoneSinceLastRun int `json:"gone_since_last_run"`
	// ReappearedSinceLastRun counts sightings that had gone and are live again since the last run.
	ReappearedSinceLastRun int `json:"reappeared_since_last_run"`
}

// ArtifactRef is the part of an artifact a report shows.
type ArtifactRef struct {
	ID        string `json:"id"`
	Source    string `json:"source"`
	Kind      string `json:"kind"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Host      string `json:"host"`
	Published string `json:"published,omitempty"`
	InfoHash  string `json:"infohash,omitempty"`
}

// SightingView is one sighting in a report.
type SightingView struct {
	Artifact       ArtifactRef        `json:"artifact"`
	Relation       extract.Relation   `json:"relation"`
	Confidence     float64            `json:"confidence"`
	Evidence       []extract.Evidence `json:"evidence"`
	Via            string             `json:"via,omitempty"`
	Chain          []string           `json:"chain,omitempty"`
	PostRetraction bool               `json:"post_retraction"`
	FirstSeen      time.Time          `json:"first_seen"`
	LastSeen       time.Time          `json:"last_seen"`
	FirstRun       string             `json:"first_run,omitempty"`
	LastRun        string             `json:"last_run,omitempty"`
	Gone           bool               `json:"gone"`
	GoneSince      *time.Time         `json:"gone_since"`
	// GoneHow says how it was found gone: the host answered 404/410, or it was missing from the
	// source's complete listings.
	GoneHow string `json:"gone_how,omitempty"`
	// Excerpt is the start of the artifact's text (model card, abstract), for the HTML pages.
	Excerpt string `json:"-"`
	// New is true when the report's run first saw it; GoneNow when the run saw it go.
	New     bool `json:"new"`
	GoneNow bool `json:"gone_now"`
	// Reappeared is true when the report's run saw it again after it had gone (a re-upload of a
	// taken-down copy): ReappearedAt is when, WasGoneSince when it had gone.
	Reappeared   bool       `json:"reappeared"`
	ReappearedAt *time.Time `json:"reappeared_at,omitempty"`
	WasGoneSince *time.Time `json:"was_gone_since,omitempty"`
}

// HostActions is what a steward can do about one host.
type HostActions struct {
	Host string `json:"host"`
	// ServedAt is the address the copies were found at when it is not Host's own (the demo world
	// serves every source on 127.0.0.1): the route is the one of the source's host.
	ServedAt string `json:"served_at,omitempty"`
	How      string `json:"how"`
	URL      string `json:"url,omitempty"`
	Contact  bool   `json:"contact_known"`
	// Uncertain marks a route the registry has not verified.
	Uncertain bool         `json:"uncertain,omitempty"`
	Items     []ActionItem `json:"items"`
}

// ActionItem is one thing to report on a host.
type ActionItem struct {
	ArtifactID string           `json:"artifact_id"`
	URL        string           `json:"url"`
	Title      string           `json:"title"`
	Relation   extract.Relation `json:"relation"`
}

// SwarmHealth is the latest state of one torrent's swarm and its trend.
type SwarmHealth struct {
	InfoHash   string    `json:"infohash"`
	ArtifactID string    `json:"artifact_id,omitempty"`
	At         time.Time `json:"at,omitzero"`
	Seeders    int       `json:"seeders"`
	Leechers   int       `json:"leechers"`
	Completed  int       `json:"completed"`
	Peers      int       `json:"peers"`
	Alive      bool      `json:"alive"`
	// Trend compares seeders with the previous probe: up, down, flat or new.
	Trend  string               `json:"trend"`
	Series []reports.SwarmProbe `json:"-"`
	// History is the swarm's health at each run that probed it, oldest first (swarm_series.go).
	History []SwarmPoint `json:"history"`
}

// TimelinePoint is the dataset's afterlife at one run.
type TimelinePoint struct {
	RunID string    `json:"run_id"`
	At    time.Time `json:"at"`
	Live  int       `json:"live"`
	Data  int       `json:"data"`  // copy + derivative
	Model int       `json:"model"` // trained-on
	Uses  int       `json:"uses"`
	New   int       `json:"new"`
	Gone  int       `json:"gone"`
}

// YearCount counts papers using the dataset in one publication year.
type YearCount struct {
	Year            int  `json:"year"`
	Papers          int  `json:"papers"`
	AfterRetraction bool `json:"after_retraction"`
}

// ExcerptRunes bounds the card excerpt shown with each sighting in HTML.
const ExcerptRunes = 400

// ErrNoRuns is returned when a report is asked of a store that holds no run.
var ErrNoRuns = errors.New("build report: the store holds no run yet (run `afterlife scan` or `afterlife demo` first)")

// Options tune report building.
type Options struct {
	// Now overrides generated_at (by default the run's end, so the same store renders the same bytes).
	Now time.Time
	// MaxTimeline bounds the runs in the timeline (default 200, the most recent).
	MaxTimeline int
}

// Build reads the store and builds the report of runID ("" for the latest run).
func Build(ctx context.Context, st reports.Store, reg *configs.Registry, runID string, opt Options) (*Report, error) {
	if reg == nil {
		return nil, errors.New("build report: nil registry")
	}
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	if len(runs) == 0 {
		return nil, ErrNoRuns
	}
	var run reports.Run
	idx := -1
	if runID == "" {
		run, idx = runs[0], 0
	} else {
		for i := range runs {
			if runs[i].ID == runID {
				run, idx = runs[i], i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("build report: run %q: %w", runID, reports.ErrNotFound)
		}
	}
	// History up to and including the run, oldest first.
	hist := runs[idx:]
	if opt.MaxTimeline <= 0 {
		opt.MaxTimeline = 200
	}
	if len(hist) > opt.MaxTimeline {
		hist = hist[:opt.MaxTimeline]
	}
	rep := &Report{SchemaVersion: ReportSchemaVersion, Run: viewRun(run)}
	if fl, ok := st.(reports.FailureLister); ok {
		if rep.Run.Failures, err = fl.Failures(ctx, run.ID); err != nil {
			return nil, fmt.Errorf("build report: %w", err)
		}
		if len(rep.Run.Failures) > 0 {
			rep.Run.FailureGroups = GroupFailures(rep.Run.Failures)
		}
	}
	for i := len(hist) - 1; i >= 0; i-- {
		rep.Runs = append(rep.Runs, viewRun(hist[i]))
	}
	rep.GeneratedAt = rep.Run.At()
	if !opt.Now.IsZero() {
		rep.GeneratedAt = opt.Now.UTC()
	}
	var probes []reports.SwarmProbe
	if ss, ok := st.(reports.SwarmStore); ok {
		if probes, err = ss.Probes(ctx, ""); err != nil {
			return nil, fmt.Errorf("build report: %w", err)
		}
		probes = probesAsOf(probes, rep.Run) // swarm_series.go
	}
	back, err := reappearances(ctx, st, rep.Run)
	if err != nil {
		return nil, err
	}
	// Each sighting becomes the view the report keeps as it is read: the store's rows (decoded
	// artifacts with their text) are never all in memory at once.
	byDS := map[string][]SightingView{}
	if sc, ok := st.(reports.SightingCounter); ok { // one buffer per dataset, sized once
		counts, err := sc.SightingCounts(ctx)
		if err != nil {
			return nil, fmt.Errorf("build report: %w", err)
		}
		for ds, n := range counts {
			byDS[ds] = make([]SightingView, 0, n)
		}
	}
	if tr, ok := st.(reports.TextReader); ok {
		// The HTML rows' excerpts are read as their pages are written: a report keeps no text.
		rep.texts, rep.textCtx = tr, context.WithoutCancel(ctx)
	}
	vb := viewBuilder{reg: reg, run: rep.Run, back: back, strs: map[string]string{}, noText: rep.texts != nil}
	err = eachSighting(ctx, st, func(x *reports.Sighting) error {
		if rep.Run.Finished != nil {
			at := rep.Run.At()
			if x.FirstSeen.After(at) {
				return nil // seen only by later runs: not part of this run's report
			}
			if x.Gone && x.GoneSince.After(at) {
				x.Gone, x.GoneSince = false, time.Time{} // went after this run: live as of the run
			}
		}
		ds := vb.str(x.Dataset)
		byDS[ds] = append(byDS[ds], vb.view(x))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	order := make([]string, 0, len(byDS))
	seen := map[string]bool{}
	for _, id := range reg.IDs() {
		if len(byDS[id]) > 0 || probedKnown(reg, id, probes) { // swarm_series.go
			order, seen[id] = append(order, id), true
		}
	}
	var extra []string
	for id, ss := range byDS {
		if !seen[id] && len(ss) > 0 {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	order = append(order, extra...)
	for _, id := range order {
		d, ok := reg.Get(id)
		if !ok {
			d = &configs.Dataset{ID: id, Name: id, Status: "unknown"}
		}
		rep.Datasets = append(rep.Datasets, buildDataset(d, reg.ContactsFor(id), byDS[id], rep, probes))
		delete(byDS, id)
	}
	if rep.Datasets == nil {
		rep.Datasets = []DatasetReport{}
	}
	rep.NothingFound = []DatasetRef{}
	for _, d := range reg.Retracted() {
		if !seen[d.ID] {
			rep.NothingFound = append(rep.NothingFound, DatasetRef{ID: d.ID, Name: d.Name})
		}
	}
	return rep, nil
}

func viewRun(r reports.Run) RunView {
	v := RunView{ID: r.ID, Started: r.Started.UTC(), Mode: r.Mode, Complete: r.Complete, New: r.New, Gone: r.Gone,
		Reappeared: r.Reappeared, Sources: r.Sources}
	if !r.Finished.IsZero() {
		f := r.Finished.UTC()
		v.Finished = &f
	}
	if v.Sources == nil {
		v.Sources = []reports.SourceStat{}
	}
	if v.Finished != nil { // sources get their status when the run finishes
		v.Coverage = CoverageOf(v.Sources)
	}
	return v
}

var relRank = func() map[extract.Relation]int {
	m := map[extract.Relation]int{}
	for i, r := range extract.Relations {
		m[r] = i
	}
	return m
}()

// isPostRetraction says whether a sighting's artifact appeared after the dataset's retraction.
func isPostRetraction(s *reports.Sighting, d *configs.Dataset) bool {
	if s.PostRetraction {
		return true
	}
	p := s.Artifact.Published
	return p != "" && d.RetractedOn != "" && p >= d.RetractedOn
}

// eachSighting streams the store's sightings where it can, else reads them all.
func eachSighting(ctx context.Context, st reports.Store, fn func(*reports.Sighting) error) error {
	if ss, ok := st.(reports.SightingStreamer); ok {
		return ss.EachSighting(ctx, reports.SightingQuery{}, fn)
	}
	all, err := st.Sightings(ctx, reports.SightingQuery{})
	if err != nil {
		return err
	}
	for i := range all {
		if err := fn(&all[i]); err != nil {
			return err
		}
	}
	return nil
}

// viewBuilder turns stored sightings into the views a report keeps. Strings that repeat across
// rows (sources, kinds, hosts, run ids, evidence fields and rules) are kept once.
type viewBuilder struct {
	reg  *configs.Registry
	run  RunView
	back map[eventKey]reappearance
	strs map[string]string
	ds   map[string]*configs.Dataset
	// noText leaves the excerpts out (Report.fillExcerpts reads them when they are shown).
	noText bool
}

func (b *viewBuilder) str(s string) string {
	if v, ok := b.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	b.strs[s] = s
	return s
}

func (b *viewBuilder) dataset(id string) *configs.Dataset {
	if d, ok := b.ds[id]; ok {
		return d
	}
	if b.ds == nil {
		b.ds = map[string]*configs.Dataset{}
	}
	d, ok := b.reg.Get(id)
	if !ok {
		d = &configs.Dataset{ID: id, Name: id, Status: "unknown"}
	}
	b.ds[id] = d
	return d
}

// view is the report's view of one sighting (as of the report's run).
func (b *viewBuilder) view(x *reports.Sighting) SightingView {
	run := b.run
	// Exact-size copies: the decoder's slices have room to grow, which the report would keep.
	ev := make([]extract.Evidence, len(x.Evidence))
	for i, e := range x.Evidence {
		e.Field, e.Rule, e.Detail, e.Snippet = b.str(e.Field), b.str(e.Rule), b.str(e.Detail), b.str(e.Snippet)
		ev[i] = e
	}
	var chain []string
	if x.Chain != nil {
		chain = make([]string, len(x.Chain))
		for i, c := range x.Chain {
			chain[i] = b.str(c) // lineage chains share their ancestors
		}
	}
	v := SightingView{
		Artifact: ArtifactRef{ID: x.Artifact.ID, Source: b.str(x.Artifact.Source), Kind: b.str(x.Artifact.Kind), URL: x.Artifact.URL,
			Title: x.Artifact.Title, Host: b.str(x.Artifact.Host()), Published: b.str(x.Artifact.Published), InfoHash: strings.ToLower(x.Artifact.InfoHash)},
		Relation: extract.Relation(b.str(string(x.Relation))), Confidence: x.Confidence, Evidence: ev, Via: b.str(x.Via), Chain: chain,
		PostRetraction: isPostRetraction(x, b.dataset(x.Dataset)), FirstSeen: x.FirstSeen.UTC(), LastSeen: x.LastSeen.UTC(),
		FirstRun: b.str(x.FirstRun), LastRun: b.str(x.LastRun), Gone: x.Gone, New: x.FirstRun == run.ID,
	}
	if !b.noText {
		v.Excerpt = excerpt(x.Artifact.Text)
	}
	if x.Gone {
		g := x.GoneSince.UTC()
		v.GoneSince, v.GoneHow = &g, b.str(x.GoneHow)
		v.GoneNow = !g.Before(run.Started) && (run.Finished == nil || !g.After(*run.Finished))
	}
	if r, ok := b.back[eventKey{x.Artifact.ID, x.Dataset, x.Relation}]; ok && !x.Gone {
		at := r.at
		v.Reappeared, v.ReappearedAt = true, &at
		if !r.wasGone.IsZero() {
			g := r.wasGone
			v.WasGoneSince = &g
		}
	}
	return v
}

// excerpt is the start of an artifact's text for the HTML pages, in memory of its own (not a
// slice that keeps the whole text).
func excerpt(text string) string {
	e := truncate(text, ExcerptRunes)
	if len(e) == len(text) {
		return strings.Clone(e)
	}
	return e
}

func buildDataset(d *configs.Dataset, contacts []configs.Contact, ss []SightingView, rep *Report, probes []reports.SwarmProbe) DatasetReport {
	dr := DatasetReport{ID: d.ID, Name: d.Name, Status: d.Status, Retracted: d.IsRetraction(), RetractedOn: d.RetractedOn, Reason: d.Reason,
		AnnouncementURL: d.AnnouncementURL}
	if len(d.RetractedOn) >= 4 {
		fmt.Sscanf(d.RetractedOn[:4], "%d", &dr.retractionYear)
	}
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := &ss[i], &ss[j]
		if a.Gone != b.Gone {
			return !a.Gone
		}
		if relRank[a.Relation] != relRank[b.Relation] {
			return relRank[a.Relation] < relRank[b.Relation]
		}
		if a.Confidence != b.Confidence {
			return a.Confidence > b.Confidence
		}
		return a.Artifact.ID < b.Artifact.ID
	})
	torrents := map[string]string{} // infohash -> artifact id of live torrent sightings
	s := &dr.Summary
	dr.Sightings = ss
	for i := range ss {
		v := &ss[i]
		if v.Reappeared {
			s.ReappearedSinceLastRun++
		}
		s.Total++
		if v.New {
			s.NewSinceLastRun++
		}
		if v.GoneNow {
			s.GoneSinceLastRun++
		}
		if v.Relation == extract.Uses && v.Artifact.Kind == artifact.KindPaper && v.PostRetraction {
			s.PapersSinceRetraction++
		}
		if v.Gone {
			s.Gone++
			continue
		}
		s.Live++
		switch v.Relation {
		case extract.Copy:
			s.LiveCopies++
		case extract.Derivative:
			s.Derivatives++
		case extract.TrainedOn:
			s.TrainedOnModels++
		case extract.Uses:
			s.Uses++
		case extract.Studies:
			s.Studies++
		case extract.Mention:
			s.Mentions++
		}
		if v.Artifact.InfoHash != "" && v.Relation.Scored() == "data" {
			torrents[v.Artifact.InfoHash] = v.Artifact.ID
		}
	}
	addKnownSwarms(torrents, d, probes) // the registry's probed info-hashes (swarm_series.go)
	s.Torrents = len(torrents)
	dr.Swarms = swarmHealth(torrents, probes)
	for _, sw := range dr.Swarms {
		if sw.Alive {
			s.SwarmsAlive++
		}
	}
	dr.Actions = actions(contacts, dr.Sightings)
	dr.Timeline = timeline(ss, rep.Runs)
	dr.PapersPerYear = papersPerYear(ss, dr.retractionYear)
	return dr
}

func swarmHealth(torrents map[string]string, probes []reports.SwarmProbe) []SwarmHealth {
	by := map[string][]reports.SwarmProbe{}
	for _, p := range probes {
		if _, ok := torrents[p.InfoHash]; ok {
			by[p.InfoHash] = append(by[p.InfoHash], p)
		}
	}
	out := []SwarmHealth{}
	for ih, aid := range torrents {
		ps := runSeries(by[ih]) // one point per run (swarm_series.go)
		h := SwarmHealth{InfoHash: ih, ArtifactID: aid, Seeders: -1, Leechers: -1, Completed: -1, Peers: -1, Trend: "unprobed", Series: ps,
			History: swarmPoints(ps)}
		if len(ps) > 0 {
			last := ps[len(ps)-1]
			h.At, h.Seeders, h.Leechers, h.Completed, h.Peers, h.Alive = last.At, last.Seeders, last.Leechers, last.Completed, last.Peers, last.Alive()
			h.Trend = "new"
			if len(ps) > 1 {
				prev := ps[len(ps)-2]
				switch {
				case last.Seeders > prev.Seeders:
					h.Trend = "up"
				case last.Seeders < prev.Seeders:
					h.Trend = "down"
				default:
					h.Trend = "flat"
				}
			}
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InfoHash < out[j].InfoHash })
	return out
}

// actionable says whether a live sighting is something a steward can ask a host to act on.
func actionable(r extract.Relation) bool {
	return r == extract.Copy || r == extract.Derivative || r == extract.TrainedOn
}

// contactFor picks the contact whose host is the longest suffix of host (the dataset's own
// contacts come first in the list and win ties).
func contactFor(contacts []configs.Contact, host string) (configs.Contact, bool) {
	best := -1
	var out configs.Contact
	for _, c := range contacts {
		h := strings.ToLower(strings.TrimPrefix(c.Host, "www."))
		hh := strings.TrimPrefix(host, "www.")
		if (hh == h || strings.HasSuffix(hh, "."+h)) && len(h) > best {
			best, out = len(h), c
		}
	}
	return out, best >= 0
}

// sourceHosts are the hosts of the sources' artifacts, for a copy found at another address.
var sourceHosts = map[string]string{
	artifact.SourceHuggingFace: "huggingface.co", artifact.SourceGitHub: "github.com", artifact.SourceZenodo: "zenodo.org",
	artifact.SourceKaggle: "kaggle.com", artifact.SourceAcademicTorrents: "academictorrents.com",
}

func actions(contacts []configs.Contact, ss []SightingView) []HostActions {
	by := map[string]*HostActions{}
	for _, s := range ss {
		if s.Gone || !actionable(s.Relation) {
			continue
		}
		host, servedAt := s.Artifact.Host, ""
		c, ok := contactFor(contacts, host)
		if sh := sourceHosts[s.Artifact.Source]; !ok && sh != "" && sh != host {
			if c, ok = contactFor(contacts, sh); ok {
				host, servedAt = sh, s.Artifact.Host
			}
		}
		key := host + "\x00" + servedAt
		h := by[key]
		if h == nil {
			h = &HostActions{Host: host, ServedAt: servedAt, Items: []ActionItem{}}
			if ok {
				h.How, h.URL, h.Contact, h.Uncertain = c.How, c.URL, true, c.Uncertain
			} else {
				h.How = "No contact for this host in the registry: use the host's abuse or takedown process."
			}
			by[key] = h
		}
		h.Items = append(h.Items, ActionItem{ArtifactID: s.Artifact.ID, URL: s.Artifact.URL, Title: s.Artifact.Title, Relation: s.Relation})
	}
	out := make([]HostActions, 0, len(by))
	for _, h := range by {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Items) != len(out[j].Items) {
			return len(out[i].Items) > len(out[j].Items)
		}
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].ServedAt < out[j].ServedAt
	})
	return out
}

// timeline counts live sightings at each run's time: first seen by then and not gone by then.
func timeline(ss []SightingView, runs []RunView) []TimelinePoint {
	out := make([]TimelinePoint, 0, len(runs))
	for _, r := range runs {
		at := r.At()
		p := TimelinePoint{RunID: r.ID, At: at}
		for i := range ss {
			x := &ss[i]
			if x.FirstRun == r.ID {
				p.New++
			}
			if x.Gone && !x.GoneSince.Before(r.Started) && !x.GoneSince.After(at) {
				p.Gone++
			}
			if x.FirstSeen.After(at) || (x.Gone && !x.GoneSince.After(at)) {
				continue
			}
			p.Live++
			switch x.Relation.Scored() {
			case "data":
				p.Data++
			case "model":
				p.Model++
			case "uses":
				p.Uses++
			}
		}
		out = append(out, p)
	}
	return out
}

func papersPerYear(ss []SightingView, retYear int) []YearCount {
	by := map[int]int{}
	for i := range ss {
		x := &ss[i]
		if x.Relation != extract.Uses || x.Artifact.Kind != artifact.KindPaper || len(x.Artifact.Published) < 4 {
			continue
		}
		var y int
		if _, err := fmt.Sscanf(x.Artifact.Published[:4], "%d", &y); err == nil && y > 1900 {
			by[y]++
		}
	}
	out := []YearCount{}
	for y, n := range by {
		out = append(out, YearCount{Year: y, Papers: n, AfterRetraction: retYear > 0 && y > retYear})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// evidenceOrEmpty keeps report.json's evidence an array, never null.
func evidenceOrEmpty(e []extract.Evidence) []extract.Evidence {
	if e == nil {
		return []extract.Evidence{}
	}
	return e
}

// eventKey names one sighting in the store's events.
type eventKey struct {
	artifact, dataset string
	relation          extract.Relation
}

// reappearance is a sighting the run saw again after it had gone.
type reappearance struct {
	at, wasGone time.Time
}

// reappearances returns the sightings that came back in run (a "reappeared" event of the run),
// each with when it had gone (its last "gone" event before the run). Stores that keep no events
// have none.
func reappearances(ctx context.Context, st reports.Store, run RunView) (map[eventKey]reappearance, error) {
	el, ok := st.(reports.EventLister)
	if !ok || run.Reappeared == 0 {
		return nil, nil
	}
	evs, err := el.Events(ctx, reports.EventQuery{RunID: run.ID, Kind: reports.EventReappeared})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	out := make(map[eventKey]reappearance, len(evs))
	for _, e := range evs {
		out[eventKey{e.ArtifactID, e.Dataset, e.Relation}] = reappearance{at: e.At.UTC()}
	}
	gones, err := el.Events(ctx, reports.EventQuery{Kind: reports.EventGone})
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	for _, e := range gones { // newest first: the first before the run is the last time it went
		k := eventKey{e.ArtifactID, e.Dataset, e.Relation}
		r, ok := out[k]
		if !ok || !r.wasGone.IsZero() || e.RunID == run.ID || e.At.After(run.Started) {
			continue
		}
		r.wasGone = e.At.UTC()
		out[k] = r
	}
	return out, nil
}
