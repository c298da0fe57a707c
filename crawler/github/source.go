// Package github is the GitHub REST source adapter: repository search (name, description, README),
// issue search (where mirror links get shared), code search for known file names (token only),
// repository details with README and file tree, issue comments, and the issue trackers the
// registry cites.
package github

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceGitHub

// Job kinds.
const (
	KindRateLimit    = "rate-limit"    // GET /rate_limit (free): remaining quotas as notes
	KindSearchRepos  = "search-repos"  // GET /search/repositories
	KindSearchIssues = "search-issues" // GET /search/issues
	KindSearchCode   = "search-code"   // GET /search/code (token only)
	KindRepo         = "repo"          // GET /repos/{o}/{r}
	KindReadme       = "readme"        // GET /repos/{o}/{r}/readme (raw)
	KindComments     = "comments"      // GET /repos/{o}/{r}/issues/{n}/comments
	KindRepoIssues   = "repo-issues"   // GET /repos/{o}/{r}/issues?state=all
	KindTree         = "tree"          // GET /repos/{o}/{r}/git/trees/{branch}?recursive=1 (file list)
)

// Rate keys (crawler.Request.RateKey); the core bucket is the source's default.
const (
	RateCore       = Name
	RateSearch     = Name + "/search"
	RateSearchCode = Name + "/search-code"
)

// Issue search qualifiers: GitHub answers 422 ("Query must include 'is:issue' or
// 'is:pull-request'") to a /search/issues query that has neither.
const (
	IsIssue       = "is:issue"
	IsPullRequest = "is:pull-request"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL = "https://api.github.com"
	// DefaultPageSize is GitHub's largest per_page: rate limits count requests (search: 30 a
	// minute), and a query's 1,000 readable results are 10 pages of 100.
	DefaultPageSize = 100
	DefaultMaxPages = 3
	// MaxResults is GitHub's cap on one search (page * per_page <= 1000).
	MaxResults = 1000
	// MaxTextBytes bounds the README/issue text kept in an artifact.
	MaxTextBytes = 512 << 10
	// maxOr is GitHub's limit of AND/OR/NOT operators in one search query.
	maxOr = 5
	// maxQueryLen is GitHub's limit on the q parameter (256 characters, qualifiers excluded).
	maxQueryLen = 240
)

func init() { crawler.Register(Name, New) }

// Source is the GitHub adapter.
type Source struct {
	base       string
	web        string // https://github.com, for artifact URLs when the API omits html_url
	pageSize   int
	maxPages   int
	token      string
	details    bool // fetch READMEs and comments (core API)
	detailsWhy string
	issueTypes []string // is:issue, is:pull-request: one issue search per type
}

// New builds the adapter. Options: details = auto|always|never (default auto: with a token, or
// when the watch config sets a rate for github; anonymous core access is 60 requests an hour);
// pull_requests = true|false (default true: issue searches are also run with is:pull-request).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPageSize: 100, MaxPages: DefaultMaxPages, TokenEnv: "GITHUB_TOKEN"})
	if err != nil {
		return nil, err
	}
	s := &Source{base: c.Base, pageSize: c.PageSize, maxPages: c.MaxPages, token: c.Token, web: "https://github.com"}
	if c.URL.Host != "api.github.com" {
		s.web = s.base // GitHub Enterprise (/api/v3) and the demo world serve pages under the API root
	}
	switch v := cfg.Options["details"]; v {
	case "", "auto":
		s.details = s.token != "" || cfg.Rate > 0
		if !s.details {
			s.detailsWhy = "github: READMEs and issue comments skipped: no GITHUB_TOKEN (anonymous core API is 60 requests/hour); set GITHUB_TOKEN, or options.details: always"
		}
	case "always":
		s.details = true
	case "never":
		s.details = false
		s.detailsWhy = "github: READMEs and issue comments skipped (options.details: never)"
	default:
		return nil, fmt.Errorf("github: options.details: %q is not auto, always or never", v)
	}
	switch v := cfg.Options["pull_requests"]; v {
	case "", "true":
		s.issueTypes = []string{IsIssue, IsPullRequest}
	case "false":
		s.issueTypes = []string{IsIssue}
	default:
		return nil, fmt.Errorf("github: options.pull_requests: %q is not true or false", v)
	}
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates are GitHub's documented limits: core 5,000/hour with a token (60/hour anonymous),
// search 30/minute with a token (10/minute anonymous), code search 10/minute.
func (s *Source) DefaultRates() map[string]crawler.Rate { return DefaultRates(s.token != "") }

