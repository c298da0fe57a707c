package render

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Server is the read-only web UI over a store: overview, datasets, sightings with search and
// filters, the propagation graph and every export. Pages carry no script; the Content Security
// Policy forbids script altogether.
type Server struct {
	st    reports.Store
	reg   *configs.Registry
	token string
	log   *slog.Logger
	mux   *http.ServeMux
	// TTL is the least time between two rebuilds of the report while the store changes (a scan
	// is running); an unchanged store is never rebuilt.
	TTL time.Duration

	mu      sync.Mutex
	cached  *Report
	graph   *Graph
	key     string
	builtAt time.Time

	// slots bounds the requests served at once (MaxConcurrent); past it, 503 with Retry-After.
	slots chan struct{}
	files fileCache
	// rendering counts exports being rendered now; maxRendering is its peak; renders counts
	// renders done (tests and metrics).
	rendering, maxRendering, renders atomic.Int64
}

// MaxConcurrent is how many requests a server handles at once by default (NewServerLimit): an
// export costs a render's working set (the report is shared), so memory is bounded by this many
// renders, not by the number of clients. Requests past it get 503 with Retry-After at once.
const MaxConcurrent = 8

// RetryAfterSeconds is what a request turned away by the concurrency bound is told.
const RetryAfterSeconds = 2

// TokenCookie holds the access token once a browser has presented it in ?token=.
const TokenCookie = "afterlife_token"

// NewServer serves st. A non-empty token is required on every request (Authorization: Bearer,
// the afterlife_token cookie, or ?token= once, which sets the cookie).
func NewServer(st reports.Store, reg *configs.Registry, token string, log *slog.Logger) *Server {
	return NewServerLimit(st, reg, token, log, MaxConcurrent)
}

