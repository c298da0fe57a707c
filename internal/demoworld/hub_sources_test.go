package demoworld

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Tests of the Hugging Face, GitHub, Zenodo and Kaggle handlers, speaking HTTP to a real server.

func startWorld(t *testing.T) (*World, string) {
	t.Helper()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return w, s.URL
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPlantedAfterlifeCoversEveryHubSource(t *testing.T) {
	all, err := LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	min := map[string]int{"huggingface": 12, "github": 6, "zenodo": 3, "kaggle": 3}
	count, epochs := map[string]int{}, map[string]int{}
	for _, p := range all {
		if _, ok := min[p.Source]; !ok {
			continue
		}
		count[p.Source]++
		if len(p.Epochs) > 0 {
			epochs[p.Source]++
		}
		if p.Expect == nil {
			t.Errorf("%s has no expect labels (use [] for a negative)", p.ID)
		}
		if len(p.Text) < 200 && p.Source != "github" {
			t.Errorf("%s: text of %d bytes is too thin to match on", p.ID, len(p.Text))
		}
	}
	for src, n := range min {
		if count[src] < n || epochs[src] == 0 {
			t.Errorf("%s: %d planted (want ≥ %d), %d with epochs", src, count[src], n, epochs[src])
		}
	}
}

func TestHuggingFaceHandler(t *testing.T) {
	_, base := startWorld(t)
	hf := base + "/huggingface"
	resp, b := get(t, hf+"/api/models?search=sd15&limit=1&full=true&cardData=true", nil)
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil || resp.StatusCode != 200 || len(items) != 1 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Total-Count") != "2" || items[0]["id"] != "pixelforge/sd15-watercolor" || items[0]["cardData"] == nil {
		t.Errorf("total %s first %v", resp.Header.Get("X-Total-Count"), items[0])
	}
	next := strings.TrimSuffix(strings.TrimPrefix(strings.Split(resp.Header.Get("Link"), ";")[0], "<"), ">")
	if !strings.Contains(next, "cursor=") {
		t.Fatalf("Link %q", resp.Header.Get("Link"))
	}
	resp, b = get(t, next, nil)
	if err := json.Unmarshal(b, &items); err != nil || len(items) != 1 || items[0]["id"] != "pixelforge/sd15-watercolor-lora-ink" || resp.Header.Get("Link") != "" {
		t.Errorf("page 2: %s link %q", b, resp.Header.Get("Link"))
	}
	_, b = get(t, hf+"/api/models?filter="+url.QueryEscape("base_model:pixelforge/sd15-watercolor"), nil)
	if !strings.Contains(string(b), "sd15-watercolor-lora-ink") || strings.Contains(string(b), `"id":"pixelforge/sd15-watercolor"`) {
		t.Errorf("base_model filter: %s", b)
	}
	resp, b = get(t, hf+"/api/models/visionid-lab/arcface-r100-ms1mv3?blobs=true", nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `W/"`) || !strings.Contains(string(b), `"size":261218000`) {
		t.Errorf("info: %d %q %s", resp.StatusCode, etag, b)
	}
	if resp, b = get(t, hf+"/api/models/visionid-lab/arcface-r100-ms1mv3?blobs=true", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 || len(b) != 0 {
		t.Errorf("conditional: %d %d bytes", resp.StatusCode, len(b))
	}
	if resp, _ = get(t, hf+"/api/models/nobody/nothing", nil); resp.StatusCode != 404 || resp.Header.Get("X-Error-Code") != "RepoNotFound" {
		t.Errorf("missing: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, b = get(t, hf+"/pwnlab/megaface-detector/resolve/main/README.md", nil); resp.StatusCode != 200 || !strings.Contains(string(b), "<script>alert(1)</script>") {
		t.Errorf("card: %d %s", resp.StatusCode, b)
	}
	if resp, _ = get(t, hf+"/datasets/bookworm-data/the_pile_books3-mirror/raw/main/README.md", nil); resp.StatusCode != 200 {
		t.Errorf("dataset card: %d", resp.StatusCode)
	}
}

func TestGitHubHandler(t *testing.T) {
	w, base := startWorld(t)
	gh := base + "/github"
	q := url.QueryEscape(`"MegaFace" OR "nothing-matches" in:title,body,comments is:issue`)
	resp, b := get(t, gh+"/search/issues?per_page=10&q="+q, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"number":214`) || resp.Header.Get("X-RateLimit-Resource") != "search" || resp.Header.Get("ETag") != "" {
		t.Errorf("issues: %d %s %v", resp.StatusCode, b, resp.Header)
	}
	// As GitHub does: an issue search naming neither issues nor pull requests is a 422.
	bare := url.QueryEscape(`"MegaFace" in:title,body,comments`)
	if resp, b = get(t, gh+"/search/issues?per_page=10&q="+bare, nil); resp.StatusCode != 422 || !strings.Contains(string(b), "is:issue") {
		t.Errorf("issue search without is:issue: %d %s, want 422", resp.StatusCode, b)
	}
	if resp, _ = get(t, gh+"/search/code?q=%22tiny_images.bin%22", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous code search: %d", resp.StatusCode)
	}
	if resp, b = get(t, gh+"/search/code?q=%22300K_random_images.npy%22", map[string]string{"Authorization": "Bearer x"}); resp.StatusCode != 200 || !strings.Contains(string(b), "ood-lab/energy-ood-tinyimages") {
		t.Errorf("code search: %d %s", resp.StatusCode, b)
	}
	if resp, b = get(t, gh+"/search/repositories?q=", nil); resp.StatusCode != 422 || !strings.Contains(string(b), "Validation Failed") {
		t.Errorf("empty q: %d %s", resp.StatusCode, b)
	}
	if _, b = get(t, gh+"/repos/reid-mirror/DukeMTMC-reID-mirror/readme", map[string]string{"Accept": "application/vnd.github.raw+json"}); !strings.HasPrefix(string(b), "# DukeMTMC-reID mirror") {
		t.Errorf("raw readme: %s", b)
	}
	if _, b = get(t, gh+"/repos/reid-mirror/DukeMTMC-reID-mirror/readme", nil); !strings.Contains(string(b), `"encoding":"base64"`) {
		t.Errorf("json readme: %s", b)
	}
	if _, b = get(t, gh+"/repos/facekit/insightface-lite/issues/214/comments", nil); !strings.Contains(string(b), "pan.baidu.com") {
		t.Errorf("comments: %s", b)
	}
	w.SetEpoch(2)
	if resp, _ = get(t, gh+"/repos/books-corpus/books3-download", nil); resp.StatusCode != 404 {
		t.Errorf("removed repo: %d", resp.StatusCode)
	}
}

func TestZenodoHandler(t *testing.T) {
	w, base := startWorld(t)
	z := base + "/zenodo/api/records"
	resp, b := get(t, z+"?q="+url.QueryEscape(`"TownCentreXVID.avi" OR "MS1M-RetinaFace"`)+"&size=1&page=1&sort=mostrecent", nil)
	var page struct {
		Hits struct {
			Hits  []map[string]any
			Total int
		}
		Links map[string]string
	}
	if err := json.Unmarshal(b, &page); err != nil || page.Hits.Total != 2 || page.Links["next"] == "" || resp.Header.Get("X-RateLimit-Limit") != "30" {
		t.Fatalf("%s", b)
	}
	if page.Hits.Hits[0]["id"].(float64) != 99481101 { // newest first
		t.Errorf("first hit %v", page.Hits.Hits[0]["id"])
	}
	if resp, _ = get(t, z+"?q=x&size=100", nil); resp.StatusCode != 400 {
		t.Errorf("size 100 anonymous: %d", resp.StatusCode)
	}
	w.SetEpoch(2)
	if resp, b = get(t, z+"/99481102", nil); resp.StatusCode != 410 || !strings.Contains(string(b), "PID has been deleted") {
		t.Errorf("deleted: %d %s", resp.StatusCode, b)
	}
	if resp, _ = get(t, z+"/12345", nil); resp.StatusCode != 404 {
		t.Errorf("unknown: %d", resp.StatusCode)
	}
	if resp, _ = get(t, z+"/99481105", nil); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Link"), `rel="linkset"`) {
		t.Errorf("new record: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestKaggleHandler(t *testing.T) {
	_, base := startWorld(t)
	k := base + "/kaggle/api/v1/datasets"
	_, b := get(t, k+"/list?search=faces_emore&page=1", nil)
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 || list[0]["ref"] != "facedata-hub/ms1m-arcface-112x112" {
		t.Fatalf("%s", b)
	}
	if _, b = get(t, k+"/list?search=faces_emore&page=2", nil); string(b) != "[]" {
		t.Errorf("page 2: %s", b)
	}
	if _, b = get(t, k+"/view/facedata-hub/ms1m-arcface-112x112", nil); !strings.Contains(string(b), "MXNet RecordIO") {
		t.Errorf("view: %s", b)
	}
	if _, b = get(t, k+"/list/facedata-hub/ms1m-arcface-112x112", nil); !strings.Contains(string(b), `"totalBytes":42107155456`) {
		t.Errorf("files: %s", b)
	}
	if resp, _ := get(t, k+"/view/nobody/nothing", nil); resp.StatusCode != 404 {
		t.Errorf("missing: %d", resp.StatusCode)
	}
}
