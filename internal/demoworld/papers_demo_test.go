package demoworld_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/academictorrents"
	_ "github.com/afterlife-watch/afterlife/crawler/arxiv"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	_ "github.com/afterlife-watch/afterlife/crawler/openalex"
	_ "github.com/afterlife-watch/afterlife/crawler/semanticscholar"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/manuscript"
	"github.com/afterlife-watch/afterlife/torrent"
)

// countingFetcher counts conditional hits (304 served from the validator cache).
type countingFetcher struct {
	*webapitest.Fetcher
	mu        sync.Mutex
	requests  int
	fromCache int
	full      int // 2xx answers with a body (not 304)
}

func (f *countingFetcher) Fetch(ctx context.Context, r crawler.Request) (*crawler.Response, error) {
	resp, err := f.Fetcher.Fetch(ctx, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if err == nil && resp.FromCache {
		f.fromCache++
	} else if err == nil && resp.Status/100 == 2 {
		f.full++
	}
	return resp, err
}

type scan struct {
	artifacts map[string]artifact.Artifact
	gone      map[string]bool
	listings  map[string][]string
	notes     []string
	jobs      int
}

// crawl runs a source's plan to the end, one job at a time (a minimal stand-in for the crawler's
// workers: dedup by job id, follow Next).
func crawl(t *testing.T, src crawler.Source, f crawler.Fetcher, jobs []crawler.Job) scan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := scan{artifacts: map[string]artifact.Artifact{}, gone: map[string]bool{}, listings: map[string][]string{}}
	seen := map[string]bool{}
	for len(jobs) > 0 {
		j := jobs[0]
		jobs = jobs[1:]
		if seen[j.ID] {
			continue
		}
		seen[j.ID] = true
		s.jobs++
		res, err := src.Handle(ctx, j, f)
		if err != nil {
			t.Fatalf("%s job %s %s: %v", src.Name(), j.Kind, j.URL, err)
		}
		for _, a := range res.Artifacts {
			if err := a.Validate(); err != nil {
				t.Fatalf("%s: invalid artifact %+v: %v", src.Name(), a, err)
			}
			s.artifacts[a.ID] = a
		}
		for _, g := range res.Gone {
			s.gone[g] = true
		}
		if res.Listing != nil {
			s.listings[res.Listing.Scope] = res.Listing.IDs
		}
		s.notes = append(s.notes, res.Notes...)
		jobs = append(jobs, res.Next...)
	}
	return s
}

