package reports

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func openTest(t testing.TB) *SQLiteStore {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "afterlife.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func model(id string) artifact.Artifact {
	return artifact.Artifact{ID: "hf:model:" + id, Source: artifact.SourceHuggingFace, Kind: artifact.KindModel,
		URL: "https://huggingface.co/" + id, Title: id}
}

func finding(a artifact.Artifact, ds string, rel extract.Relation) extract.Finding {
	return extract.Finding{ArtifactID: a.ID, Dataset: ds, Relation: rel, Confidence: 0.9,
		Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: ds}}}
}

func begin(t testing.TB, s *SQLiteStore, id string, at time.Time) {
	t.Helper()
	if err := s.BeginRun(context.Background(), Run{ID: id, Started: at}); err != nil {
		t.Fatal(err)
	}
}

func mustRecord(t testing.TB, s *SQLiteStore, run string, at time.Time, a artifact.Artifact, fs ...extract.Finding) RecordResult {
	t.Helper()
	r, err := s.Record(context.Background(), run, at, a, fs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStoreRecordIdempotentWithinRun(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	a := model("org/face")
	fs := []extract.Finding{finding(a, "ms-celeb-1m", extract.TrainedOn), finding(a, "ms-celeb-1m", extract.Mention)}
	if r := mustRecord(t, s, "r1", t0, a, fs...); r.NewSightings != 2 {
		t.Fatalf("first record: %+v, want 2 new", r)
	}
	if r := mustRecord(t, s, "r1", t0.Add(time.Minute), a, fs...); r.NewSightings != 0 || r.Reappeared != 0 {
		t.Fatalf("second record: %+v, want nothing new", r)
	}
	sg, err := s.Sightings(ctx, SightingQuery{Dataset: "ms-celeb-1m"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sg) != 2 {
		t.Fatalf("got %d sightings, want 2", len(sg))
	}
	if sg[0].Artifact.ID != a.ID || sg[0].Artifact.Title != "org/face" {
		t.Errorf("artifact not joined: %+v", sg[0].Artifact)
	}
	if !sg[0].FirstSeen.Equal(t0) || !sg[0].LastSeen.Equal(t0.Add(time.Minute)) || sg[0].FirstRun != "r1" {
		t.Errorf("times: first %v last %v run %s", sg[0].FirstSeen, sg[0].LastSeen, sg[0].FirstRun)
	}
	if len(sg[0].Evidence) != 1 || sg[0].Evidence[0].Rule != "alias" {
		t.Errorf("evidence lost: %+v", sg[0].Evidence)
	}
	run, err := s.FinishRun(ctx, "r1", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if run.New != 2 || run.Gone != 0 || !run.Complete {
		t.Errorf("run counts: %+v", run)
	}
	// Seen again in a later run: still one sighting each, last_run moves.
	begin(t, s, "r2", t0.Add(24*time.Hour))
	if r := mustRecord(t, s, "r2", t0.Add(24*time.Hour), a, fs...); r.NewSightings != 0 {
		t.Fatalf("r2 record: %+v", r)
	}
	sg, _ = s.Sightings(ctx, SightingQuery{})
	if len(sg) != 2 || sg[0].LastRun != "r2" || sg[0].FirstRun != "r1" {
		t.Fatalf("after r2: %+v", sg)
	}
	if run, _ := s.GetRun(ctx, "r2"); run.New != 0 {
		t.Errorf("r2 new = %d, want 0", run.New)
	}
}

func TestStoreRejectsBadInputAndKeepsData(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := model("org/x")
	if _, err := s.Record(ctx, "nope", t0, a, nil); err == nil {
		t.Fatal("record into unknown run: no error")
	}
	begin(t, s, "r1", t0)
	mustRecord(t, s, "r1", t0, a, finding(a, "books3", extract.Copy))
	bad := finding(a, "books3", "stolen")
	if _, err := s.Record(ctx, "r1", t0, model("org/y"), []extract.Finding{finding(model("org/y"), "laion-5b", extract.Copy), bad}); err == nil {
		t.Fatal("unknown relation accepted")
	}
	sg, err := s.Sightings(ctx, SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sg) != 1 || sg[0].Dataset != "books3" {
		t.Fatalf("bad record changed the store: %+v", sg)
	}
	if _, ok, _ := s.Artifact(ctx, "hf:model:org/y"); ok {
		t.Error("artifact of rejected record was stored")
	}
	if _, err := s.Record(ctx, "r1", t0, artifact.Artifact{}, nil); err == nil {
		t.Error("artifact without id accepted")
	}
	if err := s.AddSourceStat(ctx, "nope", SourceStat{Name: "github", Requests: 1}); err == nil {
		t.Error("stat for unknown run accepted")
	}
}

func TestStoreListingMarksGoneAfterConsecutiveMisses(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b := model("org/a"), model("org/b")
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	// Run 1: both listed.
	begin(t, s, "r1", day(0))
	mustRecord(t, s, "r1", day(0), a, finding(a, "laion-5b", extract.TrainedOn))
	mustRecord(t, s, "r1", day(0), b, finding(b, "laion-5b", extract.TrainedOn))
	if gone, err := s.RecordListing(ctx, "r1", "hf:search:laion", []string{a.ID, b.ID}, day(0), 2); err != nil || len(gone) != 0 {
		t.Fatalf("r1 listing: %v %v", gone, err)
	}
	// Run 2: b missing once: not gone yet (missAfter 2). Recording the listing twice counts once.
	begin(t, s, "r2", day(1))
	for i := 0; i < 2; i++ {
		if gone, err := s.RecordListing(ctx, "r2", "hf:search:laion", []string{a.ID}, day(1), 2); err != nil || len(gone) != 0 {
			t.Fatalf("r2 listing %d: %v %v", i, gone, err)
		}
	}
	// Run 3: b missing twice: gone, reported once.
	begin(t, s, "r3", day(2))
	gone, err := s.RecordListing(ctx, "r3", "hf:search:laion", []string{a.ID}, day(2), 2)
	if err != nil || len(gone) != 1 || gone[0] != b.ID {
		t.Fatalf("r3 listing: %v %v, want [%s]", gone, err, b.ID)
	}
	if gone, _ := s.RecordListing(ctx, "r3", "hf:search:laion", []string{a.ID}, day(2), 2); len(gone) != 0 {
		t.Fatalf("r3 listing again returned %v", gone)
	}
	yes := true
	sg, _ := s.Sightings(ctx, SightingQuery{Gone: &yes})
	if len(sg) != 1 || sg[0].Artifact.ID != b.ID || !sg[0].GoneSince.Equal(day(2)) {
		t.Fatalf("gone sightings: %+v", sg)
	}
	r3, _ := s.FinishRun(ctx, "r3", day(2))
	if r3.Gone != 1 {
		t.Errorf("r3 gone count = %d, want 1", r3.Gone)
	}
	// A gone sighting seen again reappears (and is not new).
	begin(t, s, "r4", day(3))
	res := mustRecord(t, s, "r4", day(3), b, finding(b, "laion-5b", extract.TrainedOn))
	if res.Reappeared != 1 || res.NewSightings != 0 {
		t.Fatalf("reappear: %+v", res)
	}
	no := false
	if sg, _ := s.Sightings(ctx, SightingQuery{Gone: &no}); len(sg) != 2 {
		t.Fatalf("live after reappear: %d, want 2", len(sg))
	}
	ev, err := s.Events(ctx, EventQuery{Dataset: "laion-5b"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range ev {
		kinds[e.Kind]++
	}
	if kinds[EventNew] != 2 || kinds[EventGone] != 1 || kinds[EventReappeared] != 1 {
		t.Errorf("events: %v", kinds)
	}
}

func TestStoreMarkGone(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := model("org/a")
	begin(t, s, "r1", t0)
	mustRecord(t, s, "r1", t0, a, finding(a, "books3", extract.Copy), finding(a, "books3", extract.Mention))
	for i := 0; i < 2; i++ { // twice: idempotent
		if err := s.MarkGone(ctx, "r1", []string{a.ID, "hf:model:never/seen"}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := s.GetRun(ctx, "r1")
	if r.Gone != 2 {
		t.Errorf("gone = %d, want 2", r.Gone)
	}
	sg, _ := s.Sightings(ctx, SightingQuery{})
	for _, x := range sg {
		if !x.Gone || !x.GoneSince.Equal(t0.Add(time.Hour)) {
			t.Errorf("not gone: %+v", x)
		}
	}
}

func TestStoreTaintOfSeesStoredModels(t *testing.T) {
	s := openTest(t)
	base := model("CompVis/stable-diffusion-v1-4")
	begin(t, s, "r1", t0)
	f := finding(base, "laion-5b", extract.TrainedOn)
	f.Chain = []string{"CompVis/stable-diffusion-v1-4", "laion-2b-en", "laion-5b"}
	mustRecord(t, s, "r1", t0, base, f, finding(base, "books3", extract.Mention))
	other := model("org/direct")
	mustRecord(t, s, "r1", t0, other, finding(other, "ms-celeb-1m", extract.TrainedOn))
	for _, ref := range []string{"CompVis/stable-diffusion-v1-4", "compvis/stable-diffusion-v1-4", "hf:model:CompVis/stable-diffusion-v1-4", "https://huggingface.co/CompVis/stable-diffusion-v1-4"} {
		ts := s.TaintOf(ref)
		if len(ts) != 1 || ts[0].Dataset != "laion-5b" || len(ts[0].Chain) != 3 || ts[0].Chain[1] != "laion-2b-en" {
			t.Errorf("TaintOf(%q) = %+v", ref, ts)
		}
	}
	ts := s.TaintOf("org/direct")
	if len(ts) != 1 || fmt.Sprint(ts[0].Chain) != "[org/direct ms-celeb-1m]" {
		t.Errorf("TaintOf(org/direct) = %+v", ts)
	}
	if ts := s.TaintOf("org/unknown"); len(ts) != 0 {
		t.Errorf("unknown model tainted: %+v", ts)
	}
	var _ extract.Lineage = s
}

func TestStoreConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	const workers, per = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*per*3)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				// Every worker records the same artifacts: overlapping writes must not double.
				a := model(fmt.Sprintf("org/m%03d", i))
				if _, err := s.Record(ctx, "r1", t0, a, []extract.Finding{finding(a, "laion-5b", extract.TrainedOn)}); err != nil {
					errs <- err
				}
				if err := s.AddSourceStat(ctx, "r1", SourceStat{Name: "huggingface", Requests: 1, Bytes: 10}); err != nil {
					errs <- err
				}
				if _, err := s.Sightings(ctx, SightingQuery{Limit: 5}); err != nil {
					errs <- err
				}
				_ = s.TaintOf(a.ID)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := s.FinishRun(ctx, "r1", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.New != per {
		t.Errorf("new = %d, want %d", r.New, per)
	}
	if len(r.Sources) != 1 || r.Sources[0].Requests != workers*per || r.Sources[0].Bytes != 10*workers*per {
		t.Errorf("stats: %+v", r.Sources)
	}
}

func TestStoreRunsAndSourceStats(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.OpenRun(ctx); ok || err != nil {
		t.Fatalf("open run on empty store: %v %v", ok, err)
	}
	if err := s.BeginRun(ctx, Run{ID: "r1", Started: t0, Mode: "embedded", Sources: []SourceStat{{Name: "github", Status: "ok"}}}); err != nil {
		t.Fatal(err)
	}
	s.AddSourceStat(ctx, "r1", SourceStat{Name: "github", Requests: 3, Bytes: 100, Artifacts: 2})
	s.AddSourceStat(ctx, "r1", SourceStat{Name: "github", Requests: 2, Errors: 1, Cached: 1, Status: "degraded", Message: "HTTP 503 from api.github.com"})
	s.AddSourceStat(ctx, "r1", SourceStat{Name: "arxiv", Status: "failed", Message: "no network"})
	open, ok, err := s.OpenRun(ctx)
	if err != nil || !ok || open.ID != "r1" || open.Complete {
		t.Fatalf("open run: %+v %v %v", open, ok, err)
	}
	gh := open.Sources[1]
	if open.Sources[0].Name != "arxiv" || gh.Requests != 5 || gh.Bytes != 100 || gh.Errors != 1 || gh.Cached != 1 ||
		gh.Artifacts != 2 || gh.Status != "degraded" || gh.Message != "HTTP 503 from api.github.com" {
		t.Fatalf("stats: %+v", open.Sources)
	}
	if _, err := s.FinishRun(ctx, "r1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	begin(t, s, "r2", t0.Add(time.Hour))
	runs, err := s.Runs(ctx, 0)
	if err != nil || len(runs) != 2 || runs[0].ID != "r2" || runs[1].ID != "r1" || !runs[1].Complete || runs[0].Complete {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	if _, err := s.FinishRun(ctx, "zz", t0); err == nil {
		t.Error("finish unknown run: no error")
	}
}

func TestStoreSightingFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	a := model("org/Face-Net")
	gh := artifact.Artifact{ID: "gh:repo:x/megaface-mirror", Source: artifact.SourceGitHub, Kind: artifact.KindRepository, URL: "https://github.com/x/megaface-mirror", Title: "MegaFace mirror"}
	mustRecord(t, s, "r1", t0, a, finding(a, "ms-celeb-1m", extract.TrainedOn))
	mustRecord(t, s, "r1", t0, gh, finding(gh, "megaface", extract.Copy))
	cases := []struct {
		q    SightingQuery
		want string
	}{
		{SightingQuery{Dataset: "megaface"}, gh.ID},
		{SightingQuery{Relation: extract.TrainedOn}, a.ID},
		{SightingQuery{Source: "github"}, gh.ID},
		{SightingQuery{Text: "face-NET"}, a.ID},
		{SightingQuery{Text: "MIRROR"}, gh.ID},
	}
	for _, c := range cases {
		sg, err := s.Sightings(ctx, c.q)
		if err != nil || len(sg) != 1 || sg[0].Artifact.ID != c.want {
			t.Errorf("%+v: %d sightings %v, want %s", c.q, len(sg), err, c.want)
		}
	}
}

func TestStoreSwarmProbes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ih := "9E67EB7CC23C9417F39778A8E06CCA5E26196A97"
	for i, seeders := range []int{5, 3} {
		if err := s.RecordProbe(ctx, SwarmProbe{InfoHash: ih, RunID: fmt.Sprint("r", i), Source: "udp://127.0.0.1:6969", At: t0.Add(time.Duration(i) * time.Hour), Seeders: seeders, Leechers: 1, Completed: 9, Peers: -1}); err != nil {
			t.Fatal(err)
		}
	}
	// Same run and source again replaces.
	s.RecordProbe(ctx, SwarmProbe{InfoHash: ih, RunID: "r1", Source: "udp://127.0.0.1:6969", At: t0.Add(time.Hour), Seeders: 0, Leechers: 0, Completed: 9, Peers: 0})
	ps, err := s.Probes(ctx, ih)
	if err != nil || len(ps) != 2 || ps[0].Seeders != 5 || ps[1].Seeders != 0 || ps[1].Alive() || !ps[0].Alive() {
		t.Fatalf("probes: %+v %v", ps, err)
	}
	if err := s.RecordProbe(ctx, SwarmProbe{InfoHash: "xyz", At: t0}); err == nil {
		t.Error("bad info-hash accepted")
	}
}

// TestStoreSurvivesKill9 records from a child process killed with SIGKILL mid-run, then resumes
// the run and records everything again: the store opens, the run resumes and no sighting doubles.
func TestStoreSurvivesKill9(t *testing.T) {
	if os.Getenv("AFTERLIFE_STORE_CHILD") != "" {
		childRecord(os.Getenv("AFTERLIFE_STORE_CHILD"))
		return
	}
	path := filepath.Join(t.TempDir(), "afterlife.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill9$")
	cmd.Env = append(os.Environ(), "AFTERLIFE_STORE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	n := 0
	for sc.Scan() {
		if k, err := strconv.Atoi(sc.Text()); err == nil && k >= 30 {
			n = k
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n < 30 {
		t.Fatalf("child recorded only %d before exiting", n)
	}
	ctx := context.Background()
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, ok, err := s.OpenRun(ctx)
	if err != nil || !ok || run.ID != "crash" {
		t.Fatalf("open run after kill: %+v %v %v", run, ok, err)
	}
	if run.New < 30 {
		t.Fatalf("run lost committed sightings: new=%d", run.New)
	}
	for i := 0; i < childTotal; i++ {
		a := model(fmt.Sprintf("org/k%04d", i))
		mustRecord(t, s, "crash", t0, a, finding(a, "laion-5b", extract.TrainedOn))
	}
	run, err = s.FinishRun(ctx, "crash", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sg, _ := s.Sightings(ctx, SightingQuery{})
	if run.New != childTotal || len(sg) != childTotal {
		t.Fatalf("after resume: new=%d sightings=%d, want %d", run.New, len(sg), childTotal)
	}
}

const childTotal = 400

func childRecord(path string) {
	s, err := OpenStore(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	s.BeginRun(ctx, Run{ID: "crash", Started: t0})
	for i := 0; i < childTotal; i++ {
		a := model(fmt.Sprintf("org/k%04d", i))
		if _, err := s.Record(ctx, "crash", t0, a, []extract.Finding{finding(a, "laion-5b", extract.TrainedOn)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(i + 1)
	}
	// Stay alive until killed so the parent always kills mid-run or after.
	select {}
}

// A scope's first listing recorded in parts within one run (and with an id twice) holds every
// id once; a member missing from the next two listings goes, the others stay.
func TestStoreFirstListingInPartsAndDuplicates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b, c := model("org/a"), model("org/b"), model("org/c")
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	begin(t, s, "r1", day(0))
	for _, m := range []artifact.Artifact{a, b, c} {
		mustRecord(t, s, "r1", day(0), m, finding(m, "laion-5b", extract.TrainedOn))
	}
	for _, ids := range [][]string{{a.ID, a.ID}, {b.ID, c.ID, b.ID}} {
		if gone, err := s.RecordListing(ctx, "r1", "hf:parts", ids, day(0), 2); err != nil || len(gone) != 0 {
			t.Fatalf("r1 listing %v: %v %v", ids, gone, err)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM listing_members WHERE scope='hf:parts'`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d members (%v), want 3", n, err)
	}
	for i, run := range []string{"r2", "r3"} {
		begin(t, s, run, day(i+1))
		gone, err := s.RecordListing(ctx, run, "hf:parts", []string{a.ID, c.ID}, day(i+1), 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[i == 1]; len(gone) != want || (want == 1 && gone[0] != b.ID) {
			t.Fatalf("%s: gone %v, want %d (b after its second miss)", run, gone, want)
		}
	}
}

// With a context marked DeferUntilSync, a scope's first listing is held back until Sync (or the
// next write, or Close) and nothing is lost: later listings of the scope see it and mark a
// member gone after two misses as usual.
func TestStoreDeferredFirstListingIsWrittenBySync(t *testing.T) {
	ctx := context.Background()
	dctx := DeferUntilSync(ctx)
	path := filepath.Join(t.TempDir(), StoreFile)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := model("org/a"), model("org/b")
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	count := func(q string) int {
		var n int
		if err := s.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	begin(t, s, "r1", day(0))
	mustRecord(t, s, "r1", day(0), a, finding(a, "laion-5b", extract.TrainedOn))
	mustRecord(t, s, "r1", day(0), b, finding(b, "laion-5b", extract.TrainedOn))
	if _, err := s.RecordListing(dctx, "nope", "hf:d", []string{a.ID}, day(0), 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deferred listing for an unknown run: %v, want ErrNotFound", err)
	}
	if gone, err := s.RecordListing(dctx, "r1", "hf:d", []string{a.ID, b.ID}, day(0), 2); err != nil || len(gone) != 0 {
		t.Fatalf("first listing: %v %v", gone, err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM listing_members WHERE scope='hf:d'`); n != 2 {
		t.Fatalf("%d members after Sync, want 2", n)
	}
	for i, run := range []string{"r2", "r3"} {
		begin(t, s, run, day(i+1))
		gone, err := s.RecordListing(dctx, run, "hf:d", []string{a.ID}, day(i+1), 2) // not a first listing: not deferred
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[i == 1]; len(gone) != want {
			t.Fatalf("%s: gone %v, want %d", run, gone, want)
		}
	}
	// A deferred listing left at Close is written.
	if _, err := s.RecordListing(dctx, "r3", "hf:other", []string{a.ID}, day(2), 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(`SELECT COUNT(*) FROM listings WHERE scope='hf:other'`); n != 1 {
		t.Fatalf("deferred listing lost at Close: %d rows", n)
	}
}
