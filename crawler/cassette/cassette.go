// Package cassette records every HTTP exchange of a run to YAML cassettes and replays a run from
// them with no network: the building block of `afterlife scan --record DIR` and `--replay DIR`.
// It wraps an http.RoundTripper with go-vcr v4's recorder (gopkg.in/dnaeon/go-vcr.v4), so the
// cassettes are go-vcr's format: one YAML file per host (DIR/<host>.yaml), readable and editable by
// a person, fit to attach to a bug report.
//
// Secrets never reach a cassette: before a cassette is written, the Authorization,
// Proxy-Authorization, Cookie, Set-Cookie and API-key headers, the values of secret query
// parameters (crawler.SecretParams plus Options.QueryParams, in the URL and the recorded form) and
// every value in Options.Secrets (the tokens read from the environment, wherever they appear:
// URLs, headers, bodies) are replaced by crawler.Redacted.
//
// Replay answers each request from the cassette of its host, matching the method, the URL (with
// its secrets redacted the same way, so a replay with or without tokens matches) and the body.
// Identical requests are answered in the order they were recorded (a recorded 429 then 200 replays
// as 429 then 200). A request with no recorded answer left is an error wrapping ErrNotRecorded
// that names it; nothing ever goes to the network.
//
// Wire it where responses are already decoded (the recorder reads whole bodies), and Close it
// when the run ends: Close writes the cassettes of a recording.
package cassette

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	vcr "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Mode says whether a Transport records or replays.
type Mode int

const (
	// Record sends every request to the real transport and records the exchange.
	Record Mode = iota
	// Replay answers every request from the cassettes; nothing goes to the network.
	Replay
)

// ErrNotRecorded is wrapped by the error of a replayed request the cassettes have no answer for.
// It is crawler.ErrNotRecorded, so the fetcher and the run loop know the job cannot succeed.
var ErrNotRecorded = crawler.ErrNotRecorded

// Options tune a Transport.
type Options struct {
	// Real is where a recording sends requests (default http.DefaultTransport). Unused in Replay.
	Real http.RoundTripper
	// Secrets are values to redact wherever they appear (the tokens read from the environment).
	// Values shorter than 4 characters are ignored: they would redact ordinary text.
	Secrets []string
	// QueryParams are query parameter names whose values are secrets, besides crawler.SecretParams.
	QueryParams []string
	// Headers are header names whose values are secrets, besides SecretHeaders.
	Headers []string
}

// SecretHeaders are always redacted, in requests and responses.
var SecretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "Api-Key",
	"X-Auth-Token", "X-Kaggle-Authorization", "Private-Token"}

// Transport is an http.RoundTripper that records to or replays from the cassettes in one directory.
type Transport struct {
	dir     string
	mode    Mode
	opts    Options
	secrets []string
	headers map[string]bool

	mu   sync.Mutex
	recs map[string]*recorder.Recorder // by cassette name (host)
}

