package hostile_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// Per-source limits: arXiv's one-connection rule holds whatever the worker count, and Academic
// Torrents' large catalogue fits its raised body bound while other sources keep the default.
func TestPerSourceLimits(t *testing.T) {
	if got := crawler.LimitsOf("arxiv").MaxInFlight; got != 1 {
		t.Fatalf("arxiv declares MaxInFlight %d, want 1", got)
	}
	if got := crawler.LimitsOf("academictorrents").MaxBody; got < 64<<20 {
		t.Fatalf("academictorrents declares MaxBody %d, want tens of MB", got)
	}
	var cur, peak atomic.Int64
	big := bytes.Repeat([]byte("x"), 20<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(big)
			return
		}
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		cur.Add(-1)
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	w := &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, PolitenessOff: true,
		Sources: map[string]configs.SourceConfig{"capped": {Enabled: true, MaxInFlight: 2}, "roomy": {Enabled: true, MaxBody: 32 << 20}}}
	f, err := crawler.NewFetcher(w, crawler.FetcherOptions{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	burst := func(source string) int64 {
		cur.Store(0)
		peak.Store(0)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.Fetch(ctx, crawler.Request{Source: source, URL: srv.URL + "/x"}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return peak.Load()
	}
	if p := burst("arxiv"); p != 1 {
		t.Errorf("arxiv: %d requests in flight at once, want 1", p)
	}
	if p := burst("capped"); p != 2 {
		t.Errorf("max_in_flight 2: peak %d in flight", p)
	}
	if p := burst("other"); p < 3 {
		t.Errorf("an uncapped source peaked at %d in flight; the cap leaks to other sources", p)
	}
	for source, wantOK := range map[string]bool{"academictorrents": true, "roomy": true, "other": false} {
		resp, err := f.Fetch(ctx, crawler.Request{Source: source, URL: srv.URL + "/big"})
		switch {
		case wantOK && (err != nil || len(resp.Body) != len(big)):
			t.Errorf("%s: 20 MiB body: %v", source, err)
		case !wantOK && !errors.Is(err, crawler.ErrBodyTooLarge):
			t.Errorf("%s: 20 MiB body over the 16 MiB default: err = %v", source, err)
		}
	}
}
