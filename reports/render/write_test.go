package render

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
)

func writeFixture(t *testing.T) (string, []string) {
	t.Helper()
	s := fixtureStore(t)
	out := t.TempDir()
	files, err := Write(context.Background(), s, registry(t), "", out)
	if err != nil {
		t.Fatal(err)
	}
	return out, files
}

func readReport(t *testing.T, dir string) (*Report, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, b
}

func TestWriteFilesAndReportContent(t *testing.T) {
	out, files := writeFixture(t)
	want := []string{"report.json", "index.html", "index.md", "graph.html", "graph.graphml", "graph.dot", "graph.json",
		"sightings.csv", "timeseries.csv", "ms-celeb-1m.md", "ms-celeb-1m.html", "books3.md", "books3.html",
		"not-in-registry.md", "feeds/ms-celeb-1m.atom", "feeds/books3.atom"}
	have := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(out, f)
		have[rel] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("missing %s (have %v)", w, have)
		}
	}
	rep, _ := readReport(t, out)
	if rep.Run.ID != "run-2" || rep.Run.New != 3 || rep.Run.Gone != 1 || len(rep.Runs) != 2 || rep.Runs[0].ID != "run-1" {
		t.Fatalf("run: %+v runs %d", rep.Run, len(rep.Runs))
	}
	if !rep.GeneratedAt.Equal(*rep.Run.Finished) {
		t.Errorf("generated_at %v, want the run's end", rep.GeneratedAt)
	}
	if len(rep.Run.Failures) != 1 || !rep.Run.Failures[0].Final || rep.Run.Failures[0].Source != "github" {
		t.Errorf("failures: %+v", rep.Run.Failures)
	}
	if len(rep.Run.Sources) != 2 || rep.Run.Sources[0].Name != "github" || rep.Run.Sources[0].Status != "failed" || rep.Run.Sources[0].Message == "" {
		t.Errorf("sources: %+v", rep.Run.Sources)
	}
	// Registry order (ms-celeb-1m before books3), unknown ids last.
	var ids []string
	for _, d := range rep.Datasets {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "ms-celeb-1m,books3,not-in-registry" {
		t.Fatalf("datasets order: %v", ids)
	}
	ms := rep.Datasets[0]
	s := ms.Summary
	if s.LiveCopies != 1 || s.TrainedOnModels != 2 || s.PapersSinceRetraction != 1 || s.Gone != 1 || s.NewSinceLastRun != 2 ||
		s.GoneSinceLastRun != 1 || s.SwarmsAlive != 1 || s.Torrents != 1 {
		t.Errorf("summary: %+v", s)
	}
	// Actions: the GitHub copy is gone, so the live actionable hosts are the hub models and the torrent.
	hosts := map[string]HostActions{}
	for _, h := range ms.Actions {
		hosts[h.Host] = h
	}
	if h, ok := hosts["huggingface.co"]; !ok || !h.Contact || !strings.Contains(h.URL, "huggingface.co") || len(h.Items) != 1 {
		t.Errorf("huggingface.co actions: %+v", h)
	}
	if _, ok := hosts["github.com"]; ok {
		t.Error("a gone copy is still in the action list")
	}
	if len(ms.Swarms) != 1 || ms.Swarms[0].Trend != "up" || ms.Swarms[0].Seeders != 4 {
		t.Errorf("swarms: %+v", ms.Swarms)
	}
	if len(ms.Timeline) != 2 || ms.Timeline[0].Live != 4 || ms.Timeline[1].Live != 5 || ms.Timeline[1].Gone != 1 {
		t.Errorf("timeline: %+v", ms.Timeline)
	}
	// Sightings: live first; the gone mirror last.
	last := ms.Sightings[len(ms.Sightings)-1]
	if !last.Gone || last.GoneSince == nil || !strings.Contains(last.Artifact.ID, "mirror") {
		t.Errorf("gone sighting not last: %+v", last)
	}
	if first := ms.Sightings[0]; first.Relation != "copy" || first.Artifact.InfoHash == "" {
		t.Errorf("first sighting: %+v", first)
	}
	if rep.Datasets[2].Status != "unknown" {
		t.Errorf("unknown dataset status %q", rep.Datasets[2].Status)
	}
}

func TestReportValidatesAgainstSchema(t *testing.T) {
	out, _ := writeFixture(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("../../docs/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("report.json does not validate: %v", err)
	}
	// The schema is not vacuous: a report with a bad relation and a missing run fails.
	var bad map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "report.json"))
	json.Unmarshal(b, &bad)
	bad["datasets"].([]any)[0].(map[string]any)["sightings"].([]any)[0].(map[string]any)["relation"] = "stolen"
	if err := sch.Validate(bad); err == nil {
		t.Error("schema accepted an unknown relation")
	}
	delete(bad, "run")
	if err := sch.Validate(bad); err == nil {
		t.Error("schema accepted a report without run")
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	s := fixtureStore(t)
	reg := registry(t)
	a, b := t.TempDir(), t.TempDir()
	fa, err := Write(context.Background(), s, reg, "", a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), s, reg, "", b); err != nil {
		t.Fatal(err)
	}
	for _, f := range fa {
		rel, _ := filepath.Rel(a, f)
		x, _ := os.ReadFile(f)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two renders of the same store", rel)
		}
	}
	// An older run renders too, without the later run's sightings.
	old := t.TempDir()
	if _, err := Write(context.Background(), s, reg, "run-1", old); err != nil {
		t.Fatal(err)
	}
	rep, _ := readReport(t, old)
	if rep.Run.ID != "run-1" || len(rep.Runs) != 1 || rep.Datasets[0].Summary.Total != 4 {
		t.Errorf("run-1 report: run %s runs %d total %d", rep.Run.ID, len(rep.Runs), rep.Datasets[0].Summary.Total)
	}
	// The mirror went in run-2: as of run-1 it was live.
	if s := rep.Datasets[0].Summary; s.Gone != 0 || s.LiveCopies != 1 {
		t.Errorf("run-1 report sees the future: %+v", s)
	}
	if _, err := Write(context.Background(), s, reg, "no-such-run", t.TempDir()); err == nil {
		t.Error("unknown run: no error")
	}
}

