package demoworld

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// GitHub's REST API, as recorded in fixtures/real/github: /search/repositories, /search/issues and
// /search/code ({total_count, incomplete_results, items}, text_matches, Link rel="next"/"last",
// X-RateLimit-* with the search resource), /repos/{o}/{r}, /repos/{o}/{r}/readme (raw or base64),
// /repos/{o}/{r}/issues, /repos/{o}/{r}/issues/{n}/comments and /rate_limit. Errors use GitHub's
// {"message", "documentation_url"} envelope; code search without a token is 401 as on github.com.
func init() { registerSource("github", func(w *World) http.Handler { return &ghHandler{w: w} }) }

type ghHandler struct{ w *World }

const ghSource = "github"

var (
	ghRepoPathRE     = regexp.MustCompile(`^/repos/([^/]+/[^/]+)$`)
	ghReadmePathRE   = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/readme$`)
	ghIssueKind      = regexp.MustCompile(`(^|\s)(is|type):(issue|pull-request|pr)(\s|$)`)
	ghPullsOnly      = regexp.MustCompile(`(^|\s)(is|type):(pull-request|pr)(\s|$)`)
	ghIssuesPathRE   = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues$`)
	ghCommentsPathRE = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)
	ghPagePathRE     = regexp.MustCompile(`^/([^/]+/[^/]+)(/issues/\d+)?$`)
	ghTreePathRE     = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/git/trees/([^/]+)$`)
)

func (h *ghHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	resource := "core"
	if strings.HasPrefix(p, "/search/") {
		resource = "search"
		if p == "/search/code" {
			resource = "code_search"
		}
	}
	limit := map[string]int{"core": 5000, "search": 30, "code_search": 10}[resource]
	rw.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	rw.Header().Set("X-RateLimit-Remaining", strconv.Itoa(limit-1))
	rw.Header().Set("X-RateLimit-Reset", strconv.FormatInt(demoEpochTime.Unix()+3600, 10))
	rw.Header().Set("X-RateLimit-Resource", resource)
	rw.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	switch {
	case p == "/rate_limit":
		h.rateLimit(rw)
	case p == "/search/repositories":
		h.search(rw, r, "repositories")
	case p == "/search/issues":
		h.search(rw, r, "issues")
	case p == "/search/code":
		if r.Header.Get("Authorization") == "" {
			ghError(rw, http.StatusUnauthorized, "Requires authentication")
			return
		}
		h.search(rw, r, "code")
	default:
		if m := ghRepoPathRE.FindStringSubmatch(p); m != nil {
			h.repo(rw, r, m[1])
		} else if m := ghReadmePathRE.FindStringSubmatch(p); m != nil {
			h.readme(rw, r, m[1])
		} else if m := ghIssuesPathRE.FindStringSubmatch(p); m != nil {
			h.repoIssues(rw, r, m[1])
		} else if m := ghTreePathRE.FindStringSubmatch(p); m != nil {
			h.tree(rw, r, m[1], m[2])
		} else if m := ghIssuePathRE.FindStringSubmatch(p); m != nil {
			h.issue(rw, r, m[1], m[2]) // epochs.go
		} else if m := ghCommentsPathRE.FindStringSubmatch(p); m != nil {
			h.comments(rw, r, m[1], m[2])
		} else if m := ghPagePathRE.FindStringSubmatch(p); m != nil {
			h.page(rw, r, m[1]+m[2])
		} else {
			ghError(rw, http.StatusNotFound, "Not Found")
		}
	}
}

func ghError(rw http.ResponseWriter, status int, msg string) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func (h *ghHandler) rateLimit(rw http.ResponseWriter) {
	res := map[string]any{}
	for k, l := range map[string]int{"core": 5000, "search": 30, "code_search": 10, "graphql": 5000} {
		res[k] = map[string]any{"limit": l, "used": 0, "remaining": l, "reset": demoEpochTime.Unix() + 3600}
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(rw).Encode(map[string]any{"resources": res, "rate": res["core"]})
}

// ghQuery is a parsed search query: phrases (quoted or bare), whether they are OR-ed, and the
// qualifiers this world understands (in:, repo:, is:).
type ghQuery struct {
	phrases []string
	or      bool
	in      []string
	repo    string
	is      string
	dates   []dateFilter // pushed:, updated:, created: (epochs.go)
}

var ghTokenRE = regexp.MustCompile(`"[^"]*"|\S+`)

