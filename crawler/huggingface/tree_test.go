package huggingface

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// A lineage tree planted in a test world: a known model with 2,500 descendants over four hops.
// Generation 1 has 400 children of the root (four pages of 100), 40 of them have 30 children
// each, 20 of those 40 children each, 10 of those 10 each. Relations rotate through the Hub's
// four (fine-tune, adapter, quantisation, merge).
const treeRoot = "zetalab/zeta-base"

type plantedTree struct {
	all      []demoworld.Planted
	children map[string]int // parent id -> number of children
	ids      []string       // every descendant's artifact id
}

func plantTree() plantedTree {
	t := plantedTree{children: map[string]int{}}
	rels := []string{"finetune", "adapter", "quantized", "merge"}
	add := func(id, parent string, n int) {
		p := demoworld.Planted{Artifact: artifact.Artifact{ID: "hf:model:" + id, Source: Name, Kind: artifact.KindModel,
			URL: "https://huggingface.co/" + id, Title: id, Published: "2024-03-01",
			Text: "---\nbase_model: " + parent + "\n---\n# " + id + "\n"}}
		if parent != "" {
			p.Tags = []string{"base_model:" + parent, "base_model:" + rels[n%4] + ":" + parent}
			p.BaseModels = []string{parent}
			t.children[parent]++
			t.ids = append(t.ids, p.ID)
		}
		t.all = append(t.all, p)
	}
	add(treeRoot, "", 0)
	gen := []string{treeRoot}
	shape := []struct{ parents, each int }{{1, 400}, {40, 30}, {20, 40}, {10, 10}}
	for hop, sh := range shape {
		var next []string
		for pi, parent := range gen[:sh.parents] {
			for c := 0; c < sh.each; c++ {
				id := fmt.Sprintf("hop%d-org%d/m-%d-%d", hop+1, c%7, pi, c)
				add(id, parent, c)
				next = append(next, id)
			}
		}
		gen = next
	}
	return t
}

func treeRegistry() []*configs.Dataset {
	return []*configs.Dataset{{ID: "zeta-corpus", Name: "Zeta Corpus", Aliases: []string{"Zeta-Corpus"},
		KnownModels: []configs.KnownModel{{ID: treeRoot}}}}
}

// crawlJobs runs jobs to completion breadth first, deduplicated by id (as webapitest.Crawl does for
// a plan).
func crawlJobs(t *testing.T, src *Source, f crawler.Fetcher, jobs []crawler.Job) *webapitest.Crawled {
	t.Helper()
	out := &webapitest.Crawled{Artifacts: map[string]artifact.Artifact{}, Kinds: map[string]int{}}
	seen := map[string]bool{}
	var queue []crawler.Job
	push := func(js ...crawler.Job) {
		for _, j := range js {
			if !seen[j.ID] {
				seen[j.ID] = true
				queue = append(queue, j)
			}
		}
	}
	push(jobs...)
	for len(queue) > 0 {
		if out.Jobs > 20000 {
			t.Fatal("crawl did not finish within 20,000 jobs")
		}
		j := queue[0]
		queue = queue[1:]
		out.Jobs++
		out.Kinds[j.Kind]++
		res, err := src.Handle(context.Background(), j, f)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Errorf("%s %s: %w", j.Kind, j.URL, err))
		}
		for _, a := range res.Artifacts {
			out.Artifacts[a.ID] = a
		}
		out.Gone = append(out.Gone, res.Gone...)
		if res.Listing != nil {
			out.Listings = append(out.Listings, *res.Listing)
		}
		out.Notes = append(out.Notes, res.Notes...)
		push(res.Next...)
	}
	return out
}

// lineageQueries returns the base_model:<id> filters of the lineage requests sent (every page).
func lineageQueries(reqs []*http.Request) []string {
	var out []string
	for _, r := range reqs {
		if f := r.URL.Query().Get("filter"); strings.HasPrefix(f, "base_model:") {
			out = append(out, strings.TrimPrefix(f, "base_model:"))
		}
	}
	return out
}

