package demoworld

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// hfGet asks the Hugging Face handler directly (no socket), as the mux would after stripping
// /huggingface.
func hfGet(t testing.TB, h http.Handler, pathQuery string) (*http.Response, []map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:1"+pathQuery, nil))
	resp := rec.Result()
	var items []map[string]any
	if resp.StatusCode == 200 && strings.HasPrefix(pathQuery, "/api/models?") || strings.HasPrefix(pathQuery, "/api/datasets?") {
		_ = json.Unmarshal(rec.Body.Bytes(), &items)
	}
	return resp, items
}

func TestHuggingFaceExpandSortAndChildCounts(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &hfHandler{w: w}
	// expand[] returns the fields asked for, plus _id and id; childrenModelCount counts the
	// base_model:<relation>:<id> tags of the other repos, every relation listed.
	q := url.Values{"filter": {"base_model:stable-diffusion-v1-5/stable-diffusion-v1-5"}, "expand": {"childrenModelCount", "tags"}}
	resp, items := hfGet(t, h, "/api/models?"+q.Encode())
	if resp.StatusCode != 200 || len(items) != 1 || items[0]["id"] != "pixelforge/sd15-watercolor" || len(items[0]) != 4 {
		t.Fatalf("%d %v", resp.StatusCode, items)
	}
	if c, _ := items[0]["childrenModelCount"].(map[string]any); c["adapter"] != 1.0 || c["finetune"] != 0.0 || c["merge"] != 0.0 || c["quantized"] != 0.0 {
		t.Errorf("childrenModelCount %v", items[0]["childrenModelCount"])
	}
	// The Hub's validation: an unknown expand value, or expand with full, is a 400.
	if resp, _ := hfGet(t, h, "/api/models?expand[]=nonsense"); resp.StatusCode != 400 {
		t.Errorf("unknown expand: %d", resp.StatusCode)
	}
	if resp, _ := hfGet(t, h, "/api/models?expand[]=tags&full=true"); resp.StatusCode != 400 {
		t.Errorf("expand with full: %d", resp.StatusCode)
	}
	// Detail route: expand works there too.
	if resp, _ := hfGet(t, h, "/api/models/pixelforge/sd15-watercolor?expand[]=childrenModelCount"); resp.StatusCode != 200 {
		t.Errorf("detail expand: %d", resp.StatusCode)
	}
	// sort=lastModified&direction=-1: what the epoch added comes first, dated when it began.
	w.SetEpoch(2)
	resp, items = hfGet(t, h, "/api/models?sort=lastModified&direction=-1&limit=3&full=true")
	if resp.StatusCode != 200 || len(items) != 3 || items[0]["id"] != "mobileface/arcface-mbf-ms1mv3-distilled" {
		t.Fatalf("newest first: %d %v", resp.StatusCode, items)
	}
	first, _ := time.Parse(time.RFC3339, items[0]["lastModified"].(string))
	second, _ := time.Parse(time.RFC3339, items[1]["lastModified"].(string))
	if time.Since(first) > time.Hour || !second.Before(first) {
		t.Errorf("lastModified %v then %v", items[0]["lastModified"], items[1]["lastModified"])
	}
	if resp.Header.Get("Link") == "" {
		t.Error("no next link on a sorted first page")
	}
}

// plantWide plants n models: every hundredth a child of root, the others children of those.
func plantWide(w *World, n int) (root string, parents int) {
	root = "scale-lab/base"
	ps := []Planted{{Artifact: artifact.Artifact{ID: "hf:model:" + root, Source: hfSource, Kind: artifact.KindModel, Title: root, Published: "2024-01-01"}}}
	parent := root
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("org%d/model-%d", i%97, i)
		par := root
		if i%100 != 0 {
			par = parent
		}
		ps = append(ps, Planted{Artifact: artifact.Artifact{ID: "hf:model:" + id, Source: hfSource, Kind: artifact.KindModel, Title: id,
			Published: "2024-01-02", Tags: []string{"base_model:" + par, "base_model:finetune:" + par}, BaseModels: []string{par}}})
		if i%100 == 0 {
			parent, parents = id, parents+1
		}
	}
	w.PlantHuggingFace(ps...)
	return root, parents
}

// At 100,000 planted models a list page is answered from the index: it is built once per epoch,
// a query's hits are computed once (from its tag's posting list, not a scan of every repo), and
// further pages, detail and card requests examine no repo at all.
func TestHuggingFaceAtHundredThousandModelsAnswersFromTheIndex(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	root, parents := plantWide(w, n)
	h := &hfHandler{w: w}
	next := "/api/models?" + url.Values{"filter": {"base_model:" + root}, "limit": {"100"}, "expand": {"childrenModelCount", "tags"}}.Encode()
	pages, listed := 0, 0
	for next != "" {
		resp, items := hfGet(t, h, next)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", next, resp.StatusCode)
		}
		pages++
		listed += len(items)
		for _, it := range items {
			if c := it["childrenModelCount"].(map[string]any); c["finetune"] != 99.0 && it["id"] != "org0/model-99900" {
				t.Fatalf("%v: %v", it["id"], c)
			}
		}
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			u, _ := url.Parse(strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">"))
			next = strings.TrimPrefix(u.Path, "/huggingface") + "?" + u.RawQuery
		}
	}
	if listed != parents || pages != (parents+99)/100 {
		t.Fatalf("listed %d children of the root in %d pages, want %d", listed, pages, parents)
	}
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("org%d/model-%d", (i*100+1)%97, i*100+1)
		if resp, _ := hfGet(t, h, "/api/models/"+id+"?blobs=true"); resp.StatusCode != 200 {
			t.Fatalf("info %s: %d", id, resp.StatusCode)
		}
	}
	if b := h.builds.Load(); b != 1 {
		t.Errorf("index built %d times for one epoch", b)
	}
	if s := h.scanned.Load(); s != int64(parents) {
		t.Errorf("examined %d repos to answer %d pages and 50 infos; the root's posting list holds %d", s, pages, parents)
	}
}

