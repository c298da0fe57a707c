package demoworld

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kaggle's REST API as documented in its swagger (no real response was ever recorded):
// GET /api/v1/datasets/list?search=&page= (a JSON array of ApiDataset, 20 a page),
// GET /api/v1/datasets/view/{owner}/{slug} (one ApiDataset) and
// GET /api/v1/datasets/list/{owner}/{slug} ({datasetFiles, errorMessage, nextPageToken}).
// Errors are {"code": n, "message": "..."}. The demo world does not ask for credentials.
func init() { registerSource("kaggle", func(w *World) http.Handler { return &kaggleHandler{w: w} }) }

type kaggleHandler struct{ w *World }

const kaggleSource = "kaggle"

var (
	kaggleViewRE  = regexp.MustCompile(`^/api/v1/datasets/view/([^/]+/[^/]+)$`)
	kaggleFilesRE = regexp.MustCompile(`^/api/v1/datasets/list/([^/]+/[^/]+)$`)
	kagglePageRE  = regexp.MustCompile(`^/datasets/([^/]+/[^/]+)$`)
)

// kaggleRPC is the official client's RPC API (kagglesdk): POST /api/v1/datasets.DatasetApiService/<Method>
// with a JSON body, answered by the same handlers as the legacy routes.
const kaggleRPC = "/api/v1/datasets.DatasetApiService/"

