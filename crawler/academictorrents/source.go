// Package academictorrents is the Academic Torrents source adapter. It downloads the public
// catalogue (database.xml, as AT asks robots to do, conditionally so an unchanged catalogue costs a
// 304), matches every item against the registry's names, info-hashes and file sizes, reads the
// details page of each match (goquery) and hands the .torrent to package torrent for the file list.
// Only metadata is ever fetched, never content.
package academictorrents

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/torrent"
)

// Name is the source's name.
const Name = artifact.SourceAcademicTorrents

// Job kinds.
const (
	KindCatalogue = "catalogue" // database.xml
	KindDetails   = "details"   // /details/<infohash> (404 => gone)
	KindTorrent   = "torrent"   // /download/<infohash>.torrent
)

const (
	metaSpecs  = "specs"  // JSON []Spec the catalogue is matched against
	metaReason = "reason" // why the catalogue item matched
	// metaFollowNone: the catalogue answer is the one already followed (see PlanIncremental).
	metaFollowNone = "follow_none"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL = "https://academictorrents.com"
	// MaxMatches bounds the matched items followed per catalogue (each costs two requests).
	MaxMatches = 500
)

// AT documents no rate limit and asks robots to download database.xml and search locally; the
// adapter keeps to one request every two seconds.
const (
	DefaultRatePerSecond = 0.5
	DefaultBurst         = 1
)

func init() {
	crawler.Register(Name, New)
	// The live database.xml is tens of MB, over the fetcher's 16 MiB default.
	crawler.SetSourceLimits(Name, crawler.SourceLimits{MaxBody: CatalogueMaxBody})
}

// CatalogueMaxBody bounds Academic Torrents responses (database.xml is tens of MB).
const CatalogueMaxBody = 256 << 20

// Source is the Academic Torrents adapter.
type Source struct {
	base       string
	catalogue  string // path of the catalogue, "/database.xml"
	maxMatches int
}

// New builds the adapter. Options: catalogue (path, default /database.xml; /rss.xml for the recent
// entries only), max_matches (int).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	s := &Source{base: strings.TrimRight(cfg.BaseURL, "/"), catalogue: "/database.xml", maxMatches: MaxMatches}
	if s.base == "" {
		s.base = DefaultBaseURL
	}
	if u, err := url.Parse(s.base); err != nil || u.Host == "" {
		return nil, fmt.Errorf("academictorrents: base_url %q is not a URL", cfg.BaseURL)
	}
	if v, ok := cfg.Options["catalogue"]; ok {
		if !strings.HasPrefix(v, "/") {
			return nil, fmt.Errorf("academictorrents: options.catalogue: %q is not a path", v)
		}
		s.catalogue = v
	}
	if v, ok := cfg.Options["max_matches"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("academictorrents: options.max_matches: %q is not a positive integer", v)
		}
		s.maxMatches = n
	}
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates implements crawler.Rater.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	return map[string]crawler.Rate{Name: {PerSecond: DefaultRatePerSecond, Burst: DefaultBurst,
		Doc: "Academic Torrents: no documented limit; one request every 2 s, catalogue fetched conditionally"}}
}

// Plan implements crawler.Source: PlanIncremental with the zero plan (list everything).
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	return s.PlanIncremental(ctx, datasets, crawler.Incremental{})
}

// metaUnchangedSkip marks a catalogue job of a run that lists only what changed: when the
// catalogue answers 304 (unchanged since the run that last fetched it, which followed every
// match), its matches are not followed again.
const metaUnchangedSkip = "follow_changed_only"

// PlanIncremental implements crawler.IncrementalPlanner: one catalogue job carrying every
// dataset's match spec. The catalogue is the whole list in one request, so every run's listing
// is complete (gone detection works on every run). What a filtered plan (only what changed)
// saves is the two requests per matched torrent (details page and .torrent): a torrent is named
// by the SHA-1 of its info dictionary, so a known info-hash's files cannot change, and when the
// catalogue is unchanged (a 304: AT serves database.xml with validators and asks robots to fetch
// it rather than crawl, docs/searching.md of academictorrents-docs) nothing in it is new. The
// catalogue rows carry no date (fixtures: database_xml_excerpt_from_official_docs.xml: title,
// category, infohash, guid, link, description, size), so a changed catalogue is followed in full.
// Known torrents are still looked at, a bounded rotating sample per run, by the run's re-checks
// (crawler.Rechecker: details page and .torrent, and the swarm source scrapes what they return).
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	specs := make([]Spec, 0, len(datasets))
	for _, d := range datasets {
		specs = append(specs, SpecFor(d))
	}
	if len(specs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(specs)
	if err != nil {
		return nil, fmt.Errorf("academictorrents: plan: %w", err)
	}
	sum := sha1.Sum(b)
	u := s.base + s.catalogue
	j := crawler.Job{ID: crawler.Key(Name, KindCatalogue, u), Source: Name, Kind: KindCatalogue, URL: u,
		Meta: map[string]string{metaSpecs: string(b), webapi.MetaScope: Name + ":" + s.catalogue + "#" + hex.EncodeToString(sum[:6])}}
	if inc.Filtered() {
		j.Meta[metaUnchangedSkip] = "1"
	}
	return []crawler.Job{j}, nil
}

