package demoworld

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Hugging Face Hub, as recorded in fixtures/real/huggingface: /api/models and /api/datasets
// (search=, filter=<tag> repeated, limit=, cursor= with a Link rel="next" header), /api/models/{id}
// and /api/datasets/{id} (siblings with sizes when blobs=true), cards under
// /{id}/resolve|raw/main/README.md and /datasets/{id}/..., 404 with X-Error-Code: RepoNotFound,
// weak ETags honoured with 304, and the IETF draft RateLimit headers the Hub sends.
func init() { registerSource("huggingface", func(w *World) http.Handler { return &hfHandler{w: w} }) }

type hfHandler struct{ w *World }

const hfSource = "huggingface"

func (h *hfHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("RateLimit", `"api";r=499;t=300`)
	rw.Header().Set("RateLimit-Policy", `"fixed window";"api";q=500;w=300`)
	rw.Header().Set("Access-Control-Expose-Headers", "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link")
	p := r.URL.Path
	switch {
	case p == "/api/models" || p == "/api/datasets":
		h.list(rw, r, p == "/api/datasets")
	case strings.HasPrefix(p, "/api/models/"):
		h.info(rw, r, strings.TrimPrefix(p, "/api/models/"), false)
	case strings.HasPrefix(p, "/api/datasets/"):
		h.info(rw, r, strings.TrimPrefix(p, "/api/datasets/"), true)
	case strings.HasPrefix(p, "/datasets/"):
		h.card(rw, r, strings.TrimPrefix(p, "/datasets/"), true)
	default:
		h.card(rw, r, strings.TrimPrefix(p, "/"), false)
	}
}

func hfKindPrefix(dataset bool) string {
	if dataset {
		return "hf:dataset:"
	}
	return "hf:model:"
}

// hfRepos returns the planted repos of one kind, sorted by id.
func (h *hfHandler) hfRepos(dataset bool) []Planted {
	var out []Planted
	for _, p := range h.w.Planted(hfSource) {
		if strings.HasPrefix(p.ID, hfKindPrefix(dataset)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (h *hfHandler) list(rw http.ResponseWriter, r *http.Request, dataset bool) {
	q := r.URL.Query()
	search := strings.ToLower(q.Get("search"))
	filters := q["filter"]
	limit, err := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit = 1000
	} else if err != nil || limit <= 0 {
		hfError(rw, http.StatusBadRequest, "", "Invalid limit")
		return
	}
	off := 0
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			off, err = strconv.Atoi(string(b))
		}
		if err != nil || off < 0 {
			hfError(rw, http.StatusBadRequest, "", "Invalid cursor")
			return
		}
	}
	var hits []Planted
	for _, p := range h.hfRepos(dataset) {
		id := strings.TrimPrefix(p.ID, hfKindPrefix(dataset))
		if search != "" && !strings.Contains(strings.ToLower(id), search) {
			continue
		}
		if !hfHasTags(p, id, filters) {
			continue
		}
		hits = append(hits, p)
	}
	rw.Header().Set("X-Total-Count", strconv.Itoa(len(hits)))
	end := min(off+limit, len(hits))
	if off > len(hits) {
		off = end
	}
	page := hits[off:end]
	full := q.Get("full") == "true" || q.Get("full") == "1"
	items := make([]map[string]any, 0, len(page))
	for _, p := range page {
		items = append(items, hfObject(p, dataset, full || q.Get("cardData") == "true", full, false))
	}
	if end < len(hits) {
		next := *r.URL
		nq := next.Query()
		nq.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
		next.RawQuery = nq.Encode()
		rw.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, absURL(r, "/huggingface"+next.Path+"?"+next.RawQuery)))
	}
	serveJSONCached(rw, r, items)
}