func startTreeWorld(t *testing.T, extra ...demoworld.Planted) (*demoworld.World, string, plantedTree) {
	t.Helper()
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree := plantTree()
	world.PlantHuggingFace(append(tree.all, extra...)...)
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return world, srv.URL + "/huggingface", tree
}

func treeSource(t *testing.T, base string, opts ...string) *Source {
	t.Helper()
	o := map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	src, err := New(configs.SourceConfig{BaseURL: base, PageSize: 100, MaxPages: 3, Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

// The whole 2,500-model tree is listed, past the three pages the watch config's max_pages names,
// with the requests within 1.2× of the minimum: the planned queries, the known model's card, and
// one page per 100 children of each model that has children. Models the Hub counts no children
// for are never searched for children, and no descendant's info or card is fetched.
func TestLineageTreeListedCompletelyNearTheMinimumOfRequests(t *testing.T) {
	world, base, tree := startTreeWorld(t)
	src := treeSource(t, base)
	plan, err := src.Plan(ctx(t), treeRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := webapitest.NewFetcher()
	before := world.Requests("huggingface")
	got := crawlJobs(t, src, f, plan)
	sent := int(world.Requests("huggingface") - before)
	if len(got.Errors) > 0 {
		t.Fatalf("errors: %v", got.Errors[:min(3, len(got.Errors))])
	}
	var missing []string
	for _, id := range tree.ids {
		a, ok := got.Artifacts[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		if len(a.BaseModels) != 1 || a.Text != "" {
			t.Fatalf("%s: base models %v, text %q (want the listing's base model, no card)", id, a.BaseModels, a.Text)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d descendants not listed, e.g. %v", len(missing), len(tree.ids), missing[:min(5, len(missing))])
	}
	pages := 0
	for _, n := range tree.children {
		pages += (n + 99) / 100
	}
	// The root's first page is one of the planned jobs; the known model's info asks for its card.
	minimum := len(plan) + 1 + pages - 1
	if sent > minimum*12/10 {
		t.Errorf("%d requests to list the tree; the minimum is %d (%d planned, 1 card, %d lineage pages)", sent, minimum, len(plan), pages)
	}
	t.Logf("%d descendants: %d requests, minimum %d (%d planned, %d lineage pages)", len(tree.ids), sent, minimum, len(plan), pages)
	// Pruning: only models with children were searched for children, each once per page.
	queried := lineageQueries(f.Requests)
	if len(queried) != pages {
		t.Errorf("%d lineage requests, want %d (one per page of each model with children)", len(queried), pages)
	}
	for _, q := range queried {
		if tree.children[q] == 0 {
			t.Errorf("searched the children of %s, which the Hub counts none for", q)
		}
	}
	if got.Kinds[KindModelInfo] != 1 || got.Kinds[KindModelCard] != 1 {
		t.Errorf("info %d card %d jobs, want the known model's only", got.Kinds[KindModelInfo], got.Kinds[KindModelCard])
	}
	// Every lineage listing is complete: the root's holds all 400 children, for gone detection.
	for _, l := range got.Listings {
		if l.Scope == "huggingface:search-models:filter=base_model:"+treeRoot && len(l.IDs) != 400 {
			t.Errorf("root listing holds %d ids, want 400", len(l.IDs))
		}
	}
	for _, n := range got.Notes {
		if strings.Contains(n, "Hub counts") {
			t.Errorf("note %q: a listing held fewer children than the Hub counts", n)
		}
	}
}

// Where the Hub refuses expand=childrenModelCount on lists (HTTP 400, as it answers an unknown
// expand value), the adapter says so once, asks again without it, and lists the whole tree
// without pruning: every descendant is searched for children.
func TestLineageWithoutChildCountsFallsBackToSearchingEveryChild(t *testing.T) {
	_, base, tree := startTreeWorld(t)
	target, _ := url.Parse(base)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	var refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if slices.Contains(r.URL.Query()["expand"], "childrenModelCount") {
			refused.Add(1)
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(rw, `{"error":"\"expand\" must be one of author, cardData, tags"}`)
			return
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	src := treeSource(t, srv.URL+"/huggingface")
	plan, err := src.Plan(ctx(t), treeRegistry())
	if err != nil {
		t.Fatal(err)
	}
	got := crawlJobs(t, src, webapitest.NewFetcher(), plan)
	if len(got.Errors) > 0 {
		t.Fatalf("errors: %v", got.Errors[:min(3, len(got.Errors))])
	}
	for _, id := range tree.ids {
		if _, ok := got.Artifacts[id]; !ok {
			t.Fatalf("%s not listed", id)
		}
	}
	if n := refused.Load(); n != 1 {
		t.Errorf("%d refused requests, want 1 (counts switched off after the first)", n)
	}
	notes := 0
	for _, n := range got.Notes {
		if strings.Contains(n, "refused expand=childrenModelCount") {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes about the refused counts, want 1: %q", notes, got.Notes)
	}
	// Without counts each descendant above the depth limit is searched for children.
	if n := got.Kinds[KindSearchModels]; n < len(tree.ids) {
		t.Errorf("%d model list jobs for %d descendants: some were not searched for children", n, len(tree.ids))
	}
}

// incrementalWorld is the tree world plus epoch 2's changes: four new models under the root or
// under a new one, a new adapter of an unchanged fine-tune, and one deletion.
func incrementalWorld(t *testing.T) (*demoworld.World, string, plantedTree, demoworld.Planted) {
	newIn2 := func(id, parent, rel string) demoworld.Planted {
		return demoworld.Planted{Artifact: artifact.Artifact{ID: "hf:model:" + id, Source: Name, Kind: artifact.KindModel,
			URL: "https://huggingface.co/" + id, Title: id, Published: "2026-01-20",
			Tags: []string{"base_model:" + parent, "base_model:" + rel + ":" + parent}, BaseModels: []string{parent}}, Epochs: []int{2}}
	}
	deleted := demoworld.Planted{Artifact: artifact.Artifact{ID: "hf:model:gone-org/taken-down", Source: Name, Kind: artifact.KindModel,
		URL: "https://huggingface.co/gone-org/taken-down", Title: "gone-org/taken-down", Published: "2024-03-01",
		Tags: []string{"base_model:" + treeRoot, "base_model:finetune:" + treeRoot}, BaseModels: []string{treeRoot}}, Epochs: []int{1}}
	world, base, tree := startTreeWorld(t, deleted,
		newIn2("new-org/ft-a", treeRoot, "finetune"), newIn2("new-org/q-b", treeRoot, "quantized"),
		newIn2("new-org/sub", treeRoot, "finetune"), newIn2("new-org/sub-lora", "new-org/sub", "adapter"),
		newIn2("new-org/deep-lora", "hop1-org0/m-0-0", "adapter"))
	return world, base, tree, deleted
}

var newInEpoch2 = []string{"hf:model:new-org/ft-a", "hf:model:new-org/q-b", "hf:model:new-org/sub", "hf:model:new-org/sub-lora", "hf:model:new-org/deep-lora"}

// An incremental run (the monitor's plan since the last run) lists what changed on the whole Hub
// since then: one query per kind, sorted by lastModified, newest first, read down to the first
// repo older than the last run, matched here against the watched terms. A new child of a known
// model is sighted and, where the Hub counts children, searched; a new child of an unchanged
// descendant is sighted for the matcher's lineage store. It reports no listing (nothing can be
// judged gone from it); the next full listing sees the deletion.
func TestIncrementalRunListsOnlyWhatChanged(t *testing.T) {
	world, base, tree, deleted := incrementalWorld(t)
	src := treeSource(t, base)
	first, err := src.Plan(ctx(t), treeRegistry())
	if err != nil {
		t.Fatal(err)
	}
	before := world.Requests("huggingface")
	run1 := crawlJobs(t, src, webapitest.NewFetcher(), first)
	full1 := int(world.Requests("huggingface") - before)
	if _, ok := run1.Artifacts[deleted.ID]; !ok || len(run1.Errors) > 0 {
		t.Fatalf("first run: %v", run1.Errors)
	}

	since := time.Now().UTC().Add(-time.Second)
	world.SetEpoch(2)
	inc, err := src.PlanIncremental(ctx(t), treeRegistry(), crawler.Incremental{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, j := range inc {
		kinds = append(kinds, j.Kind)
		u, err := url.Parse(j.URL)
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("sort") != "lastModified" || q.Get("direction") != "-1" || q.Get("search") != "" || q.Get("filter") != "" {
			t.Errorf("incremental query is not the Hub-wide list newest first: %s", j.URL)
		}
	}
	if !slices.Equal(kinds, []string{KindChangedModels, KindChangedDatasets}) {
		t.Errorf("incremental plan %v", kinds)
	}
	f2 := webapitest.NewFetcher()
	before = world.Requests("huggingface")
	run2 := crawlJobs(t, src, f2, inc)
	sent := int(world.Requests("huggingface") - before)
	if len(run2.Errors) > 0 {
		t.Fatalf("incremental run: %v", run2.Errors)
	}
	for _, id := range newInEpoch2 {
		if _, ok := run2.Artifacts[id]; !ok {
			t.Errorf("incremental run missed the new %s", id)
		}
	}
	// ... and the demo world's own new fine-tune of epoch 2 (a changed model declaring a base).
	if _, ok := run2.Artifacts["hf:model:mobileface/arcface-mbf-ms1mv3-distilled"]; !ok {
		t.Error("incremental run missed the demo world's new fine-tune")
	}
	// The rest of the one page read (unchanged models of the tree, which declare a base) is
	// sighted at no cost.
	if len(run2.Artifacts) < 90 {
		t.Errorf("incremental run sighted %d artifacts of the 100 on the page it read", len(run2.Artifacts))
	}
	// One page per kind, and the children of the one new model that has any.
	if sent != 3 {
		t.Errorf("incremental run sent %d requests, want 3; the full run sent %d", sent, full1)
	}
	if q := lineageQueries(f2.Requests); !slices.Equal(q, []string{"new-org/sub"}) {
		t.Errorf("incremental lineage requests %v", q)
	}
	if len(run2.Listings) != 0 {
		t.Errorf("an incremental run reported %d listings; none is complete", len(run2.Listings))
	}
	t.Logf("full run %d requests (%d descendants), incremental run %d (%.1f%%)", full1, len(tree.ids), sent, 100*float64(sent)/float64(full1))

	// A full listing on the slower cadence sees the deletion: the root's listing lacks it.
	full, err := src.PlanIncremental(ctx(t), treeRegistry(), crawler.Incremental{Since: since, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	run3 := crawlJobs(t, src, webapitest.NewFetcher(), full)
	var root *crawler.Listing
	for i, l := range run3.Listings {
		if l.Scope == "huggingface:search-models:filter=base_model:"+treeRoot {
			root = &run3.Listings[i]
		}
	}
	if root == nil || slices.Contains(root.IDs, deleted.ID) || !slices.Contains(root.IDs, "hf:model:new-org/sub") || len(root.IDs) != 403 {
		t.Errorf("full listing of the root after the deletion: %v", root)
	}
	if _, ok := run3.Artifacts["hf:model:new-org/deep-lora"]; !ok {
		t.Error("the full listing missed the new adapter of an unchanged fine-tune")
	}
}

// With changed_max_pages 0 an incremental run plans per query, each sorted by lastModified and read
// down to the last run; with more changes than changed_max_pages pages hold, the Hub-wide listing
// hands over to that per-query plan.
func TestIncrementalRunPerQuery(t *testing.T) {
	world, base, _, _ := incrementalWorld(t)
	for _, c := range []struct {
		name string
		opts []string
		// requests beyond the per-query plan's own
		extra int
	}{
		{"changed_max_pages 0", []string{"changed_max_pages", "0"}, 0},
		// page size 2: the 6 new models fill more than one page of the Hub-wide listing: after its
		// first page (and the datasets' one) the models are listed per query
		{"over changed_max_pages", []string{"changed_max_pages", "1"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			world.SetEpoch(1)
			src := treeSource(t, base, c.opts...)
			if c.extra > 0 {
				src.pageSize = 2
			}
			since := time.Now().UTC().Add(-time.Second)
			world.SetEpoch(2)
			inc, err := src.PlanIncremental(ctx(t), treeRegistry(), crawler.Incremental{Since: since})
			if err != nil {
				t.Fatal(err)
			}
			perQuery := src.seedJobs(watchSpecOf(t, src), since.Format(time.RFC3339), true, c.extra == 0)
			f := webapitest.NewFetcher()
			before := world.Requests("huggingface")
			got := crawlJobs(t, src, f, inc)
			sent := int(world.Requests("huggingface") - before)
			if len(got.Errors) > 0 {
				t.Fatal(got.Errors)
			}
			for _, id := range newInEpoch2[:4] {
				if _, ok := got.Artifacts[id]; !ok {
					t.Errorf("missed the new %s", id)
				}
			}
			// Per query: each planned query reads one page (the root's: its 3 new children first;
			// with a page of 2, two pages), plus the children of the one new model that has any.
			rootPages := 1
			if c.extra > 0 {
				rootPages = 2
			}
			if want := c.extra + len(perQuery) + rootPages - 1 + 1; sent != want {
				t.Errorf("sent %d requests, want %d (%d per-query jobs)", sent, want, len(perQuery))
			}
			if len(got.Listings) != 0 {
				t.Errorf("%d listings from a filtered run", len(got.Listings))
			}
			handover := slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, "listed per query instead") })
			if handover != (c.extra > 0) {
				t.Errorf("hand-over note %v, notes %q", handover, got.Notes)
			}
		})
	}
}

func watchSpecOf(t *testing.T, src *Source) watchSpec {
	t.Helper()
	spec, err := watchOf(ctx(t), treeRegistry(), src.datasetFilters)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// A lineage page built from recorded model objects (SYNTHETIC wrapping: no list answer was ever
// recorded, SOURCES.md): the recorded ?expand= answer of FLUX.1-dev carries only the fields asked
// for plus _id and id, so an object without childrenModelCount is an unknown count, and that
// child is searched for children; the recorded full objects parse as sightings without a card.
func TestRecordedObjectsAsALineagePage(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	var objs []string
	for _, n := range []string{"api_models_FLUX.1-dev_expand_inferenceProviderMapping.json", "api_models_google-bert_bert-base-uncased.json",
		"api_models_stabilityai_stable-diffusion-2-1.json"} {
		objs = append(objs, string(webapitest.Find(t, recs, n).Body))
	}
	// The third object gets a count of zero children: it is pruned.
	objs[2] = strings.Replace(objs[2], `{`, `{"childrenModelCount":{"adapter":0,"finetune":0,"merge":0,"quantized":0},`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, "["+strings.Join(objs, ",")+"]")
	}))
	defer srv.Close()
	src := treeSource(t, srv.URL)
	res, err := src.Handle(ctx(t), src.lineageJob("test", "some/base", 1, -1, ""), webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range res.Artifacts {
		ids = append(ids, a.ID)
	}
	want := []string{"hf:model:black-forest-labs/FLUX.1-dev", "hf:model:google-bert/bert-base-uncased", "hf:model:stabilityai/stable-diffusion-2-1"}
	if !slices.Equal(ids, want) {
		t.Fatalf("sightings %v, want %v", ids, want)
	}
	bert := res.Artifacts[1]
	if !slices.Contains(bert.DeclaredDatasets, "bookcorpus") || bert.Text != "" || len(bert.Files) == 0 {
		t.Errorf("bert from the listing: %+v", bert)
	}
	var children []string
	for _, j := range res.Next {
		if j.Kind != KindSearchModels {
			t.Errorf("a lineage hit got a %s job", j.Kind)
			continue
		}
		u, _ := url.Parse(j.URL)
		children = append(children, u.Query().Get("filter"))
	}
	if !slices.Equal(children, []string{"base_model:black-forest-labs/FLUX.1-dev", "base_model:google-bert/bert-base-uncased"}) {
		t.Errorf("children searched: %v (the counted-zero model must be pruned)", children)
	}
	if res.Listing == nil || len(res.Listing.IDs) != 3 {
		t.Errorf("listing %+v", res.Listing)
	}
}

func TestChildCountsParse(t *testing.T) {
	for _, c := range []struct {
		in    string
		known bool
		total int
	}{
		{`{"id":"a/b","childrenModelCount":{"adapter":716,"merge":19,"quantized":190,"finetune":328}}`, true, 1253},
		{`{"id":"a/b","childrenModelCount":7}`, true, 7},
		{`{"id":"a/b","childrenModelCount":null}`, false, 0},
		{`{"id":"a/b"}`, false, 0},
	} {
		in, err := ParseInfo([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if in.ChildrenModelCount.Known != c.known || in.ChildrenModelCount.Total != c.total {
			t.Errorf("%s: %+v", c.in, in.ChildrenModelCount)
		}
	}
	// A count it cannot read loses nothing: the repo parses, with no count (so it is not pruned).
	for _, bad := range []string{`{"id":"a/b","childrenModelCount":{"adapter":-1}}`, `{"id":"a/b","childrenModelCount":"many"}`,
		`{"id":"a/b","childrenModelCount":[1]}`} {
		in, err := ParseInfo([]byte(bad))
		if err != nil || in.ID != "a/b" || in.ChildrenModelCount.Known {
			t.Errorf("%s: %+v %v", bad, in, err)
		}
	}
}

// On a Hub-wide changed page (read whole), a repo matching a watched name asks for its card or
// info only when it changed since the last run: an unchanged one was read then, and asking again
// cost a request per repo on the page (2,000 of a scale-100 repeat scan at the page of 1,000).
func TestChangedPageAsksNothingAgainOfUnchangedRepos(t *testing.T) {
	src := treeSource(t, "http://127.0.0.1:1")
	spec, err := json.Marshal(watchSpecOf(t, src))
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	page := `[
	 {"id":"org/zeta-corpus-new","lastModified":"2026-12-05T00:00:00.000Z"},
	 {"id":"org/zeta-corpus-old","lastModified":"2026-11-01T00:00:00.000Z"}]`
	for _, kind := range []string{KindChangedDatasets, KindChangedModels} {
		job := crawler.Job{ID: kind, Source: Name, Kind: kind, URL: "http://127.0.0.1:1/api/x?sort=lastModified",
			Meta: map[string]string{metaSince: since.Format(time.RFC3339), metaWatch: string(spec)}}
		var res crawler.Result
		if err := src.handleChanged(job, &crawler.Response{URL: job.URL, Status: 200, Body: []byte(page)}, &res); err != nil {
			t.Fatal(err)
		}
		var asked []string
		for _, j := range res.Next {
			asked = append(asked, j.URL)
		}
		if len(asked) != 1 || !strings.Contains(asked[0], "zeta-corpus-new") {
			t.Errorf("%s: follow-ups %v, want one, for the repo that changed", kind, asked)
		}
	}
}
