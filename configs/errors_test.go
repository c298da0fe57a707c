package configs

import (
	"strings"
	"testing"
)

// Issue 17, item 5: every watch config mistake is one line naming the file, the line, the key and
// what is allowed (the nearest valid key for a typo) — never a Go type — and nothing is accepted
// that would run silently wrong: unknown source names, nothing enabled, an empty file.
func TestWatchConfigErrorsNameFileLineKeyAndWhatIsAllowed(t *testing.T) {
	known := []string{"arxiv", "github", "huggingface", "swarm", "zenodo"}
	cases := []struct {
		name, src string
		want      []string
	}{
		{"typo", "contact: x\nworkerz: 4\nsources:\n  github: {enabled: true}\n",
			[]string{"w.yaml:2:", "workerz", `did you mean "workers"`, "allowed here:", "user_agent"}},
		{"typo in a source", "sources:\n  github:\n    enabled: true\n    max_page: 3\n",
			[]string{"w.yaml:4:", "sources.github.max_page", `did you mean "max_pages"`, "base_url"}},
		{"unknown source", "contact: x\nsources:\n  githubb:\n    enabled: true\n",
			[]string{"w.yaml:3:", "sources.githubb", `unknown source "githubb"`, `did you mean "github"`, "known sources: arxiv, github"}},
		{"nothing enabled", "contact: x\nsources:\n  github:\n    enabled: false\n  arxiv: {}\n",
			[]string{"w.yaml:2:", "no source is enabled", "arxiv, github"}},
		{"empty file", "", []string{"w.yaml:1:", "the file is empty", "sources:"}},
		{"only comments", "# my config\n\n", []string{"w.yaml:1:", "the file is empty"}},
		{"not a number", "workers: four\nsources:\n  github: {enabled: true}\n", []string{"w.yaml:1:", "workers", `"four" is not a whole number`}},
		{"not a bool", "sources:\n  github:\n    enabled: yes please\n", []string{"w.yaml:3:", "sources.github.enabled", "true or false"}},
		{"list for a map", "sources:\n  - github\n", []string{"w.yaml:2:", "sources", "want key: value lines"}},
		{"bad yaml", "sources:\n  github: {enabled: true\n", []string{"w.yaml:", "not valid YAML"}},
	}
	for _, c := range cases {
		w, err := ParseWatch([]byte(c.src), "w.yaml")
		if err == nil {
			err = w.CheckSources(known)
		}
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error is not one line:\n%s", c.name, msg)
		}
		for _, bad := range []string{"configs.", "type ", "!!"} {
			if strings.Contains(msg, bad) {
				t.Errorf("%s: error names Go or YAML internals (%q): %s", c.name, bad, msg)
			}
		}
		for _, want := range c.want {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error lacks %q: %s", c.name, want, msg)
			}
		}
	}
	// The embedded plan and the demo's plan shape pass.
	w, err := LoadWatch("")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CheckSources(append(known, "kaggle", "openalex", "semanticscholar", "academictorrents")); err != nil {
		t.Fatalf("embedded plan: %v", err)
	}
}

// The same for the registry: an unknown key names the nearest one, and dates must be real dates.
func TestRegistryErrorsNameNearestKeyAndRejectImpossibleDates(t *testing.T) {
	entry := "datasets:\n  - id: a\n    name: A\n    status: withdrawn\n    sources: [s]\n"
	cases := []struct {
		name, src string
		want      []string
	}{
		{"typo", entry + "    retracted_onn: '2020-01-01'\n", []string{"r.yaml:6:", "datasets[0].retracted_onn", `did you mean "retracted_on"`}},
		{"impossible date", entry + "    retracted_on: '2021-13-45'\n", []string{"r.yaml:6:", "datasets[0].retracted_on", `"2021-13-45" is not a date`, "YYYY-MM-DD"}},
		{"impossible day", entry + "    retracted_on: '2021-02-30'\n", []string{"r.yaml:6:", "is not a date"}},
		{"impossible month", entry + "    retracted_on: '2021-00'\n", []string{"r.yaml:6:", "is not a date"}},
		{"impossible before", entry + "    retracted_on: '2021'\n    alias_rules:\n      - {alias: X, before: '2020-13'}\n", []string{"r.yaml:8:", "before"}},
		{"empty file", "\n", []string{"r.yaml:1:", "the file is empty", "datasets:"}},
	}
	for _, c := range cases {
		_, err := ParseRegistry([]byte(c.src), "r.yaml")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || strings.Contains(msg, "configs.") {
			t.Errorf("%s: want one line without Go types: %s", c.name, msg)
		}
		for _, want := range c.want {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error lacks %q: %s", c.name, want, msg)
			}
		}
	}
	for _, ok := range []string{"2021", "2021-02", "2020-02-29"} {
		if _, err := ParseRegistry([]byte(entry+"    retracted_on: '"+ok+"'\n"), "r.yaml"); err != nil {
			t.Errorf("date %s refused: %v", ok, err)
		}
	}
}
