package demoworld

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The Hugging Face Hub, as recorded in fixtures/real/huggingface: /api/models and /api/datasets
// (search=, filter=<tag> repeated, limit=, cursor= with a Link rel="next" header, sort= and
// direction=, expand= (or expand[]=) naming the fields to return), /api/models/{id} and /api/datasets/{id}
// (siblings with sizes when blobs=true), cards under /{id}/resolve|raw/main/README.md and
// /datasets/{id}/..., 404 with X-Error-Code: RepoNotFound, weak ETags honoured with 304, and the
// IETF draft RateLimit headers the Hub sends.
//
// What is modelled on the Hub without a recorded answer to check it against (docs/sources.md says
// which): a model's childrenModelCount ({"finetune": n, "adapter": n, "quantized": n, "merge": n},
// counted from the base_model:<relation>:<id> tags of the other planted models) is served on list
// answers too when expand=childrenModelCount asks for it; sort=lastModified sorts by
// World.ChangedAt; an unknown expand value is a 400 naming the accepted ones.
//
// Lists are answered from an index built once per epoch (by id, by tag, children counts) and a
// memo of each query's sorted hits, so a page costs O(page) at 100,000 planted repos, not a scan.
func init() { registerSource("huggingface", func(w *World) http.Handler { return &hfHandler{w: w} }) }

type hfHandler struct {
	w  *World
	mu sync.Mutex
	ix *hfIndex
	// builds counts index builds and scanned the repos examined to answer queries (tests check
	// that a page costs no scan of the planted set).
	builds, scanned atomic.Int64
}

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

func hfKind(dataset bool) int {
	if dataset {
		return 1
	}
	return 0
}

// PlantHuggingFace adds repos to the world's planted Hugging Face afterlife (tests plant trees
// of thousands of models this way). Call it before serving.
func (w *World) PlantHuggingFace(ps ...Planted) {
	w.mu.Lock()
	w.planted[hfSource] = append(w.planted[hfSource], ps...)
	w.mu.Unlock()
}

// hfIndex is the current epoch's Hugging Face repos, indexed.
type hfIndex struct {
	epoch int
	start time.Time
	n     int // planted repos of every epoch when built
	// per kind (0 models, 1 datasets), sorted by id
	repos   [2][]Planted
	ids     [2][]string
	lower   [2][]string // lower-cased ids, for search=
	byID    [2]map[string]int
	byTag   [2]map[string][]int // lower-cased tag -> ascending indices
	changed [2][]time.Time
	// children counts by lower-cased parent model id and relation
	children map[string]map[string]int
	memo     map[string][]int
	memoHits int // indices held in memo
}

// hfMemoMax bounds the memoized queries, and hfMemoMaxHits the indices they hold together (the
// memo is dropped whole past either). Only answers longer than the page asked are memoized: a
// one-page answer is asked once per scan, and memoizing every lineage parent's children held
// 90 MiB in a --scale 100 scan (docs/scale.md, "Memory").
const (
	hfMemoMax     = 50_000
	hfMemoMaxHits = 1 << 20
)

// hfRelations are the model-tree relations the Hub counts (base_model:<relation>:<id> tags).
var hfRelations = []string{"adapter", "finetune", "merge", "quantized"}

// index returns the index of the current epoch, building it when the epoch (or the planted set)
// changed.
func (h *hfHandler) index() *hfIndex {
	h.w.mu.RLock()
	e, start, n := h.w.epoch, h.w.epochStart, len(h.w.planted[hfSource])
	h.w.mu.RUnlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if ix := h.ix; ix != nil && ix.epoch == e && ix.start.Equal(start) && ix.n == n {
		return ix
	}
	h.builds.Add(1)
	ix := &hfIndex{epoch: e, start: start, n: n, children: map[string]map[string]int{}, memo: map[string][]int{}}
	for _, p := range h.w.Planted(hfSource) {
		k := 0
		if strings.HasPrefix(p.ID, "hf:dataset:") {
			k = 1
		} else if !strings.HasPrefix(p.ID, "hf:model:") {
			continue
		}
		ix.repos[k] = append(ix.repos[k], p)
	}
	for k := range ix.repos {
		sort.Slice(ix.repos[k], func(i, j int) bool { return ix.repos[k][i].ID < ix.repos[k][j].ID })
		ix.byID[k] = make(map[string]int, len(ix.repos[k]))
		ix.byTag[k] = map[string][]int{}
		for i, p := range ix.repos[k] {
			id := strings.TrimPrefix(p.ID, hfKindPrefix(k == 1))
			ix.ids[k] = append(ix.ids[k], id)
			ix.lower[k] = append(ix.lower[k], strings.ToLower(id))
			ix.byID[k][id] = i
			ix.changed[k] = append(ix.changed[k], h.w.ChangedAt(p, hfClock))
			seen := map[string]bool{}
			for _, t := range hfTags(p) {
				lt := strings.ToLower(t)
				if seen[lt] {
					continue
				}
				seen[lt] = true
				ix.byTag[k][lt] = append(ix.byTag[k][lt], i)
				if k == 1 {
					continue
				}
				if rest, ok := strings.CutPrefix(lt, "base_model:"); ok {
					if rel, parent, ok := strings.Cut(rest, ":"); ok && slices.Contains(hfRelations, rel) {
						c := ix.children[parent]
						if c == nil {
							c = map[string]int{}
							ix.children[parent] = c
						}
						c[rel]++
					}
				}
			}
		}
	}
	h.ix = ix
	return ix
}