func (h *kaggleHandler) rpc(rw http.ResponseWriter, r *http.Request, method string) {
	var body struct {
		Search      string `json:"search"`
		Page        int    `json:"page"`
		SortBy      string `json:"sortBy"`
		OwnerSlug   string `json:"ownerSlug"`
		DatasetSlug string `json:"datasetSlug"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		kaggleError(rw, http.StatusBadRequest, "Invalid request")
		return
	}
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	switch method {
	case "ListDatasets":
		serveJSONCached(rw, r, map[string]any{"datasets": h.itemsSorted(r, body.Search, max(body.Page, 1), body.SortBy), "nextPageToken": ""})
		return
	case "GetDataset":
		r2.URL.Path = "/api/v1/datasets/view/" + body.OwnerSlug + "/" + body.DatasetSlug
	case "ListDatasetFiles":
		r2.URL.Path = "/api/v1/datasets/list/" + body.OwnerSlug + "/" + body.DatasetSlug
	default:
		kaggleError(rw, http.StatusNotFound, "Not found")
		return
	}
	h.ServeHTTP(rw, r2)
}

func (h *kaggleHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if m, ok := strings.CutPrefix(p, kaggleRPC); ok {
		h.rpc(rw, r, m)
		return
	}
	switch {
	case p == "/api/v1/datasets/list":
		h.list(rw, r)
	case kaggleViewRE.MatchString(p):
		ref := kaggleViewRE.FindStringSubmatch(p)[1]
		d, ok := h.w.Find(kaggleSource, "kaggle:dataset:"+ref)
		if !ok {
			kaggleError(rw, http.StatusNotFound, "Not found")
			return
		}
		serveJSONCached(rw, r, kaggleDataset(r, d, true))
	case kaggleFilesRE.MatchString(p):
		ref := kaggleFilesRE.FindStringSubmatch(p)[1]
		d, ok := h.w.Find(kaggleSource, "kaggle:dataset:"+ref)
		if !ok {
			kaggleError(rw, http.StatusNotFound, "Not found")
			return
		}
		files := []map[string]any{}
		for _, f := range d.Files {
			fo := map[string]any{"ref": f.Path, "name": f.Path, "creationDate": d.Published + "T08:00:00.000Z"}
			if f.Size != nil {
				fo["totalBytes"] = *f.Size
			}
			files = append(files, fo)
		}
		serveJSONCached(rw, r, map[string]any{"datasetFiles": files, "errorMessage": nil, "nextPageToken": ""})
	case kagglePageRE.MatchString(p):
		d, ok := h.w.Find(kaggleSource, "kaggle:dataset:"+kagglePageRE.FindStringSubmatch(p)[1])
		if !ok {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(rw, "%s (demo world page)\n\n%s\n", d.Title, d.Text)
	default:
		kaggleError(rw, http.StatusNotFound, "Not found")
	}
}

func kaggleError(rw http.ResponseWriter, status int, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"code": status, "message": msg})
}

func (h *kaggleHandler) list(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if q.Get("page") == "" {
		page = 1
	} else if err != nil || page < 1 {
		kaggleError(rw, http.StatusBadRequest, "Invalid page")
		return
	}
	serveJSONCached(rw, r, h.items(r, q.Get("search"), page))
}

// items is one page (20 a page, from 1) of the planted datasets whose text contains search.
func (h *kaggleHandler) items(r *http.Request, search string, page int) []map[string]any {
	return h.itemsSorted(r, search, page, "")
}

// kaggleClock is the time of day lastUpdated renders with the published date.
const kaggleClock = "08:00:00"

// itemsSorted is items in the order sortBy asks: DATASET_SORT_BY_UPDATED (kagglesdk's
// DatasetSortBy) lists the most recently updated first (World.ChangedAt); anything else keeps
// the id order the demo world always answered.
func (h *kaggleHandler) itemsSorted(r *http.Request, search string, page int, sortBy string) []map[string]any {
	search = strings.ToLower(strings.TrimSpace(search))
	var hits []Planted
	for _, d := range h.w.Planted(kaggleSource) {
		hay := strings.ToLower(strings.Join([]string{d.Title, extraStr(d, "subtitle", ""), d.Text, strings.TrimPrefix(d.ID, "kaggle:dataset:"), strings.Join(d.Tags, " ")}, "\n"))
		if search == "" || strings.Contains(hay, search) {
			hits = append(hits, d)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].ID < hits[j].ID })
	if sortBy == "DATASET_SORT_BY_UPDATED" {
		sort.SliceStable(hits, func(i, j int) bool {
			return h.w.ChangedAt(hits[i], kaggleClock).After(h.w.ChangedAt(hits[j], kaggleClock))
		})
	}
	const per = 20
	start := min((page-1)*per, len(hits))
	end := min(start+per, len(hits))
	items := []map[string]any{}
	for _, d := range hits[start:end] {
		o := kaggleDataset(r, d, false)
		o["lastUpdated"] = h.w.ChangedAt(d, kaggleClock).UTC().Format("2006-01-02T15:04:05.000Z") // the published date, but for what the epoch added
		items = append(items, o)
	}
	return items
}

func kaggleDataset(r *http.Request, d Planted, full bool) map[string]any {
	ref := strings.TrimPrefix(d.ID, "kaggle:dataset:")
	owner, _, _ := strings.Cut(ref, "/")
	var total int64
	files := []map[string]any{}
	for _, f := range d.Files {
		if f.Size != nil {
			total += *f.Size
		}
	}
	var tags []map[string]any
	for _, t := range d.Tags {
		tags = append(tags, map[string]any{"ref": strings.ReplaceAll(strings.ToLower(t), " ", "-"), "name": t})
	}
	o := map[string]any{
		"id": 2000000 + len(ref)*131, "ref": ref, "title": d.Title, "subtitle": extraStr(d, "subtitle", ""),
		"creatorName": owner, "creatorUrl": owner, "ownerName": owner, "ownerRef": owner,
		"url": absURL(r, "/kaggle/datasets/"+ref), "totalBytes": total, "lastUpdated": d.Published + "T08:00:00.000Z",
		"downloadCount": extraInt(d, "downloads", 140), "voteCount": extraInt(d, "votes", 6), "viewCount": 2300,
		"usabilityRating": 0.75, "licenseName": extraStr(d, "license", "Unknown"), "isPrivate": false, "isFeatured": false,
		"currentVersionNumber": 1, "tags": tags, "files": files,
		"versions": []map[string]any{{"versionNumber": 1, "creationDate": d.Published + "T08:00:00.000Z", "status": "Ready"}},
	}
	o["description"] = ""
	if full {
		o["description"] = d.Text
	}
	return o
}
