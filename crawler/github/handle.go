package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if n := job.Meta["notes"]; n != "" {
		res.Notes = append(res.Notes, strings.Split(n, "\n")...)
	}
	resp, err := f.Fetch(ctx, s.request(job.Kind, job.URL))
	if err != nil {
		return res, fmt.Errorf("github %s: %w", job.Kind, err)
	}
	if done, err := s.status(job, resp, &res); done {
		return res, err
	}
	switch job.Kind {
	case KindRateLimit:
		s.handleRateLimit(resp, &res)
	case KindSearchRepos, KindSearchIssues, KindSearchCode:
		err = s.handleSearch(job, resp, &res)
	case KindRepoIssues:
		err = s.handleRepoIssues(job, resp, &res)
	case KindRepo:
		var r *Repo
		if r, err = ParseRepo(resp.Body); err == nil {
			s.emitRepo(job, s.RepoArtifact(r), r.Branch, &res)
		}
	case KindReadme, KindComments, KindTree:
		err = s.handleDetail(job, resp, &res)
	case KindIssue:
		err = s.handleIssue(job, resp, &res) // incremental.go
	default:
		err = fmt.Errorf("github: unknown job kind %q", job.Kind)
	}
	if err != nil {
		err = fmt.Errorf("github %s %s: %w", job.Kind, job.Meta[webapi.MetaScope]+job.Meta[webapi.MetaID], err)
	}
	return res, err
}

// status turns a non-OK response into the right result; done is true when the job is finished.
func (s *Source) status(job crawler.Job, resp *crawler.Response, res *crawler.Result) (bool, error) {
	if resp.Status == http.StatusUnavailableForLegalReasons && !resp.FromCache {
		// A DMCA or legal block: for the afterlife that is a takedown.
		if id := job.Meta[webapi.MetaID]; job.Kind == KindRepo && id != "" {
			res.Gone = append(res.Gone, id)
		}
		res.Notes = append(res.Notes, fmt.Sprintf("github: %s blocked for legal reasons (HTTP 451): %s", job.Kind, webapi.ErrorMessage(resp.Body)))
		if job.Kind == KindReadme || job.Kind == KindComments || job.Kind == KindTree {
			return true, s.skipDetail(job, res)
		}
		return true, nil
	}
	if job.Kind == KindTree && resp.Status == http.StatusConflict && !resp.FromCache {
		return true, s.skipDetail(job, res) // 409: the repository is empty
	}
	class := webapi.Classify(resp)
	switch class {
	case webapi.OK:
		return false, nil
	case webapi.RateLimited:
		return true, webapi.RateLimitError(resp, time.Now())
	case webapi.Invalid:
		return true, webapi.StatusErr(resp) // 422/400: the query is bad; permanent
	case webapi.ServerError, webapi.NotModified, webapi.Other:
		return true, webapi.StatusErr(resp)
	}
	detail := job.Kind == KindReadme || job.Kind == KindComments || job.Kind == KindTree
	switch {
	case class == webapi.Unauthorized:
		switch {
		case s.token != "":
			res.Notes = append(res.Notes, fmt.Sprintf("github: GITHUB_TOKEN rejected (HTTP 401) for %s: skipped", job.Kind))
		case job.Kind == KindSearchCode:
			res.Notes = append(res.Notes, "github: code search needs authentication (HTTP 401): skipped, set GITHUB_TOKEN")
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("github: %s needs authentication (HTTP 401): skipped", job.Kind))
		}
		if detail {
			return true, s.skipDetail(job, res)
		}
		return true, nil
	case class == webapi.Gone && (job.Kind == KindRepo || job.Kind == KindIssue):
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return true, nil
	case class == webapi.Gone && detail:
		// No README, comments or tree: the repository or issue itself was listed just now.
		return true, s.skipDetail(job, res)
	case class == webapi.Gone && job.Kind == KindRepoIssues:
		res.Notes = append(res.Notes, fmt.Sprintf("github: issue tracker %s answered HTTP %d (repository deleted, renamed or private): skipped", strings.TrimPrefix(job.Meta[webapi.MetaScope], Name+":"+KindRepoIssues+":"), resp.Status))
		return true, nil
	case class == webapi.Forbidden:
		res.Notes = append(res.Notes, fmt.Sprintf("github: %s forbidden (HTTP 403): %s", job.Kind, webapi.ErrorMessage(resp.Body)))
		if detail {
			return true, s.skipDetail(job, res)
		}
		return true, nil
	}
	return true, webapi.StatusErr(resp)
}

