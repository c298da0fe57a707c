package hostile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
)

// An API key passed as a query parameter (OpenAlex's api_key) reaches the server but never the
// debug log, an error message or the validator cache (whose keys are URLs).
func TestFetcherKeepsQuerySecretsOutOfLogsErrorsAndCache(t *testing.T) {
	const canary = "CANARYoakey0123456789abcdef"
	var n atomic.Int64
	var gotKey atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey.Store(r.URL.Query().Get("api_key"))
		switch {
		case strings.HasPrefix(r.URL.Path, "/works") && n.Add(1) == 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests) // makes the fetcher log a retry
		case strings.HasPrefix(r.URL.Path, "/works"):
			w.Header().Set("ETag", `"v1"`)
			w.Write([]byte(`{"results":[]}`))
		case r.URL.Path == "/fail":
			http.Error(w, "nope "+r.URL.RawQuery, http.StatusServiceUnavailable)
		default:
			http.Redirect(w, r, "http://169.254.169.254/?api_key="+r.URL.Query().Get("api_key"), http.StatusFound)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	cache, err := httpcache.Open(filepath.Join(dir, "httpcache.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hf, err := crawler.NewFetcher(&configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true},
		crawler.FetcherOptions{Cache: cache, Logger: log, MaxAttempts: 2, BaseBackoff: time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// As a worker fetches: through its job's logger.
	f := crawler.WithLog(hf, log.With("run_id", "r1", "job_id", "openalex|search|x"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := func(path string) crawler.Request {
		return crawler.Request{Source: "openalex", URL: srv.URL + path + "?search=x&api_key=" + canary, Redact: []string{"api_key"}}
	}
	resp, err := f.Fetch(ctx, req("/works"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("fetch: %v %v", resp, err)
	}
	if gotKey.Load() != canary {
		t.Fatalf("the server did not get the key")
	}
	resp, err = f.Fetch(ctx, req("/works")) // conditional: looked up in the cache by the redacted URL
	if err != nil || resp.Status != 200 {
		t.Fatalf("second fetch: %v %v", resp, err)
	}
	var errs []string
	for _, p := range []string{"/fail", "/redirect"} {
		_, err := f.Fetch(ctx, req(p))
		if err == nil {
			t.Fatalf("%s: no error", p)
		}
		errs = append(errs, err.Error())
		var se *crawler.StatusError
		if errors.As(err, &se) && strings.Contains(se.URL+se.Msg, canary) {
			t.Errorf("%s: StatusError carries the key: %+v", p, se)
		}
	}
	if err := cache.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "retrying after status") || !strings.Contains(logs.String(), crawler.Redacted) {
		t.Fatalf("the retry was not logged with a redacted URL:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"job_id":"openalex|search|x"`) || !strings.Contains(logs.String(), `"run_id":"r1"`) {
		t.Errorf("the fetcher's log lines do not carry the run and job ids:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), canary) {
		t.Errorf("the debug log holds the key:\n%s", logs.String())
	}
	for _, e := range errs {
		if strings.Contains(e, canary) {
			t.Errorf("an error message holds the key: %s", e)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("%s holds the key", filepath.Base(p))
		}
	}
	t.Logf("searched the debug log (%d bytes), %d errors and %d cache files: no key", logs.Len(), len(errs), len(files))
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.openalex.org/works?api_key=s3cret&search=x": "https://api.openalex.org/works?api_key=REDACTED&search=x",
		"https://u:pw@example.org/x?access_token=abcd":           "https://example.org/x?access_token=REDACTED",
		"https://api.semanticscholar.org/p?token=page2":          "https://api.semanticscholar.org/p?token=page2",
		"https://example.org/plain":                              "https://example.org/plain",
	} {
		if got := crawler.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := crawler.RedactURL("https://x.org/?sessionkey=abcdef", "sessionkey"); strings.Contains(got, "abcdef") {
		t.Errorf("extra param not redacted: %s", got)
	}
}