// Recheck returns a job that looks at one known torrent's details page; a 404 marks it gone.
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	h, ok := strings.CutPrefix(artifactID, "at:")
	if !ok || !hashRE.MatchString(h) {
		return crawler.Job{}, false
	}
	a := artifact.Artifact{ID: artifactID, Source: Name, Kind: artifact.KindTorrent, URL: s.base + "/details/" + h, InfoHash: h}
	return s.detailsJob(crawler.Job{}, a, ""), true
}

func (s *Source) detailsJob(parent crawler.Job, a artifact.Artifact, reason string) crawler.Job {
	u := s.base + "/details/" + a.InfoHash
	return crawler.Job{ID: crawler.Key(Name, KindDetails, u), RunID: parent.RunID, Source: Name, Kind: KindDetails, URL: u,
		Dataset: parent.Dataset, Meta: map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a), metaReason: reason}}
}

func (s *Source) torrentJob(parent crawler.Job, a artifact.Artifact) crawler.Job {
	u := s.base + "/download/" + a.InfoHash + ".torrent"
	return crawler.Job{ID: crawler.Key(Name, KindTorrent, u), RunID: parent.RunID, Source: Name, Kind: KindTorrent, URL: u,
		Dataset: parent.Dataset, Meta: map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)}}
}

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	accept := "text/html"
	switch job.Kind {
	case KindCatalogue:
		accept = "application/xml, application/rss+xml"
	case KindTorrent:
		accept = "application/x-bittorrent"
	case KindDetails:
	default:
		return res, fmt.Errorf("academictorrents: unknown job kind %q", job.Kind)
	}
	resp, err := f.Fetch(ctx, crawler.Request{Source: Name, URL: job.URL, Header: map[string][]string{"Accept": {accept}}})
	if err != nil {
		return res, fmt.Errorf("academictorrents %s: %w", job.Kind, err)
	}
	switch class := webapi.Classify(resp); {
	case class == webapi.OK:
	case class == webapi.Gone && job.Kind == KindDetails:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return res, nil
	case class == webapi.Gone && job.Kind == KindTorrent:
		// The details page exists but the .torrent is gone: keep what the page said.
		a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
		if err != nil {
			return res, err
		}
		res.Artifacts = append(res.Artifacts, a)
		res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: %s: .torrent not found (HTTP %d): no file list", a.ID, resp.Status))
		return res, nil
	case class == webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	default:
		return res, webapi.StatusErr(resp)
	}
	switch job.Kind {
	case KindCatalogue:
		if job.Meta[metaUnchangedSkip] != "" && resp.FromCache {
			job.Meta = webapi.CopyMeta(job.Meta, metaFollowNone, "1")
		}
		return s.handleCatalogue(job, resp.Body, res)
	case KindDetails:
		return s.handleDetails(job, resp.Body, res)
	}
	return s.handleTorrent(job, resp.Body, res)
}