func newSource(t *testing.T, srv *demoworld.Server, name string) crawler.Source {
	t.Helper()
	factory, ok := crawler.Factory(name)
	if !ok {
		t.Fatalf("source %s not registered", name)
	}
	cfg := srv.WatchConfig().Sources[name]
	src, err := factory(cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return src
}

type rechecker interface {
	Recheck(artifactID string) (crawler.Job, bool)
}

// Every planted artifact of the four paper/torrent sources is reached by the jobs the adapter plans
// from the embedded registry, parses to the planted values, and an unchanged world re-scans with
// conditional requests only. Epoch 2 removes and adds artifacts: rechecks say gone, listings drop
// them. The paper sources are handed the run's matcher, as a run does: each planted paper with a
// full text has its PDF fetched exactly once per scan (answered 304 on the re-scan) and comes back
// with it attached; papers whose abstract already says `uses` get no PDF request.
func TestPaperSourcesAgainstDemoWorld(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	total := 0
	matcher := extract.New(reg)
	run := manuscript.NewChecker(reg).WithFullText(matcher)
	for _, name := range []string{"arxiv", "openalex", "semanticscholar", "academictorrents"} {
		t.Run(name, func(t *testing.T) {
			w.SetEpoch(1)
			src := newSource(t, srv, name)
			if a, ok := src.(fulltext.Aware); ok {
				a.UseJudge(run.Match)
			}
			jobs, err := src.Plan(context.Background(), reg.Retracted())
			if err != nil || len(jobs) == 0 {
				t.Fatalf("plan: %v, %d jobs", err, len(jobs))
			}
			f := &countingFetcher{Fetcher: webapitest.NewFetcher()}
			first := crawl(t, src, f, jobs)
			planted := w.Planted(name)
			if len(planted) == 0 {
				t.Fatal("nothing planted")
			}
			total += len(w.Planted(name))
			for _, p := range planted {
				a, ok := first.artifacts[p.ID]
				if !ok {
					t.Errorf("planted %s not reached by the planned queries", p.ID)
					continue
				}
				checkArtifact(t, p, a)
				checkLabels(t, reg, matcher, p, a)
			}
			if len(first.artifacts) != len(planted) {
				var ids []string
				for id := range first.artifacts {
					ids = append(ids, id)
				}
				sort.Strings(ids)
				t.Errorf("found %d artifacts, planted %d: %v", len(first.artifacts), len(planted), ids)
			}
			if len(first.listings) == 0 {
				t.Error("no complete listing")
			}
			pdfs := 0
			for _, p := range planted {
				full, cached := w.PDFRequests(p.ID)
				if miss := w.PDFMisses(p.ID); miss != 0 {
					t.Errorf("%s: a PDF the world does not hold was asked for %d times", p.ID, miss)
				}
				if _, ok := demoworld.FullTextOf(p); !ok {
					if full+cached != 0 {
						t.Errorf("%s has no full text but its PDF was asked for %d times", p.ID, full+cached)
					}
					continue
				}
				pdfs++
				if full != 1 || cached != 0 {
					t.Errorf("%s: PDF served %d times in full and %d times 304 in one scan, want once in full", p.ID, full, cached)
				}
				if _, ok := first.artifacts[p.ID].FullText.(*manuscript.Document); !ok {
					t.Errorf("%s: crawled without its full text attached", p.ID)
				}
			}
			// Re-scan of the unchanged world: every 200 of the first scan comes back 304 (what is
			// left are 404s for dataset papers the demo graph does not hold).
			reqs1, full1 := f.requests, f.full
			f.requests, f.fromCache, f.full = 0, 0, 0
			second := crawl(t, src, f, jobs)
			if len(second.artifacts) != len(first.artifacts) || f.requests != reqs1 || f.full != 0 || f.fromCache != full1 {
				t.Errorf("re-scan: %d artifacts (first %d), %d requests (first %d), %d full answers, %d from cache (first scan %d full)",
					len(second.artifacts), len(first.artifacts), f.requests, reqs1, f.full, f.fromCache, full1)
			}
			for _, p := range planted {
				if _, ok := demoworld.FullTextOf(p); ok {
					if full, cached := w.PDFRequests(p.ID); full != 1 || cached != 1 {
						t.Errorf("%s after the re-scan: PDF served %d times in full and %d times 304, want 1 and 1", p.ID, full, cached)
					}
				}
			}
			t.Logf("%s: %d planted PDFs, first scan %d requests", name, pdfs, reqs1)
			// Epoch 2: what left the world is gone on recheck and missing from the listings;
			// what arrived is found.
			w.SetEpoch(2)
			third := crawl(t, src, f, jobs)
			rc, ok := src.(rechecker)
			if !ok {
				t.Fatal("source has no Recheck")
			}
			for _, p := range planted {
				if p.InEpoch(2) {
					continue
				}
				if _, still := third.artifacts[p.ID]; still {
					t.Errorf("%s (epoch 1 only) still found in epoch 2", p.ID)
				}
				for scope, ids := range third.listings {
					for _, id := range ids {
						if id == p.ID {
							t.Errorf("%s still listed in %s", p.ID, scope)
						}
					}
				}
				j, ok := rc.Recheck(p.ID)
				if !ok {
					t.Fatalf("recheck %s refused", p.ID)
				}
				res := crawl(t, src, f, []crawler.Job{j})
				if !res.gone[p.ID] {
					t.Errorf("recheck of %s in epoch 2: not gone (%+v)", p.ID, res)
				}
			}
			for _, p := range w.Planted(name) {
				if _, ok := third.artifacts[p.ID]; !ok {
					t.Errorf("epoch 2: %s not found", p.ID)
				}
				j, ok := rc.Recheck(p.ID)
				if !ok {
					t.Fatalf("recheck %s refused", p.ID)
				}
				if res := crawl(t, src, f, []crawler.Job{j}); res.gone[p.ID] {
					t.Errorf("recheck of present %s says gone", p.ID)
				}
			}
		})
	}
	if total < 14 {
		t.Errorf("%d planted artifacts over the four sources, want at least 14", total)
	}
}

func checkArtifact(t *testing.T, p demoworld.Planted, a artifact.Artifact) {
	t.Helper()
	if a.Source != p.Source || a.Kind != p.Kind || a.Title != p.Title {
		t.Errorf("%s: source/kind/title %s/%s/%q, planted %s/%s/%q", p.ID, a.Source, a.Kind, a.Title, p.Source, p.Kind, p.Title)
	}
	if !strings.Contains(a.Text, p.Text) {
		t.Errorf("%s: text %q does not contain the planted text", p.ID, a.Text)
	}
	if p.Source != artifact.SourceAcademicTorrents && a.Published != p.Published {
		t.Errorf("%s: published %q, planted %q", p.ID, a.Published, p.Published)
	}
	switch p.Source {
	case artifact.SourceSemanticScholar:
		for _, c := range p.Extra["contexts"].([]any) {
			if !strings.Contains(a.Text, c.(string)) {
				t.Errorf("%s: citation context %q not in text", p.ID, c)
			}
		}
	case artifact.SourceAcademicTorrents:
		if a.InfoHash != p.InfoHash || len(a.Files) != len(p.Files) {
			t.Fatalf("%s: infohash %s files %+v", p.ID, a.InfoHash, a.Files)
		}
		for i, f := range p.Files {
			if a.Files[i].Path != f.Path || a.Files[i].Size == nil || *a.Files[i].Size != *f.Size {
				t.Errorf("%s: file %d = %+v, planted %s %d", p.ID, i, a.Files[i], f.Path, *f.Size)
			}
		}
		if a.Published != p.Published {
			t.Errorf("%s: published %q, planted %q", p.ID, a.Published, p.Published)
		}
	}
}

// The served .torrent files are real metainfo whose info-hash is the planted one.
func TestDemoTorrentsParse(t *testing.T) {
	ps, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		if p.Source != artifact.SourceAcademicTorrents {
			continue
		}
		n++
		b, ih, err := demoworld.ATTorrent(p, "http://127.0.0.1:1/announce.php")
		if err != nil {
			t.Fatal(err)
		}
		m, err := torrent.ParseMetainfo(b)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		if "at:"+m.InfoHash != p.ID || ih != m.InfoHash {
			t.Errorf("%s: served info-hash %s", p.ID, m.InfoHash)
		}
		var total int64
		for _, f := range p.Files {
			total += *f.Size
		}
		if m.TotalSize != total {
			t.Errorf("%s: total %d, planted %d", p.ID, m.TotalSize, total)
		}
	}
	if n < 3 {
		t.Fatalf("%d planted torrents", n)
	}
}

// checkLabels runs the matcher over what the adapter crawled (not over the planted text): each
// planted label is found, and nothing else is scored as afterlife of a retracted dataset.
func checkLabels(t *testing.T, reg *configs.Registry, m *extract.Matcher, p demoworld.Planted, a artifact.Artifact) {
	t.Helper()
	got := map[string]bool{}
	for _, f := range m.Match(&a) {
		d, ok := reg.Get(f.Dataset)
		if f.Context || !ok || !d.IsRetraction() || f.Relation.Scored() == "" {
			continue
		}
		got[f.Dataset+"/"+f.Relation.Scored()] = true
	}
	want := map[string]bool{}
	for _, e := range p.Expect {
		want[e.Dataset+"/"+e.Relation] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s: planted label %s not found in the crawled artifact (found %v)", p.ID, k, got)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: crawled artifact scored %s, planted labels %v", p.ID, k, want)
		}
	}
}
