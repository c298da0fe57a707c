package demoworld

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// OpenAlex as recorded in fixtures/real/openalex: GET /works with search= (quoted phrases OR-ed),
// filter= (cites:W1|W2, title.search:, openalex:; unknown fields => the recorded 400 shape),
// per_page / per-page, cursor=* then meta.next_cursor (null at the end); GET /works/W… and
// /works/doi:… singletons (404 JSON when absent). Planted artifacts' extra: cites (W ids of dataset
// papers), doi. The dataset papers themselves (below) resolve by W id and DOI but are not planted.
func init() {
	registerSource("openalex", func(w *World) http.Handler { w.pdfs(); return &oaHandler{w: w} })
}

type oaHandler struct{ w *World }

const oaSource = "openalex"

// oaDatasetPaper is a dataset's own paper in the demo OpenAlex (made-up W99… ids).
type oaDatasetPaper struct {
	W, DOI, Title, Date string
}

var oaDatasetPapers = []oaDatasetPaper{
	{"W9900000001", "10.48550/arxiv.1607.08221", "MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition", "2016-07-27"},
	{"W9900000002", "10.48550/arxiv.1512.00596", "The MegaFace Benchmark: 1 Million Faces for Recognition at Scale", "2015-12-02"},
	{"W9900000003", "10.48550/arxiv.1609.01775", "Performance Measures and a Data Set for Multi-Target, Multi-Camera Tracking", "2016-09-06"},
	{"W9900000004", "10.1109/tpami.2008.128", "80 Million Tiny Images: A Large Data Set for Nonparametric Object and Scene Recognition", "2008-11-01"},
}

// oaAllDatasetPapers is the fixed table plus every other paper of the registry.
var oaAllDatasetPapers = sync.OnceValue(func() []oaDatasetPaper {
	out := append([]oaDatasetPaper(nil), oaDatasetPapers...)
	for _, rp := range pwRegistryPapers() {
		dup := false
		for _, d := range oaDatasetPapers {
			dup = dup || (rp.DOI != "" && rp.DOI == d.DOI) || strings.EqualFold(rp.Title, d.Title)
		}
		if !dup {
			date := ""
			if rp.Year > 0 {
				date = fmt.Sprintf("%04d-01-01", rp.Year)
			}
			out = append(out, oaDatasetPaper{W: rp.W, DOI: rp.DOI, Title: rp.Title, Date: date})
		}
	}
	return out
})

func (h *oaHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("RateLimit-Limit", "100")
	rw.Header().Set("RateLimit-Remaining", "99")
	rw.Header().Set("RateLimit-Reset", "1")
	switch p := r.URL.Path; {
	case p == "/works":
		h.list(rw, r)
	case strings.HasPrefix(p, "/works/"):
		h.single(rw, r, strings.TrimPrefix(p, "/works/"))
	case strings.HasPrefix(p, "/pdf/") && strings.HasSuffix(p, ".pdf"):
		// The open-access copy a work's best_oa_location.pdf_url names (paperpdf.go).
		h.w.servePDF(rw, r, oaSource, "openalex:"+strings.TrimSuffix(strings.TrimPrefix(p, "/pdf/"), ".pdf"))
	default:
		oaError(rw, r, http.StatusNotFound, "404 Not Found", "The requested URL was not found on the server.")
	}
}

func oaError(rw http.ResponseWriter, r *http.Request, status int, e, msg string) {
	pwJSON(rw, r, status, map[string]string{"error": e, "message": msg})
}

func (h *oaHandler) single(rw http.ResponseWriter, r *http.Request, id string) {
	id, _ = url.PathUnescape(id)
	lid := strings.ToLower(id)
	for _, p := range h.w.Planted(oaSource) {
		if strings.TrimPrefix(p.ID, "openalex:") == id || (strings.HasPrefix(lid, "doi:") && strings.EqualFold(pwString(p, "doi"), lid[4:])) {
			pwJSON(rw, r, http.StatusOK, h.oaWork(r, p))
			return
		}
	}
	for _, d := range oaAllDatasetPapers() {
		if d.W == id || (strings.HasPrefix(lid, "doi:") && d.DOI == lid[4:]) {
			pwJSON(rw, r, http.StatusOK, oaDatasetWork(d))
			return
		}
	}
	oaError(rw, r, http.StatusNotFound, "404 Not Found", "The requested URL was not found on the server.")
}

