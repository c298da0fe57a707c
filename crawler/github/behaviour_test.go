package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

func TestPlan(t *testing.T) {
	d := &configs.Dataset{ID: "tiny-images", Name: "80 Million Tiny Images", Aliases: []string{"80M Tiny Images", "tiny_images", "TinyImages", "80M-TI", "80m_tiny_images", "Tiny Images", "tiny_images.bin"},
		KnownFiles: []configs.KnownFile{{Name: "tiny_images.bin"}}, Sources: []string{"https://github.com/hendrycks/outlier-exposure/issues/15", "https://example.org/x"}}
	anon := newSource(t, "https://api.github.com", nil, configs.SourceConfig{PageSize: 50})
	jobs, err := anon.Plan(ctx(t), []*configs.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, j := range jobs {
		kinds = append(kinds, j.Kind)
	}
	if kinds[0] != KindRateLimit || slices.Contains(kinds, KindSearchCode) {
		t.Errorf("kinds %v", kinds)
	}
	notes := jobs[0].Meta["notes"]
	if !strings.Contains(notes, "code search skipped: no GITHUB_TOKEN") || !strings.Contains(notes, "READMEs and issue comments skipped") {
		t.Errorf("notes %q", notes)
	}
	// 8 terms (7 aliases + the name); the 4 that hold another term's words ("80M Tiny Images",
	// "80m_tiny_images", "tiny_images.bin", "80 Million Tiny Images" hold "Tiny Images" or
	// "tiny_images") are left out: the other 4 OR-ed into 1 query.
	var repoQs []string
	for _, j := range jobs {
		if j.Kind == KindSearchRepos {
			repoQs = append(repoQs, j.Meta[webapi.MetaScope])
		}
	}
	if len(repoQs) != 1 || repoQs[0] != `github:search-repos:"tiny_images" OR "TinyImages" OR "80M-TI" OR "Tiny Images" in:name,description,readme` {
		t.Errorf("repo queries %v", repoQs)
	}
	if strings.Count(repoQs[0], " OR ") > maxOr {
		t.Errorf("too many operators: %s", repoQs[0])
	}
	if !slices.ContainsFunc(jobs, func(j crawler.Job) bool {
		return j.Kind == KindRepoIssues && j.URL == "https://api.github.com/repos/hendrycks/outlier-exposure/issues?state=all&per_page=50"
	}) {
		t.Error("cited issue tracker not planned")
	}
	authed := newSource(t, "https://api.github.com", map[string]string{"GITHUB_TOKEN": "ghp_x"}, configs.SourceConfig{})
	jobs, _ = authed.Plan(ctx(t), []*configs.Dataset{d})
	var code []string
	for _, j := range jobs {
		if j.Kind == KindSearchCode {
			code = append(code, j.URL)
		}
		if strings.Contains(j.URL, "ghp_x") {
			t.Fatal("token in URL")
		}
	}
	if !slices.Equal(code, []string{"https://api.github.com/search/code?per_page=100&q=%22tiny_images.bin%22"}) || jobs[0].Meta["notes"] != "" {
		t.Errorf("code %v notes %q", code, jobs[0].Meta["notes"])
	}
	if r := authed.request(KindSearchCode, code[0]); r.RateKey != RateSearchCode || r.Header["Authorization"][0] != "Bearer ghp_x" {
		t.Errorf("request %+v", r)
	}
	if rates := authed.DefaultRates(); rates[RateSearch].PerSecond != 0.5 || rates[RateSearchCode].PerSecond != 10.0/60 {
		t.Errorf("rates %+v", rates)
	}
}

// Error answers in GitHub's envelope (SYNTHETIC status/body pairs for the cases no recording covers).
func TestErrorBehaviour(t *testing.T) {
	type answer struct {
		status int
		body   string
	}
	var cur atomic.Pointer[answer]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		rw.WriteHeader(a.status)
		fmt.Fprint(rw, a.body)
	}))
	defer srv.Close()
	anon := newSource(t, srv.URL, nil, configs.SourceConfig{})
	authed := newSource(t, srv.URL, map[string]string{"GITHUB_TOKEN": "ghp_SECRET"}, configs.SourceConfig{})
	carried := artifact.Artifact{ID: "gh:repo:o/r", Source: Name, Kind: artifact.KindRepository, Title: "o/r", Text: "desc"}
	readme := crawler.Job{Kind: KindReadme, URL: srv.URL + "/repos/o/r/readme", Meta: map[string]string{webapi.MetaArtifact: webapi.EncodeArtifact(carried), webapi.MetaID: carried.ID}}
	repo := anon.RepoJob("d", "o/r")
	repo.URL = srv.URL + "/repos/o/r"
	code := crawler.Job{Kind: KindSearchCode, URL: srv.URL + "/search/code?q=x", Meta: map[string]string{webapi.MetaScope: "s"}}

	check := func(name string, s *Source, job crawler.Job, a answer, f func(res crawler.Result, err error) bool) {
		t.Run(name, func(t *testing.T) {
			cur.Store(&a)
			res, err := s.Handle(ctx(t), job, webapitest.NewFetcher())
			if !f(res, err) {
				t.Errorf("res %+v err %v", res, err)
			}
			if strings.Contains(fmt.Sprint(res, err), "SECRET") {
				t.Error("token leaked")
			}
		})
	}
	check("404 repo is gone", anon, repo, answer{404, `{"message":"Not Found"}`}, func(res crawler.Result, err error) bool {
		return err == nil && slices.Equal(res.Gone, []string{"gh:repo:o/r"})
	})
	check("451 repo (DMCA) is gone, noted", anon, repo, answer{451, `{"message":"Repository access blocked"}`}, func(res crawler.Result, err error) bool {
		return err == nil && slices.Equal(res.Gone, []string{"gh:repo:o/r"}) && len(res.Notes) == 1 && strings.Contains(res.Notes[0], "Repository access blocked")
	})
	check("404 README keeps the repository", anon, readme, answer{404, `{"message":"Not Found"}`}, func(res crawler.Result, err error) bool {
		return err == nil && len(res.Artifacts) == 1 && res.Artifacts[0].Text == "desc" && len(res.Gone) == 0
	})
	readmeWithBranch := readme
	readmeWithBranch.Meta = webapi.CopyMeta(readme.Meta, metaBranch, "main")
	check("404 README with a known branch goes on to the tree", anon, readmeWithBranch, answer{404, `{"message":"Not Found"}`}, func(res crawler.Result, err error) bool {
		return err == nil && len(res.Artifacts) == 0 && len(res.Next) == 1 && res.Next[0].Kind == KindTree &&
			res.Next[0].URL == srv.URL+"/repos/o/r/git/trees/main?recursive=1"
	})
	tree := crawler.Job{Kind: KindTree, URL: srv.URL + "/repos/o/r/git/trees/main?recursive=1", Meta: readme.Meta}
	check("409 tree (empty repository) keeps the repository", anon, tree, answer{409, `{"message":"Git Repository is empty."}`}, func(res crawler.Result, err error) bool {
		return err == nil && len(res.Artifacts) == 1 && res.Artifacts[0].Text == "desc"
	})
	check("tree lists blobs with sizes, not directories", anon, tree, answer{200, `{"sha":"x","tree":[{"path":"data","type":"tree"},{"path":"data/DukeMTMC-reID.zip","type":"blob","size":169832542},{"path":"README.md","type":"blob","size":12}],"truncated":true}`},
		func(res crawler.Result, err error) bool {
			return err == nil && len(res.Artifacts) == 1 && len(res.Artifacts[0].Files) == 2 && res.Artifacts[0].Files[0].Path == "data/DukeMTMC-reID.zip" &&
				*res.Artifacts[0].Files[0].Size == 169832542 && len(res.Notes) == 1 && strings.Contains(res.Notes[0], "truncated")
		})
	check("anonymous code search 401 is skipped with a note", anon, code, answer{401, `{"message":"Requires authentication","errors":[{"message":"Must be authenticated to access the code search API","resource":"Search","field":"q","code":"invalid"}]}`},
		func(res crawler.Result, err error) bool {
			return err == nil && len(res.Notes) == 1 && strings.Contains(res.Notes[0], "code search needs authentication")
		})
	check("401 with a token: token rejected", authed, code, answer{401, `{"message":"Bad credentials"}`}, func(res crawler.Result, err error) bool {
		return err == nil && len(res.Notes) == 1 && strings.Contains(res.Notes[0], "GITHUB_TOKEN rejected")
	})
	check("403 without rate-limit signs is noted, not retried", anon, repo, answer{403, `{"message":"Resource protected by organization SAML enforcement."}`}, func(res crawler.Result, err error) bool {
		return err == nil && len(res.Notes) == 1 && strings.Contains(res.Notes[0], "SAML")
	})
	check("403 secondary rate limit (today's wording) is retryable", authed, code, answer{403, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`},
		func(res crawler.Result, err error) bool {
			var se *crawler.StatusError
			return errors.As(err, &se) && se.Status == 429 && !se.Permanent()
		})
	check("502 is retryable", anon, code, answer{502, "bad gateway"}, func(res crawler.Result, err error) bool {
		var se *crawler.StatusError
		return errors.As(err, &se) && !se.Permanent()
	})
}

func TestDemoWorld(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A rate in the config turns details on (as the demo's watch config does); page size 1 makes
	// searches page.
	src := newSource(t, srv.URL+"/github", nil, configs.SourceConfig{Rate: 100, PageSize: 1, MaxPages: 10})
	f := webapitest.NewFetcher()
	got, err := webapitest.Crawl(ctx(t), src, f, reg.Retracted(), 20000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) > 0 {
		t.Fatalf("%d errors, first: %v", len(got.Errors), got.Errors[0])
	}
	all, _ := demoworld.LoadPlanted()
	var want []string
	for _, p := range all {
		if p.Source == Name && p.InEpoch(1) {
			want = append(want, p.ID)
			a, ok := got.Artifacts[p.ID]
			if !ok {
				t.Errorf("planted %s not found", p.ID)
				continue
			}
			if a.Kind != p.Kind || a.Title != p.Title || a.Published != p.Published {
				t.Errorf("%s: kind %s title %q published %s", p.ID, a.Kind, a.Title, a.Published)
			}
			if !strings.Contains(a.Text, strings.TrimSpace(p.Text)[:40]) {
				t.Errorf("%s: text lacks the README/body: %q", p.ID, a.Text)
			}
		}
	}
	if len(want) < 6 {
		t.Fatalf("only %d planted", len(want))
	}
	mirror := got.Artifacts["gh:repo:reid-mirror/DukeMTMC-reID-mirror"]
	if i := slices.IndexFunc(mirror.Files, func(f artifact.File) bool { return f.Path == "DukeMTMC-reID.zip" }); i < 0 || *mirror.Files[i].Size != 169832542 {
		t.Errorf("file tree not listed: %+v", mirror.Files)
	}
	if got.Kinds[KindTree] == 0 {
		t.Errorf("no tree jobs: %v", got.Kinds)
	}
	megaface := got.Artifacts["gh:issue:facekit/insightface-lite#214"]
	if !strings.Contains(megaface.Text, "pan.baidu.com/s/1DemoMegaFaceLink") || !strings.Contains(megaface.Text, "helpful-stranger") {
		t.Errorf("comments not appended: %q", megaface.Text)
	}
	if got.Kinds[KindReadme] == 0 || got.Kinds[KindComments] == 0 || got.Kinds[KindSearchRepos] <= got.Kinds[KindSearchIssues]/2 {
		t.Errorf("kinds %v", got.Kinds)
	}
	paged := false
	for _, l := range got.Listings {
		if len(l.IDs) > 1 {
			paged = true
		}
	}
	if !paged {
		t.Error("no listing spans more than one page")
	}
	if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, "code search skipped") }) {
		t.Errorf("notes %v", got.Notes)
	}

	// Epoch 2: the Books3 downloader is gone (its repo answers 404), the LAION issue is new.
	world.SetEpoch(2)
	got2, err := webapitest.Crawl(ctx(t), src, f, reg.Retracted(), 20000)
	if err != nil || len(got2.Errors) > 0 {
		t.Fatalf("%v %v", err, got2.Errors)
	}
	if _, ok := got2.Artifacts["gh:repo:books-corpus/books3-download"]; ok {
		t.Error("removed repo still found")
	}
	if _, ok := got2.Artifacts["gh:issue:laion-tools/img2dataset-lite#88"]; !ok {
		t.Error("new issue not found")
	}
	j := src.RepoJob("books3", "books-corpus/books3-download")
	res, err := src.Handle(ctx(t), j, f)
	if err != nil || !slices.Equal(res.Gone, []string{"gh:repo:books-corpus/books3-download"}) {
		t.Errorf("gone %v %v", res.Gone, err)
	}
}

func FuzzParseSearch(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, n := range files {
		b, _ := os.ReadFile(n)
		f.Add(b)
	}
	s := &Source{base: "https://api.github.com", web: "https://github.com"}
	f.Fuzz(func(t *testing.T, b []byte) {
		if sr, err := ParseSearch(b); err == nil {
			if rs, err := ParseRepos(sr.Items); err == nil {
				for i := range rs {
					if a := s.RepoArtifact(&rs[i]); a.Validate() != nil {
						t.Fatal(a)
					}
				}
			}
			if is, err := ParseIssues(sr.Items); err == nil {
				for _, i := range is {
					if a := s.IssueArtifact(i); a.Validate() != nil || !strings.HasPrefix(a.ID, "gh:issue:") {
						t.Fatal(a)
					}
				}
			}
			if cs, err := ParseCode(sr.Items); err == nil {
				for _, c := range cs {
					if a := s.CodeArtifact(c); a.Validate() != nil {
						t.Fatal(a)
					}
				}
			}
		}
		if r, err := ParseRepo(b); err == nil {
			if a := s.RepoArtifact(r); len(a.Text) > MaxTextBytes {
				t.Fatal("text too long")
			}
		}
		_, _ = ParseComments(b)
		_, _ = decodeContents(b)
	})
}