// DefaultRates returns the documented limits with or without a token.
func DefaultRates(token bool) map[string]crawler.Rate {
	if token {
		return map[string]crawler.Rate{
			RateCore:       webapi.PerWindow(5000, 3600, 10, "GitHub core: 5,000 requests/hour with a token"),
			RateSearch:     webapi.PerWindow(30, 60, 1, "GitHub search: 30 requests/minute with a token"),
			RateSearchCode: webapi.PerWindow(10, 60, 1, "GitHub code search: 10 requests/minute"),
		}
	}
	return map[string]crawler.Rate{
		RateCore:       webapi.PerWindow(60, 3600, 1, "GitHub core: 60 requests/hour anonymous"),
		RateSearch:     webapi.PerWindow(10, 60, 1, "GitHub search: 10 requests/minute anonymous"),
		RateSearchCode: webapi.PerWindow(10, 60, 1, "GitHub code search: 10 requests/minute (token required)"),
	}
}

// Plan implements crawler.Source: a /rate_limit look-up (free), then per dataset repository and
// issue searches over its names (several names OR-ed into one query, within GitHub's operator and
// length limits), code searches for its known file names (token only) and the issue trackers of
// GitHub repositories its registry entry cites.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	return s.PlanIncremental(ctx, datasets, crawler.Incremental{})
}

// PlanIncremental implements crawler.IncrementalPlanner: Plan, with repository searches limited to
// pushed:>=Since and issue searches to updated:>=Since when inc is filtered (a scheduled re-scan;
// monitor/incremental.go).
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	var plan webapi.Plan
	add := func(j crawler.Job) { plan.Add(j) }
	add(s.job(KindRateLimit, "", s.base+"/rate_limit", nil))
	var notes []string
	if s.token == "" {
		notes = append(notes, "github: code search skipped: no GITHUB_TOKEN (GitHub requires authentication for code search)")
	}
	if s.detailsWhy != "" {
		notes = append(notes, s.detailsWhy)
	}
	terms := make([][]string, len(datasets))
	for i, d := range datasets {
		terms[i] = webapi.Terms(d, 3)
	}
	covered := coveredTerms(terms)
	for i, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var own []string
		for _, t := range terms[i] {
			if !covered[t] {
				own = append(own, t)
			}
		}
		for _, q := range orQueries(own) {
			add(s.sinceJob(s.searchJob(KindSearchRepos, d.ID, q+" in:name,description,readme"), "pushed", inc))
			// GitHub answers 422 to an issue search without is:issue or is:pull-request.
			for _, is := range s.issueTypes {
				add(s.sinceJob(s.searchJob(KindSearchIssues, d.ID, q+" in:title,body,comments "+is), "updated", inc))
			}
		}
		if s.token != "" {
			for _, f := range webapi.FileNames(d) {
				add(s.searchJob(KindSearchCode, d.ID, quote(f)))
			}
		}
		for _, repo := range citedRepos(d) {
			add(s.repoIssuesJob(d.ID, repo))
		}
	}
	jobs := plan.Jobs()
	if len(notes) > 0 {
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes", strings.Join(notes, "\n"))
	}
	return jobs, nil
}

// coveredTerms are the terms (of any dataset) whose every match another, shorter term also
// matches, so the searches leave them out: the shorter term's words are a run of whole words of
// the longer one (GitHub matches a quoted phrase word by word, splitting at punctuation:
// "DukeMTMC" finds every text "DukeMTMC-reID" finds) and, lower-cased, a substring of it (what a
// plain substring search would need too). Every repository and issue search carries the same
// qualifiers, so the shorter term's query lists whatever the longer one's would have; the matcher
// judges every listed artifact against every dataset. Terms equal but for case are one term.
func coveredTerms(terms [][]string) map[string]bool {
	type term struct{ raw, lower, words string }
	var all []term
	seen := map[string]bool{}
	covered := map[string]bool{}
	for _, ts := range terms {
		for _, t := range ts {
			lt := strings.ToLower(strings.TrimSpace(t))
			if seen[lt] {
				if !slices.ContainsFunc(all, func(x term) bool { return x.raw == t }) {
					covered[t] = true
				}
				continue
			}
			seen[lt] = true
			all = append(all, term{raw: t, lower: lt, words: " " + strings.Join(wordsRE.Split(lt, -1), " ") + " "})
		}
	}
	for _, b := range all {
		for _, a := range all {
			if len(a.lower) < len(b.lower) && strings.Contains(b.lower, a.lower) && strings.Contains(b.words, a.words) &&
				strings.TrimSpace(a.words) != "" {
				covered[b.raw] = true
				break
			}
		}
	}
	return covered
}