// TestHostileStringsAreInertInEveryFormat plants <script>, an onerror attribute, a javascript:
// URL and spreadsheet formulas and checks each output format keeps them as text.
func TestHostileStringsAreInertInEveryFormat(t *testing.T) {
	out, files := writeFixture(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		switch filepath.Ext(f) {
		case ".html":
			checkHTMLInert(t, name, b)
		case ".md":
			// Render with a real CommonMark + GFM renderer that lets raw HTML through: any
			// unescaped markup from a crawl would become an element.
			var h bytes.Buffer
			gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
			if err := gm.Convert(b, &h); err != nil {
				t.Fatal(err)
			}
			checkHTMLInert(t, name, h.Bytes())
		case ".json":
			if bytes.Contains(b, []byte("<script")) || bytes.Contains(b, []byte("<img")) {
				t.Errorf("%s: unescaped < in JSON", name)
			}
		case ".graphml", ".atom":
			checkXML(t, name, b)
		case ".csv":
			checkCSV(t, name, b)
		case ".dot":
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Count(line, `"`)-strings.Count(line, `\"`) != 0 && (strings.Count(line, `"`)-strings.Count(line, `\"`))%2 != 0 {
					t.Errorf("%s: unbalanced quotes: %s", name, line)
				}
			}
		}
	}
	atom, _ := os.ReadFile(filepath.Join(out, "feeds", "ms-celeb-1m.atom"))
	var feed atomFeed
	if err := xml.Unmarshal(atom, &feed); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range feed.Entries {
		if strings.Contains(e.Title.Body, "<script>window.__pwned=1</script>") {
			found = true
			if e.Link != nil {
				t.Errorf("atom links %q", e.Link.Href)
			}
		}
	}
	if !found {
		t.Error("atom feed lost the hostile title as text")
	}
}

func checkHTMLInert(t *testing.T, name string, b []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(b))
	sawTitleText := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Errorf("%s: %v", name, z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if tok.Data == "script" || tok.Data == "img" || tok.Data == "iframe" || tok.Data == "object" {
				t.Errorf("%s: <%s> element in output", name, tok.Data)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Errorf("%s: event handler attribute %s=%q", name, a.Key, a.Val)
				}
				if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("%s: javascript: link", name)
				}
			}
		case html.TextToken:
			if strings.Contains(tok.Data, "<script>window.__pwned=1</script>") {
				sawTitleText = true
			}
		}
	}
	if strings.HasPrefix(name, "ms-celeb-1m.") && !sawTitleText {
		t.Errorf("%s: the hostile title is not shown as text", name)
	}
}

func checkXML(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Errorf("%s: not well-formed XML: %v", name, err)
			return
		}
	}
}

func checkCSV(t *testing.T, name string, b []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for _, r := range recs[1:] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+@", rune(c[0])) {
				t.Errorf("%s: formula cell %q", name, c)
			}
		}
	}
	if name == "sightings.csv" && !bytes.Contains(b, []byte(`'=cmd|`)) {
		t.Errorf("%s: formula title not neutralised", name)
	}
}

func TestWriteRemovesStalePagesOnly(t *testing.T) {
	s := fixtureStore(t)
	reg := registry(t)
	out := t.TempDir()
	mine := filepath.Join(out, "notes.txt")
	os.WriteFile(mine, []byte("keep"), 0o644)
	if _, err := Write(context.Background(), s, reg, "run-2", out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "not-in-registry.md")); err != nil {
		t.Fatal(err)
	}
	// run-1 has no sighting of not-in-registry: its pages go, the user's file stays.
	if _, err := Write(context.Background(), s, reg, "run-1", out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "not-in-registry.md")); !os.IsNotExist(err) {
		t.Error("stale dataset page left behind")
	}
	if _, err := os.Stat(filepath.Join(out, "ms-celeb-1m.md")); err != nil {
		t.Error("current page removed")
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "keep" {
		t.Error("a file the report did not write was touched")
	}
}

// TestStreamedJSONMatchesMarshalIndent: the streamed report.json and graph.json are exactly what
// encoding/json gives for the whole document.
func TestStreamedJSONMatchesMarshalIndent(t *testing.T) {
	rep, err := Build(context.Background(), fixtureStore(t), registry(t), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, v any, write func(*bytes.Buffer) error) {
		want, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := write(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), append(want, '\n')) {
			t.Errorf("%s: streamed bytes differ from MarshalIndent (%d vs %d bytes)", name, got.Len(), len(want)+1)
		}
	}
	check("report.json", rep, func(b *bytes.Buffer) error { return WriteReportJSON(b, rep) })
	g := BuildGraph(rep, registry(t))
	check("graph.json", g, func(b *bytes.Buffer) error { return g.WriteJSON(b) })
	empty := &Report{Run: rep.Run, Runs: rep.Runs, Datasets: []DatasetReport{}}
	check("empty report", empty, func(b *bytes.Buffer) error { return WriteReportJSON(b, empty) })
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"ééé", 3, "ééé"}, {"éééé", 3, "éé…"}, {"", 3, ""}, {"ab", 1, "…"}, {"ab", 0, "ab"}} {
		if got := truncate(c.s, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
