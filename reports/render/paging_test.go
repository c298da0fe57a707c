package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// largeStore is a store of one dataset's sightings: `trained` models (a relation of many pages),
// 150 copies (one page), on 37 hosts; every 20th model gone in the second run, and the models'
// first-seen days spread so that "newest" is well defined.
type largeWant struct {
	trained, copies     int
	live, gone          int
	hostLive, hostGone  map[string]int
	newest              []string // trained-on ids, newest first
	trainedIDs, copyIDs map[string]bool
}

func largeStore(t *testing.T, trained int) (*reports.SQLiteStore, largeWant) {
	t.Helper()
	st, err := reports.OpenStore(filepath.Join(t.TempDir(), "large.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	w := largeWant{trained: trained, copies: 150, hostLive: map[string]int{}, hostGone: map[string]int{},
		trainedIDs: map[string]bool{}, copyIDs: map[string]bool{}}
	mk := func(i int, rel extract.Relation) reports.Observation {
		kind, prefix := artifact.KindModel, "model"
		if rel == extract.Copy {
			kind, prefix = artifact.KindDataset, "copy"
		}
		a := artifact.Artifact{ID: fmt.Sprintf("big:%s:%06d", prefix, i), Source: artifact.SourceHuggingFace, Kind: kind,
			URL: fmt.Sprintf("https://host%02d.example.org/x/%06d", i%37, i), Title: fmt.Sprintf("Artifact %d", i)}
		return reports.Observation{Artifact: a, Findings: []extract.Finding{{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: rel,
			Confidence: 0.6 + float64(i%40)/100, Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: "MS-Celeb-1M", Start: 0, End: 11}}}}}
	}
	// Run 1 records the copies and the first half of the models; run 2 the other half (so they
	// are newer) and marks every 20th model gone.
	var gone []string
	type seen struct {
		id string
		at time.Time
	}
	var firsts []seen
	for r, rng := range [][2]int{{0, trained / 2}, {trained / 2, trained}} {
		id := fmt.Sprintf("run-%d", r+1)
		at := t0.Add(time.Duration(r) * 24 * time.Hour)
		if err := st.BeginRun(ctx, reports.Run{ID: id, Started: at}); err != nil {
			t.Fatal(err)
		}
		var obs []reports.Observation
		if r == 0 {
			for i := 0; i < w.copies; i++ {
				obs = append(obs, mk(i, extract.Copy))
				w.copyIDs[obs[len(obs)-1].Artifact.ID] = true
			}
		}
		for i := rng[0]; i < rng[1]; i++ {
			o := mk(i, extract.TrainedOn)
			obs = append(obs, o)
			w.trainedIDs[o.Artifact.ID] = true
			firsts = append(firsts, seen{o.Artifact.ID, at})
		}
		for i := 0; i < len(obs); i += 1000 {
			if _, err := st.RecordBatch(ctx, id, at, obs[i:min(i+1000, len(obs))]); err != nil {
				t.Fatal(err)
			}
		}
		if r == 1 {
			for i := 0; i < trained; i += 20 {
				gone = append(gone, fmt.Sprintf("big:model:%06d", i))
			}
			if err := st.MarkGone(ctx, id, gone, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.FinishRun(ctx, id, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	isGone := map[string]bool{}
	for _, g := range gone {
		isGone[g] = true
	}
	for i := 0; i < trained; i++ {
		id := fmt.Sprintf("big:model:%06d", i)
		h := fmt.Sprintf("host%02d.example.org", i%37)
		if isGone[id] {
			w.gone++
			w.hostGone[h]++
		} else {
			w.live++
			w.hostLive[h]++
		}
	}
	sort.SliceStable(firsts, func(i, j int) bool {
		if !firsts[i].at.Equal(firsts[j].at) {
			return firsts[i].at.After(firsts[j].at)
		}
		return firsts[i].id < firsts[j].id
	})
	for _, f := range firsts[:newestShown] {
		w.newest = append(w.newest, f.id)
	}
	return st, w
}

func loadHTML(t *testing.T, path string) *goquery.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// relRows returns the artifact ids of the rows of the sightings table after heading h2#rel-REL
// (the dataset page) or of the page's one table (a relation page).
func relRows(doc *goquery.Document, rel string) []string {
	table := doc.Find("table.sightings")
	if rel != "" {
		table = doc.Find("h2#rel-" + rel).NextAllFiltered("div.scroll").First().Find("table.sightings")
	}
	var ids []string
	table.Find("tr").Each(func(_ int, tr *goquery.Selection) {
		if id := tr.Find("td code").First().Text(); id != "" {
			ids = append(ids, id)
		}
	})
	return ids
}

// TestLargeRelationsArePagedAndSummarised renders a store of 4,321 models trained on one dataset
// and 150 copies of it. The dataset page shows at most RowsPerPage rows of each relation; the
// models are summarised (counts, top hosts, newest) and paged into files of at most RowsPerPage
// rows that together hold every model once; every page link resolves; the small relation is one
// table without a summary. The pages keep the CSP meta element and carry no script.
func TestLargeRelationsArePagedAndSummarised(t *testing.T) {
	const trained = 4321
	st, want := largeStore(t, trained)
	out := t.TempDir()
	if _, err := Write(context.Background(), st, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	pages := (trained + RowsPerPage - 1) / RowsPerPage
	main := filepath.Join(out, "ms-celeb-1m.html")
	doc := loadHTML(t, main)

	// Row caps and the union of the pages.
	seen := map[string]int{}
	first := relRows(doc, string(extract.TrainedOn))
	if len(first) != RowsPerPage {
		t.Errorf("dataset page shows %d model rows, want the first page of %d", len(first), RowsPerPage)
	}
	for _, id := range first {
		seen[id]++
	}
	for k := 2; k <= pages; k++ {
		p := filepath.Join(out, filepath.FromSlash(relPageFile("ms-celeb-1m", string(extract.TrainedOn), k)))
		pd := loadHTML(t, p)
		ids := relRows(pd, "")
		wantRows := RowsPerPage
		if k == pages {
			wantRows = trained - (pages-1)*RowsPerPage
		}
		if len(ids) != wantRows {
			t.Errorf("page %d: %d rows, want %d", k, len(ids), wantRows)
		}
		for _, id := range ids {
			seen[id]++
		}
		checkPageLinks(t, p, pd, 8)
		if pd.Find("script").Length() != 0 || pd.Find(`meta[http-equiv="Content-Security-Policy"]`).Length() != 1 {
			t.Errorf("page %d: a script, or no CSP meta element", k)
		}
		if k == 2 && !strings.Contains(pd.Find("nav.pages").First().Text(), strconv.Itoa(pages)) {
			t.Errorf("page 2 does not link the last page %d: %q", pages, pd.Find("nav.pages").First().Text())
		}
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(relPageFile("ms-celeb-1m", string(extract.TrainedOn), pages+1)))); err == nil {
		t.Errorf("a page %d past the last was written", pages+1)
	}
	if len(seen) != trained {
		t.Errorf("the pages hold %d distinct models, want %d", len(seen), trained)
	}
	for id, n := range seen {
		if n != 1 || !want.trainedIDs[id] {
			t.Errorf("%s shown %d times (planted: %v)", id, n, want.trainedIDs[id])
			break
		}
	}

	// The summary of the large relation: counts, top hosts and newest match the store.
	sum := doc.Find("h2#rel-" + string(extract.TrainedOn)).NextAllFiltered("div.relsummary").First()
	if sum.Length() == 0 {
		t.Fatal("no summary for the models")
	}
	line := sum.Find("p").First().Text()
	wantLine := fmt.Sprintf("%d sightings: %d live, %d gone, on 37 hosts; %d pages of %d.", trained, want.live, want.gone, pages, RowsPerPage)
	if line != wantLine {
		t.Errorf("summary %q, want %q", line, wantLine)
	}
	rows := sum.Find("table.tophosts tr")
	if rows.Length()-1 != topHostsShown {
		t.Errorf("%d top hosts shown, want %d", rows.Length()-1, topHostsShown)
	}
	rows.Each(func(i int, tr *goquery.Selection) {
		if i == 0 {
			return
		}
		td := tr.Find("td")
		h := td.Eq(0).Text()
		if td.Eq(1).Text() != strconv.Itoa(want.hostLive[h]) || td.Eq(2).Text() != strconv.Itoa(want.hostGone[h]) {
			t.Errorf("top host %s: %s live, %s gone; want %d and %d", h, td.Eq(1).Text(), td.Eq(2).Text(), want.hostLive[h], want.hostGone[h])
		}
	})
	// The busiest hosts: 4321 = 37×116 + 29, so host00..host28 have 117 and lead, by name.
	if h := rows.Eq(1).Find("td").First().Text(); h != "host00.example.org" {
		t.Errorf("first top host %s", h)
	}
	var newest []string
	sum.Find("ul.newest li a").Each(func(_ int, a *goquery.Selection) { newest = append(newest, a.Text()) })
	var wantNewest []string
	for _, id := range want.newest {
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "big:model:"))
		wantNewest = append(wantNewest, fmt.Sprintf("Artifact %d", n))
	}
	if strings.Join(newest, ",") != strings.Join(wantNewest, ",") {
		t.Errorf("newest %q, want %q", newest, wantNewest)
	}
	checkPageLinks(t, main, doc, 8)

	// The lists above the tables are cut at MaxListItems and say how many there are.
	newN := trained - trained/2
	newList := doc.Find("h2").FilterFunction(func(_ int, h *goquery.Selection) bool { return h.Text() == "New since the last run" }).Next()
	if n := newList.Find("li").Length(); n != MaxListItems {
		t.Errorf("%d new sightings listed, want %d", n, MaxListItems)
	}
	if txt := newList.Next().Text(); !strings.Contains(txt, fmt.Sprintf("%d of %d listed", MaxListItems, newN)) {
		t.Errorf("no count of the new sightings not listed: %q", txt)
	}
	hostsCut := 0
	doc.Find("h2").FilterFunction(func(_ int, h *goquery.Selection) bool { return h.Text() == "Actions by host" }).NextUntil("h2").Filter("ul").Each(func(_ int, ul *goquery.Selection) {
		if n := ul.Find("li").Length(); n > MaxListItems {
			t.Errorf("a host lists %d actions, over %d", n, MaxListItems)
		} else if n == MaxListItems {
			hostsCut++
		}
	})
	if hostsCut == 0 {
		t.Errorf("no host's actions were cut (each host has over %d live models)", MaxListItems)
	}
	if fi, _ := os.Stat(main); fi.Size() > 2<<20 {
		t.Errorf("the dataset page is %d KB", fi.Size()>>10)
	}

	// The small relation: one table, every copy, no summary, no page files.
	copies := relRows(doc, string(extract.Copy))
	if len(copies) != want.copies {
		t.Errorf("%d copies shown, want %d", len(copies), want.copies)
	}
	if doc.Find("h2#rel-"+string(extract.Copy)).NextUntil("h2").Filter("div.relsummary").Length() != 0 {
		t.Errorf("a summary for a relation of one page")
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(relPageFile("ms-celeb-1m", string(extract.Copy), 2)))); err == nil {
		t.Errorf("a page 2 for %d copies", want.copies)
	}

	// `afterlife serve`: the same pages under /datasets/ID/REL/K, 404 past the last.
	ts := httptest.NewServer(NewServer(st, registry(t), "", nil))
	defer ts.Close()
	for _, c := range []struct {
		path   string
		status int
		rows   int
	}{
		{"/datasets/ms-celeb-1m/" + string(extract.TrainedOn) + "/2", 200, RowsPerPage},
		{"/datasets/ms-celeb-1m/" + string(extract.TrainedOn) + "/" + strconv.Itoa(pages), 200, trained - (pages-1)*RowsPerPage},
		{"/datasets/ms-celeb-1m/" + string(extract.TrainedOn) + "/" + strconv.Itoa(pages+1), 404, 0},
		{"/datasets/ms-celeb-1m/" + string(extract.Copy) + "/2", 404, 0},
		{"/datasets/ms-celeb-1m/nonsense/2", 404, 0},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.status)
			continue
		}
		if c.status == 200 {
			d, _ := goquery.NewDocumentFromReader(bytes.NewReader(body))
			if n := len(relRows(d, "")); n != c.rows {
				t.Errorf("GET %s: %d rows, want %d", c.path, n, c.rows)
			}
			if href, _ := d.Find("nav.pages a").First().Attr("href"); !strings.HasPrefix(href, "/datasets/ms-celeb-1m") {
				t.Errorf("GET %s: page link %q is not a route", c.path, href)
			}
		}
	}
}