func (s *Source) handleCatalogue(job crawler.Job, body []byte, res crawler.Result) (crawler.Result, error) {
	var specs []Spec
	if err := json.Unmarshal([]byte(job.Meta[metaSpecs]), &specs); err != nil {
		return res, fmt.Errorf("academictorrents: catalogue job without a valid match spec: %w", err)
	}
	var ids []string
	truncated := false
	unfollowed := 0
	var brokenMatches []string
	st, err := ParseCatalogue(body, func(it Item) error {
		for i := range specs {
			reason := specs[i].Match(it)
			if reason == "" {
				continue
			}
			id := "at:" + it.InfoHash
			if it.Malformed {
				// Kept in the listing (its torrent is not gone, its entry is broken), not followed.
				ids = append(ids, id)
				brokenMatches = append(brokenMatches, id+" ("+specs[i].Dataset+": "+reason+")")
				return nil
			}
			if len(ids) >= s.maxMatches {
				truncated = true
				return nil
			}
			a := artifact.Artifact{ID: id, Source: Name, Kind: artifact.KindTorrent,
				URL: s.base + "/details/" + it.InfoHash, Title: it.Title, Text: it.Description, InfoHash: it.InfoHash}
			if it.Category != "" {
				a.Tags = append(a.Tags, "category:"+it.Category)
			}
			ids = append(ids, a.ID)
			if job.Meta[metaFollowNone] != "" {
				unfollowed++
				return nil
			}
			j := s.detailsJob(job, a, specs[i].Dataset+": "+reason)
			j.Dataset = specs[i].Dataset
			res.Next = append(res.Next, j)
			return nil
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: catalogue %s: %d items, %d matched, %d without a valid info-hash skipped, %d malformed skipped",
		s.catalogue, st.Items, len(ids)-len(brokenMatches), st.Skipped, st.Malformed))
	if unfollowed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: catalogue unchanged since it was last fetched (HTTP 304) on a run that lists only what changed: "+
			"its %d matches, all known, not followed again (a sample is re-checked every run, every one on a full listing)", unfollowed))
	}
	if len(brokenMatches) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: %d malformed catalogue entries match a watched dataset (not followed, kept listed): %s",
			len(brokenMatches), strings.Join(brokenMatches[:min(5, len(brokenMatches))], "; ")))
	}
	switch {
	case truncated:
		res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: more than %d matches: the rest skipped (options.max_matches)", s.maxMatches))
	case !st.Complete:
		res.Notes = append(res.Notes, fmt.Sprintf("academictorrents: catalogue %s ends before </channel> (cut off): no listing for gone detection", s.catalogue))
	default:
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: ids}
	}
	return res, nil
}

func (s *Source) handleDetails(job crawler.Job, body []byte, res crawler.Result) (crawler.Result, error) {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return res, err
	}
	d, err := ParseDetails(body)
	if err != nil {
		return res, fmt.Errorf("academictorrents %s: %w", a.ID, err)
	}
	if a.Title == "" {
		a.Title = d.Title
	}
	var text []string
	if d.Description != "" && !strings.Contains(a.Text, d.Description) {
		text = append(text, d.Description)
	} else if a.Text != "" {
		text = append(text, a.Text)
	}
	if d.Bibtex != "" {
		text = append(text, d.Bibtex)
	}
	a.Text = strings.Join(text, "\n\n")
	if d.Category != "" && len(a.Tags) == 0 {
		a.Tags = append(a.Tags, "category:"+d.Category)
	}
	a.Published = d.Added
	for _, f := range d.Files {
		fl := artifact.File{Path: f.Path}
		if f.Size >= 0 {
			fl.Size = artifact.Size(f.Size)
		}
		a.Files = append(a.Files, fl)
	}
	if d.Seeders >= 0 {
		a.Tags = append(a.Tags, fmt.Sprintf("seeders:%d", d.Seeders))
	}
	if d.Leechers >= 0 {
		a.Tags = append(a.Tags, fmt.Sprintf("leechers:%d", d.Leechers))
	}
	res.Next = append(res.Next, s.torrentJob(job, a))
	return res, nil
}

func (s *Source) handleTorrent(job crawler.Job, body []byte, res crawler.Result) (crawler.Result, error) {
	carried, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return res, err
	}
	m, err := torrent.ParseMetainfo(body)
	if err != nil {
		return res, fmt.Errorf("academictorrents %s: %w", carried.ID, err)
	}
	if carried.InfoHash != "" && m.InfoHash != carried.InfoHash {
		return res, fmt.Errorf("academictorrents %s: the .torrent's info-hash is %s", carried.ID, m.InfoHash)
	}
	a := m.Artifact(Name, carried.URL)
	// The catalogue's title and the page's description say what the uploader calls it; the
	// torrent's own name (often a file or folder name) and metadata follow in the text.
	if carried.Title != "" {
		a.Title = carried.Title
	}
	if carried.Text != "" {
		a.Text = carried.Text + "\n\n" + a.Text
	}
	a.Tags = append(carried.Tags, a.Tags...)
	if a.Published == "" {
		a.Published = carried.Published
	}
	if len(a.Files) == 0 {
		a.Files = carried.Files
	}
	res.Artifacts = append(res.Artifacts, a)
	return res, nil
}
