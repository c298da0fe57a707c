package demoworld

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Zenodo's InvenioRDM API, as recorded in fixtures/real/zenodo: GET /api/records?q=&size=&page=&sort=
// ({hits: {hits, total}, aggregations, links: {self, next, prev}}, X-RateLimit-Limit 30) and
// GET /api/records/{id} (ETag W/"<revision>", Link rel="linkset"). A record missing from this
// epoch but planted in another answers 410 "PID has been deleted"; an unknown id 404.
func init() { registerSource("zenodo", func(w *World) http.Handler { return &zenodoHandler{w: w} }) }

type zenodoHandler struct{ w *World }

const zenodoSource = "zenodo"

var zenodoRecordRE = regexp.MustCompile(`^/api/records/(\d+)$`)

func (h *zenodoHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/records" || p == "/api/records/":
		rw.Header().Set("X-RateLimit-Limit", "30")
		rw.Header().Set("X-RateLimit-Remaining", "29")
		rw.Header().Set("X-RateLimit-Reset", strconv.FormatInt(demoEpochTime.Unix()+60, 10))
		h.search(rw, r)
	case zenodoRecordRE.MatchString(p):
		rw.Header().Set("X-RateLimit-Limit", "133")
		rw.Header().Set("X-RateLimit-Remaining", "132")
		rw.Header().Set("X-RateLimit-Reset", strconv.FormatInt(demoEpochTime.Unix()+60, 10))
		h.record(rw, r, zenodoRecordRE.FindStringSubmatch(p)[1])
	case strings.HasPrefix(p, "/records/"):
		id := strings.TrimPrefix(p, "/records/")
		rec, ok := h.w.Find(zenodoSource, "zenodo:"+id)
		if !ok {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, "<!doctype html><title>%s</title><h1>%s</h1><p>%s</p>", html.EscapeString(rec.Title), html.EscapeString(rec.Title), html.EscapeString(rec.Text))
	default:
		zenodoError(rw, http.StatusNotFound, "The requested URL was not found on the server.")
	}
}

func zenodoError(rw http.ResponseWriter, status int, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"status": status, "message": msg})
}

func (h *zenodoHandler) search(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("size"))
	if size <= 0 {
		size = 10
	}
	if size > 25 && r.Header.Get("Authorization") == "" {
		zenodoError(rw, http.StatusBadRequest, "Page size cannot be greater than 25.")
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	qs, updated, filtered := zenodoUpdatedFilter(q.Get("q"))
	query := parseGHQuery(qs) // quoted phrases joined by OR, the same shape as GitHub's
	var hits []Planted
	for _, p := range h.w.Planted(zenodoSource) {
		if filtered && h.w.ChangedAt(p, zenodoClock).Before(updated) {
			continue // updated:[from TO *]: records updated before from are not listed
		}
		var files []string
		for _, f := range p.Files {
			files = append(files, f.Path)
		}
		kw, _ := p.Extra["keywords"].([]any)
		var kws []string
		for _, k := range kw {
			if s, ok := k.(string); ok {
				kws = append(kws, s)
			}
		}
		if len(query.phrases) == 0 || query.match(map[string]string{"title": p.Title, "description": p.Text,
			"keywords": strings.Join(kws, "\n"), "files": strings.Join(files, "\n")}) {
			hits = append(hits, p)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Published != hits[j].Published {
			return hits[i].Published > hits[j].Published // mostrecent
		}
		return hits[i].ID < hits[j].ID
	})
	start := min((page-1)*size, len(hits))
	end := min(start+size, len(hits))
	items := []map[string]any{}
	for _, p := range hits[start:end] {
		items = append(items, zenodoRecord(r, p))
	}
	link := func(n int) string {
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(n))
		v.Set("size", strconv.Itoa(size))
		return absURL(r, "/zenodo/api/records?"+v.Encode())
	}
	links := map[string]string{"self": link(page)}
	if end < len(hits) {
		links["next"] = link(page + 1)
	}
	if page > 1 {
		links["prev"] = link(page - 1)
	}
	serveJSONCached(rw, r, map[string]any{"hits": map[string]any{"hits": items, "total": len(hits)},
		"aggregations": map[string]any{}, "links": links})
}