func (h *oaHandler) list(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	per := 25
	for _, k := range []string{"per_page", "per-page"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				oaError(rw, r, http.StatusBadRequest, "Invalid query parameters error.", "per-page parameter must be between 1 and 200")
				return
			}
			per = n
		}
	}
	hits := h.w.Planted(oaSource)
	var titleSearch string
	if f := q.Get("filter"); f != "" {
		for _, part := range strings.Split(f, ",") {
			k, v, _ := strings.Cut(part, ":")
			switch strings.ReplaceAll(k, "-", "_") {
			case "cites":
				want := strings.Split(v, "|")
				hits = oaFilter(hits, func(p Planted) bool {
					for _, c := range pwStrings(p, "cites") {
						for _, w := range want {
							if strings.EqualFold(strings.TrimPrefix(w, "https://openalex.org/"), c) {
								return true
							}
						}
					}
					return false
				})
			case "openalex":
				want := strings.Split(v, "|")
				hits = oaFilter(hits, func(p Planted) bool {
					for _, w := range want {
						if strings.TrimPrefix(p.ID, "openalex:") == w {
							return true
						}
					}
					return false
				})
			case "title.search":
				titleSearch = v
				hits = oaFilter(hits, func(p Planted) bool { return pwHas(p.Title, v) })
			case "title_and_abstract.search", "default.search":
				hits = oaFilter(hits, func(p Planted) bool { return pwHas(p.Title+" \n "+p.Text, v) })
			default:
				oaError(rw, r, http.StatusBadRequest, "Invalid query parameters error.",
					k+" is not a valid field. Valid fields are underscore or hyphenated versions of: cites, openalex, title.search, title_and_abstract.search, default.search")
				return
			}
		}
	}
	if s := q.Get("search"); s != "" {
		phrases := pwPhrases(s)
		hits = oaFilter(hits, func(p Planted) bool {
			for _, ph := range phrases {
				if pwHas(p.Title+" \n "+p.Text, ph) {
					return true
				}
			}
			return false
		})
	}
	var results []map[string]any
	for _, p := range hits {
		results = append(results, h.oaWork(r, p))
	}
	// The dataset papers answer title searches too (that is how a paper's W id is resolved).
	if titleSearch != "" {
		for _, d := range oaAllDatasetPapers() {
			if pwHas(d.Title, titleSearch) {
				results = append(results, oaDatasetWork(d))
			}
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i]["id"].(string) < results[j]["id"].(string) })
	meta := map[string]any{"count": len(results), "db_response_time_ms": 3, "per_page": per, "groups_count": nil}
	off := 0
	if c := q.Get("cursor"); c != "" {
		meta["page"] = nil
		if c != "*" {
			n, ok := pwUncursor(c)
			if !ok {
				oaError(rw, r, http.StatusBadRequest, "Invalid query parameters error.", "cursor is invalid")
				return
			}
			off = n
		}
		lo, hi := pwPage(len(results), off, per)
		if hi < len(results) {
			meta["next_cursor"] = pwCursor(hi)
		} else {
			meta["next_cursor"] = nil
		}
		results = results[lo:hi]
	} else {
		page := 1
		if v := q.Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
			page = max(page, 1)
		}
		meta["page"] = page
		lo, hi := pwPage(len(results), (page-1)*per, per)
		results = results[lo:hi]
	}
	if results == nil {
		results = []map[string]any{}
	}
	pwJSON(rw, r, http.StatusOK, map[string]any{"meta": meta, "results": results, "group_by": []any{}})
}

func oaFilter(ps []Planted, keep func(Planted) bool) []Planted {
	var out []Planted
	for _, p := range ps {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// oaInverted builds an abstract_inverted_index from text.
func oaInverted(text string) map[string][]int {
	idx := map[string][]int{}
	for i, w := range strings.Fields(text) {
		idx[w] = append(idx[w], i)
	}
	return idx
}

func (h *oaHandler) oaWork(r *http.Request, p Planted) map[string]any {
	wid := strings.TrimPrefix(p.ID, "openalex:")
	var refs []string
	for _, c := range pwStrings(p, "cites") {
		refs = append(refs, "https://openalex.org/"+c)
	}
	w := map[string]any{
		"id": "https://openalex.org/" + wid, "title": p.Title, "display_name": p.Title,
		"publication_date": p.Published, "publication_year": pwYear(p.Published), "type": "article",
		"ids": map[string]any{"openalex": "https://openalex.org/" + wid}, "is_retracted": false,
		"abstract_inverted_index": oaInverted(p.Text), "referenced_works": refs, "keywords": []any{},
		"primary_location": map[string]any{"landing_page_url": p.URL, "source": map[string]any{"display_name": pwString(p, "venue")}},
	}
	w["best_oa_location"] = nil
	if h.w.HasPDF(p) {
		w["best_oa_location"] = map[string]any{"is_oa": true, "landing_page_url": p.URL, "license": "cc-by",
			"pdf_url": pwAbs(r, "/openalex/pdf/"+wid+".pdf"), "version": "acceptedVersion"}
	}
	if d := pwString(p, "doi"); d != "" {
		w["doi"] = "https://doi.org/" + d
		w["ids"].(map[string]any)["doi"] = "https://doi.org/" + d
	}
	return w
}

func oaDatasetWork(d oaDatasetPaper) map[string]any {
	return map[string]any{
		"id": "https://openalex.org/" + d.W, "doi": "https://doi.org/" + d.DOI, "title": d.Title, "display_name": d.Title,
		"publication_date": d.Date, "publication_year": pwYear(d.Date), "type": "article",
		"ids":          map[string]any{"openalex": "https://openalex.org/" + d.W, "doi": "https://doi.org/" + d.DOI},
		"is_retracted": false, "abstract_inverted_index": nil, "keywords": []any{},
	}
}