// NewServerLimit is NewServer handling at most limit requests at once (<1: MaxConcurrent). Exports
// are rendered once per run into files in a temporary directory (Close removes it) and streamed.
func NewServerLimit(st reports.Store, reg *configs.Registry, token string, log *slog.Logger, limit int) *Server {
	if log == nil {
		log = slog.Default()
	}
	if limit < 1 {
		limit = MaxConcurrent
	}
	s := &Server{st: st, reg: reg, token: token, log: log, mux: http.NewServeMux(), TTL: 5 * time.Second,
		slots: make(chan struct{}, limit)}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /datasets/{id}", s.dataset)
	s.mux.HandleFunc("GET /datasets/{id}/{rel}/{page}", s.relPage)
	s.mux.HandleFunc("GET /sightings", s.sightings)
	s.mux.HandleFunc("GET /graph", s.graphPage)
	s.mux.HandleFunc("GET /artifacts", s.artifactPage)
	s.mux.HandleFunc("GET /files/{name}", s.file)
	s.mux.HandleFunc("GET /files/feeds/{name}", s.feed)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return s
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	h.Set("Cache-Control", "no-store")
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only", http.StatusMethodNotAllowed)
		return
	}
	if s.token != "" && !s.authorized(w, r) {
		return
	}
	if r.URL.Path != "/healthz" {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
			http.Error(w, "busy: too many requests at once; retry shortly", http.StatusServiceUnavailable)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Close removes the rendered files.
func (s *Server) Close() error { return s.files.reset("") }

func (s *Server) tokenOK(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.tokenOK(t) {
		return true
	}
	if c, err := r.Cookie(TokenCookie); err == nil && s.tokenOK(c.Value) {
		return true
	}
	if q := r.URL.Query(); s.tokenOK(q.Get("token")) {
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="afterlife"`)
	http.Error(w, "unauthorized: give the token as Authorization: Bearer, or once as ?token=", http.StatusUnauthorized)
	return false
}

// report returns the latest run's report, rebuilt when the store moved on or the TTL passed.
func (s *Server) report(ctx context.Context) (*Report, *Graph, error) {
	rep, g, _, err := s.reportKey(ctx)
	return rep, g, err
}

// reportKey is report with the key of the built report (the rendered files' cache key).
func (s *Server) reportKey(ctx context.Context) (*Report, *Graph, string, error) {
	runs, err := s.st.Runs(ctx, 1)
	if err != nil {
		return nil, nil, "", err
	}
	key := ""
	if len(runs) > 0 {
		r := runs[0]
		key = fmt.Sprintf("%s|%d|%d|%d", r.ID, r.Finished.UnixNano(), r.New, r.Gone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Unchanged store: reuse. Changing store (a run in progress): rebuild at most every TTL.
	if s.cached != nil && (s.key == key || time.Since(s.builtAt) < s.TTL) {
		return s.cached, s.graph, s.builtKey(), nil
	}
	rep, err := Build(ctx, s.st, s.reg, "", Options{})
	if err != nil {
		return nil, nil, "", err
	}
	s.cached, s.graph, s.key, s.builtAt = rep, BuildGraph(rep, s.reg), key, time.Now()
	return s.cached, s.graph, s.builtKey(), nil
}

// builtKey names the built report (s.mu held): its store key and build time, so a report rebuilt
// during a run never serves files rendered from the one before.
func (s *Server) builtKey() string { return s.key + "|" + strconv.FormatInt(s.builtAt.UnixNano(), 10) }

func (s *Server) fail(w http.ResponseWriter, err error) {
	s.log.Warn("serve", "err", err)
	if errors.Is(err, ErrNoRuns) {
		http.Error(w, "The store holds no run yet: run `afterlife scan` or `afterlife demo` first.", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// send renders into a buffer first so a failed render never sends half a page.
func send(w http.ResponseWriter, ctype string, fn func(io.Writer) error) error {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	_, err := w.Write(b.Bytes())
	return err
}

const htmlType = "text/html; charset=utf-8"

var live = linker{live: true}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := send(w, htmlType, func(b io.Writer) error { return writeIndexHTML(b, live, rep) }); err != nil {
		s.fail(w, err)
	}
}

func findDataset(rep *Report, id string) *DatasetReport {
	for i := range rep.Datasets {
		if rep.Datasets[i].ID == id {
			return &rep.Datasets[i]
		}
	}
	return nil
}

func (s *Server) dataset(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	d := findDataset(rep, r.PathValue("id"))
	if d == nil {
		http.NotFound(w, r)
		return
	}
	if err := send(w, htmlType, func(b io.Writer) error { return writeDatasetHTML(b, live, rep, d) }); err != nil {
		s.fail(w, err)
	}
}

// relPage serves page k (≥ 2) of one relation of a dataset (page 1 is on the dataset page).
func (s *Server) relPage(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	d := findDataset(rep, r.PathValue("id"))
	k, kerr := strconv.Atoi(r.PathValue("page"))
	if d == nil || kerr != nil {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := writeRelPageHTML(&b, live, rep, d, r.PathValue("rel"), k); err != nil {
		if errors.Is(err, errNoPage) {
			http.NotFound(w, r)
			return
		}
		s.fail(w, err)
		return
	}
	if err := send(w, htmlType, func(o io.Writer) error { _, err := o.Write(b.Bytes()); return err }); err != nil {
		s.fail(w, err)
	}
}

func (s *Server) graphPage(w http.ResponseWriter, r *http.Request) {
	rep, g, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := send(w, htmlType, func(b io.Writer) error { return writeGraphHTML(b, live, rep, g) }); err != nil {
		s.fail(w, err)
	}
}

// MaxSearchRows bounds one page of sighting search results.
const MaxSearchRows = 500

func (s *Server) sightings(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	v := r.URL.Query()
	q := reports.SightingQuery{Dataset: v.Get("dataset"), Relation: extract.Relation(v.Get("relation")), Source: v.Get("source"),
		Text: strings.TrimSpace(v.Get("q")), Limit: MaxSearchRows + 1}
	if q.Relation != "" && !q.Relation.Valid() {
		http.Error(w, "unknown relation", http.StatusBadRequest)
		return
	}
	switch c := v.Get("min_conf"); c {
	case "", "0":
	default:
		f, err := strconv.ParseFloat(c, 64)
		if err != nil || f < 0 || f > 1 {
			http.Error(w, "min_conf must be a number from 0 to 1", http.StatusBadRequest)
			return
		}
		q.MinConfidence = f
	}
	state := v.Get("state")
	switch state {
	case "live", "gone":
		g := state == "gone"
		q.Gone = &g
	case "":
	default:
		http.Error(w, "state must be live or gone", http.StatusBadRequest)
		return
	}
	rows, err := s.st.Sightings(r.Context(), q)
	if err != nil {
		s.fail(w, err)
		return
	}
	p := newPage(live, rep, "Sightings")
	p.Q, p.State, p.Relations = q, state, extract.Relations
	if len(rows) > MaxSearchRows {
		rows, p.Capped = rows[:MaxSearchRows], true
	}
	p.Rows = rows
	for _, d := range rep.Datasets {
		p.DatasetIDs = append(p.DatasetIDs, d.ID)
	}
	if err := send(w, htmlType, func(b io.Writer) error { return render(b, "sightings", p) }); err != nil {
		s.fail(w, err)
	}
}

// MaxArtifactFiles bounds the file listing on an artifact page.
const MaxArtifactFiles = 200

func (s *Server) artifactPage(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	id := r.URL.Query().Get("id")
	a, ok, err := s.st.Artifact(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	found, err := s.st.Sightings(r.Context(), reports.SightingQuery{Text: id})
	if err != nil {
		s.fail(w, err)
		return
	}
	p := newPage(live, rep, a.Title)
	if p.Title == "" {
		p.Title = a.ID
	}
	p.Art = a
	for _, x := range found {
		if x.Artifact.ID == id {
			p.ArtFound = append(p.ArtFound, x)
		}
	}
	p.ArtFiles = a.Files
	if len(p.ArtFiles) > MaxArtifactFiles {
		p.ArtFiles, p.MoreFiles = p.ArtFiles[:MaxArtifactFiles], len(a.Files)-MaxArtifactFiles
	}
	if err := send(w, htmlType, func(b io.Writer) error { return render(b, "artifact", p) }); err != nil {
		s.fail(w, err)
	}
}

func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	rep, g, key, err := s.reportKey(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	name := r.PathValue("name")
	var fn func(io.Writer) error
	ctype := "text/plain; charset=utf-8"
	switch name {
	case "report.json":
		fn, ctype = func(w io.Writer) error { return WriteReportJSON(w, rep) }, "application/json"
	case "graph.json":
		fn, ctype = g.WriteJSON, "application/json"
	case "graph.graphml":
		fn, ctype = g.WriteGraphML, "application/graphml+xml"
	case "graph.dot":
		fn, ctype = g.WriteDOT, "text/vnd.graphviz; charset=utf-8"
	case "sightings.csv":
		fn, ctype = func(w io.Writer) error { return WriteSightingsCSV(w, rep) }, "text/csv; charset=utf-8"
	case "timeseries.csv":
		fn, ctype = func(w io.Writer) error { return WriteTimeSeriesCSV(w, rep) }, "text/csv; charset=utf-8"
	case "index.md":
		fn, ctype = func(w io.Writer) error { return WriteIndexMarkdown(w, rep) }, "text/markdown; charset=utf-8"
	default:
		id, ok := strings.CutSuffix(name, ".md")
		d := findDataset(rep, id)
		if !ok || d == nil {
			http.NotFound(w, r)
			return
		}
		fn, ctype = func(w io.Writer) error { return WriteDatasetMarkdown(w, rep, d) }, "text/markdown; charset=utf-8"
	}
	s.serveExport(w, r, key, name, ctype, fn)
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	rep, _, err := s.report(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	id, ok := strings.CutSuffix(r.PathValue("name"), ".atom")
	d := findDataset(rep, id)
	if !ok || d == nil {
		http.NotFound(w, r)
		return
	}
	if err := send(w, "application/atom+xml", func(b io.Writer) error { return WriteAtom(b, rep, d) }); err != nil {
		s.fail(w, err)
	}
}

// ListenAndServe serves s on addr until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(addr string)) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	ln, err := listen(ctx, addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}
