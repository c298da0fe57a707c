package github

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func newSource(t *testing.T, base string, env map[string]string, cfg configs.SourceConfig) *Source {
	t.Helper()
	cfg.BaseURL = base
	if cfg.MaxPages == 0 {
		cfg.MaxPages = 3
	}
	src, err := New(cfg, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

// replayJob runs one job whose URL is the recording's path on the replay server.
func replayJob(t *testing.T, s *Source, srv *webapitest.Server, rec webapitest.Recording, kind string, meta map[string]string) (crawler.Result, error) {
	t.Helper()
	if meta == nil {
		meta = map[string]string{webapi.MetaScope: Name + ":" + kind + ":recorded"}
	}
	job := crawler.Job{ID: "j", Source: Name, Kind: kind, URL: srv.URL + rec.Path(), Meta: meta}
	return s.Handle(ctx(t), job, webapitest.NewFetcher())
}

func ids(as []artifact.Artifact) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// Every recorded GitHub response, success or error, leads to the right result.
func TestRecordedResponses(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	srv := webapitest.Serve(t, recs)
	anon := newSource(t, srv.URL, nil, configs.SourceConfig{}) // no details
	detailed := newSource(t, srv.URL, nil, configs.SourceConfig{Options: map[string]string{"details": "always"}})
	authed := newSource(t, srv.URL, map[string]string{"GITHUB_TOKEN": "ghp_SECRET"}, configs.SourceConfig{})
	rec := func(name string) webapitest.Recording { return webapitest.Find(t, recs, name) }
	covered := map[string]bool{}
	use := func(name string) webapitest.Recording { covered[name] = true; return rec(name) }

	t.Run("search repositories 2014 page 1", func(t *testing.T) {
		r := use("search_repositories_page1_2014.json")
		// total_count 2,723 is over GitHub's 1,000 cap: the first page splits the query in two by
		// created: ranges instead of reading a cut listing.
		split, err := replayJob(t, anon, srv, r, KindSearchRepos, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(split.Artifacts) != 0 || len(split.Next) != 2 || split.Listing != nil ||
			!strings.Contains(split.Next[0].URL, "created%3A%3C%3D") || !strings.Contains(split.Next[1].URL, "created%3A%3E%3D") {
			t.Fatalf("over-cap first page: %d artifacts, next %v", len(split.Artifacts), split.Next)
		}
		// Read as a later page of a query, the same answer parses.
		job := crawler.Job{ID: "j", Source: Name, Kind: KindSearchRepos, URL: srv.URL + r.Path(), Page: 1,
			Meta: map[string]string{webapi.MetaScope: Name + ":" + KindSearchRepos + ":recorded"}}
		res, err := anon.Handle(ctx(t), job, webapitest.NewFetcher())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Artifacts) != 30 || res.Artifacts[0].ID != "gh:repo:kennethreitz/legit" {
			t.Fatalf("%d artifacts, first %v", len(res.Artifacts), ids(res.Artifacts)[:1])
		}
		a := res.Artifacts[0]
		if a.Kind != artifact.KindRepository || a.URL != "https://github.com/kennethreitz/legit" || a.Published != "2011-06-25" || a.Title != "kennethreitz/legit" {
			t.Errorf("%+v", a)
		}
		if !strings.Contains(a.Text, "Git for Humans") {
			t.Errorf("description not in text: %q", a.Text)
		}
		// Link rel="next" is followed (recorded host differs from the test server: not followed).
		if len(res.Next) != 0 || res.Listing != nil {
			t.Errorf("next %v listing %v", res.Next, res.Listing)
		}
	})
	t.Run("search repositories with text matches", func(t *testing.T) {
		r := use("search_repositories_text_match_2017.json")
		res, err := replayJob(t, anon, srv, r, KindSearchRepos, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Artifacts) == 0 || res.Artifacts[0].ID != "gh:repo:sigmavirus24/github3.py" {
			t.Fatalf("%v", ids(res.Artifacts))
		}
		if !strings.Contains(res.Artifacts[0].Text, "Python library for interfacing with the GitHub APIv3") {
			t.Errorf("text %q", res.Artifacts[0].Text)
		}
		// No Link header: the listing is complete.
		if res.Listing == nil || len(res.Listing.IDs) != len(res.Artifacts) {
			t.Errorf("listing %+v", res.Listing)
		}
	})
	t.Run("search repositories with details enqueues READMEs", func(t *testing.T) {
		res, err := replayJob(t, detailed, srv, rec("search_repositories_text_match_2017.json"), KindSearchRepos, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Artifacts) != 0 || len(res.Next) == 0 || res.Next[0].Kind != KindReadme || res.Next[0].URL != srv.URL+"/repos/sigmavirus24/github3.py/readme" {
			t.Errorf("next %+v", res.Next[:1])
		}
		if b := res.Next[0].Meta[metaBranch]; b != "develop" {
			t.Errorf("default branch carried to the README job: %q", b)
		}
	})
	t.Run("search no results", func(t *testing.T) {
		res, err := replayJob(t, anon, srv, use("search_repositories_no_results.json"), KindSearchRepos, nil)
		if err != nil || len(res.Artifacts) != 0 || res.Listing == nil || len(res.Listing.IDs) != 0 {
			t.Errorf("res %+v err %v", res, err)
		}
	})
	t.Run("search issues", func(t *testing.T) {
		res, err := replayJob(t, anon, srv, use("search_issues_2022.json"), KindSearchIssues, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "gh:issue:octokit-fixture-org/tmp-scenario-search-issues-20220719044045959-jlcli#2"
		if len(res.Artifacts) == 0 || res.Artifacts[0].ID != want {
			t.Fatalf("%v", ids(res.Artifacts))
		}
		a := res.Artifacts[0]
		if a.Kind != artifact.KindIssue || a.Title != "Sesame seeds split without a pop!" || !strings.Contains(a.Text, "no pop") || a.Published != "2022-07-19" ||
			a.URL != "https://github.com/octokit-fixture-org/tmp-scenario-search-issues-20220719044045959-jlcli/issues/2" || !slices.Contains(a.Tags, "state:open") {
			t.Errorf("%+v", a)
		}
	})
	t.Run("search code pages 1 and 2 (incomplete results)", func(t *testing.T) {
		res, err := replayJob(t, authed, srv, use("search_code_page1_2026.json"), KindSearchCode, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Artifacts) == 0 || !strings.HasPrefix(res.Artifacts[0].ID, "gh:repo:busdos/cloud-protocols") || res.Artifacts[0].Files[0].Path != "pyproject.toml" {
			t.Fatalf("%+v", res.Artifacts[:1])
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "incomplete_results") {
			t.Errorf("notes %v", res.Notes)
		}
		if res.Listing != nil {
			t.Error("an incomplete search is not a complete listing")
		}
		res2, err := replayJob(t, authed, srv, use("search_code_page2_2026.json"), KindSearchCode, nil)
		if err != nil || len(res2.Artifacts) == 0 {
			t.Fatalf("page 2: %v %v", ids(res2.Artifacts), err)
		}
		for _, a := range append(res.Artifacts, res2.Artifacts...) {
			if a.Kind != artifact.KindRepository || len(a.Files) == 0 || a.Validate() != nil {
				t.Errorf("code hit artifact %+v", a)
			}
		}
	})
	t.Run("repository objects", func(t *testing.T) {
		res, err := replayJob(t, anon, srv, use("get_repository_2022.json"), KindRepo, map[string]string{webapi.MetaID: "gh:repo:octokit-fixture-org/hello-world"})
		if err != nil || len(res.Artifacts) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		a := res.Artifacts[0]
		if a.ID != "gh:repo:octokit-fixture-org/hello-world" || !slices.Equal(a.Tags, []string{"fixtures", "hello", "hello-world"}) || a.Published != "2017-09-15" {
			t.Errorf("%+v", a)
		}
		res, err = replayJob(t, anon, srv, use("conditional_request_200_repo_with_etag.json"), KindRepo, map[string]string{webapi.MetaID: "gh:repo:akfish/PyGithub"})
		if err != nil || len(res.Artifacts) != 1 || res.Artifacts[0].ID != "gh:repo:akfish/PyGithub" || !slices.Contains(res.Artifacts[0].Tags, "fork") ||
			!strings.Contains(res.Artifacts[0].Text, "AKFish Fork") {
			t.Errorf("%+v %v", res.Artifacts, err)
		}
	})
	t.Run("README raw", func(t *testing.T) {
		carried := artifact.Artifact{ID: "gh:repo:octokit-fixture-org/hello-world", Source: Name, Kind: artifact.KindRepository, Title: "hello-world", Text: "desc"}
		res, err := replayJob(t, anon, srv, use("get_content_readme_2022.txt"), KindReadme, map[string]string{webapi.MetaArtifact: webapi.EncodeArtifact(carried)})
		if err != nil || len(res.Artifacts) != 1 || res.Artifacts[0].Text != "desc\n\n# hello-world" {
			t.Errorf("%+v %v", res.Artifacts, err)
		}
	})
	t.Run("issue list pages with Link", func(t *testing.T) {
		for _, name := range []string{"link_pagination_page1_of5.json", "link_pagination_page2_of5.json", "link_pagination_page5_last.json"} {
			r := use(name)
			res, err := replayJob(t, anon, srv, r, KindRepoIssues, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Artifacts) == 0 {
				t.Fatalf("%s: no issues", name)
			}
			for _, a := range res.Artifacts {
				if !strings.HasPrefix(a.ID, "gh:issue:octokit-fixture-org/tmp-scenario-paginate-issues-20220719043836917-izyoe#") || a.Title == "" {
					t.Errorf("%s: %+v", name, a)
				}
			}
			links := webapi.Links(webapitest.Response(r).Header, r.Meta.URL)
			if name == "link_pagination_page5_last.json" {
				if links["next"] != "" || res.Listing == nil {
					t.Errorf("last page: next %q listing %v", links["next"], res.Listing)
				}
			} else if links["next"] == "" || res.Listing != nil {
				t.Errorf("%s: next %q listing %v", name, links["next"], res.Listing)
			}
		}
		first := rec("link_pagination_page1_of5.json")
		res, _ := replayJob(t, anon, srv, first, KindRepoIssues, nil)
		if res.Artifacts[0].ID != "gh:issue:octokit-fixture-org/tmp-scenario-paginate-issues-20220719043836917-izyoe#13" || res.Artifacts[0].Title != "Test issue 13" {
			t.Errorf("first issue %+v", res.Artifacts[0])
		}
	})
	t.Run("rate_limit endpoint", func(t *testing.T) {
		res, err := replayJob(t, anon, srv, use("rate_limit_endpoint.json"), KindRateLimit, nil)
		if err != nil || len(res.Notes) != 1 || res.Notes[0] != "github: quota remaining: core 4988/5000, search 30/30, code_search 10/10" {
			t.Errorf("%v %v", res.Notes, err)
		}
	})
	t.Run("primary rate limit 403", func(t *testing.T) {
		_, err := replayJob(t, anon, srv, use("core_rate_limit_exceeded_403.json"), KindRepo, map[string]string{webapi.MetaID: "gh:repo:x/y"})
		var se *crawler.StatusError
		if !errors.As(err, &se) || se.Status != 429 || se.Permanent() || !strings.Contains(se.Msg, "API Rate Limit Exceeded") {
			t.Errorf("%v", err)
		}
	})
	t.Run("secondary rate limit 403 with Retry-After", func(t *testing.T) {
		_, err := replayJob(t, authed, srv, use("search_code_secondary_rate_limit_403.json"), KindSearchCode, nil)
		var se *crawler.StatusError
		if !errors.As(err, &se) || se.Status != 429 || se.Permanent() || !strings.Contains(se.Msg, "retry after 60s") || !strings.Contains(se.Msg, "abuse detection") {
			t.Errorf("%v", err)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Error("token in error")
		}
	})
	t.Run("422 validation failed", func(t *testing.T) {
		_, err := replayJob(t, anon, srv, use("validation_error_422.json"), KindSearchRepos, nil)
		var se *crawler.StatusError
		if !errors.As(err, &se) || se.Status != 422 || !se.Permanent() || se.Msg != "Validation Failed" {
			t.Errorf("%v", err)
		}
	})
	t.Run("304 after a 200 with ETag serves the cached body", func(t *testing.T) {
		ok200, nm := use("conditional_request_200_repo_with_etag.json"), use("conditional_request_304_not_modified.txt")
		if nm.Meta.Status != 304 || len(nm.Body) != 0 {
			t.Fatalf("recording %d %d bytes", nm.Meta.Status, len(nm.Body))
		}
		s2 := webapitest.Serve(t, recs)
		f := webapitest.NewFetcher()
		job := crawler.Job{Kind: KindRepo, URL: s2.URL + "/repos/akfish/PyGithub", Meta: map[string]string{webapi.MetaID: "gh:repo:akfish/PyGithub"}}
		first, err := anon.Handle(ctx(t), job, f)
		if err != nil {
			t.Fatal(err)
		}
		_ = ok200
		s2.Route("/repos/akfish/PyGithub", nm.Name)
		second, err := anon.Handle(ctx(t), job, f)
		if err != nil {
			t.Fatal(err)
		}
		if f.LastRequest().Header.Get("If-None-Match") != `"ef281ef0e821c18f80da36902727160b"` {
			t.Errorf("conditional header %q", f.LastRequest().Header.Get("If-None-Match"))
		}
		if len(second.Artifacts) != 1 || second.Artifacts[0].Text != first.Artifacts[0].Text {
			t.Errorf("cached parse differs: %+v", second.Artifacts)
		}
	})
	t.Run("a list that is not a search envelope is an error", func(t *testing.T) {
		res, err := replayJob(t, anon, srv, use("list_users_weak_etag.json"), KindSearchRepos, nil)
		if err == nil || len(res.Artifacts) != 0 || res.Listing != nil {
			t.Errorf("res %+v err %v", res, err)
		}
		// Its weak ETag is still stored and sent back.
		r := rec("list_users_weak_etag.json")
		if et := webapitest.Response(r).Header.Get("ETag"); !strings.HasPrefix(et, `W/"`) {
			t.Errorf("etag %q", et)
		}
	})
	for _, r := range recs {
		if !covered[r.Name] {
			t.Errorf("recording %s is not exercised", r.Name)
		}
	}
}
