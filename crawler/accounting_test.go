package crawler_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

// The body accounting counts what reads hand out while they are open: a body read whole counts
// its size as the largest read, a gzip body cut at the decoded bound counts no more than the
// bound (plus one read), concurrent reads add up in the peak, and nothing stays in flight once
// the fetches are done.
func TestBodyStatsCountDecodedBytesInFlight(t *testing.T) {
	plain := bytes.Repeat([]byte("x"), 3<<20)
	flood := moderateGzip(t, 40<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gz" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(flood)
			return
		}
		w.Write(plain)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 1000, 100), crawler.FetcherOptions{})

	crawler.ResetBodyCounts()
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/plain"})
	if err != nil || len(resp.Body) != len(plain) {
		t.Fatalf("plain fetch: %v", err)
	}
	if st := crawler.BodyStats(); st.MaxOne != int64(len(plain)) || st.InFlight != 0 || st.Reads < 1 {
		t.Fatalf("after one 3 MiB body: %+v", st)
	}

	crawler.ResetBodyCounts()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/gz"}); !errors.Is(err, crawler.ErrBodyTooLarge) {
				t.Errorf("40 MiB of gzip: err = %v, want too large", err)
			}
		}()
	}
	wg.Wait()
	st := crawler.BodyStats()
	t.Logf("3 concurrent 40 MiB gzip bodies: %+v", st)
	if st.MaxOne < crawler.DefaultMaxBody || st.MaxOne > crawler.DefaultMaxBody+64<<10 {
		t.Errorf("largest read %d bytes, want the %d-byte bound (plus one read)", st.MaxOne, crawler.DefaultMaxBody)
	}
	if st.Peak < st.MaxOne || st.Peak > 3*(crawler.DefaultMaxBody+64<<10) {
		t.Errorf("peak %d bytes in flight for 3 reads bounded at %d", st.Peak, crawler.DefaultMaxBody)
	}
	if st.InFlight != 0 {
		t.Errorf("%d bytes still counted in flight after every fetch returned", st.InFlight)
	}
}

// HTMLStats counts pages accepted and refused by the bounds pass and the most links, nodes and
// depth of an accepted page.
func TestHTMLStatsCountAcceptedAndRefusedPages(t *testing.T) {
	crawler.ResetHTMLCounts()
	ok := "<html><body><div><p>" + strings.Repeat(`<a href="/x">x</a>`, 30) + "</div></body></html>"
	if err := crawler.CheckHTML([]byte(ok), crawler.HTMLLimits{}); err != nil {
		t.Fatal(err)
	}
	if err := crawler.CheckHTML([]byte(strings.Repeat("<a href>", 30_000)), crawler.HTMLLimits{}); !errors.Is(err, crawler.ErrHTMLTooLarge) {
		t.Fatalf("30,000 links: %v", err)
	}
	st := crawler.HTMLStats()
	if st.Accepted != 1 || st.Refused != 1 || st.MaxLinks != 30 || st.MaxDepth != 2 {
		t.Errorf("stats %+v; want 1 accepted (30 links, 2 counted open elements: the div and an <a>), 1 refused", st)
	}
}