// checkPageLinks checks that page's local links (relative ones) resolve to files, at least min of them.
func checkPageLinks(t *testing.T, page string, doc *goquery.Document, min int) {
	t.Helper()
	n := 0
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		u, err := url.Parse(href)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
			return
		}
		n++
		if _, err := os.Stat(filepath.Join(filepath.Dir(page), filepath.FromSlash(u.Path))); err != nil {
			t.Errorf("%s: broken link %s", filepath.Base(page), href)
		}
	})
	if n < min {
		t.Errorf("%s: %d local links, want at least %d", filepath.Base(page), n, min)
	}
}

// Headless Chromium opens a relation's page of a static report: rows, working page links, no
// script, no CSP violation.
func TestBrowserRelationPages(t *testing.T) {
	b := newBrowser(t)
	st, _ := largeStore(t, 1000)
	out := t.TempDir()
	if _, err := Write(context.Background(), st, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	file := func(name string) string {
		return (&url.URL{Scheme: "file", Path: filepath.Join(out, filepath.FromSlash(name))}).String()
	}
	h1 := chromedp.CSS("h1")
	b.do(t, chromedp.Navigate(file(relPageFile("ms-celeb-1m", string(extract.TrainedOn), 3))), chromedp.WaitVisible(h1))
	if got := get(t, b, chromedp.Text(h1)); !strings.Contains(got, "page 3 of 5") {
		t.Errorf("heading %q", got)
	}
	if n := b.count(t, "table.sightings tr"); n != RowsPerPage+1 {
		t.Errorf("%d table rows, want %d and the header", n, RowsPerPage)
	}
	links := get(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("nav.pages a[href]")].map(a => a.href)`))
	if len(links) < 4 {
		t.Fatalf("%d page links", len(links))
	}
	for _, l := range links {
		u, _ := url.Parse(l)
		if _, err := os.Stat(u.Path); err != nil {
			t.Errorf("broken page link %s", l)
		}
	}
	// Back to the dataset page, at the relation's heading.
	b.do(t, chromedp.Navigate(links[0]), chromedp.WaitVisible(h1))
	if n := b.count(t, "div.relsummary"); n != 1 {
		t.Errorf("the dataset page has %d relation summaries, want 1", n)
	}
	if got := b.pwned(t); got != "undefined" {
		t.Errorf("a script ran: %s", got)
	}
	for _, ev := range b.takeEvents() {
		t.Errorf("browser event: %s", ev)
	}
}
