package configs_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/academictorrents"
	_ "github.com/afterlife-watch/afterlife/crawler/arxiv"
	_ "github.com/afterlife-watch/afterlife/crawler/github"
	_ "github.com/afterlife-watch/afterlife/crawler/huggingface"
	_ "github.com/afterlife-watch/afterlife/crawler/kaggle"
	_ "github.com/afterlife-watch/afterlife/crawler/openalex"
	_ "github.com/afterlife-watch/afterlife/crawler/semanticscholar"
	_ "github.com/afterlife-watch/afterlife/crawler/swarm"
	_ "github.com/afterlife-watch/afterlife/crawler/zenodo"
)

// keyless are the sources that can do something without any key: the embedded plan enables all.
var keyless = []string{"academictorrents", "arxiv", "github", "huggingface", "kaggle", "openalex", "semanticscholar", "swarm", "zenodo"}

// What each source, without its token, must say it skipped or why it is limited.
var anonymousNote = map[string]string{
	"huggingface":     "no HF_TOKEN",
	"github":          "no GITHUB_TOKEN",
	"zenodo":          "no ZENODO_TOKEN",
	"semanticscholar": "no S2_API_KEY",
	"openalex":        "works searches skipped",
	"kaggle":          "dataset searches skipped: no KAGGLE_API_TOKEN",
}

func enabled(w *configs.Watch) []string {
	var out []string
	for name, sc := range w.Sources {
		if sc.Enabled {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// The embedded plan and the example enable every keyless source; each builds from its config
// without any key, plans work for the registry, and (where anonymous access is limited) says in
// its first job's notes what it skips and why. Kaggle plans nothing it would send.
func TestWatchPlansEnableEveryKeylessSource(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := configs.LoadWatch("")
	if err != nil {
		t.Fatal(err)
	}
	example, err := configs.LoadWatch("watch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*configs.Watch{embedded, example} {
		if got := enabled(w); !slices.Equal(got, keyless) {
			t.Errorf("%s enables %v, want %v", w.File, got, keyless)
		}
		for _, name := range enabled(w) {
			factory, ok := crawler.Factory(name)
			if !ok {
				t.Fatalf("%s: no adapter registered", name)
			}
			src, err := factory(w.Sources[name], func(string) string { return "" })
			if err != nil {
				t.Errorf("%s: %s: %v", w.File, name, err)
				continue
			}
			if name == "swarm" {
				continue // plans from known info-hashes and found torrents: its own tests
			}
			jobs, err := src.Plan(context.Background(), reg.Retracted())
			if err != nil || len(jobs) == 0 {
				t.Errorf("%s: %s planned %d jobs: %v", w.File, name, len(jobs), err)
				continue
			}
			if want := anonymousNote[name]; want != "" && !strings.Contains(jobs[0].Meta["notes"], want) {
				t.Errorf("%s: %s without a key does not say %q: %q", w.File, name, want, jobs[0].Meta["notes"])
			}
			if name == "kaggle" && (len(jobs) != 1 || jobs[0].Kind != "skipped") {
				t.Errorf("%s: kaggle without credentials plans %d jobs, first %q", w.File, len(jobs), jobs[0].Kind)
			}
		}
	}
}
