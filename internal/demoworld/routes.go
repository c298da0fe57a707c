package demoworld

import (
	"hash/fnv"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// routeCounter counts the requests a world serves by source and route kind (a listing, a detail
// page, a card, ...) and how many of them repeat a path and query already served: where a run's
// requests go, against the minimum that lists the planted world (minimum.go).
type routeCounter struct {
	mu     sync.Mutex
	counts map[string]*RouteCount
	seen   map[uint64]struct{}
}

// RouteCount is what a world served on one route kind.
type RouteCount struct {
	Requests int64 `json:"requests"`
	// Repeats are requests whose path and query the world had already served (a re-scan repeats
	// everything; within one first scan a repeat is waste).
	Repeats int64 `json:"repeats"`
}

func (c *routeCounter) count(src string, r *http.Request) {
	kind := routeKind(src, r)
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.URL.Path))
	_, _ = h.Write([]byte{'?'})
	_, _ = h.Write([]byte(r.URL.RawQuery))
	key := h.Sum64()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts, c.seen = map[string]*RouteCount{}, map[uint64]struct{}{}
	}
	rc := c.counts[src+" "+kind]
	if rc == nil {
		rc = &RouteCount{}
		c.counts[src+" "+kind] = rc
	}
	rc.Requests++
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return // an RPC (Kaggle's POSTs): the body, not the URL, is the question
	}
	if _, ok := c.seen[key]; ok {
		rc.Repeats++
	} else {
		c.seen[key] = struct{}{}
	}
}

// RouteCounts returns the requests served so far by "source route-kind" (a copy).
func (w *World) RouteCounts() map[string]RouteCount {
	w.routes.mu.Lock()
	defer w.routes.mu.Unlock()
	out := make(map[string]RouteCount, len(w.routes.counts))
	for k, v := range w.routes.counts {
		out[k] = *v
	}
	return out
}

// RouteKinds lists the keys of counts sorted.
func RouteKinds(counts map[string]RouteCount) []string {
	out := make([]string, 0, len(counts))
	for k := range counts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// routeKind names the kind of a request: for the Hub and GitHub each API route (a lineage listing
// apart from other model listings, a first page apart from the next ones); for the other sources
// the path with its ids collapsed.
func routeKind(src string, r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, "/"+src)
	q := r.URL.Query()
	switch src {
	case hfSource:
		switch {
		case p == "/api/models" || p == "/api/datasets":
			k := "list-models"
			if p == "/api/datasets" {
				k = "list-datasets"
			}
			switch f := strings.Join(q["filter"], ","); {
			case strings.HasPrefix(f, "base_model:"):
				k += " lineage"
			case f != "":
				k += " filter"
			case q.Get("search") != "":
				k += " search"
			default:
				k += " all"
			}
			if q.Get("sort") != "" {
				k += " sorted"
			}
			if q.Get("cursor") != "" {
				k += " next-page"
			}
			return k
		case strings.HasPrefix(p, "/api/models/"):
			return "model-info"
		case strings.HasPrefix(p, "/api/datasets/"):
			return "dataset-info"
		case strings.HasPrefix(p, "/datasets/"):
			return "dataset-card"
		}
		return "model-card"
	case ghSource:
		switch {
		case strings.HasPrefix(p, "/search/"):
			k := "search-" + strings.TrimPrefix(p, "/search/")
			if strings.Contains(q.Get("q"), "created:") {
				k += " split"
			}
			if strings.Contains(q.Get("q"), "pushed:") || strings.Contains(q.Get("q"), "updated:") {
				k += " since"
			}
			if pg := q.Get("page"); pg != "" && pg != "1" {
				k += " next-page"
			}
			return k
		case p == "/rate_limit":
			return "rate-limit"
		case ghReadmePathRE.MatchString(p):
			return "readme"
		case ghTreePathRE.MatchString(p):
			return "tree"
		case ghCommentsPathRE.MatchString(p):
			return "comments"
		case ghIssuesPathRE.MatchString(p):
			return "repo-issues"
		case ghIssuePathRE.MatchString(p):
			return "issue"
		case ghRepoPathRE.MatchString(p):
			return "repo"
		}
		return "page"
	}
	// The path, with every segment that names something (holds a digit, or follows a kind of
	// thing that an id follows) collapsed, at most four segments.
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, sg := range segs {
		if strings.ContainsAny(sg, "0123456789") || (i > 0 && (segs[i-1] == "details" || segs[i-1] == "download" ||
			segs[i-1] == "datasets" && src == atSource)) {
			segs[i] = "*"
		}
	}
	if len(segs) > 4 {
		segs = append(segs[:4], "...")
	}
	return strings.Join(segs, "/")
}
