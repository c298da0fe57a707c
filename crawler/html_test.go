package crawler_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Pages over a bound are refused at the bound — early in the page, whatever follows — and
// without building a tree: the hostile world's page nested a million deep, a flood of links, a
// flood of elements.
func TestParseHTMLRefusesHostilePagesAtTheBound(t *testing.T) {
	const million = 1_000_000
	cases := []struct {
		name, page string
		bound      string
		within     int64 // the refusal comes within this many bytes of the page
	}{
		{"nested", "<!doctype html><html><body>" + strings.Repeat("<div>", million) + strings.Repeat("</div>", million),
			"depth", 30 + 5*(crawler.DefaultHTMLMaxDepth+1) + 4096},
		{"links", "<body>" + strings.Repeat(`<a href="/x">x</a>`, million), "links", 6 + 18*(crawler.DefaultHTMLMaxLinks+1) + 4096},
		{"nodes", "<body>" + strings.Repeat(`<i></i>`, million), "nodes", 6 + 7*(crawler.DefaultHTMLMaxNodes+1) + 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.page)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			doc, err := crawler.ParseHTML(body, crawler.HTMLLimits{})
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			var be *crawler.HTMLBoundError
			if doc != nil || !errors.As(err, &be) || !errors.Is(err, crawler.ErrHTMLTooLarge) || be.Bound != c.bound {
				t.Fatalf("%d-byte page: doc %v, err %v; want the %s bound", len(body), doc != nil, err, c.bound)
			}
			t.Logf("%d-byte page: %v; %d KiB allocated", len(body), err, alloc>>10)
			if !crawler.Permanent(err) {
				t.Errorf("%v is not permanent: the job would be retried for nothing", err)
			}
			if be.Offset > c.within {
				t.Errorf("refused at byte %d; want within %d", be.Offset, c.within)
			}
			if alloc > 8<<20 && !raceEnabled {
				t.Errorf("refusing allocated %d KiB (bound 8 MiB; the tree of 400,000 elements took 48 MiB)", alloc>>10)
			}
		})
	}
}

// Honest pages parse, including big ones with end tags left out: a 20,000-row table of unclosed
// <tr>/<td>, a list of unclosed <li> whose links are closed by the next one, 400 nested sections.
func TestParseHTMLKeepsHonestPages(t *testing.T) {
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>Files</title></head><body><h1>Some dataset</h1><table><tr><th>File<th>Size")
	for i := range 20_000 {
		fmt.Fprintf(&b, "<tr><td>dir/file-%d.jpg<td>%d", i, 1000+i)
	}
	b.WriteString("</table><ul>")
	for i := range 5_000 {
		fmt.Fprintf(&b, `<li><a href="/f/%d">file %d`, i, i)
	}
	b.WriteString("</a></ul>" + strings.Repeat("<section><p>text", 400) + strings.Repeat("</section>", 400))
	root, err := crawler.ParseHTML([]byte(b.String()), crawler.HTMLLimits{})
	if err != nil {
		t.Fatal(err)
	}
	doc := goquery.NewDocumentFromNode(root)
	if rows, links := doc.Find("tr").Length(), doc.Find("a[href]").Length(); rows != 20_001 || links != 5_000 {
		t.Errorf("%d rows, %d links; want 20001 and 5000", rows, links)
	}
	if got := doc.Find("h1").Text(); got != "Some dataset" {
		t.Errorf("h1 %q", got)
	}
}

// Whatever the page, ParseHTML returns a tree or a bound error: the tree builder's own depth
// failure (it opens implied elements CheckHTML does not count) is a bound error too.
func FuzzParseHTML(f *testing.F) {
	for _, s := range []string{"<html><body><p>x</p></body></html>", "<a href=x><a href=y>", "<div><div></span></div>",
		"<script><div><div></script>", strings.Repeat("<table><td>", 200)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := crawler.ParseHTML(b, crawler.HTMLLimits{})
		if (doc == nil) == (err == nil) || err != nil && !errors.Is(err, crawler.ErrHTMLTooLarge) {
			t.Fatalf("doc %v, err %v", doc != nil, err)
		}
	})
}
