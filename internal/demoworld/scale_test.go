package demoworld

import (
	"crypto/sha1"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

func generatedDigest(t *testing.T, ps []Planted) [20]byte {
	t.Helper()
	h := sha1.New()
	enc := json.NewEncoder(h)
	for _, p := range ps {
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
	}
	var out [20]byte
	copy(out[:], h.Sum(nil))
	return out
}

// The generator is deterministic: the same scale gives the same artifacts, byte for byte, and a
// larger scale starts with the smaller one's units.
func TestScaleGenerationIsDeterministic(t *testing.T) {
	all, err := LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	a, b := Generate(all, 4), Generate(all, 4)
	if len(a) == 0 || generatedDigest(t, a) != generatedDigest(t, b) {
		t.Fatalf("two generations at scale 4 differ (%d and %d artifacts)", len(a), len(b))
	}
	c := Generate(all, 5)
	if generatedDigest(t, c[:len(a)]) != generatedDigest(t, a) {
		t.Fatal("scale 5 does not start with scale 4's units")
	}
}

// Scale 1 is the planted files exactly; each further unit plants at least 1,000 valid artifacts
// with unique ids, planted afterlife and look-alikes both, in every source; scale 100 plants at
// least 100,000.
func TestScaleCountsAndShapes(t *testing.T) {
	all, err := LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	if g := Generate(all, 1); len(g) != 0 {
		t.Fatalf("scale 1 generates %d artifacts, want none (the planted files exactly)", len(g))
	}
	w1, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	n1 := 0
	for _, p := range all {
		if p.InEpoch(1) {
			n1++
		}
	}
	if got := len(w1.All(1)); got != n1 {
		t.Fatalf("scale 1 world holds %d artifacts in epoch 1, the planted files %d", got, n1)
	}
	g := Generate(all, 3)
	if len(g) < 2*1000 {
		t.Fatalf("scale 3 generates %d artifacts, want at least 1,000 a unit", len(g))
	}
	seen := map[string]bool{}
	for _, p := range all {
		seen[p.ID] = true
	}
	bySource := map[string][2]int{}
	shapes := map[string]int{}
	for _, p := range g {
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		if seen[p.ID] {
			t.Fatalf("id %s planted twice", p.ID)
		}
		seen[p.ID] = true
		c := bySource[p.Source]
		if len(p.Expect) > 0 {
			c[0]++
		} else {
			c[1]++
		}
		bySource[p.Source] = c
		shapes[Shape(p)]++
	}
	for _, src := range []string{"huggingface", "github", "zenodo", "kaggle", "academictorrents", "arxiv", "openalex", "semanticscholar"} {
		if bySource[src][0] == 0 {
			t.Errorf("%s: no generated afterlife", src)
		}
	}
	for _, src := range []string{"huggingface", "github"} {
		if bySource[src][1] == 0 {
			t.Errorf("%s: no generated look-alikes", src)
		}
	}
	for _, s := range []string{"hop1-finetune", "hop1-prose", "hop2-adapter", "hop2-quantised", "hop2-merge", "hop3-finetune", "hop4-quantised", "copy"} {
		if shapes[s] == 0 {
			t.Errorf("no %s generated (shapes %v)", s, shapes)
		}
	}
	if n := len(Generate(all, 100)) + len(all); n < 100000 {
		t.Errorf("scale 100 plants %d artifacts, want at least 100,000", n)
	}
}

// Every generated torrent's id is the info-hash of the .torrent the world serves for it, and the
// tracker knows its swarm.
func TestScaleTorrentsHaveTheirOwnInfoHashes(t *testing.T) {
	all, err := LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range Generate(all, 2) {
		if p.Source != atSource {
			continue
		}
		n++
		_, ih, err := ATTorrent(p, "http://127.0.0.1/announce")
		if err != nil || "at:"+ih != p.ID || p.InfoHash != ih {
			t.Fatalf("%s: builds info-hash %s (%v)", p.ID, ih, err)
		}
		if _, _, _, ok := w.SwarmCounts(ih); !ok && p.InEpoch(1) {
			t.Errorf("%s: the tracker does not know its swarm", p.ID)
		}
	}
	if n == 0 {
		t.Fatal("no torrents generated")
	}
}

// At scale 100 a GitHub search for a dataset name has more results than the 1,000 GitHub serves:
// the world answers total_count over 1,000 and 422 past the cap, as GitHub does.
func TestScaleGitHubSearchesExceedTheCap(t *testing.T) {
	w, err := New(Options{Scale: 100})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(page string) (*httptest.ResponseRecorder, map[string]any) {
		q := url.Values{"q": {`"DukeMTMC"`}, "per_page": {"100"}, "page": {page}}
		r := httptest.NewRequest(http.MethodGet, "/github/search/repositories?"+q.Encode(), nil)
		rw := httptest.NewRecorder()
		w.ServeHTTP(rw, r)
		var body map[string]any
		_ = json.Unmarshal(rw.Body.Bytes(), &body)
		return rw, body
	}
	rw, body := ask("1")
	total, _ := body["total_count"].(float64)
	if rw.Code != http.StatusOK || total <= 1000 {
		t.Fatalf("search: HTTP %d, total_count %v, want over 1,000", rw.Code, body["total_count"])
	}
	if rw, _ := ask("11"); rw.Code != http.StatusUnprocessableEntity {
		t.Errorf("page 11 of 100: HTTP %d, want 422 (past the 1,000-result cap)", rw.Code)
	}
	if !strings.Contains(rw.Header().Get("Link"), `rel="last"`) {
		t.Errorf("no Link rel=last: %q", rw.Header().Get("Link"))
	}
}

// BenchmarkGenerateScale100 measures generating the scale-100 world (go test -bench Generate -benchmem).
func BenchmarkGenerateScale100(b *testing.B) {
	all, err := LoadPlanted()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		_ = Generate(all, 100)
	}
}

// BenchmarkWorldScale100Heap reports the live heap a scale-100 world holds once built, with its
// epoch-1 views (go test -bench WorldScale100Heap -benchtime 1x).
func BenchmarkWorldScale100Heap(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w, err := New(Options{Scale: 100})
		if err != nil {
			b.Fatal(err)
		}
		n := len(w.All(1))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-live")
		b.ReportMetric(float64(n), "artifacts")
		runtime.KeepAlive(w)
	}
}

// WithTag, the tag index a Hub route can filter with, returns exactly what scanning every
// repository's derived tags (hfTags) finds, in id order.
func TestWithTagMatchesAScanOfDerivedTags(t *testing.T) {
	w, err := New(Options{Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"base_model:EleutherAI/gpt-j-6b", "BASE_MODEL:stable-diffusion-v1-5/stable-diffusion-v1-5", "dataset:ms1mv3", "lora", "no-such-tag"} {
		var want []string
		for _, p := range w.SortedByID(hfSource) {
			for _, x := range hfTags(*p) {
				if strings.EqualFold(x, tag) {
					want = append(want, p.ID)
					break
				}
			}
		}
		var got []string
		for _, p := range w.WithTag(hfSource, tag) {
			got = append(got, p.ID)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("WithTag(%q): %d artifacts, a scan finds %d", tag, len(got), len(want))
		}
		if tag == "base_model:EleutherAI/gpt-j-6b" && len(got) < 13 {
			t.Errorf("WithTag(%q): %d, want the generated fine-tunes too", tag, len(got))
		}
	}
}
