package render

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/reports"
)

// bigStore is a store with n sightings in one finished run (report.json of about n × 1.5 KB).
func bigStore(t *testing.T, n int) *reports.SQLiteStore {
	t.Helper()
	st, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := st.BeginRun(ctx, reports.Run{ID: "big", Started: at}); err != nil {
		t.Fatal(err)
	}
	obs := benchObservations(n, 0)
	for i := 0; i < n; i += 1000 {
		if _, err := st.RecordBatch(ctx, "big", at, obs[i:min(i+1000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.FinishRun(ctx, "big", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return st
}

// blockingStore holds every Runs call (the first thing a page or export asks the store) until
// released, so requests stay in flight for as long as the test wants.
type blockingStore struct {
	reports.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) Runs(ctx context.Context, limit int) ([]reports.Run, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Store.Runs(ctx, limit)
}

func TestRequestsPastTheConcurrencyBoundGet503WithRetryAfter(t *testing.T) {
	bs := &blockingStore{Store: fixtureStore(t), entered: make(chan struct{}, 10), release: make(chan struct{})}
	srv := NewServerLimit(bs, registry(t), "", nil, 2)
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := fetch(t, "GET", ts.URL+"/files/report.json", nil)
			codes[i] = r.StatusCode
		}()
	}
	<-bs.entered
	<-bs.entered // both slots taken
	r, body := fetch(t, "GET", ts.URL+"/files/sightings.csv", nil)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != fmt.Sprint(RetryAfterSeconds) {
		t.Fatalf("third request at a bound of 2: %d Retry-After %q %q", r.StatusCode, r.Header.Get("Retry-After"), body)
	}
	if r, _ := fetch(t, "GET", ts.URL+"/healthz", nil); r.StatusCode != 200 {
		t.Fatalf("healthz while busy: %d", r.StatusCode)
	}
	close(bs.release)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("the two admitted requests: %v", codes)
	}
	go func() {
		for range bs.entered {
		}
	}()
	if r, _ := fetch(t, "GET", ts.URL+"/files/sightings.csv", nil); r.StatusCode != 200 {
		t.Fatalf("after the others finished: %d", r.StatusCode)
	}
}

// firstWrite records, at the first byte sent to the client, how many renders had finished.
type firstWrite struct {
	h       http.Header
	srv     *Server
	n       int64
	atFirst int64
	status  int
}

func (f *firstWrite) Header() http.Header { return f.h }
func (f *firstWrite) WriteHeader(c int)   { f.status = c }
func (f *firstWrite) Write(p []byte) (int, error) {
	if f.n == 0 {
		f.atFirst = f.srv.renders.Load()
	}
	f.n += int64(len(p))
	return len(p), nil
}

// An export is streamed: its first bytes reach the client before its render has finished (it
// used to be rendered whole into a buffer per request).
func TestExportIsStreamedWhileItRenders(t *testing.T) {
	srv := NewServerLimit(bigStore(t, 2000), registry(t), "", nil, 4)
	defer srv.Close()
	w := &firstWrite{h: http.Header{}, srv: srv, atFirst: -1}
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/files/report.json", nil))
	if w.status != 0 && w.status != 200 {
		t.Fatalf("status %d", w.status)
	}
	if w.n < 1<<20 {
		t.Fatalf("report.json is %d bytes: too small to show streaming", w.n)
	}
	if w.atFirst != 0 || srv.renders.Load() != 1 {
		t.Fatalf("first byte sent after %d finished renders (want 0: while rendering); %d renders in all", w.atFirst, srv.renders.Load())
	}
}

// 24 concurrent downloads of four exports (cold) render each export once, never more renders at once
// than the concurrency bound, and every client gets the whole file.
func TestConcurrentDownloadsRenderEachExportOnce(t *testing.T) {
	const bound = 4
	srv := NewServerLimit(bigStore(t, 2000), registry(t), "", nil, bound)
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	names := []string{"report.json", "sightings.csv", "graph.json", "index.md"}
	got := map[string][]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, busy := 0, 0
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			for {
				resp, err := http.Get(ts.URL + "/files/" + n)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					busy++
					mu.Unlock()
					continue // a real client waits Retry-After; the count is what matters here
				}
				if resp.StatusCode != 200 || len(b) == 0 {
					t.Errorf("%s: %d, %d bytes", n, resp.StatusCode, len(b))
				}
				got[n] = append(got[n], string(b))
				ok++
				mu.Unlock()
				return
			}
		}(names[i%len(names)])
	}
	wg.Wait()
	if ok != 24 {
		t.Fatalf("%d of 24 downloads completed", ok)
	}
	if r := srv.renders.Load(); r != int64(len(names)) {
		t.Fatalf("%d renders for 24 downloads of %d exports of one run, want one each", r, len(names))
	}
	for _, n := range names {
		for _, b := range got[n] {
			if b != got[n][0] {
				t.Fatalf("%s: clients got different bodies (%d and %d bytes)", n, len(b), len(got[n][0]))
			}
		}
		// Served again, from the rendered file, with no new render.
		if r, b := fetch(t, "GET", ts.URL+"/files/"+n, nil); r.StatusCode != 200 || b != got[n][0] {
			t.Fatalf("%s again: %d, %d bytes", n, r.StatusCode, len(b))
		}
	}
	if r := srv.renders.Load(); r != int64(len(names)) {
		t.Fatalf("%d renders after serving the cached files again", r)
	}
	if m := srv.maxRendering.Load(); m > bound {
		t.Fatalf("%d renders at once, bound %d", m, bound)
	}
	t.Logf("%d requests turned away with 503 and retried", busy)
}
