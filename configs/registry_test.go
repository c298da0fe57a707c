package configs

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultRegistry(t *testing.T) {
	r, err := LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ms-celeb-1m", "megaface", "tiny-images", "dukemtmc", "imagenet-21k-fall11", "laion-5b",
		"laion-400m", "books3", "vggface2", "brainwash", "oxford-town-centre", "hrt-transgender", "uccs"} {
		d, ok := r.Get(id)
		if !ok {
			t.Errorf("missing %s", id)
			continue
		}
		if !d.IsRetraction() {
			t.Errorf("%s: status %s is not a retraction", id, d.Status)
		}
		if len(d.Sources) == 0 || len(d.Papers) == 0 {
			t.Errorf("%s: sources %d papers %d", id, len(d.Sources), len(d.Papers))
		}
	}
	for id, of := range map[string]string{"re-laion-5b": "laion-5b", "imagenet-1k": "imagenet-21k-fall11",
		"imagenet-21k-winter21": "imagenet-21k-fall11", "pile-uncopyrighted": "books3", "lfw": ""} {
		d, ok := r.Get(id)
		if !ok || d.IsRetraction() || d.Of != of {
			t.Errorf("context entry %s: %+v", id, d)
		}
	}
	ms, _ := r.Get("ms-celeb-1m")
	if len(ms.InfoHashes) != 1 || ms.InfoHashes[0] != "9e67eb7cc23c9417f39778a8e06cca5e26196a97" {
		t.Errorf("ms-celeb-1m infohashes %v", ms.InfoHashes)
	}
	lb, _ := r.Get("laion-5b")
	ids := map[string]bool{}
	for _, m := range lb.KnownModels {
		ids[m.ID] = true
	}
	for _, want := range []string{"CompVis/stable-diffusion-v1-4", "stable-diffusion-v1-5/stable-diffusion-v1-5", "runwayml/stable-diffusion-v1-5"} {
		if !ids[want] {
			t.Errorf("laion-5b lacks known model %s", want)
		}
	}
	if c := r.ContactsFor("books3"); len(c) < 5 {
		t.Errorf("contacts %v", c)
	}
}

func TestValidationNamesFileLineField(t *testing.T) {
	src := `schema_version: 1
datasets:
  - id: good-one
    name: Good
    status: withdrawn
    retracted_on: "2020-01"
    sources: [x]
    known_models:
      - {id: org/model, via: nowhere}
    papers:
      - {title: P, arxiv: "not-an-id"}
    alias_rules:
      - {alias: X, before: "yesterday"}
  - id: Bad_ID
    name: ""
    status: gone
    sources: []
    of: missing-entry
`
	_, err := ParseRegistry([]byte(src), "test.yaml")
	var ve ValidationErrors
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"test.yaml:9: field datasets[0].known_models[0].via:",
		"test.yaml:11: field datasets[0].papers[0].arxiv:",
		"test.yaml:13: field datasets[0].alias_rules[0].before:",
		"test.yaml:14: field datasets[1].id:",
		"test.yaml:15: field datasets[1].name:",
		"test.yaml:16: field datasets[1].status:",
		"test.yaml:17: field datasets[1].sources:",
		"test.yaml:18: field datasets[1].of:",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestUnknownFieldIsAnError(t *testing.T) {
	_, err := ParseRegistry([]byte("datasets:\n  - id: a\n    nmae: x\n"), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "t.yaml") || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseRegistry(f *testing.F) {
	f.Add(string(DefaultRegistryYAML()))
	f.Add("datasets:\n  - id: a\n    name: A\n    status: withdrawn\n    retracted_on: '2020'\n    sources: [s]\n")
	f.Add("datasets: [{id: x, of: x, derivatives: [{id: y}], known_models: [{via: z}]}]")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRegistry([]byte(s), "fuzz.yaml")
		if err == nil {
			if r == nil || len(r.Datasets) == 0 {
				t.Fatal("nil registry without error")
			}
			for _, d := range r.Datasets {
				if _, ok := r.Get(d.ID); !ok {
					t.Fatalf("Get(%q) fails", d.ID)
				}
			}
		}
	})
}
