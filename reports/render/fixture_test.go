package render

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Hostile strings planted in the fixture: every output must show them as text.
const (
	evilTitle = `Face model <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	evilText  = `=HYPERLINK("http://evil.example/","click") | ** [x](javascript:alert(1)) ]]> "quote" & <b> <script>window.__pwned=3</script>`
	evilURL   = `javascript:alert(document.domain)`
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// openTest opens an empty store under the test's temporary directory.
func openTest(t testing.TB) *reports.SQLiteStore {
	t.Helper()
	s, err := reports.OpenStore(filepath.Join(t.TempDir(), reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func registry(t testing.TB) *configs.Registry {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// fixtureStore holds two runs: r1 finds four artifacts, r2 finds one more and loses one.
func fixtureStore(t testing.TB) *reports.SQLiteStore {
	t.Helper()
	ctx := context.Background()
	s := openTest(t)
	d1, d2 := t0, t0.Add(24*time.Hour)
	if err := s.BeginRun(ctx, reports.Run{ID: "run-1", Started: d1, Mode: "embedded"}); err != nil {
		t.Fatal(err)
	}
	s.AddSourceStat(ctx, "run-1", reports.SourceStat{Name: "huggingface", Requests: 12, Bytes: 34567, Status: "ok", Artifacts: 4})
	evil := artifact.Artifact{ID: "hf:model:evil/face<script>", Source: artifact.SourceHuggingFace, Kind: artifact.KindModel,
		URL: evilURL, Title: evilTitle, Text: evilText, Published: "2020-02-01"}
	mirror := artifact.Artifact{ID: "gh:repo:someone/ms1m-mirror", Source: artifact.SourceGitHub, Kind: artifact.KindRepository,
		URL: "https://github.com/someone/ms1m-mirror", Title: "=cmd|' /C calc'!A0 MS1M mirror", Published: "2021-03-04"}
	paper := artifact.Artifact{ID: "arxiv:2101.00001", Source: artifact.SourceArXiv, Kind: artifact.KindPaper,
		URL: "https://arxiv.org/abs/2101.00001", Title: "Face recognition on MS-Celeb-1M", Published: "2021-01-01"}
	old := artifact.Artifact{ID: "arxiv:1801.00001", Source: artifact.SourceArXiv, Kind: artifact.KindPaper,
		URL: "https://arxiv.org/abs/1801.00001", Title: "Older paper", Published: "2018-01-01"}
	books := artifact.Artifact{ID: "web:page:books3-dl", Source: artifact.SourceWeb, Kind: artifact.KindPage,
		URL: "https://files.example.org/books3.tar.gz", Title: "books3.tar.gz"}
	ev := func(snip string) []extract.Evidence {
		return []extract.Evidence{{Field: "text", Rule: "alias", Snippet: snip, Detail: evilText}}
	}
	rec := func(run string, at time.Time, a artifact.Artifact, fs ...extract.Finding) {
		if _, err := s.Record(ctx, run, at, a, fs); err != nil {
			t.Fatal(err)
		}
	}
	rec("run-1", d1, evil, extract.Finding{ArtifactID: evil.ID, Dataset: "ms-celeb-1m", Relation: extract.TrainedOn, Confidence: 0.8,
		Evidence: ev(evilTitle), Via: "ms1mv2", Chain: []string{"evil/face<script>", "ms1mv2", "ms-celeb-1m"}})
	rec("run-1", d1, mirror, extract.Finding{ArtifactID: mirror.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.95, Evidence: ev("MS1M")})
	rec("run-1", d1, paper, extract.Finding{ArtifactID: paper.ID, Dataset: "ms-celeb-1m", Relation: extract.Uses, Confidence: 0.7, Evidence: ev("MS-Celeb-1M")})
	rec("run-1", d1, old, extract.Finding{ArtifactID: old.ID, Dataset: "ms-celeb-1m", Relation: extract.Uses, Confidence: 0.7, Evidence: ev("MS-Celeb-1M")})
	rec("run-1", d1, books, extract.Finding{ArtifactID: books.ID, Dataset: "books3", Relation: extract.Copy, Confidence: 0.9,
		Evidence: []extract.Evidence{{Field: "files[0].path", Rule: "file-name", Snippet: "books3.tar.gz"}}})
	if _, err := s.FinishRun(ctx, "run-1", d1.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginRun(ctx, reports.Run{ID: "run-2", Started: d2, Mode: "embedded"}); err != nil {
		t.Fatal(err)
	}
	s.AddSourceStat(ctx, "run-2", reports.SourceStat{Name: "huggingface", Requests: 10, Bytes: 30000, Status: "ok", Artifacts: 2})
	s.AddSourceStat(ctx, "run-2", reports.SourceStat{Name: "github", Requests: 3, Errors: 3, Status: "failed", Message: "HTTP 503 <b>Service Unavailable</b>"})
	rec("run-2", d2, evil, extract.Finding{ArtifactID: evil.ID, Dataset: "ms-celeb-1m", Relation: extract.TrainedOn, Confidence: 0.8,
		Evidence: ev(evilTitle), Via: "ms1mv2", Chain: []string{"evil/face<script>", "ms1mv2", "ms-celeb-1m"}})
	ft := model("someone/face-finetune")
	rec("run-2", d2.Add(time.Minute), ft, extract.Finding{ArtifactID: ft.ID, Dataset: "ms-celeb-1m", Relation: extract.TrainedOn, Confidence: 0.6,
		Evidence: []extract.Evidence{{Field: "base_models[0]", Rule: "lineage", Snippet: "evil/face<script>"}},
		Chain:    []string{"someone/face-finetune", "evil/face<script>", "ms1mv2", "ms-celeb-1m"}})
	unk := artifact.Artifact{ID: "zenodo:record:1", Source: artifact.SourceZenodo, Kind: artifact.KindRecord, URL: "https://zenodo.org/records/1", Title: "Mystery"}
	rec("run-2", d2, unk, extract.Finding{ArtifactID: unk.ID, Dataset: "not-in-registry", Relation: extract.Mention, Confidence: 0.3, Evidence: ev("x")})
	if err := s.MarkGone(ctx, "run-2", []string{mirror.ID}, d2.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ih := "9e67eb7cc23c9417f39778a8e06cca5e26196a97"
	tor := artifact.Artifact{ID: "at:torrent:" + ih, Source: artifact.SourceAcademicTorrents, Kind: artifact.KindTorrent,
		URL: "https://academictorrents.com/details/" + ih, Title: "MS-Celeb-1M torrent", InfoHash: ih}
	rec("run-2", d2, tor, extract.Finding{ArtifactID: tor.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 1,
		Evidence: []extract.Evidence{{Field: "infohash", Rule: "infohash"}}})
	s.RecordProbe(ctx, reports.SwarmProbe{InfoHash: ih, RunID: "run-1", Source: "udp://tracker", At: d1, Seeders: 2, Leechers: 1, Completed: 40, Peers: 3})
	s.RecordProbe(ctx, reports.SwarmProbe{InfoHash: ih, RunID: "run-2", Source: "udp://tracker", At: d2, Seeders: 4, Leechers: 0, Completed: 44, Peers: 4})
	if err := s.RecordFailure(ctx, "run-2", reports.JobFailure{Source: "github", Kind: "search", URL: "https://api.github.com/search?q=<script>window.__pwned=4</script>",
		Error: "HTTP 503 <img src=x onerror=\"window.__pwned=5\">", Final: true, At: d2.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, "run-2", d2.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return s
}

func model(id string) artifact.Artifact {
	return artifact.Artifact{ID: "hf:model:" + id, Source: artifact.SourceHuggingFace, Kind: artifact.KindModel,
		URL: "https://huggingface.co/" + id, Title: id}
}

func begin(t testing.TB, s *reports.SQLiteStore, id string, at time.Time) {
	t.Helper()
	if err := s.BeginRun(context.Background(), reports.Run{ID: id, Started: at}); err != nil {
		t.Fatal(err)
	}
}

func mustRecord(t testing.TB, s *reports.SQLiteStore, run string, at time.Time, a artifact.Artifact, fs ...extract.Finding) {
	t.Helper()
	if _, err := s.Record(context.Background(), run, at, a, fs); err != nil {
		t.Fatal(err)
	}
}
