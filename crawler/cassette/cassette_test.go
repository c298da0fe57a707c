package cassette

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/academictorrents"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

const (
	token  = "ghp_SuperSecretToken123"
	apiKey = "oa-key-987654321"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// echoServer answers /items with the Authorization it got (as some services echo a key back) and
// a cookie; /flaky with 429 then 200; POST /rpc with the body it got.
func echoServer(t *testing.T) *httptest.Server {
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items":
			w.Header().Set("Set-Cookie", "session="+token)
			w.Header().Set("X-RateLimit-Remaining", "59")
			fmt.Fprintf(w, `{"items":[1,2],"you":%q}`, r.Header.Get("Authorization"))
		case "/flaky":
			if flaky.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"message":"slow down"}`)
				return
			}
			fmt.Fprint(w, `{"ok":true}`)
		case "/rpc":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, `{"echo":%s}`, b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, c *http.Client, method, u, body, auth string) (int, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// A recording keeps every exchange but no secret: the token in the Authorization header, a
// secret query parameter, and the token wherever the service echoed it (a body, a cookie).
// Replayed with the server gone, and without the token, every request gets its recorded answer,
// identical requests in recorded order; a request never recorded is a clear error.
func TestRecordRedactsSecretsAndReplayServesEveryRequestWithoutNetwork(t *testing.T) {
	srv := echoServer(t)
	dir := t.TempDir()
	rec, err := New(dir, Record, Options{Secrets: []string{token, apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	live := &http.Client{Transport: rec}
	itemsURL := srv.URL + "/items?q=ms1m&api_key=" + apiKey
	calls := []struct{ method, url, body string }{
		{"GET", itemsURL, ""},
		{"GET", srv.URL + "/flaky", ""},
		{"GET", srv.URL + "/flaky", ""},
		{"POST", srv.URL + "/rpc", `{"search":"MS-Celeb-1M","page":1}`},
		{"POST", srv.URL + "/rpc", `{"search":"MS-Celeb-1M","page":2}`},
	}
	var recorded []string
	for _, c := range calls {
		code, body, err := do(t, live, c.method, c.url, c.body, token)
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, fmt.Sprintf("%d %s", code, strings.ReplaceAll(body, token, "REDACTED")))
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "127.0.0.1_") {
		t.Fatalf("cassettes %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{token, apiKey} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("secret %q written to the cassette", secret)
		}
	}
	for _, want := range []string{"api_key=REDACTED", "Authorization:", "- REDACTED", "X-Ratelimit-Remaining", `"page":2`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("cassette lacks %q", want)
		}
	}

	srv.Close() // the world is gone: replay must not need it
	rep, err := New(dir, Replay, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	offline := &http.Client{Transport: rep}
	for i, c := range calls {
		code, body, err := do(t, offline, c.method, c.url, c.body, "") // no token on replay
		if err != nil {
			t.Fatalf("replay %s %s: %v", c.method, c.url, err)
		}
		if got := fmt.Sprintf("%d %s", code, body); got != recorded[i] {
			t.Errorf("replay %d: %q, recorded %q", i, got, recorded[i])
		}
	}
	// Asked once more than recorded, or something never asked: a clear error, no network.
	for _, c := range []struct{ method, url, body string }{
		{"GET", srv.URL + "/flaky", ""},
		{"GET", srv.URL + "/items?q=other", ""},
		{"POST", srv.URL + "/rpc", `{"search":"MS-Celeb-1M","page":3}`},
		{"GET", "https://api.github.com/rate_limit", ""},
	} {
		_, _, err := do(t, offline, c.method, c.url, c.body, "")
		if !errors.Is(err, ErrNotRecorded) || !strings.Contains(err.Error(), c.method+" ") {
			t.Errorf("%s %s: %v, want ErrNotRecorded naming the request", c.method, c.url, err)
		}
	}
	if _, err := New(t.TempDir(), Replay, Options{}); err == nil {
		t.Error("replay from an empty directory accepted")
	}
}

// A whole adapter crawl (Academic Torrents: catalogue, details page, real .torrent) recorded
// through the cassette and replayed with the server stopped gives the same artifacts.
func TestReplayedCrawlGivesTheSameArtifacts(t *testing.T) {
	torrentBody, err := os.ReadFile(filepath.Join("testdata", "download_55a8925a8d546b9ca47d309ab438b91f7959e77f.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	const hash = "55a8925a8d546b9ca47d309ab438b91f7959e77f"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/database.xml":
			fmt.Fprintf(w, `<rss version="2.0"><channel><title>Academic Torrents</title><item><title>Van Gogh paintings</title>`+
				`<category>Dataset</category><infohash>%s</infohash><description>MS-Celeb-1M aligned crops</description><size>47622171</size></item></channel></rss>`, hash)
		case "/details/" + hash:
			fmt.Fprint(w, `<html><head><title>Van Gogh paintings</title></head><body><h1>Van Gogh paintings</h1><div id="description">Aligned crops</div></body></html>`)
		case "/download/" + hash + ".torrent":
			w.Header().Set("Content-Type", "application/x-bittorrent")
			w.Write(torrentBody)
		default:
			http.NotFound(w, r)
		}
	}))
	crawl := func(rt http.RoundTripper) map[string]string {
		t.Helper()
		src, err := academictorrents.New(configs.SourceConfig{BaseURL: srv.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := webapitest.NewFetcher()
		f.Client = &http.Client{Transport: rt}
		got, err := webapitest.Crawl(ctx(t), src, f, []*configs.Dataset{{ID: "ms-celeb-1m", Name: "MS-Celeb-1M"}}, 50)
		if err != nil || len(got.Errors) > 0 {
			t.Fatalf("%v %v", err, got.Errors)
		}
		out := map[string]string{}
		for id, a := range got.Artifacts {
			out[id] = fmt.Sprintf("%s|%d files|%s", a.Title, len(a.Files), a.Text)
		}
		return out
	}
	dir := t.TempDir()
	rec, err := New(dir, Record, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := crawl(rec)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	rep, err := New(dir, Replay, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	second := crawl(rep)
	if len(first) != 1 || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("recorded %v\nreplayed %v", first, second)
	}
	if a := first["at:"+hash]; !strings.Contains(a, "|1 files|") {
		t.Errorf("artifact %q", a)
	}
}