// zenodoClock is the time of day zenodoRecord renders with the published date.
const zenodoClock = "12:14:31"

// zenodoUpdatedRE is the date range the scanner's filtered listings add to a query (Zenodo's
// Elasticsearch query string: `(<phrases>) AND updated:[YYYY-MM-DD TO *]`).
var zenodoUpdatedRE = regexp.MustCompile(`^\((.*)\)\s+AND\s+updated:\[(\S+)\s+TO\s+\*\]\s*$`)

// zenodoUpdatedFilter splits a query into its phrases and its updated:[from TO *] bound (ok false:
// no such bound, the query is all phrases). A record is listed when it changed (World.ChangedAt)
// on or after from.
func zenodoUpdatedFilter(q string) (phrases string, from time.Time, ok bool) {
	m := zenodoUpdatedRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return q, time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, m[2]); err == nil {
			return m[1], t, true
		}
	}
	return q, time.Time{}, false
}

func zenodoRecord(r *http.Request, p Planted) map[string]any {
	id := strings.TrimPrefix(p.ID, "zenodo:")
	self := absURL(r, "/zenodo/api/records/"+id)
	var files []map[string]any
	for i, f := range p.Files {
		fo := map[string]any{"id": fmt.Sprintf("%08x-0000-4000-8000-%012d", i+1, len(f.Path)), "key": f.Path,
			"checksum": fmt.Sprintf("md5:%032x", len(f.Path)*7919+i),
			"links":    map[string]any{"self": self + "/files/" + f.Path + "/content"}}
		if f.Size != nil {
			fo["size"] = *f.Size
		}
		files = append(files, fo)
	}
	created := p.Published + "T12:14:31.120112+00:00"
	return map[string]any{
		"created": created, "modified": created, "updated": created, "id": mustAtoi(id), "recid": id, "conceptrecid": strconv.Itoa(mustAtoi(id) - 1),
		"doi": "10.5281/zenodo." + id, "doi_url": "https://doi.org/10.5281/zenodo." + id, "title": p.Title, "revision": 3,
		"metadata": map[string]any{
			"title": p.Title, "description": zenodoHTML(p.Text), "publication_date": extraStr(p, "publication_date", p.Published),
			"resource_type": map[string]any{"type": extraStr(p, "resource_type", "dataset"), "title": "Dataset"},
			"creators":      []map[string]any{{"name": extraStr(p, "creator", "Anonymous, Uploader")}},
			"keywords":      p.Extra["keywords"], "access_right": "open", "license": map[string]any{"id": "cc-by-4.0"},
		},
		"files": files, "status": "published", "state": "done", "submitted": true,
		"links": map[string]any{"self": self, "self_html": absURL(r, "/zenodo/records/"+id), "files": self + "/files"},
		"stats": map[string]any{"downloads": extraInt(p, "downloads", 31), "views": extraInt(p, "views", 240)},
	}
}

// zenodoHTML renders plain text as the HTML paragraphs Zenodo stores descriptions in.
func zenodoHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
	}
	return b.String()
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (h *zenodoHandler) record(rw http.ResponseWriter, r *http.Request, id string) {
	p, ok := h.w.Find(zenodoSource, "zenodo:"+id)
	if !ok {
		for _, q := range h.w.planted[zenodoSource] {
			if q.ID == "zenodo:"+id {
				zenodoError(rw, http.StatusGone, "PID has been deleted.")
				return
			}
		}
		zenodoError(rw, http.StatusNotFound, "The persistent identifier does not exist.")
		return
	}
	rw.Header().Set("Link", fmt.Sprintf(`<%s> ; rel="linkset" ; type="application/linkset+json"`, absURL(r, "/zenodo/api/records/"+id)))
	serveJSONCached(rw, r, zenodoRecord(r, p))
}
