package academictorrents

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

const (
	catalogueFixture = "database_xml_excerpt_from_official_docs.xml"
	torrentFixture   = "download_55a8925a8d546b9ca47d309ab438b91f7959e77f.torrent"
	torrentHash      = "55a8925a8d546b9ca47d309ab438b91f7959e77f"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCatalogueRecorded(t *testing.T) {
	var items []Item
	st, err := ParseCatalogue(fixture(t, catalogueFixture), func(it Item) error { items = append(items, it); return nil })
	if err != nil || st != (CatalogueStats{Items: 2, Complete: true}) {
		t.Fatalf("%+v err %v", st, err)
	}
	first := items[0]
	if first.Title != "MLDS-DS3-10000-v1.0" || first.Category != "Dataset" || first.InfoHash != "b2bbaccd349e8e2954a438ced6fc01adae4ea1f1" ||
		first.Size != 1354135939103 || first.Link != "http://academictorrents.com/details/b2bbaccd349e8e2954a438ced6fc01adae4ea1f1" ||
		!strings.HasPrefix(first.Description, "Machine Learning Dataset, DS3-10000 v1.0") {
		t.Fatalf("first item %+v", first)
	}
	if items[1].InfoHash != "c143f1b108fe5ab748d5a6f1ff7b2a6271e4219d" || items[1].Size != 677223180049 {
		t.Fatalf("second item %+v", items[1])
	}
}

func TestParseCatalogueBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"html":    "<html><body>maintenance</body></html>",
		"not xml": "d8:announce",
	} {
		if _, err := ParseCatalogue([]byte(body), func(Item) error { return nil }); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A body cut off inside an item: the item is malformed and the catalogue is not complete (no
	// listing may come of it), but nothing read before the cut is lost.
	st, err := ParseCatalogue([]byte(`<rss version="2.0"><channel><item><title>x</title>`), func(Item) error { return nil })
	if err != nil || st != (CatalogueStats{Malformed: 1}) {
		t.Errorf("truncated: %+v %v", st, err)
	}
	st, err = ParseCatalogue([]byte(`<rss><channel><item><title>x</title><infohash>nothex</infohash></item></channel></rss>`), func(Item) error { return nil })
	if err != nil || st != (CatalogueStats{Skipped: 1, Complete: true}) {
		t.Fatalf("bad hash item: %+v %v", st, err)
	}
	// A size that is not a number does not lose the item (or the catalogue).
	var got []Item
	st, err = ParseCatalogue([]byte(`<rss><channel><item><title>x</title><infohash>`+strings.Repeat("ab", 20)+`</infohash><size>unknown</size></item></channel></rss>`),
		func(it Item) error { got = append(got, it); return nil })
	if err != nil || st.Items != 1 || got[0].Size != -1 {
		t.Fatalf("bad size item: %+v %v %+v", st, err, got)
	}
}

func TestSpecMatch(t *testing.T) {
	var items []Item
	if _, err := ParseCatalogue(fixture(t, catalogueFixture), func(it Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec Spec
		want []string // reason per item, "" for no match
	}{
		{Spec{Terms: []string{"DS3 5000"}}, []string{"", `name "DS3 5000"`}},
		{Spec{Terms: []string{"parameter-space analysis"}}, []string{`name "parameter-space analysis"`, `name "parameter-space analysis"`}},
		{Spec{Terms: []string{"DS3-500"}}, []string{"", ""}}, // word-bounded: no prefix match
		{Spec{Sizes: []int64{677223180049}}, []string{"", "size 677223180049 bytes equals a known file"}},
		{Spec{InfoHashes: []string{"b2bbaccd349e8e2954a438ced6fc01adae4ea1f1"}}, []string{"infohash b2bbaccd349e8e2954a438ced6fc01adae4ea1f1", ""}},
	}
	for _, c := range cases {
		for i, it := range items {
			if got := c.spec.Match(it); got != c.want[i] {
				t.Errorf("spec %+v item %d: %q, want %q", c.spec, i, got, c.want[i])
			}
		}
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	books3, ok := reg.Get("books3")
	if !ok {
		t.Fatal("no books3 in the registry")
	}
	sp := SpecFor(books3)
	if got := sp.Match(Item{Title: "pretraining-text-mirror", InfoHash: strings.Repeat("a", 40), Size: 39516981435}); !strings.HasPrefix(got, "size 39516981435") {
		t.Errorf("books3 size fingerprint: %q (spec %+v)", got, sp)
	}
}

const detailsPage = `<!DOCTYPE html><html><head><title>CelebFaces mirror - Academic Torrents</title>
<meta name="description" content="short"></head><body>
<h1>CelebFaces mirror</h1>
<div id="description">Aligned 112x112 crops. See the paper.</div>
<p><span id="category">Dataset</span> · added <time datetime="2021-03-04T10:00:00Z">March 4, 2021</time></p>
<p>12 seeders, 3 leechers</p>
<pre class="bibtex">@misc{x, title={CelebFaces mirror}}</pre>
<table class="files"><tr><th>File</th><th>Size</th></tr>
<tr><td>faces/train.rec</td><td data-bytes="1234567">1.2 MB</td></tr>
<tr><td>faces/README.txt</td><td>2.0 KB</td></tr></table>
</body></html>`

func TestParseDetails(t *testing.T) {
	d, err := ParseDetails([]byte(detailsPage))
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "CelebFaces mirror" || d.Description != "Aligned 112x112 crops. See the paper." || d.Category != "Dataset" ||
		d.Added != "2021-03-04" || d.Seeders != 12 || d.Leechers != 3 || !strings.HasPrefix(d.Bibtex, "@misc{x") {
		t.Fatalf("details %+v", d)
	}
	if len(d.Files) != 2 || d.Files[0] != (DetailFile{"faces/train.rec", 1234567}) || d.Files[1] != (DetailFile{"faces/README.txt", 2048}) {
		t.Fatalf("files %+v", d.Files)
	}
	// A sparser layout: og tags only.
	d, err = ParseDetails([]byte(`<html><head><meta property="og:title" content="T"><meta property="og:description" content="D"></head><body>Seeders: 0</body></html>`))
	if err != nil || d.Title != "T" || d.Description != "D" || d.Seeders != 0 || d.Leechers != -1 {
		t.Fatalf("og page %+v %v", d, err)
	}
	if _, err := ParseDetails([]byte(`<html><body><p>nothing here</p></body></html>`)); err == nil {
		t.Fatal("page without a title accepted")
	}
	for in, want := range map[string]int64{"39516981435": 39516981435, "39,516,981,435 bytes": 39516981435, "36.8 GB": 39513699123, "4GiB": 4 << 30, "lots": -1, "-5": -1} {
		if got := parseSize(in); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
}

// at is a small AT server: the recorded catalogue and .torrent, a details page per item.
func atServer(t *testing.T, detailsStatus int) (*httptest.Server, *[]string) {
	var paths []string
	cat := strings.Replace(string(fixture(t, catalogueFixture)), "</channel>", `<item><title>Van Gogh paintings</title><category>Dataset</category>
<infohash>`+torrentHash+`</infohash><link>http://academictorrents.com/details/`+torrentHash+`</link>
<description>Paintings scraped for style transfer; mirrors MS-Celeb-1M style crawls.</description><size>47622171</size></item></channel>`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch {
		case r.URL.Path == "/database.xml":
			rw.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(rw, cat)
		case r.URL.Path == "/details/"+torrentHash:
			rw.WriteHeader(detailsStatus)
			fmt.Fprint(rw, strings.Replace(detailsPage, "CelebFaces mirror</h1>", "Van Gogh paintings</h1>", 1))
		case r.URL.Path == "/download/"+torrentHash+".torrent":
			rw.Header().Set("Content-Type", "application/x-bittorrent")
			_, _ = rw.Write(fixture(t, torrentFixture))
		case r.URL.Path == "/download/ratelimited.torrent":
			rw.Header().Set("Retry-After", "30")
			rw.WriteHeader(429)
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &paths
}

func newSource(t *testing.T, base string) *Source {
	s, err := New(configs.SourceConfig{BaseURL: base}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

// The whole chain: catalogue (recorded excerpt + one item) -> details page -> recorded .torrent.
func TestHandleCatalogueDetailsTorrent(t *testing.T) {
	srv, _ := atServer(t, 200)
	s := newSource(t, srv.URL)
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", Aliases: []string{"MS-Celeb-1M"}}})
	if err != nil || len(jobs) != 1 || jobs[0].Kind != KindCatalogue || jobs[0].URL != srv.URL+"/database.xml" {
		t.Fatalf("plan %v %+v", err, jobs)
	}
	f := webapitest.NewFetcher()
	res, err := s.Handle(context.Background(), jobs[0], f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Next) != 1 || res.Listing == nil || len(res.Listing.IDs) != 1 || res.Listing.IDs[0] != "at:"+torrentHash {
		t.Fatalf("catalogue: next %+v listing %+v", res.Next, res.Listing)
	}
	if !strings.Contains(res.Notes[0], "3 items, 1 matched") {
		t.Errorf("notes %v", res.Notes)
	}
	det := res.Next[0]
	if det.Kind != KindDetails || det.Dataset != "ms-celeb-1m" || det.Meta[metaReason] != `ms-celeb-1m: name "MS-Celeb-1M"` {
		t.Fatalf("details job %+v", det)
	}
	res, err = s.Handle(context.Background(), det, f)
	if err != nil || len(res.Next) != 1 || res.Next[0].Kind != KindTorrent {
		t.Fatalf("details: %v %+v", err, res)
	}
	res, err = s.Handle(context.Background(), res.Next[0], f)
	if err != nil || len(res.Artifacts) != 1 {
		t.Fatalf("torrent: %v %+v", err, res)
	}
	a := res.Artifacts[0]
	if a.ID != "at:"+torrentHash || a.InfoHash != torrentHash || a.Kind != "torrent" || a.Title != "Van Gogh paintings" ||
		a.URL != srv.URL+"/details/"+torrentHash {
		t.Fatalf("artifact %+v", a)
	}
	if len(a.Files) != 1 || a.Files[0].Path != "vangogh.tar.gz" || a.Files[0].Size == nil || *a.Files[0].Size != 47622171 {
		t.Fatalf("files %+v", a.Files)
	}
	for _, want := range []string{"Aligned 112x112 crops", "@misc{x", "vangogh.tar.gz (47622171 bytes)", "tracker: "} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, a.Text)
		}
	}
	if tags := strings.Join(a.Tags, ","); !strings.Contains(tags, "category:Dataset") || !strings.Contains(tags, "seeders:12") {
		t.Errorf("tags %s", tags)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRecheckGoneAndErrors(t *testing.T) {
	srv, _ := atServer(t, 404)
	s := newSource(t, srv.URL)
	job, ok := s.Recheck("at:" + torrentHash)
	if !ok {
		t.Fatal("recheck refused")
	}
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil || len(res.Gone) != 1 || res.Gone[0] != "at:"+torrentHash {
		t.Fatalf("gone: %v %+v", err, res)
	}
	if _, ok := s.Recheck("at:XYZ"); ok {
		t.Fatal("bad id accepted")
	}
	// 429 on a download: retryable.
	j := s.torrentJob(crawler.Job{}, bareArtifact())
	j.URL = srv.URL + "/download/ratelimited.torrent"
	_, err = s.Handle(context.Background(), j, webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Permanent() || !strings.Contains(se.Msg, "retry after 30s") {
		t.Fatalf("429: %v", err)
	}
	// A .torrent whose info-hash is not the one the catalogue promised is refused.
	j = s.torrentJob(crawler.Job{}, bareArtifact())
	j.URL = srv.URL + "/download/" + torrentHash + ".torrent"
	if _, err := s.Handle(context.Background(), j, webapitest.NewFetcher()); err == nil || !strings.Contains(err.Error(), "info-hash is "+torrentHash) {
		t.Fatalf("mismatch: %v", err)
	}
	// A catalogue that is not RSS is an error, not an empty listing.
	bad := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, "<html>down</html>") }))
	defer bad.Close()
	sb := newSource(t, bad.URL)
	jobs, _ := sb.Plan(context.Background(), []*configs.Dataset{{ID: "x", Name: "Xxxxx"}})
	if res, err := sb.Handle(context.Background(), jobs[0], webapitest.NewFetcher()); err == nil || res.Listing != nil {
		t.Fatalf("html catalogue: %v %+v", err, res.Listing)
	}
}

// bareArtifact is a torrent artifact the catalogue would carry (info-hash bbbb…).
func bareArtifact() (a artifact.Artifact) {
	a.ID, a.Source, a.Kind, a.InfoHash = "at:"+strings.Repeat("b", 40), Name, "torrent", strings.Repeat("b", 40)
	return a
}

func TestCarriedArtifactSurvivesTorrent404(t *testing.T) {
	srv, _ := atServer(t, 200)
	s := newSource(t, srv.URL)
	a := bareArtifact()
	a.Title = "kept"
	j := s.torrentJob(crawler.Job{}, a)
	res, err := s.Handle(context.Background(), j, webapitest.NewFetcher())
	if err != nil || len(res.Artifacts) != 1 || res.Artifacts[0].Title != "kept" || len(res.Notes) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := webapi.DecodeArtifact(j.Meta[webapi.MetaArtifact]); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseCatalogue(f *testing.F) {
	f.Add(fixture(f, catalogueFixture))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseCatalogue(b, func(it Item) error {
			if !hashRE.MatchString(it.InfoHash) {
				t.Fatalf("item with bad hash %q passed", it.InfoHash)
			}
			return nil
		})
	})
}

func FuzzParseDetails(f *testing.F) {
	f.Add([]byte(detailsPage))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDetails(b)
		if err != nil {
			return
		}
		if d.Title == "" {
			t.Fatal("details without a title")
		}
		for _, fl := range d.Files {
			if fl.Size < -1 {
				t.Fatalf("size %d", fl.Size)
			}
		}
	})
}