func parseGHQuery(q string) ghQuery {
	var out ghQuery
	for _, tok := range ghTokenRE.FindAllString(q, -1) {
		switch {
		case tok == "OR":
			out.or = true
		case tok == "AND" || tok == "NOT":
		case strings.HasPrefix(tok, `"`):
			if s := strings.Trim(tok, `"`); s != "" {
				out.phrases = append(out.phrases, strings.ToLower(s))
			}
		case strings.Contains(tok, ":"):
			k, v, _ := strings.Cut(tok, ":")
			switch strings.ToLower(k) {
			case "in":
				out.in = strings.Split(strings.ToLower(v), ",")
			case "repo":
				out.repo = strings.ToLower(v)
			case "is":
				out.is = strings.ToLower(v)
			case "pushed", "updated", "created":
				if f, ok := parseDateFilter(strings.ToLower(k), v); ok {
					out.dates = append(out.dates, f)
				}
			}
		default:
			out.phrases = append(out.phrases, strings.ToLower(tok))
		}
	}
	return out
}

// match reports whether the fields selected by in: contain the phrases (any with OR, all without).
func (q ghQuery) match(fields map[string]string) bool {
	if len(q.phrases) == 0 {
		return false
	}
	var hay []string
	for name, v := range fields {
		if len(q.in) == 0 || contains(q.in, name) {
			hay = append(hay, strings.ToLower(v))
		}
	}
	text := strings.Join(hay, "\n")
	for _, ph := range q.phrases {
		hit := strings.Contains(text, ph)
		if q.or && hit {
			return true
		}
		if !q.or && !hit {
			return false
		}
	}
	return !q.or
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// planted returns the artifacts whose id starts with prefix, in id order (shared: read only).
func (h *ghHandler) planted(prefix string) []*Planted {
	all := h.w.SortedByID(ghSource)
	lo := sort.Search(len(all), func(i int) bool { return all[i].ID >= prefix })
	hi := lo
	for hi < len(all) && strings.HasPrefix(all[hi].ID, prefix) {
		hi++
	}
	return all[lo:hi]
}

func ghComments(p Planted) []map[string]any {
	raw, _ := p.Extra["comments"].([]any)
	var out []map[string]any
	for _, c := range raw {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (h *ghHandler) search(rw http.ResponseWriter, r *http.Request, what string) {
	q := r.URL.Query()
	if strings.TrimSpace(q.Get("q")) == "" {
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		rw.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(rw).Encode(map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "Search", "field": "q", "code": "missing"}}, "documentation_url": "https://docs.github.com/v3/search"})
		return
	}
	if what == "issues" && !ghIssueKind.MatchString(q.Get("q")) {
		// GitHub answers an issue search that names neither issues nor pull requests with 422.
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		rw.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(rw).Encode(map[string]any{"message": "Query must include 'is:issue' or 'is:pull-request'",
			"documentation_url": "https://docs.github.com/rest/search/search#search-issues-and-pull-requests", "status": "422"})
		return
	}
	pullsOnly := ghPullsOnly.MatchString(q.Get("q"))
	query := parseGHQuery(q.Get("q"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	items := []map[string]any{}
	switch what {
	case "repositories":
		for _, pp := range h.planted("gh:repo:") {
			p := *pp
			full := strings.TrimPrefix(p.ID, "gh:repo:")
			if !h.datesMatch(query, p) {
				continue
			}
			if query.match(map[string]string{"name": full, "description": extraStr(p, "description", ""), "readme": p.Text}) {
				q := query
				if !strings.Contains(r.Header.Get("Accept"), "text-match") {
					q = ghQuery{}
				}
				items = append(items, h.repoObject(r, p, q))
			}
		}
	case "issues":
		for _, pp := range h.planted("gh:issue:") {
			p := *pp
			if pullsOnly {
				break // the planted threads are issues
			}
			var cs []string
			for _, c := range ghComments(p) {
				s, _ := c["body"].(string)
				cs = append(cs, s)
			}
			if !h.datesMatch(query, p) {
				continue
			}
			if query.repo != "" && !strings.HasPrefix(strings.ToLower(strings.TrimPrefix(p.ID, "gh:issue:")), query.repo+"#") {
				continue
			}
			if query.match(map[string]string{"title": p.Title, "body": p.Text, "comments": strings.Join(cs, "\n")}) {
				items = append(items, h.issueObject(r, p))
			}
		}
	case "code":
		for _, pp := range h.planted("gh:repo:") {
			p := *pp
			for _, f := range p.Files {
				if query.match(map[string]string{"file": f.Path, "path": f.Path}) {
					full := strings.TrimPrefix(p.ID, "gh:repo:")
					items = append(items, map[string]any{"name": f.Path[strings.LastIndex(f.Path, "/")+1:], "path": f.Path,
						"sha": fmt.Sprintf("%040x", len(f.Path)), "html_url": ghWeb(r) + "/" + full + "/blob/main/" + f.Path,
						"repository": h.repoObject(r, p, ghQuery{}), "score": 1.0})
				}
			}
		}
	}
	total := len(items)
	if total > ghMaxResults && (page-1)*perPage >= ghMaxResults {
		// GitHub serves the first 1,000 results of a search and no more.
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		rw.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(rw).Encode(map[string]any{"message": "Only the first 1000 search results are available",
			"documentation_url": "https://docs.github.com/v3/search/", "status": "422"})
		return
	}
	items = items[:min(total, ghMaxResults)]
	start := min((page-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	last := max(1, (len(items)+perPage-1)/perPage)
	if page < last {
		base := *r.URL
		link := func(n int) string {
			v := base.Query()
			v.Set("page", strconv.Itoa(n))
			return absURL(r, "/github"+base.Path+"?"+v.Encode())
		}
		rw.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="last"`, link(page+1), link(last)))
	}
	rw.Header().Set("Cache-Control", "no-cache")
	body := map[string]any{"total_count": total, "incomplete_results": false, "items": items[start:end]}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(rw).Encode(body)
}

func ghWeb(r *http.Request) string { return absURL(r, "/github") }

// ghMaxResults is how many results of one search GitHub serves (total_count may say more).
const ghMaxResults = 1000

// ghCrowd plants n look-alike repositories that a "MegaFace" search finds, created a day apart from
// 2016-01-01 (Options.GitHubCrowd).
func ghCrowd(n int) []Planted {
	out := make([]Planted, 0, n)
	t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		full := fmt.Sprintf("crowd-%03d/megaface-eval-%04d", i%97, i)
		out = append(out, Planted{Artifact: artifact.Artifact{ID: "gh:repo:" + full, Source: ghSource, Kind: artifact.KindRepository,
			URL: "https://github.com/" + full, Title: full, Published: t0.AddDate(0, 0, i).Format("2006-01-02"),
			Text: "Evaluation scripts for face recognition on MegaFace (challenge 1 protocol)."},
			Extra: map[string]any{"description": "MegaFace face identification evaluation"}})
	}
	return out
}

func ghRepoObject(r *http.Request, p Planted, q ghQuery) map[string]any {
	full := strings.TrimPrefix(p.ID, "gh:repo:")
	owner, name, _ := strings.Cut(full, "/")
	created := p.Published + "T10:21:07Z"
	desc := extraStr(p, "description", "")
	o := map[string]any{
		"id": extraInt(p, "id", 400000000+int64(len(full))*7919), "name": name, "full_name": full, "private": false,
		"owner":    map[string]any{"login": owner, "type": "User", "html_url": ghWeb(r) + "/" + owner},
		"html_url": ghWeb(r) + "/" + full, "description": desc, "fork": false, "url": absURL(r, "/github/repos/"+full),
		"created_at": created, "updated_at": created, "pushed_at": created, "stargazers_count": extraInt(p, "stars", 12),
		"watchers_count": extraInt(p, "stars", 12), "forks_count": extraInt(p, "forks", 2), "language": extraStr(p, "language", "Python"),
		"archived": false, "default_branch": "main", "topics": p.Tags, "visibility": "public", "score": 1.0,
	}
	if desc == "" {
		o["description"] = nil
	}
	if len(q.phrases) > 0 {
		var tms []map[string]any
		for prop, v := range map[string]string{"name": name, "description": desc} {
			for _, ph := range q.phrases {
				if i := strings.Index(strings.ToLower(v), ph); i >= 0 {
					tms = append(tms, map[string]any{"object_url": o["url"], "object_type": "Repository", "property": prop,
						"fragment": v, "matches": []map[string]any{{"text": v[i : i+len(ph)], "indices": []int{i, i + len(ph)}}}})
					break
				}
			}
		}
		o["text_matches"] = tms
	}
	return o
}

func ghIssueParts(p Planted) (repo string, num int) {
	rest := strings.TrimPrefix(p.ID, "gh:issue:")
	repo, n, _ := strings.Cut(rest, "#")
	num, _ = strconv.Atoi(n)
	return repo, num
}

func ghIssueObject(r *http.Request, p Planted) map[string]any {
	repo, num := ghIssueParts(p)
	created := p.Published + "T08:03:51Z"
	var labels []map[string]any
	for _, t := range p.Tags {
		labels = append(labels, map[string]any{"name": t, "color": "ededed"})
	}
	return map[string]any{
		"url": absURL(r, fmt.Sprintf("/github/repos/%s/issues/%d", repo, num)), "repository_url": absURL(r, "/github/repos/"+repo),
		"comments_url": absURL(r, fmt.Sprintf("/github/repos/%s/issues/%d/comments", repo, num)),
		"html_url":     fmt.Sprintf("%s/%s/issues/%d", ghWeb(r), repo, num), "number": num, "title": p.Title,
		"user": map[string]any{"login": extraStr(p, "author", "someone")}, "labels": labels, "state": extraStr(p, "state", "open"),
		"locked": false, "comments": len(ghComments(p)), "created_at": created, "updated_at": created, "closed_at": nil,
		"author_association": "NONE", "body": p.Text, "score": 1.0,
	}
}

func (h *ghHandler) repo(rw http.ResponseWriter, r *http.Request, full string) {
	p, ok := h.w.Find(ghSource, "gh:repo:"+full)
	if !ok {
		ghError(rw, http.StatusNotFound, "Not Found")
		return
	}
	serveJSONCached(rw, r, h.repoObject(r, p, ghQuery{}))
}

func (h *ghHandler) readme(rw http.ResponseWriter, r *http.Request, full string) {
	p, ok := h.w.Find(ghSource, "gh:repo:"+full)
	if !ok || p.Text == "" {
		ghError(rw, http.StatusNotFound, "Not Found")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "raw") {
		serveCached(rw, r, "application/vnd.github.raw; charset=utf-8", []byte(p.Text))
		return
	}
	serveJSONCached(rw, r, map[string]any{"type": "file", "encoding": "base64", "name": "README.md", "path": "README.md",
		"size": len(p.Text), "content": base64.StdEncoding.EncodeToString([]byte(p.Text))})
}

func (h *ghHandler) repoIssues(rw http.ResponseWriter, r *http.Request, full string) {
	// Every repository's tracker exists in the demo world (the registry cites real ones, whose
	// issues are not planted): unknown repositories answer an empty list, not 404.
	issues := h.planted("gh:issue:" + full + "#")
	items := []map[string]any{}
	for _, p := range issues {
		items = append(items, h.issueObject(r, *p))
	}
	serveJSONCached(rw, r, items)
}

func (h *ghHandler) comments(rw http.ResponseWriter, r *http.Request, full, num string) {
	p, ok := h.w.Find(ghSource, "gh:issue:"+full+"#"+num)
	if !ok {
		ghError(rw, http.StatusNotFound, "Not Found")
		return
	}
	out := []map[string]any{}
	for i, c := range ghComments(p) {
		out = append(out, map[string]any{"id": 1000 + i, "body": c["body"], "created_at": c["created_at"],
			"user": map[string]any{"login": c["user"]}, "author_association": "NONE"})
	}
	serveJSONCached(rw, r, out)
}

// page answers the html_url of a repo or issue (the reports link to them).
func (h *ghHandler) page(rw http.ResponseWriter, r *http.Request, rest string) {
	id := "gh:repo:" + rest
	if i := strings.Index(rest, "/issues/"); i >= 0 {
		id = "gh:issue:" + rest[:i] + "#" + rest[i+len("/issues/"):]
	}
	p, ok := h.w.Find(ghSource, id)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(rw, "%s (demo world page)\n\n%s\n", p.Title, p.Text)
}

// tree answers GET /repos/{o}/{r}/git/trees/{ref}?recursive=1 with README.md and the planted files.
func (h *ghHandler) tree(rw http.ResponseWriter, r *http.Request, full, ref string) {
	p, ok := h.w.Find(ghSource, "gh:repo:"+full)
	if !ok || ref != "main" {
		ghError(rw, http.StatusNotFound, "Not Found")
		return
	}
	entries := []map[string]any{{"path": "README.md", "mode": "100644", "type": "blob", "size": len(p.Text)}}
	dirs := map[string]bool{}
	for _, f := range p.Files {
		if i := strings.LastIndex(f.Path, "/"); i > 0 && !dirs[f.Path[:i]] {
			dirs[f.Path[:i]] = true
			entries = append(entries, map[string]any{"path": f.Path[:i], "mode": "040000", "type": "tree"})
		}
		e := map[string]any{"path": f.Path, "mode": "100644", "type": "blob"}
		if f.Size != nil {
			e["size"] = *f.Size
		}
		entries = append(entries, e)
	}
	serveJSONCached(rw, r, map[string]any{"sha": fmt.Sprintf("%040x", len(full)), "tree": entries, "truncated": false})
}
