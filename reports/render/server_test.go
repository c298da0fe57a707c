package render

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
)

func fetch(t *testing.T, method, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestServerAuthHeadersAndReadOnly(t *testing.T) {
	st := fixtureStore(t)
	ts := httptest.NewServer(NewServer(st, registry(t), "tok", nil))
	defer ts.Close()
	auth := map[string]string{"Authorization": "Bearer tok"}

	if r, _ := fetch(t, "GET", ts.URL+"/", nil); r.StatusCode != 401 {
		t.Errorf("no token: %d", r.StatusCode)
	}
	if r, _ := fetch(t, "GET", ts.URL+"/", map[string]string{"Authorization": "Bearer wrong"}); r.StatusCode != 401 {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	r, _ := fetch(t, "GET", ts.URL+"/graph?token=tok&x=1", nil)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/graph?x=1" || !strings.Contains(r.Header.Get("Set-Cookie"), "HttpOnly") {
		t.Errorf("token in URL: %d %q %q", r.StatusCode, r.Header.Get("Location"), r.Header.Get("Set-Cookie"))
	}
	if r, _ := fetch(t, "GET", ts.URL+"/", map[string]string{"Cookie": TokenCookie + "=tok"}); r.StatusCode != 200 {
		t.Errorf("cookie: %d", r.StatusCode)
	}
	r, body := fetch(t, "GET", ts.URL+"/", auth)
	if r.StatusCode != 200 || !strings.Contains(body, "MS-Celeb-1M") {
		t.Fatalf("index: %d", r.StatusCode)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'none'", "default-src 'none'", "frame-ancestors 'none'", StyleHash} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %s", csp)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if r.Header.Get(h) != want {
			t.Errorf("%s = %q", h, r.Header.Get(h))
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if r, _ := fetch(t, m, ts.URL+"/", auth); r.StatusCode != 405 {
			t.Errorf("%s: %d, want 405", m, r.StatusCode)
		}
	}
	for path, want := range map[string]int{
		"/datasets/nope": 404, "/sightings?relation=stolen": 400, "/sightings?state=maybe": 400,
		"/files/nope.md": 404, "/files/feeds/nope.atom": 404, "/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd": 404,
	} {
		if r, _ := fetch(t, "GET", ts.URL+path, auth); r.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, r.StatusCode, want)
		}
	}
}

func TestServerExports(t *testing.T) {
	st := fixtureStore(t)
	ts := httptest.NewServer(NewServer(st, registry(t), "", nil))
	defer ts.Close()
	cases := map[string]string{
		"/files/report.json": "application/json", "/files/graph.json": "application/json",
		"/files/graph.graphml": "application/graphml+xml", "/files/graph.dot": "text/vnd.graphviz",
		"/files/sightings.csv": "text/csv", "/files/timeseries.csv": "text/csv",
		"/files/ms-celeb-1m.md": "text/markdown", "/files/index.md": "text/markdown",
		"/files/feeds/ms-celeb-1m.atom": "application/atom+xml",
	}
	for path, ctype := range cases {
		r, body := fetch(t, "GET", ts.URL+path, nil)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) || len(body) < 50 {
			t.Errorf("%s: %d %q %d bytes", path, r.StatusCode, r.Header.Get("Content-Type"), len(body))
		}
	}
	_, body := fetch(t, "GET", ts.URL+"/files/report.json", nil)
	var rep Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil || rep.Run.ID != "run-2" {
		t.Fatalf("report.json: %v %s", err, rep.Run.ID)
	}
	_, body = fetch(t, "GET", ts.URL+"/files/graph.graphml", nil)
	if err := xml.Unmarshal([]byte(body), new(struct{})); err != nil {
		t.Errorf("graphml: %v", err)
	}
}

// TestServerSeesNewRuns checks the cached report is rebuilt when the store moves on.
func TestServerSeesNewRuns(t *testing.T) {
	ctx := context.Background()
	st := fixtureStore(t)
	srv := NewServer(st, registry(t), "", nil)
	srv.TTL = 0
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if _, body := fetch(t, "GET", ts.URL+"/", nil); strings.Contains(body, "run-3") {
		t.Fatal("run-3 before it exists")
	}
	at := t0.Add(72 * time.Hour)
	begin(t, st, "run-3", at)
	a := model("late/model")
	mustRecord(t, st, "run-3", at, a, extract.Finding{ArtifactID: a.ID, Dataset: "books3", Relation: extract.TrainedOn, Confidence: 0.9})
	if _, err := st.FinishRun(ctx, "run-3", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, body := fetch(t, "GET", ts.URL+"/", nil)
	if !strings.Contains(body, "run-3") {
		t.Error("server still shows the old run")
	}
	if _, body := fetch(t, "GET", ts.URL+"/sightings?q=late", nil); !strings.Contains(body, "late/model") {
		t.Error("search misses the new sighting")
	}
}

func TestServerEmptyStore(t *testing.T) {
	ts := httptest.NewServer(NewServer(openTest(t), registry(t), "", nil))
	defer ts.Close()
	r, body := fetch(t, "GET", ts.URL+"/", nil)
	if r.StatusCode != 503 || !strings.Contains(body, "no run yet") {
		t.Errorf("empty store: %d %q", r.StatusCode, body)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, "0.0.0.0:8080": false, ":8080": false, "192.168.1.2:80": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) != %v", addr, want)
		}
	}
}