// hfHasTags reports whether the repo carries every filter tag (the Hub also matches a bare
// library or pipeline name; the planted tags list them).
func hfHasTags(p Planted, id string, filters []string) bool {
	for _, f := range filters {
		found := false
		for _, t := range hfTags(p) {
			if strings.EqualFold(t, f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// hfTags are the planted tags plus the dataset:/base_model: tags the Hub derives from the card.
func hfTags(p Planted) []string {
	tags := append([]string(nil), p.Tags...)
	has := map[string]bool{}
	for _, t := range tags {
		has[t] = true
	}
	for _, d := range p.DeclaredDatasets {
		if t := "dataset:" + d; !has[t] {
			tags, has[t] = append(tags, t), true
		}
	}
	for _, b := range p.BaseModels {
		if t := "base_model:" + b; !has[t] {
			tags, has[t] = append(tags, t), true
		}
	}
	return tags
}

func hfObject(p Planted, dataset, cardData, siblings, sizes bool) map[string]any {
	id := strings.TrimPrefix(p.ID, hfKindPrefix(dataset))
	author, _, _ := strings.Cut(id, "/")
	sum := sha1.Sum([]byte(p.ID + p.Text))
	created := p.Published + "T09:12:44.000Z"
	if p.Published == "" {
		created = "2022-03-02T23:29:04.000Z"
	}
	o := map[string]any{
		"_id": hex.EncodeToString(sum[:12]), "id": id, "author": author, "sha": hex.EncodeToString(sum[:]),
		"private": false, "gated": false, "disabled": false, "tags": hfTags(p), "createdAt": created,
		"lastModified": created, "downloads": extraInt(p, "downloads", 1200), "likes": extraInt(p, "likes", 7),
	}
	if !dataset {
		o["modelId"] = id
		o["pipeline_tag"] = extraStr(p, "pipeline_tag", "")
		o["library_name"] = extraStr(p, "library_name", "")
	} else if p.Text != "" {
		o["description"] = hfCardBody(p.Text, 300)
	}
	if cardData {
		cd := map[string]any{}
		if len(p.DeclaredDatasets) > 0 {
			cd["datasets"] = p.DeclaredDatasets
		}
		if len(p.BaseModels) == 1 {
			cd["base_model"] = p.BaseModels[0]
		} else if len(p.BaseModels) > 1 {
			cd["base_model"] = p.BaseModels
		}
		if l := extraStr(p, "license", ""); l != "" {
			cd["license"] = l
		}
		o["cardData"] = cd
	}
	if siblings {
		sibs := []map[string]any{{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}}
		if sizes {
			sibs[0]["size"] = 1519
			sibs[1]["size"] = len(p.Text)
		}
		for _, f := range p.Files {
			s := map[string]any{"rfilename": f.Path}
			if sizes && f.Size != nil {
				s["size"] = *f.Size
				if *f.Size > 10<<20 {
					s["lfs"] = map[string]any{"size": *f.Size, "sha256": hex.EncodeToString(sum[:]) + "00000000000000000000000000000000"[:24], "pointerSize": 135}
				}
			}
			sibs = append(sibs, s)
		}
		o["siblings"] = sibs
	}
	return o
}

// hfCardBody is the card without front matter, cut to n bytes (the Hub's dataset description).
func hfCardBody(text string, n int) string {
	if strings.HasPrefix(text, "---") {
		if i := strings.Index(text[3:], "\n---"); i >= 0 {
			text = text[3+i+4:]
		}
	}
	text = strings.TrimSpace(text)
	if len(text) > n {
		text = text[:n]
	}
	return text
}

func (h *hfHandler) info(rw http.ResponseWriter, r *http.Request, id string, dataset bool) {
	p, ok := h.w.Find(hfSource, hfKindPrefix(dataset)+id)
	if !ok {
		hfError(rw, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	}
	blobs := r.URL.Query().Get("blobs") == "true"
	serveJSONCached(rw, r, hfObject(p, dataset, true, true, blobs))
}

func (h *hfHandler) card(rw http.ResponseWriter, r *http.Request, rest string, dataset bool) {
	for _, mid := range []string{"/resolve/main/README.md", "/raw/main/README.md"} {
		if id, ok := strings.CutSuffix(rest, mid); ok {
			p, found := h.w.Find(hfSource, hfKindPrefix(dataset)+id)
			if !found {
				hfError(rw, http.StatusNotFound, "RepoNotFound", "Repository not found")
				return
			}
			rw.Header().Set("X-Repo-Commit", extraStr(p, "sha", "0000000000000000000000000000000000000000"))
			serveCached(rw, r, "text/plain; charset=utf-8", []byte(p.Text))
			return
		}
	}
	hfError(rw, http.StatusNotFound, "EntryNotFound", "Entry not found")
}

func hfError(rw http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		rw.Header().Set("X-Error-Code", code)
	}
	rw.Header().Set("X-Error-Message", msg)
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"error": msg})
}

// serveJSONCached writes v as JSON with a weak ETag, answering If-None-Match with 304.
func serveJSONCached(rw http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	serveCached(rw, r, "application/json; charset=utf-8", b)
}

// serveCached writes body with a weak ETag derived from it and a fixed Last-Modified, answering a
// matching If-None-Match with 304 and no body (If-Modified-Since alone gets a full answer: bodies
// change between epochs while Last-Modified does not).
func serveCached(rw http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha1.Sum(body)
	etag := `W/"` + strconv.Itoa(len(body)) + "-" + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	rw.Header().Set("ETag", etag)
	rw.Header().Set("Last-Modified", demoEpochTime.Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimSpace(t)
			if t == etag || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") || t == "*" {
				rw.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	rw.Header().Set("Content-Type", contentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(body)
	}
}

// demoEpochTime is the Last-Modified every demo response carries (bodies change with epochs and
// ETags tell them apart).
var demoEpochTime = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// absURL makes an absolute URL on this server for a path+query.
func absURL(r *http.Request, pathQuery string) string {
	u := url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String() + pathQuery
}

func extraStr(p Planted, key, def string) string {
	if v, ok := p.Extra[key].(string); ok {
		return v
	}
	return def
}

func extraInt(p Planted, key string, def int64) int64 {
	switch v := p.Extra[key].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return def
}