// find returns the repo with the given bare id in the current epoch.
func (h *hfHandler) find(id string, dataset bool) (Planted, bool) {
	ix := h.index()
	k := hfKind(dataset)
	i, ok := ix.byID[k][id]
	if !ok {
		return Planted{}, false
	}
	return ix.repos[k][i], true
}

// hits returns the indices of the repos answering a query, sorted as asked (memoized).
func (h *hfHandler) hits(ix *hfIndex, k int, search string, filters []string, sortBy string, desc bool, page int) []int {
	fs := make([]string, len(filters))
	for i, f := range filters {
		fs[i] = strings.ToLower(f)
	}
	sort.Strings(fs)
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s\x00%t", k, search, strings.Join(fs, "\x01"), sortBy, desc)
	h.mu.Lock()
	out, ok := ix.memo[key]
	h.mu.Unlock()
	if ok {
		return out
	}
	var cand []int
	if len(fs) > 0 {
		// Start from the shortest posting list; keep what carries every other tag.
		sort.Slice(fs, func(i, j int) bool { return len(ix.byTag[k][fs[i]]) < len(ix.byTag[k][fs[j]]) })
		h.scanned.Add(int64(len(ix.byTag[k][fs[0]])))
		for _, i := range ix.byTag[k][fs[0]] {
			all := true
			for _, f := range fs[1:] {
				if _, found := slices.BinarySearch(ix.byTag[k][f], i); !found {
					all = false
					break
				}
			}
			if all {
				cand = append(cand, i)
			}
		}
	} else {
		cand = make([]int, len(ix.repos[k]))
		for i := range cand {
			cand[i] = i
		}
	}
	if search != "" {
		h.scanned.Add(int64(len(cand)))
		kept := cand[:0:0]
		for _, i := range cand {
			if strings.Contains(ix.lower[k][i], search) {
				kept = append(kept, i)
			}
		}
		cand = kept
	}
	switch sortBy {
	case "lastModified", "last_modified":
		sort.SliceStable(cand, func(a, b int) bool {
			ta, tb := ix.changed[k][cand[a]], ix.changed[k][cand[b]]
			if desc {
				return ta.After(tb)
			}
			return ta.Before(tb)
		})
	case "createdAt", "created_at":
		sort.SliceStable(cand, func(a, b int) bool {
			pa, pb := ix.repos[k][cand[a]].Published, ix.repos[k][cand[b]].Published
			if desc {
				return pa > pb
			}
			return pa < pb
		})
	}
	if len(cand) <= page {
		return cand
	}
	h.mu.Lock()
	if len(ix.memo) >= hfMemoMax || ix.memoHits+len(cand) > hfMemoMaxHits {
		ix.memo, ix.memoHits = map[string][]int{}, 0
	}
	ix.memo[key] = cand
	ix.memoHits += len(cand)
	h.mu.Unlock()
	return cand
}

// hfModelExpand and hfDatasetExpand are the expand[] values the Hub accepts on lists (as its 400
// answers list them; childrenModelCount on model lists is this world's assumption).
var (
	hfModelExpand = []string{"author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled",
		"downloads", "downloadsAllTime", "evalResults", "gated", "gguf", "inference", "inferenceProviderMapping",
		"lastModified", "library_name", "likes", "mask_token", "model-index", "pipeline_tag", "private",
		"resourceGroup", "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo", "trendingScore",
		"widgetData", "xetEnabled"}
	hfDatasetExpand = []string{"author", "cardData", "citation", "createdAt", "disabled", "description", "downloads",
		"downloadsAllTime", "gated", "lastModified", "likes", "mainSize", "paperswithcode_id", "private", "siblings",
		"sha", "tags", "trendingScore", "resourceGroup", "xetEnabled"}
)