// New returns a Transport over dir. In Record mode dir is created; existing cassettes of hosts the
// run talks to are overwritten. In Replay mode dir must hold at least one cassette.
func New(dir string, mode Mode, opts Options) (*Transport, error) {
	t := &Transport{dir: dir, mode: mode, opts: opts, recs: map[string]*recorder.Recorder{}, headers: map[string]bool{}}
	for _, h := range append(append([]string(nil), SecretHeaders...), opts.Headers...) {
		t.headers[http.CanonicalHeaderKey(h)] = true
	}
	for _, s := range opts.Secrets {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			t.secrets = append(t.secrets, s)
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(t.secrets, func(i, j int) bool { return len(t.secrets[i]) > len(t.secrets[j]) })
	switch mode {
	case Record:
		if t.opts.Real == nil {
			t.opts.Real = http.DefaultTransport
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cassette: record into %s: %w", dir, err)
		}
	case Replay:
		names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("cassette: replay from %s: no cassette (*.yaml) there", dir)
		}
	default:
		return nil, fmt.Errorf("cassette: unknown mode %d", mode)
	}
	return t, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// name is the cassette of a host: "api.github.com", "127.0.0.1_8080".
func name(host string) string {
	n := unsafeName.ReplaceAllString(host, "_")
	if n == "" || n == "." || n == ".." {
		n = "_"
	}
	return n
}

// recorderFor returns the recorder of a host, opening its cassette on first use.
func (t *Transport) recorderFor(host string) (*recorder.Recorder, error) {
	n := name(host)
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.recs[n]; ok {
		return r, nil
	}
	path := filepath.Join(t.dir, n)
	opts := []recorder.Option{
		recorder.WithSkipRequestLatency(true),
		recorder.WithMatcher(t.match),
		recorder.WithHook(t.redact, recorder.BeforeSaveHook),
	}
	if t.mode == Record {
		opts = append(opts, recorder.WithMode(recorder.ModeRecordOnly), recorder.WithRealTransport(t.opts.Real))
	} else {
		if _, err := os.Stat(path + ".yaml"); err != nil {
			return nil, fmt.Errorf("%w: no cassette for host %s in %s", ErrNotRecorded, host, t.dir)
		}
		opts = append(opts, recorder.WithMode(recorder.ModeReplayOnly))
	}
	r, err := recorder.New(path, opts...)
	if err != nil {
		return nil, fmt.Errorf("cassette %s: %w", path+".yaml", err)
	}
	t.recs[n] = r
	return r, nil
}

// Wrap is t as the fetcher's recorder (crawler.FetcherOptions.Record): a recording sends every
// request through real (the fetcher's bounded, decoding transport), so the cassettes hold bodies
// as the adapters read them. Call it before the first request. A replay ignores real.
func (t *Transport) Wrap(real http.RoundTripper) http.RoundTripper {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mode == Record && real != nil {
		t.opts.Real = real
	}
	return t
}

// Dir is the directory of the cassettes.
func (t *Transport) Dir() string { return t.dir }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r, err := t.recorderFor(req.URL.Host)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, t.redactURL(req.URL.String()), err)
	}
	resp, err := r.RoundTrip(req)
	if errors.Is(err, vcr.ErrInteractionNotFound) {
		return nil, fmt.Errorf("%s %s: %w: no recorded answer (left) for this request in %s", req.Method,
			t.redactURL(req.URL.String()), ErrNotRecorded, filepath.Join(t.dir, name(req.URL.Host)+".yaml"))
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Close ends the run: a recording writes its cassettes (redacted). A Transport is not used after.
func (t *Transport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	names := make([]string, 0, len(t.recs))
	for n := range t.recs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := t.recs[n].Stop(); err != nil {
			errs = append(errs, fmt.Errorf("cassette %s: %w", n, err))
		}
	}
	t.recs = map[string]*recorder.Recorder{}
	return errors.Join(errs...)
}

// match is the replay matcher: method, redacted URL and (redacted) body. Headers are not compared:
// tokens, the User-Agent's version and validators differ between a recording and its replay.
func (t *Transport) match(r *http.Request, i vcr.Request) bool {
	if r.Method != i.Method || t.redactURL(r.URL.String()) != i.URL {
		return false
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		body = b
	}
	return t.redactText(string(body)) == i.Body
}

// redact removes every secret from an interaction before its cassette is written.
func (t *Transport) redact(i *vcr.Interaction) error {
	i.Request.URL = t.redactURL(i.Request.URL)
	i.Request.RequestURI = t.redactText(i.Request.RequestURI)
	i.Request.Body = t.redactText(i.Request.Body)
	i.Request.Headers = t.redactHeaders(i.Request.Headers)
	for k, vs := range i.Request.Form {
		secret := t.secretParam(k)
		for j := range vs {
			if secret {
				vs[j] = crawler.Redacted
			} else {
				vs[j] = t.redactText(vs[j])
			}
		}
	}
	i.Response.Headers = t.redactHeaders(i.Response.Headers)
	i.Response.Body = t.redactText(i.Response.Body)
	return nil
}

func (t *Transport) secretParam(k string) bool {
	for _, p := range append(append([]string(nil), crawler.SecretParams...), t.opts.QueryParams...) {
		if strings.EqualFold(k, p) {
			return true
		}
	}
	return false
}

func (t *Transport) redactURL(raw string) string {
	return t.redactText(crawler.RedactURL(raw, t.opts.QueryParams...))
}

func (t *Transport) redactHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			if t.headers[http.CanonicalHeaderKey(k)] {
				v = crawler.Redacted
			} else {
				v = t.redactText(v)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// redactText replaces every secret value in s, raw and URL-escaped.
func (t *Transport) redactText(s string) string {
	for _, v := range t.secrets {
		s = strings.ReplaceAll(s, v, crawler.Redacted)
		if e := url.QueryEscape(v); e != v {
			s = strings.ReplaceAll(s, e, crawler.Redacted)
		}
	}
	return s
}