// skipDetail goes on without what a detail job would have added: after a README, to the tree;
// otherwise the carried artifact is emitted as it is.
func (s *Source) skipDetail(job crawler.Job, res *crawler.Result) error {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return err
	}
	if job.Kind == KindReadme {
		s.afterReadme(job, a, res)
		return nil
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}

// afterReadme asks for the repository's file tree when its default branch is known, else emits.
func (s *Source) afterReadme(job crawler.Job, a artifact.Artifact, res *crawler.Result) {
	branch := job.Meta[metaBranch]
	if branch == "" {
		res.Artifacts = append(res.Artifacts, a)
		return
	}
	repo := strings.TrimPrefix(a.ID, "gh:repo:")
	u := s.base + "/repos/" + escapeRepo(repo) + "/git/trees/" + url.PathEscape(branch) + "?recursive=1"
	j := s.job(KindTree, job.Dataset, u, map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)})
	j.RunID = job.RunID
	res.Next = append(res.Next, j)
}

const metaBranch = "branch"

func (s *Source) handleRateLimit(resp *crawler.Response, res *crawler.Result) {
	var rl RateLimits
	if err := json.Unmarshal(resp.Body, &rl); err != nil || len(rl.Resources) == 0 {
		res.Notes = append(res.Notes, "github: /rate_limit answer unreadable")
		return
	}
	var parts []string
	for _, k := range []string{"core", "search", "code_search"} {
		if r, ok := rl.Resources[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d/%d", k, r.Remaining, r.Limit))
		}
	}
	res.Notes = append(res.Notes, "github: quota remaining: "+strings.Join(parts, ", "))
}

func (s *Source) handleSearch(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	sr, err := ParseSearch(resp.Body)
	if err != nil {
		return err
	}
	if job.Page == 0 && sr.TotalCount > MaxResults {
		if job.Kind != KindSearchCode && s.splitSearch(job, sr.TotalCount, res) {
			return nil // the parts read everything; this page's items come again in them
		}
		if job.Kind == KindSearchCode {
			res.Notes = append(res.Notes, fmt.Sprintf("github: search-code %s: %d results, GitHub returns the first %d only (code search takes no created: ranges)",
				s.scopeQuery(job), sr.TotalCount, MaxResults))
		}
	}
	var ids []string
	cut := 0
	switch job.Kind {
	case KindSearchRepos:
		repos, err := ParseRepos(sr.Items)
		if err != nil {
			return err
		}
		repos, cut = capPage(s, job, repos, res)
		for i := range repos {
			a := s.RepoArtifact(&repos[i])
			ids = append(ids, a.ID)
			s.emitRepo(job, a, repos[i].Branch, res)
		}
	case KindSearchIssues:
		issues, err := ParseIssues(sr.Items)
		if err != nil {
			return err
		}
		issues, cut = capPage(s, job, issues, res)
		ids = s.emitIssues(job, issues, res)
	case KindSearchCode:
		items, err := ParseCode(sr.Items)
		if err != nil {
			return err
		}
		items, cut = capPage(s, job, items, res)
		byRepo := map[string]artifact.Artifact{}
		var order []string
		for _, c := range items {
			a := s.CodeArtifact(c)
			if prev, ok := byRepo[a.ID]; ok {
				prev.Files = append(prev.Files, a.Files...)
				byRepo[a.ID] = prev
				continue
			}
			byRepo[a.ID] = a
			order = append(order, a.ID)
		}
		for _, id := range order {
			res.Artifacts = append(res.Artifacts, byRepo[id])
			ids = append(ids, id)
		}
	}
	if sr.Incomplete {
		res.Notes = append(res.Notes, fmt.Sprintf("github: %s timed out on GitHub's side (incomplete_results): %s", job.Kind, strings.TrimPrefix(job.Meta[webapi.MetaScope], Name+":"+job.Kind+":")))
	}
	// Over the cap (a one-day part, or code search) is never a complete listing.
	s.paginate(job, resp, ids, !sr.Incomplete && sr.TotalCount <= MaxResults, sr.TotalCount, webapi.Partial(job.Meta, cut), res)
	return nil
}

func (s *Source) handleRepoIssues(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	issues, err := ParseIssues(resp.Body)
	if err != nil {
		return err
	}
	issues, cut := capPage(s, job, issues, res)
	ids := s.emitIssues(job, issues, res)
	s.paginate(job, resp, ids, true, -1, webapi.Partial(job.Meta, cut), res)
	return nil
}