// hfClock is the time of day the demo Hub's dates carry.
const hfClock = "09:12:44"

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
	expand := append(q["expand[]"], q["expand"]...)
	vocab := hfModelExpand
	if dataset {
		vocab = hfDatasetExpand
	}
	for _, e := range expand {
		if !slices.Contains(vocab, e) {
			hfError(rw, http.StatusBadRequest, "", fmt.Sprintf(`"expand" must be one of %s`, strings.Join(vocab, ", ")))
			return
		}
	}
	if len(expand) > 0 && (q.Get("full") != "" || q.Get("cardData") != "") {
		hfError(rw, http.StatusBadRequest, "", `"expand" cannot be combined with "full" or "cardData"`)
		return
	}
	desc := q.Get("direction") == "-1"
	ix := h.index()
	k := hfKind(dataset)
	hits := h.hits(ix, k, search, filters, q.Get("sort"), desc, limit)
	rw.Header().Set("X-Total-Count", strconv.Itoa(len(hits)))
	end := min(off+limit, len(hits))
	if off > len(hits) {
		off = end
	}
	page := hits[off:end]
	full := q.Get("full") == "true" || q.Get("full") == "1"
	items := make([]map[string]any, 0, len(page))
	for _, i := range page {
		p := ix.repos[k][i]
		if len(expand) > 0 {
			items = append(items, h.expanded(ix, p, dataset, expand))
			continue
		}
		items = append(items, h.object(ix, p, dataset, full || q.Get("cardData") == "true", full, false))
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

// expanded is a repo object with only the asked fields (plus _id and id), as the Hub answers an
// expand[] request.
func (h *hfHandler) expanded(ix *hfIndex, p Planted, dataset bool, fields []string) map[string]any {
	all := h.object(ix, p, dataset, true, true, false)
	if !dataset {
		all["childrenModelCount"] = ix.childCounts(strings.TrimPrefix(p.ID, hfKindPrefix(false)))
	}
	out := map[string]any{"_id": all["_id"], "id": all["id"]}
	for _, f := range fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	return out
}

// childCounts is a model's childrenModelCount: every relation, zeros included.
func (ix *hfIndex) childCounts(id string) map[string]int {
	out := make(map[string]int, len(hfRelations))
	c := ix.children[strings.ToLower(id)]
	for _, rel := range hfRelations {
		out[rel] = c[rel]
	}
	return out
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
	var bases []string
	for _, b := range p.BaseModels {
		bases = append(bases, b)
		if t := "base_model:" + b; !has[t] {
			tags, has[t] = append(tags, t), true
		}
	}
	for _, t := range p.Tags {
		if rest, ok := strings.CutPrefix(t, "base_model:"); ok {
			if rel, _, ok := strings.Cut(rest, ":"); !ok || !slices.Contains(hfRelations, rel) {
				bases = append(bases, rest)
			}
		}
	}
	// The Hub puts every child in one of its relations: a base declared without one is a fine-tune.
	for _, b := range bases {
		classified := false
		for _, rel := range hfRelations {
			if has["base_model:"+rel+":"+b] {
				classified = true
				break
			}
		}
		if t := "base_model:finetune:" + b; !classified && !has[t] {
			tags, has[t] = append(tags, t), true
		}
	}
	return tags
}

func (h *hfHandler) object(ix *hfIndex, p Planted, dataset, cardData, siblings, sizes bool) map[string]any {
	o := hfObject(p, dataset, cardData, siblings, sizes)
	k := hfKind(dataset)
	if i, ok := ix.byID[k][o["id"].(string)]; ok {
		o["lastModified"] = ix.changed[k][i].UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return o
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
	p, ok := h.find(id, dataset)
	if !ok {
		hfError(rw, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	}
	q := r.URL.Query()
	if expand := append(q["expand[]"], q["expand"]...); len(expand) > 0 {
		serveJSONCached(rw, r, h.expanded(h.index(), p, dataset, expand))
		return
	}
	serveJSONCached(rw, r, h.object(h.index(), p, dataset, true, true, q.Get("blobs") == "true"))
}

func (h *hfHandler) card(rw http.ResponseWriter, r *http.Request, rest string, dataset bool) {
	for _, mid := range []string{"/resolve/main/README.md", "/raw/main/README.md"} {
		if id, ok := strings.CutSuffix(rest, mid); ok {
			p, found := h.find(id, dataset)
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
