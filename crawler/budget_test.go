package crawler_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

// moderateGzip returns a gzip stream that decodes to n bytes at a moderate ratio (about 75:1:
// well under the 250:1 bomb check), like the report's 77:1 responses.
func moderateGzip(t testing.TB, n int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for written := 0; written < n; written += len(chunk) {
		for i := range chunk {
			chunk[i] = ' '
		}
		for i := 0; i < 12; i++ { // a few random bytes per 4 KiB keep the ratio moderate
			chunk[rng.IntN(len(chunk))] = byte('a' + rng.IntN(26))
		}
		zw.Write(chunk[:min(len(chunk), n-written)])
	}
	zw.Close()
	return z.Bytes()
}

// A response that decodes at a moderate ratio to 60 MiB (the 64 MiB decoded bound allowed it:
// 4 workers peaked at 768 MB against the 384 MiB budget) is cut at the per-worker decoded bound,
// the worker's share of the memory budget over io.ReadAll's transient factor — not only by the
// ratio check. Bytes allocated by the fetch stay within the worker's share.
func TestFetchDecodedBytesBoundedByWorkerBudget(t *testing.T) {
	body := moderateGzip(t, 60<<20)
	ratio := float64(60<<20) / float64(len(body))
	small := moderateGzip(t, 8<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		if r.URL.Path == "/small" {
			w.Write(small)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	if ratio >= 250 {
		t.Fatalf("test input: ratio %.0f:1 would trip the bomb check", ratio)
	}
	w := watchFor(srv, 100, 10)
	w.Workers = 4
	f := newFetcher(t, w, crawler.FetcherOptions{})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/big"})
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d KiB of gzip at %.0f:1 decoding to 60 MiB: %v; %d MiB allocated (worker share %d MiB)",
		len(body)>>10, ratio, err, alloc>>20, crawler.DefaultWorkerMemory>>20)
	if !errors.Is(err, crawler.ErrBodyTooLarge) || !crawler.Permanent(err) {
		t.Errorf("err = %v; want a permanent ErrBodyTooLarge", err)
	}
	if alloc > crawler.DefaultWorkerMemory && !raceEnabled {
		t.Errorf("the fetch allocated %d MiB, over the worker's %d MiB share of the budget", alloc>>20, crawler.DefaultWorkerMemory>>20)
	}

	// Under the bound, a moderately compressed body is decoded whole.
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/small"})
	if err != nil || len(resp.Body) != 8<<20 {
		t.Fatalf("8 MiB body: %v", err)
	}
}