// BenchmarkHuggingFaceAtHundredThousandModels measures the handler at 100,000 planted models:
// a lineage page (memoized query), a detail request, and the first answer of a name search (one
// scan of the ids).
func BenchmarkHuggingFaceAtHundredThousandModels(b *testing.B) {
	w, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	root, _ := plantWide(w, 100_000)
	h := &hfHandler{w: w}
	start := time.Now()
	hfGet(b, h, "/api/models/"+root)
	b.Logf("index of 100,001 models built in %v", time.Since(start))
	b.Run("lineage-page", func(b *testing.B) {
		q := "/api/models?" + url.Values{"filter": {"base_model:org3/model-100"}, "limit": {"100"}, "expand[]": {"childrenModelCount", "tags", "cardData", "siblings"}}.Encode()
		if _, items := hfGet(b, h, q); len(items) != 99 {
			b.Fatalf("%d items", len(items))
		}
		for b.Loop() {
			hfGet(b, h, q)
		}
	})
	b.Run("model-info", func(b *testing.B) {
		if resp, _ := hfGet(b, h, "/api/models/org3/model-100?blobs=true"); resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
		for b.Loop() {
			hfGet(b, h, "/api/models/org3/model-100?blobs=true")
		}
	})
	b.Run("name-search-first-answer", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			hfGet(b, h, fmt.Sprintf("/api/models?search=model-%d&limit=100", i))
		}
	})
}

// A planted model that declares its base without a relation (base_models only, as a card's
// base_model: does) is served with base_model:finetune:<base>, as the Hub classifies every child,
// and counted among its base's children: a lineage crawl that prunes by counts still finds it.
func TestHuggingFaceChildWithoutRelationIsCountedAsFineTune(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.PlantHuggingFace(
		Planted{Artifact: artifact.Artifact{ID: "hf:model:plain/parent", Source: hfSource, Kind: artifact.KindModel, BaseModels: []string{"stable-diffusion-v1-5/stable-diffusion-v1-5"}}},
		Planted{Artifact: artifact.Artifact{ID: "hf:model:plain/child", Source: hfSource, Kind: artifact.KindModel, BaseModels: []string{"plain/parent"}}},
		Planted{Artifact: artifact.Artifact{ID: "hf:model:plain/tagged", Source: hfSource, Kind: artifact.KindModel, Tags: []string{"base_model:plain/parent"}}})
	h := &hfHandler{w: w}
	q := url.Values{"filter": {"base_model:stable-diffusion-v1-5/stable-diffusion-v1-5"}, "expand": {"childrenModelCount", "tags"}}
	_, items := hfGet(t, h, "/api/models?"+q.Encode())
	for _, it := range items {
		if it["id"] != "plain/parent" {
			continue
		}
		if c := it["childrenModelCount"].(map[string]any); c["finetune"] != 2.0 {
			t.Errorf("plain/parent counts %v, want 2 fine-tunes", c)
		}
		return
	}
	t.Fatalf("plain/parent not listed: %v", items)
}

// A one-page answer (a lineage parent's few children) is not memoized; an answer longer than its
// page is, and the memo never holds more than hfMemoMaxHits indices (a --scale 100 scan once
// held 90 MiB of one-page answers).
func TestHuggingFaceMemoHoldsOnlyMultiPageAnswersWithinItsBound(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	root, parents := plantWide(w, 20_000)
	h := &hfHandler{w: w}
	for i := 0; i < 20_000; i += 100 {
		q := "/api/models?" + url.Values{"filter": {fmt.Sprintf("base_model:org%d/model-%d", i%97, i)}, "limit": {"100"}}.Encode()
		if _, items := hfGet(t, h, q); len(items) != 99 && i != 19_900 {
			t.Fatalf("%s: %d items, want 99", q, len(items))
		}
	}
	ix := h.index()
	if len(ix.memo) != 0 || ix.memoHits != 0 {
		t.Fatalf("memo holds %d answers (%d indices) after %d one-page queries, want none", len(ix.memo), ix.memoHits, parents)
	}
	hfGet(t, h, "/api/models?"+url.Values{"filter": {"base_model:" + root}, "limit": {"100"}}.Encode())
	if len(ix.memo) != 1 || ix.memoHits != parents {
		t.Fatalf("memo holds %d answers (%d indices) after the root's %d-child query, want 1 (%d)", len(ix.memo), ix.memoHits, parents, parents)
	}
	// Wide queries past the bound drop the memo, never exceed it.
	for i := 0; i < 20; i++ {
		hfGet(t, h, "/api/models?"+url.Values{"search": {"model-"}, "limit": {fmt.Sprint(10 + i)}, "sort": {"createdAt"}}.Encode())
		hfGet(t, h, "/api/models?"+url.Values{"search": {fmt.Sprintf("org%d", i)}, "limit": {"5"}}.Encode())
		if ix.memoHits > hfMemoMaxHits {
			t.Fatalf("memo holds %d indices, bound %d", ix.memoHits, hfMemoMaxHits)
		}
	}
}