// wordsRE splits a term into the words GitHub's search matches.
var wordsRE = regexp.MustCompile(`[^a-z0-9]+`)

// quote puts a term in double quotes (dropping quotes inside it) so GitHub searches the phrase.
func quote(term string) string { return `"` + strings.ReplaceAll(term, `"`, "") + `"` }

// orQueries joins terms into queries of at most maxOr+1 quoted phrases joined by OR and at most
// maxQueryLen characters.
func orQueries(terms []string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " OR "))
			cur = nil
		}
	}
	for _, t := range terms {
		q := quote(t)
		if len(q) > maxQueryLen {
			continue
		}
		if len(cur) > maxOr || len(strings.Join(append(cur, q), " OR ")) > maxQueryLen {
			flush()
		}
		cur = append(cur, q)
	}
	flush()
	return out
}

var ghRepoRE = regexp.MustCompile(`^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)/(issues|pull|discussions)(/|$)`)

// citedRepos are the repositories whose issue trackers the registry cites as sources (people ask
// for and share mirrors there).
func citedRepos(d *configs.Dataset) []string {
	var urls []string
	urls = append(urls, d.Sources...)
	for _, m := range d.KnownModels {
		urls = append(urls, m.Source)
	}
	var out []string
	seen := map[string]bool{}
	for _, u := range urls {
		if m := ghRepoRE.FindStringSubmatch(strings.TrimSpace(u)); m != nil {
			r := m[1] + "/" + strings.TrimSuffix(m[2], ".git")
			if !seen[strings.ToLower(r)] {
				seen[strings.ToLower(r)] = true
				out = append(out, r)
			}
		}
	}
	return out
}

func (s *Source) job(kind, dataset, u string, meta map[string]string) crawler.Job {
	return crawler.Job{ID: crawler.Key(Name, kind, u), Source: Name, Kind: kind, URL: u, Dataset: dataset, Meta: meta}
}

func (s *Source) searchJob(kind, dataset, q string) crawler.Job {
	path := map[string]string{KindSearchRepos: "/search/repositories", KindSearchIssues: "/search/issues", KindSearchCode: "/search/code"}[kind]
	v := url.Values{}
	v.Set("q", q)
	v.Set("per_page", strconv.Itoa(s.pageSize))
	u := s.base + path + "?" + v.Encode()
	return s.job(kind, dataset, u, map[string]string{webapi.MetaScope: Name + ":" + kind + ":" + q})
}

func (s *Source) repoIssuesJob(dataset, repo string) crawler.Job {
	u := s.base + "/repos/" + escapeRepo(repo) + "/issues?state=all&per_page=" + strconv.Itoa(s.pageSize)
	return s.job(KindRepoIssues, dataset, u, map[string]string{webapi.MetaScope: Name + ":" + KindRepoIssues + ":" + repo})
}

// RepoJob is the detail job of a repository (404/410/451 → gone).
func (s *Source) RepoJob(dataset, repo string) crawler.Job {
	return s.job(KindRepo, dataset, s.base+"/repos/"+escapeRepo(repo), map[string]string{webapi.MetaID: "gh:repo:" + repo})
}

func escapeRepo(repo string) string {
	o, r, _ := strings.Cut(repo, "/")
	return url.PathEscape(o) + "/" + url.PathEscape(r)
}

// rateKey picks the bucket of a job kind.
func rateKey(kind string) string {
	switch kind {
	case KindSearchRepos, KindSearchIssues:
		return RateSearch
	case KindSearchCode:
		return RateSearchCode
	}
	return ""
}

func (s *Source) request(kind, u string) crawler.Request {
	accept := "application/vnd.github+json"
	switch kind {
	case KindSearchCode:
		accept = "application/vnd.github.text-match+json"
	case KindSearchRepos, KindSearchIssues:
		// Text fragments are only needed when READMEs and comments are not fetched (search answers
		// cannot be conditional: GitHub sends no ETag on them, so every byte counts on a re-scan).
		if !s.details {
			accept = "application/vnd.github.text-match+json"
		}
	case KindReadme:
		accept = "application/vnd.github.raw+json"
	}
	r := crawler.Request{Source: Name, URL: u, RateKey: rateKey(kind), Header: map[string][]string{
		"Accept": {accept}, "X-GitHub-Api-Version": {"2022-11-28"}}}
	if kind == KindRateLimit {
		r.NoConditional = true
	}
	if s.token != "" {
		r.Header["Authorization"] = []string{"Bearer " + s.token}
	}
	return r
}
