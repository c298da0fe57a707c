package render

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// coverageStore holds run-1, in which huggingface worked and found a copy, and run-2 with the
// given per-source statuses and, for each failed source, failures: 5 URLs refused, 1 timed out.
func coverageStore(t *testing.T, statuses map[string]string) *reports.SQLiteStore {
	t.Helper()
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "run-1", t0)
	s.AddSourceStat(ctx, "run-1", reports.SourceStat{Name: "huggingface", Requests: 3, Status: "ok"})
	cp := artifact.Artifact{ID: "hf:dataset:x/ms1m", Source: artifact.SourceHuggingFace, Kind: artifact.KindDataset,
		URL: "https://huggingface.co/datasets/x/ms1m", Title: "x/ms1m"}
	mustRecord(t, s, "run-1", t0, cp, extract.Finding{ArtifactID: cp.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9})
	if _, err := s.FinishRun(ctx, "run-1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d2 := t0.Add(24 * time.Hour)
	begin(t, s, "run-2", d2)
	for name, st := range statuses {
		msg := ""
		if st == "failed" {
			msg = "last error: connection refused by 127.0.0.1:9 (host down, or no network)"
		}
		s.AddSourceStat(ctx, "run-2", reports.SourceStat{Name: name, Requests: 3, Errors: 6, Status: st, Message: msg})
		if st != "failed" {
			continue
		}
		for i := range 5 {
			u := fmt.Sprintf("https://api.example.org/%s/search?page=%d", name, i)
			if err := s.RecordFailure(ctx, "run-2", reports.JobFailure{Source: name, Kind: "search", URL: u, Final: i%2 == 0,
				Error: "connection refused by 127.0.0.1:9 (host down, or no network) for " + u, At: d2}); err != nil {
				t.Fatal(err)
			}
		}
		u := "https://api.example.org/" + name + "/slow"
		if err := s.RecordFailure(ctx, "run-2", reports.JobFailure{Source: name, URL: u, Error: "timeout after 30s", Final: true, At: d2}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FinishRun(ctx, "run-2", d2.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return s
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// before fails unless first occurs in s, and before second.
func before(t *testing.T, name, s, first, second string) {
	t.Helper()
	i, j := strings.Index(s, first), strings.Index(s, second)
	if i < 0 || j < 0 || i > j {
		t.Errorf("%s: want %q (at %d) before %q (at %d)", name, first, i, second, j)
	}
}

// Issue 17, item 2: a run in which every enabled source failed says first, in every format, that
// nothing could be checked — never "No sighting of a retracted dataset" — and its failures are
// grouped by source and cause, one row per cause with a count and examples.
func TestReportOfRunThatCheckedNothingSaysSoFirst(t *testing.T) {
	s := coverageStore(t, map[string]string{"huggingface": "failed", "github": "failed"})
	out := t.TempDir()
	if _, err := Write(context.Background(), s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	idx, md := readOut(t, out, "index.html"), readOut(t, out, "index.md")
	for name, body := range map[string]string{"index.html": idx, "index.md": md} {
		before(t, name, body, "Nothing could be checked", "Retracted datasets")
		if strings.Contains(body, "No sighting of a retracted dataset") {
			t.Errorf("%s says there is no sighting although nothing was checked", name)
		}
		for _, want := range []string{"github", "huggingface", "copies and code using the datasets on GitHub"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s does not name %q among what is unknown", name, want)
			}
		}
	}
	ds := readOut(t, out, "ms-celeb-1m.html")
	before(t, "ms-celeb-1m.html", ds, "Nothing could be checked", "Summary")

	// One row per (source, cause): 2 sources x 2 causes, not 12 URL rows.
	var rep struct {
		Run struct {
			Coverage struct {
				State string `json:"state"`
			} `json:"coverage"`
			Failures      []json.RawMessage `json:"failures"`
			FailureGroups []struct {
				Source   string   `json:"source"`
				Cause    string   `json:"cause"`
				Count    int      `json:"count"`
				GivenUp  int      `json:"given_up"`
				Examples []string `json:"examples"`
			} `json:"failure_groups"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(readOut(t, out, "report.json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Run.Coverage.State != "none" {
		t.Errorf("report.json run.coverage.state %q, want none", rep.Run.Coverage.State)
	}
	if len(rep.Run.Failures) != 12 {
		t.Errorf("report.json keeps %d failed URLs, want all 12", len(rep.Run.Failures))
	}
	if len(rep.Run.FailureGroups) != 4 {
		t.Fatalf("report.json has %d failure groups, want 4 (2 sources x 2 causes): %+v", len(rep.Run.FailureGroups), rep.Run.FailureGroups)
	}
	g := rep.Run.FailureGroups[0]
	if g.Source != "github" || g.Count != 5 || g.GivenUp != 3 || len(g.Examples) != 3 || strings.Contains(g.Cause, "api.example.org") ||
		!strings.Contains(g.Cause, "connection refused") {
		t.Errorf("first group %+v: want github, 5 URLs, 3 given up, 3 examples, the cause without its URL", g)
	}
	// HTML and Markdown show the groups (with examples), not every URL.
	for name, body := range map[string]string{"index.html": idx, "index.md": md} {
		if !strings.Contains(body, "page=0") || strings.Contains(body, "page=4") {
			t.Errorf("%s: want the first URLs as examples and not the fifth", name)
		}
		if !strings.Contains(body, "timeout after 30s") {
			t.Errorf("%s: the second cause is missing", name)
		}
	}
}

// A run in which some sources failed says which, and what that leaves unknown; a run in which
// every source worked has no such notice.
func TestReportOfPartlyCheckedRunSaysWhatIsUnknown(t *testing.T) {
	s := coverageStore(t, map[string]string{"huggingface": "ok", "github": "failed"})
	out := t.TempDir()
	if _, err := Write(context.Background(), s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "index.md", "ms-celeb-1m.html", "ms-celeb-1m.md"} {
		body := readOut(t, out, name)
		if strings.HasSuffix(name, ".md") {
			body = strings.ReplaceAll(body, `\`, "") // Markdown escapes ( and )
		}
		if !strings.Contains(body, "Partly checked: 1 of 2 sources failed (github)") || !strings.Contains(body, "copies and code using the datasets on GitHub") {
			t.Errorf("%s does not say that github failed and what that leaves unknown", name)
		}
		if strings.Contains(body, "Nothing could be checked") {
			t.Errorf("%s says nothing was checked, but huggingface worked", name)
		}
	}
	s = coverageStore(t, map[string]string{"huggingface": "ok"})
	out = t.TempDir()
	if _, err := Write(context.Background(), s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	if body := readOut(t, out, "index.html"); strings.Contains(body, `id="coverage"`) || strings.Contains(body, "Partly checked") {
		t.Error("a run in which every source worked carries a coverage notice")
	}
}
