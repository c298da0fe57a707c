// Package webapitest helps test source adapters: a minimal conditional-request Fetcher over
// net/http, and a server that replays recorded responses (body + .meta.json sidecar) on 127.0.0.1.
package webapitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Fetcher is a small crawler.Fetcher for tests: plain net/http, conditional requests from an
// in-memory validator cache (a 304 returns the stored body with FromCache), no politeness.
type Fetcher struct {
	Client *http.Client
	mu     sync.Mutex
	cache  map[string]crawler.CachedResponse
	// Requests records every request made (URL and headers), for assertions.
	Requests []*http.Request
}

// NewFetcher returns a Fetcher with a 30 s timeout.
func NewFetcher() *Fetcher {
	return &Fetcher{Client: &http.Client{Timeout: 30 * time.Second}, cache: map[string]crawler.CachedResponse{}}
}

// Fetch implements crawler.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, r crawler.Request) (*crawler.Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = strings.NewReader(string(r.Body))
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	f.mu.Lock()
	c, cached := f.cache[r.URL]
	f.Requests = append(f.Requests, req)
	f.mu.Unlock()
	if cached && !r.NoConditional {
		if c.ETag != "" {
			req.Header.Set("If-None-Match", c.ETag)
		}
		if c.LastModified != "" {
			req.Header.Set("If-Modified-Since", c.LastModified)
		}
	}
	start := time.Now()
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	out := &crawler.Response{URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header,
		Body: b, WireBytes: int64(len(b)), Elapsed: time.Since(start)}
	if resp.StatusCode == http.StatusNotModified && cached {
		out.Body, out.FromCache = c.Body, true
		return out, nil
	}
	if resp.StatusCode == http.StatusOK && (resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "") {
		f.mu.Lock()
		f.cache[r.URL] = crawler.CachedResponse{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
			Status: 200, ContentType: resp.Header.Get("Content-Type"), Body: b, Stored: time.Now()}
		f.mu.Unlock()
	}
	return out, nil
}

// LastRequest returns the most recent request.
func (f *Fetcher) LastRequest() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.Requests) == 0 {
		return nil
	}
	return f.Requests[len(f.Requests)-1]
}

// Meta is a recorded response's sidecar.
type Meta struct {
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	Status          int                 `json:"status"`
	RequestHeaders  map[string][]string `json:"request_headers"`
	ResponseHeaders map[string][]string `json:"response_headers"`
	BodyFile        string              `json:"body_file"`
}

// Recording is one recorded response.
type Recording struct {
	Name string // body file name
	Meta Meta
	Body []byte
}

// Path is the recorded request's path and query ("/api/models/x?y=z").
func (r Recording) Path() string {
	u, err := url.Parse(r.Meta.URL)
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// Load reads every X.meta.json in dir with its body file.
func Load(t testing.TB, dir string) []Recording {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(dir, "*.meta.json"))
	if err != nil || len(metas) == 0 {
		t.Fatalf("no recordings in %s (%v)", dir, err)
	}
	var out []Recording
	for _, m := range metas {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		var meta Meta
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		name := meta.BodyFile
		if name == "" {
			base := strings.TrimSuffix(filepath.Base(m), ".meta.json")
			cands, _ := filepath.Glob(filepath.Join(dir, base+".*"))
			for _, c := range cands {
				if !strings.HasSuffix(c, ".meta.json") {
					name = filepath.Base(c)
				}
			}
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: body: %v", m, err)
		}
		out = append(out, Recording{Name: name, Meta: meta, Body: body})
	}
	return out
}

// Find returns the recording whose body file is name.
func Find(t testing.TB, recs []Recording, name string) Recording {
	t.Helper()
	for _, r := range recs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no recording %s", name)
	return Recording{}
}

var hopByHop = map[string]bool{"connection": true, "keep-alive": true, "transfer-encoding": true,
	"content-length": true, "content-encoding": true, "upgrade": true}

// Write replays rec on rw: its recorded headers (hop-by-hop ones skipped), status and body.
func Write(rw http.ResponseWriter, rec Recording) {
	for k, vs := range rec.Meta.ResponseHeaders {
		if hopByHop[strings.ToLower(k)] {
			continue
		}
		for _, v := range vs {
			rw.Header().Add(k, v)
		}
	}
	status := rec.Meta.Status
	if status == 0 {
		status = http.StatusOK
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(rec.Body)
}

// Server replays recordings on 127.0.0.1: a request is answered by the recording whose recorded
// path+query equals it, else by the one whose path equals it; unknown paths get 404.
type Server struct {
	*httptest.Server
	recs []Recording
	// Override, when set, routes request paths to a recording by body file name first.
	mu       sync.Mutex
	override map[string]string
}

// Serve starts a replay server for recs; it is closed when the test ends.
func Serve(t testing.TB, recs []Recording) *Server {
	s := &Server{recs: recs, override: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Route makes requests for path (path+query, or path alone) answer with recording name.
func (s *Server) Route(path, name string) {
	s.mu.Lock()
	s.override[path] = name
	s.mu.Unlock()
}

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	name, ok := s.override[r.URL.RequestURI()]
	if !ok {
		name, ok = s.override[r.URL.Path]
	}
	s.mu.Unlock()
	if ok {
		for _, rec := range s.recs {
			if rec.Name == name {
				Write(rw, rec)
				return
			}
		}
	}
	for _, rec := range s.recs {
		if rec.Path() == r.URL.RequestURI() {
			Write(rw, rec)
			return
		}
	}
	for _, rec := range s.recs {
		if u, err := url.Parse(rec.Meta.URL); err == nil && u.Path == r.URL.Path {
			Write(rw, rec)
			return
		}
	}
	http.Error(rw, fmt.Sprintf("no recording for %s", r.URL.RequestURI()), http.StatusNotFound)
}

// Response builds a crawler.Response from a recording without a server (for parser tests).
func Response(rec Recording) *crawler.Response {
	h := http.Header{}
	for k, vs := range rec.Meta.ResponseHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	st := rec.Meta.Status
	if st == 0 {
		st = 200
	}
	return &crawler.Response{URL: rec.Meta.URL, Status: st, Header: h, Body: rec.Body}
}
