package configs_test

import (
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

// FuzzParseWatch: a watch config from anywhere (a user's file, a pull request) never panics the
// loader; what it accepts has valid base URLs and no negative bounds.
func FuzzParseWatch(f *testing.F) {
	f.Add([]byte("contact: mailto:x@example.org\nworkers: 2\nsources:\n  arxiv:\n    enabled: true\n    base_url: https://export.arxiv.org\n    rate: 0.3\n    max_in_flight: 1\n"))
	f.Add([]byte("sources:\n  x: {enabled: true, base_url: 'javascript:alert(1)', rate: -1}\n"))
	f.Add([]byte("a: &a [*a, *a]\nsources: *a\n"))
	f.Add([]byte("sources:\n  x:\n    max_body: 99999999999999999999\n"))
	f.Add([]byte("\xff\xfe: [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := configs.ParseWatch(b, "fuzz.yaml")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if w.Workers < 0 {
			t.Fatalf("accepted negative workers %d", w.Workers)
		}
		for name, sc := range w.Sources {
			if sc.Rate < 0 || sc.MaxPages < 0 {
				t.Fatalf("source %s: accepted negative bounds %+v", name, sc)
			}
			if sc.BaseURL != "" && !strings.HasPrefix(sc.BaseURL, "http://") && !strings.HasPrefix(sc.BaseURL, "https://") {
				t.Fatalf("source %s: accepted base_url %q", name, sc.BaseURL)
			}
		}
	})
}
