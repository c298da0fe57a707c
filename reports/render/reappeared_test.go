package render

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// reappearedStore: run-1 finds a copy and a paper, run-2 sees the copy go (a 404), run-3 sees it
// again at the same address (a re-upload).
func reappearedStore(t *testing.T) *reports.SQLiteStore {
	t.Helper()
	ctx := context.Background()
	s := openTest(t)
	cp := artifact.Artifact{ID: "hf:dataset:x/ms1m-reupload", Source: artifact.SourceHuggingFace, Kind: artifact.KindDataset,
		URL: "https://huggingface.co/datasets/x/ms1m-reupload", Title: "x/ms1m-reupload"}
	paper := artifact.Artifact{ID: "arxiv:2101.00001", Source: artifact.SourceArXiv, Kind: artifact.KindPaper,
		URL: "https://arxiv.org/abs/2101.00001", Title: "Face recognition on MS-Celeb-1M", Published: "2021-01-01"}
	fcp := extract.Finding{ArtifactID: cp.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.95,
		Evidence: []extract.Evidence{{Field: "files[0].path", Rule: "known-file", Snippet: "FaceImageCroppedWithAlignment.tsv"}}}
	fp := extract.Finding{ArtifactID: paper.ID, Dataset: "ms-celeb-1m", Relation: extract.Uses, Confidence: 0.7}
	for i, id := range []string{"run-1", "run-2", "run-3"} {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		begin(t, s, id, at)
		s.AddSourceStat(ctx, id, reports.SourceStat{Name: "huggingface", Requests: 3, Status: "ok"})
		mustRecord(t, s, id, at, paper, fp)
		switch id {
		case "run-2":
			if err := s.MarkGone(ctx, id, []string{cp.ID}, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		default:
			mustRecord(t, s, id, at.Add(time.Minute), cp, fcp)
		}
		if _, err := s.FinishRun(ctx, id, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Issue 17, item 3: a copy that had gone and came back is live again, and it is news: its own
// section at the top of the overview and of the dataset page (HTML and Markdown), its own Atom
// entry and its own webhook event.
func TestReappearedCopyIsLiveAndReportedFirst(t *testing.T) {
	ctx := context.Background()
	s := reappearedStore(t)
	out := t.TempDir()
	if _, err := Write(ctx, s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Datasets []struct {
			ID        string `json:"id"`
			Sightings []struct {
				Artifact struct {
					ID string `json:"id"`
				} `json:"artifact"`
				Gone       bool `json:"gone"`
				Reappeared bool `json:"reappeared"`
			} `json:"sightings"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal([]byte(readOut(t, out, "report.json")), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range rep.Datasets {
		for _, x := range d.Sightings {
			if x.Artifact.ID == "hf:dataset:x/ms1m-reupload" {
				found = true
				if x.Gone || !x.Reappeared {
					t.Errorf("report.json: the re-uploaded copy has gone=%v reappeared=%v, want live and reappeared", x.Gone, x.Reappeared)
				}
			}
			if x.Artifact.ID == "arxiv:2101.00001" && x.Reappeared {
				t.Error("report.json: the paper never went but is marked reappeared")
			}
		}
	}
	if !found {
		t.Fatal("report.json lacks the re-uploaded copy")
	}
	for name, next := range map[string]string{"index.html": "Retracted datasets", "index.md": "Retracted datasets",
		"ms-celeb-1m.html": "Summary", "ms-celeb-1m.md": "Summary"} {
		body := readOut(t, out, name)
		before(t, name, body, "Back online since the last run", next)
		sec := body[strings.Index(body, "Back online since the last run")+1:]
		if i := strings.Index(sec, next); i >= 0 {
			sec = sec[:i]
		}
		if !strings.Contains(sec, "ms1m-reupload") || strings.Contains(sec, "2101.00001") {
			t.Errorf("%s: the back-online section does not list exactly the re-uploaded copy:\n%s", name, sec)
		}
		if !strings.Contains(sec, "gone since 2026-01-02") {
			t.Errorf("%s: the back-online section does not say since when it had gone:\n%s", name, sec)
		}
	}
	if body := readOut(t, out, "ms-celeb-1m.html"); strings.Contains(body, "gone 2026-01-02") {
		t.Error("ms-celeb-1m.html still lists the copy as gone")
	}
	atom := readOut(t, out, "feeds/ms-celeb-1m.atom")
	if n := strings.Count(atom, "<entry>"); n != 3 {
		t.Errorf("atom feed has %d entries, want 3 (two sightings and the reappearance)", n)
	}
	first := atom[strings.Index(atom, "<entry>"):]
	if !strings.Contains(first[:strings.Index(first, "</entry>")], "back online") {
		t.Errorf("the newest Atom entry is not the reappearance:\n%s", first)
	}

	// Webhooks: the run's reappearance is an event of its own.
	got := make(chan map[string]any, 4)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer ts.Close()
	n := &Notifier{Hooks: []Webhook{{URL: ts.URL}}}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go n.Run(wctx)
	if _, err := NotifyRun(wctx, s, registry(t), "run-3", n); err != nil {
		t.Fatal(err)
	}
	n.Close()
	n.Wait(wctx)
	close(got)
	var events []string
	for p := range got {
		events = append(events, p["event"].(string))
		if p["event"] == "reappeared" {
			b, _ := json.Marshal(p)
			if !strings.Contains(string(b), "ms1m-reupload") || strings.Contains(string(b), "2101.00001") {
				t.Errorf("reappeared payload: %s", b)
			}
		}
	}
	if strings.Join(events, ",") != "reappeared" {
		t.Errorf("webhook events %v, want exactly one reappeared (run-3 found nothing new)", events)
	}
}
