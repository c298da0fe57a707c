package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/internal/hostile"
)

func startWorld(t *testing.T) *hostile.World {
	t.Helper()
	w, err := hostile.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// hostileOptions are the bounds the hostile tests run with: the defaults' sizes (16 MiB on the
// wire, 64 MiB decoded, 5 redirects, 60s Retry-After cap) and shorter times, so the suite is quick.
func hostileOptions() crawler.FetcherOptions {
	return crawler.FetcherOptions{Timeout: 3 * time.Second, DialTimeout: 2 * time.Second, MaxAttempts: 2,
		BaseBackoff: 10 * time.Millisecond, MaxWait: 5 * time.Second}
}

func newFetcher(t *testing.T, o crawler.FetcherOptions) *crawler.HTTPFetcher {
	t.Helper()
	w := &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, PolitenessOff: true}
	f, err := crawler.NewFetcher(w, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFetcherAgainstEveryBehaviour fetches each hostile URL and checks the outcome and its bound:
// the right error (or a bounded response), in bounded time, with the fetcher's heap bounded.
func TestFetcherAgainstEveryBehaviour(t *testing.T) {
	world := startWorld(t)
	o := hostileOptions()
	f := newFetcher(t, o)
	// A request may take Timeout per attempt, MaxAttempts attempts, plus backoff.
	timeBound := time.Duration(o.MaxAttempts)*o.Timeout + 5*time.Second
	type want struct {
		err    error // errors.Is target; nil: a response is expected
		anyErr bool  // some error, of no particular type (timeouts)
		status int
	}
	cases := map[hostile.Behaviour]want{
		hostile.Slowloris:        {anyErr: true},
		hostile.SlowHeaders:      {anyErr: true},
		hostile.GzipBomb:         {err: crawler.ErrBodyTooLarge},
		hostile.HugeBody:         {err: crawler.ErrBodyTooLarge},
		hostile.HugeChunked:      {err: crawler.ErrBodyTooLarge},
		hostile.RedirectLoop:     {err: crawler.ErrTooManyRedirects},
		hostile.RedirectMetadata: {err: crawler.ErrBlockedAddress},
		hostile.RedirectPrivate:  {err: crawler.ErrBlockedAddress},
		hostile.NestedJSON:       {status: 200},
		hostile.MalformedJSON:    {status: 200},
		hostile.NestedXML:        {status: 200},
		hostile.MalformedXML:     {status: 200},
		hostile.NestedHTML:       {status: 200},
		hostile.MalformedHTML:    {status: 200},
		hostile.InvalidUTF8:      {status: 200},
		hostile.WrongType:        {status: 200},
		hostile.RateStorm:        {anyErr: true, status: 429},
		hostile.RateStormDate:    {anyErr: true, status: 429},
		hostile.DeflateBomb:      {status: 200}, // not decoded: at most MaxBody of compressed bytes
	}
	var peak atomic.Uint64
	for b, wt := range cases {
		t.Run(string(b), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*timeBound)
			defer cancel()
			runtime.GC()
			stopSampling := sampleHeap(&peak)
			start := time.Now()
			resp, err := f.Fetch(ctx, crawler.Request{Source: "hostile", URL: world.Base(b) + "/api/items?q=x"})
			took := time.Since(start)
			p := stopSampling()
			t.Logf("%s: %v in %s (peak heap in use during the fetch %d MiB)", b, errString(err), took.Round(time.Millisecond), p>>20)
			if took > timeBound {
				t.Errorf("took %s, bound %s", took, timeBound)
			}
			switch {
			case wt.err != nil:
				if !errors.Is(err, wt.err) {
					t.Fatalf("err = %v, want %v", err, wt.err)
				}
				if !crawler.Permanent(err) {
					t.Errorf("%v should be permanent (retrying cannot help)", err)
				}
			case wt.anyErr:
				if err == nil {
					t.Fatalf("got HTTP %d, want an error", resp.Status)
				}
				if wt.status != 0 {
					var se *crawler.StatusError
					if !errors.As(err, &se) || se.Status != wt.status {
						t.Fatalf("err = %v, want a StatusError with HTTP %d", err, wt.status)
					}
				}
			default:
				if err != nil {
					t.Fatalf("err = %v, want HTTP %d", err, wt.status)
				}
				if resp.Status != wt.status {
					t.Fatalf("status %d, want %d", resp.Status, wt.status)
				}
				if int64(len(resp.Body)) > 16<<20 {
					t.Fatalf("body %d bytes, over the 16 MiB bound", len(resp.Body))
				}
				parseAll(t, b, resp.Body)
			}
		})
	}
	if world.Hits(hostile.RateStorm) > int64(o.MaxAttempts) {
		t.Errorf("429 storm got %d requests; an absurd Retry-After must stop retries at once", world.Hits(hostile.RateStorm))
	}
	if world.Hits(hostile.RedirectLoop) > 6+int64(o.MaxAttempts) {
		t.Errorf("redirect loop followed %d hops", world.Hits(hostile.RedirectLoop))
	}
	// A hostile response costs at most its 16 MiB wire bound, which io.ReadAll may hold about
	// 4 times over while growing and before the GC runs; gzip bombs are cut at 250:1 after 4 MiB
	// decompressed (before that fix the bomb alone peaked at 255 MiB).
	const heapBound = 128 << 20
	t.Logf("peak heap in use during any hostile fetch: %d MiB (bound %d MiB)", peak.Load()>>20, heapBound>>20)
	if peak.Load() > heapBound {
		t.Errorf("heap in use %d MiB over the %d MiB bound", peak.Load()>>20, heapBound>>20)
	}
}

// sampleHeap records the peak HeapInuse into peak every 10ms until the returned stop is called;
// stop returns this sampling's own peak.
func sampleHeap(peak *atomic.Uint64) (stop func() uint64) {
	done := make(chan struct{})
	var mine atomic.Uint64
	finished := make(chan struct{})
	read := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > mine.Load() {
			mine.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		read()
		for {
			old := peak.Load()
			if mine.Load() <= old || peak.CompareAndSwap(old, mine.Load()) {
				break
			}
		}
		return mine.Load()
	}
}

// parseAll runs the generic parsers the adapters use over a hostile body: none may panic or hang.
func parseAll(t *testing.T, b hostile.Behaviour, body []byte) {
	t.Helper()
	start := time.Now()
	var v any
	jerr := json.Unmarshal(body, &v)
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	var xerr error
	for tokens := 0; tokens < 100_000; tokens++ {
		if _, xerr = d.Token(); xerr != nil {
			break
		}
	}
	doc, herr := goquery.NewDocumentFromReader(bytes.NewReader(body))
	links := 0
	if herr == nil {
		links = doc.Find("a").Length()
	}
	t.Logf("%s: json=%v xml=%v html=%v links=%d valid-utf8=%v (%s)", b, errString(jerr), errString(xerr),
		errString(herr), links, utf8.Valid(body), time.Since(start).Round(time.Millisecond))
	if b == hostile.NestedJSON && jerr == nil {
		t.Error("a million-deep JSON array decoded without a depth error")
	}
	if b == hostile.MalformedJSON && jerr == nil {
		t.Error("malformed JSON decoded")
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("parsing took %s", time.Since(start))
	}
}

func errString(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return "ok"
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}