// paginate follows Link rel="next" within max_pages and GitHub's 1,000-result window, and reports
// a complete listing when the last page was reached. A query cut short by max_pages says so in a
// note (total is the search's total_count, -1 when the answer has none).
// A partial query (a page was cut to the page size: capPage) is never a complete listing either.
func (s *Source) paginate(job crawler.Job, resp *crawler.Response, ids []string, complete bool, total int, partial bool, res *crawler.Result) {
	next := webapi.Links(resp.Header, resp.URL)["next"]
	switch {
	case next != "" && job.Page+1 < s.maxPages && (job.Page+2)*s.pageSize <= MaxResults && webapi.SameHost(job.URL, next):
		res.Next = append(res.Next, crawler.Job{ID: crawler.Key(Name, job.Kind, next), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: next, Dataset: job.Dataset, Page: job.Page + 1, Meta: webapi.MarkPartial(webapi.WithSeen(job.Meta, ids), partial)})
	case next != "" && job.Page+1 >= s.maxPages:
		read := len(webapi.Seen(job.Meta)) + len(ids)
		if total >= 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("github: %s %s: read %d of %d results (max_pages %d); no listing for gone detection",
				job.Kind, s.scopeQuery(job), read, total, s.maxPages))
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("github: %s %s: stopped after %d pages (max_pages); no listing for gone detection",
				job.Kind, s.scopeQuery(job), s.maxPages))
		}
	case next == "" && complete && !partial && job.Meta[metaSince] == "": // a date-filtered search is not a complete listing
		all := append(webapi.Seen(job.Meta), ids...)
		sort.Strings(all)
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: all}
	}
}

func (s *Source) emitIssues(job crawler.Job, issues []Issue, res *crawler.Result) []string {
	var ids []string
	for _, is := range issues {
		a := s.IssueArtifact(is)
		ids = append(ids, a.ID)
		if s.details && is.Comments > 0 {
			repo := issueRepo(is)
			u := fmt.Sprintf("%s/repos/%s/issues/%d/comments?per_page=100", s.base, escapeRepo(repo), is.Number)
			j := s.job(KindComments, job.Dataset, u, map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)})
			j.RunID = job.RunID
			res.Next = append(res.Next, j)
			continue
		}
		res.Artifacts = append(res.Artifacts, a)
	}
	return ids
}

// emitRepo emits a repository artifact, or a README job (then a tree job) that completes it.
func (s *Source) emitRepo(job crawler.Job, a artifact.Artifact, branch string, res *crawler.Result) {
	if !s.details {
		res.Artifacts = append(res.Artifacts, a)
		return
	}
	repo := strings.TrimPrefix(a.ID, "gh:repo:")
	meta := map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)}
	if branch != "" && !strings.ContainsAny(branch, "\n\r") {
		meta[metaBranch] = branch
	}
	j := s.job(KindReadme, job.Dataset, s.base+"/repos/"+escapeRepo(repo)+"/readme", meta)
	j.RunID = job.RunID
	res.Next = append(res.Next, j)
}

func (s *Source) handleDetail(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return err
	}
	switch job.Kind {
	case KindReadme:
		body := resp.Body
		// Without the raw media type GitHub answers with the contents object (base64).
		if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
			if txt, ok := decodeContents(body); ok {
				body = txt
			}
		}
		AppendText(&a, body)
		s.afterReadme(job, a, res)
		return nil
	case KindTree:
		tr, err := ParseTree(resp.Body)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, f := range a.Files {
			have[f.Path] = true
		}
		for _, e := range tr.Tree {
			if e.Type != "blob" || e.Path == "" || have[e.Path] || len(a.Files) >= webapi.MaxCarriedFiles {
				continue
			}
			f := artifact.File{Path: e.Path}
			if e.Size != nil && *e.Size >= 0 {
				f.Size = artifact.Size(*e.Size)
			}
			a.Files = append(a.Files, f)
		}
		if tr.Truncated {
			res.Notes = append(res.Notes, fmt.Sprintf("github: file tree of %s truncated by GitHub", a.ID))
		}
	case KindComments:
		cs, err := ParseComments(resp.Body)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, c := range cs {
			if strings.TrimSpace(c.Body) == "" {
				continue
			}
			fmt.Fprintf(&b, "\n\n---\n%s (%s):\n%s", c.User.Login, webapi.Date(c.CreatedAt), c.Body)
		}
		AppendText(&a, []byte(b.String()))
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}

// capPage keeps at most the page size the adapter asked for (per_page) of a page's items, noting
// a cut (a hostile server answering 25 requested hits with 20,000 would flood the run).
func capPage[T any](s *Source, job crawler.Job, items []T, res *crawler.Result) ([]T, int) {
	got := len(items)
	items, cut := webapi.CapPage(items, s.pageSize)
	if cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, s.pageSize))
	}
	return items, cut
}
