package crawler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Request is one HTTP request an adapter asks the fetcher for.
type Request struct {
	// Source names the adapter, for per-source rate limits, stats and metrics.
	Source string
	// Log, when set, is the logger of the request's lines (a worker's job logger, through WithLog).
	Log    *slog.Logger
	Method string // GET when empty
	URL    string
	Header http.Header
	Body   []byte
	// NoConditional turns off If-None-Match / If-Modified-Since for this request.
	NoConditional bool
	// RateKey selects a per-source bucket other than the default (e.g. "github/search-code").
	RateKey string
	// Robots says robots.txt applies (HTML pages). API endpoints leave it false: they are exempt.
	Robots bool
	// Redact names query parameters whose values are secrets (an API key passed in the URL), in
	// addition to crawler.SecretParams: the fetcher keeps them out of logs, errors and cache keys.
	Redact []string
	// MaxBody, when > 0, is this request's response-size bound (wire and decoded) instead of the
	// source's or the fetcher's default.
	MaxBody int64
	// FreshFor, when > 0, lets a stored 2xx copy younger than this answer without any request:
	// for what does not change at its URL, such as a paper's PDF, which is read once and not
	// asked again every run (rate limits count requests, 304s included).
	FreshFor time.Duration
}

// Response is what came back. Any status is returned as a response; transport failures and
// exhausted retries are errors.
type Response struct {
	URL    string // final URL after redirects
	Status int
	Header http.Header
	Body   []byte
	// FromCache is true when Body is the stored copy: the server answered 304 Not Modified, or
	// the copy was fresh (Request.FreshFor) and nothing was sent.
	FromCache bool
	// WireBytes is what this request cost on the wire (headers excluded).
	WireBytes int64
	Elapsed   time.Duration
	// Attempts is how many HTTP requests the fetch took (retries after 429/5xx included).
	Attempts int
}

// OK reports a 2xx status or a 304 served from cache.
func (r *Response) OK() bool { return r.FromCache || (r.Status >= 200 && r.Status < 300) }

// Fetcher performs requests with politeness (robots.txt, per-host and per-source rate limits,
// Retry-After, backoff), conditional requests from stored validators and bounded bodies.
type Fetcher interface {
	Fetch(ctx context.Context, req Request) (*Response, error)
}

// CachedResponse is what the validator cache keeps for a URL.
type CachedResponse struct {
	ETag         string
	LastModified string
	Status       int
	ContentType  string
	Body         []byte
	Stored       time.Time
}

// Cache stores validators and bodies so re-scans can send conditional requests. The embedded store
// and Redis both implement it.
type Cache interface {
	Lookup(ctx context.Context, url string) (CachedResponse, bool, error)
	Store(ctx context.Context, url string, c CachedResponse) error
}

// StatusError is returned by adapters for a response they cannot use.
type StatusError struct {
	URL    string
	Status int
	Msg    string
}

func (e *StatusError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("GET %s: HTTP %d: %s", e.URL, e.Status, e.Msg)
	}
	return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Status)
}

// Permanent reports errors that retrying will not fix (4xx other than 408/429).
func (e *StatusError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != 408 && e.Status != 429
}
