package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

type fakeRuns struct{ runs []reports.Run } // newest first

func (f *fakeRuns) Runs(ctx context.Context, limit int) ([]reports.Run, error) { return f.runs, nil }

func (f *fakeRuns) add(id string, started time.Time, status string) {
	r := reports.Run{ID: id, Started: started, Finished: started.Add(time.Minute), Complete: true,
		Sources: []reports.SourceStat{{Name: "github", Status: status}}}
	f.runs = append([]reports.Run{r}, f.runs...)
}

// The listing plan: the first run lists everything; later runs filter since the last complete
// run's start (less the margin) except every FullEvery-th, or when the last full listing is too
// old; runs where the source failed do not count.
func TestIncrementalPlanFullEveryNth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := &monitor.Incremental{FullEvery: 3, FullAfter: 48 * time.Hour, Margin: 5 * time.Minute}
	store := &fakeRuns{}
	base := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	var kinds []string
	for i := 0; i < 7; i++ {
		plan, err := p.Plan(ctx, store, dir, []string{"github"})
		if err != nil {
			t.Fatal(err)
		}
		inc := plan.Sources["github"]
		switch {
		case inc.Since.IsZero():
			kinds = append(kinds, "first")
		case inc.Full:
			kinds = append(kinds, "full")
		default:
			kinds = append(kinds, "since")
			last := store.runs[0]
			if last.Sources[0].Status != monitor.StatusOK {
				last = store.runs[1] // the source failed in the last run: the run before counts
			}
			if want := last.Started.Add(-5 * time.Minute); !inc.Since.Equal(want) {
				t.Fatalf("run %d: since %s, want the last run's start less the margin %s", i+1, inc.Since, want)
			}
		}
		id := "r" + string(rune('1'+i))
		if err := plan.Record(dir, id); err != nil {
			t.Fatal(err)
		}
		status := monitor.StatusOK
		if i == 4 {
			status = monitor.StatusFailed // does not count as a run of the source
		}
		store.add(id, base.Add(time.Duration(i)*time.Hour), status)
	}
	want := "first since since full since since since"
	if got := join(kinds); got != want {
		t.Fatalf("plans %q, want %q", got, want)
	}

	// A full listing older than FullAfter forces one.
	old := &fakeRuns{}
	long := time.Now().Add(-72 * time.Hour)
	old.add("o1", long, monitor.StatusOK)
	dir2 := t.TempDir()
	if err := (monitor.IncrementalPlan{Sources: map[string]crawler.Incremental{"github": {}}}).Record(dir2, "o1"); err != nil {
		t.Fatal(err)
	}
	plan, _ := p.Plan(ctx, old, dir2, []string{"github"})
	if inc := plan.Sources["github"]; !inc.Full || inc.Since.IsZero() {
		t.Fatalf("last full listing 72h old: %+v, want a full listing", inc)
	}
	// A run of one dataset's own schedule is not the last run of a plan over more datasets.
	dir3 := t.TempDir()
	ds := &fakeRuns{}
	all := []string{"books3", "laion-5b"}
	ds.add("d1", base, monitor.StatusOK)
	if err := (monitor.IncrementalPlan{Sources: map[string]crawler.Incremental{"github": {}}, Datasets: all}).Record(dir3, "d1"); err != nil {
		t.Fatal(err)
	}
	ds.add("d2", base.Add(time.Hour), monitor.StatusOK)
	if err := (monitor.IncrementalPlan{Sources: map[string]crawler.Incremental{"github": {Since: base}}, Datasets: []string{"books3"}}).Record(dir3, "d2"); err != nil {
		t.Fatal(err)
	}
	plan, _ = p.PlanFor(ctx, ds, dir3, []string{"github"}, all)
	if inc := plan.Sources["github"]; inc.Full || !inc.Since.Equal(base.Add(-5*time.Minute)) {
		t.Fatalf("plan over %v after a books3-only run: %+v, want since the run over both", all, inc)
	}
	plan, _ = p.PlanFor(ctx, ds, dir3, []string{"github"}, []string{"books3"})
	if inc := plan.Sources["github"]; !inc.Since.Equal(base.Add(time.Hour - 5*time.Minute)) {
		t.Fatalf("plan over books3: %+v, want since the books3 run", inc)
	}

	// A damaged state file costs a full listing, not an error.
	if err := os.WriteFile(filepath.Join(dir2, monitor.IncrementalFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(ctx, old, dir2, []string{"github"})
	if err != nil || plan.Warning == "" || !plan.Sources["github"].Full {
		t.Fatalf("damaged state file: err %v, warning %q, plan %+v; want a warning and a full listing", err, plan.Warning, plan.Sources)
	}
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// recheckStore opens a store in a temporary directory (closed at the end of the test) with the
// given runs begun at the returned time.
func recheckStore(t *testing.T, runs ...string) (*reports.SQLiteStore, time.Time) {
	t.Helper()
	st, err := reports.OpenStore(filepath.Join(t.TempDir(), reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range runs {
		if err := st.BeginRun(context.Background(), reports.Run{ID: r, Started: t0}); err != nil {
			t.Fatal(err)
		}
	}
	return st, t0
}

// recordRepo records id, a GitHub repository, as a copy of ms-celeb-1m seen by run at at.
func recordRepo(t *testing.T, st *reports.SQLiteStore, run, id string, at time.Time) {
	t.Helper()
	a := artifact.Artifact{ID: id, Source: "github", Kind: artifact.KindRepository, URL: "https://github.com/" + id}
	f := extract.Finding{ArtifactID: id, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9}
	if _, err := st.Record(context.Background(), run, at, a, []extract.Finding{f}); err != nil {
		t.Fatal(err)
	}
}

// recheckSource re-checks any artifact by a job whose URL is its id.
type recheckSource struct{}

func (recheckSource) Name() string { return "github" }
func (recheckSource) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	return nil, nil
}
func (recheckSource) Handle(context.Context, crawler.Job, crawler.Fetcher) (crawler.Result, error) {
	return crawler.Result{}, nil
}
func (recheckSource) Recheck(id string) (crawler.Job, bool) {
	return crawler.Job{ID: "recheck|" + id, Source: "github", Kind: "detail", URL: "https://example.org/" + id}, true
}

// enqueueLog is a frontier that only remembers what was enqueued.
type enqueueLog struct {
	crawler.Frontier
	urls []string
}

func (e *enqueueLog) Enqueue(_ context.Context, jobs ...crawler.Job) (int, error) {
	for _, j := range jobs {
		e.urls = append(e.urls, strings.TrimPrefix(j.URL, "https://example.org/"))
	}
	return len(jobs), nil
}

// Issue 17, item 3: re-checks cover gone artifacts too (after the live ones, most recently gone
// first), so a taken-down copy that is back at its address reappears even when no listing shows
// it; the live ones keep the priority under MaxRechecks.
func TestRechecksIncludeGoneArtifactsAfterLiveOnes(t *testing.T) {
	ctx := context.Background()
	st, t0 := recheckStore(t, "r1")
	for i, id := range []string{"gh:repo:a/live-old", "gh:repo:a/live-new", "gh:repo:a/gone-early", "gh:repo:a/gone-late"} {
		recordRepo(t, st, "r1", id, t0.Add(time.Duration(i)*time.Minute))
	}
	if err := st.MarkGone(ctx, "r1", []string{"gh:repo:a/gone-early"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkGone(ctx, "r1", []string{"gh:repo:a/gone-late"}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	srcs := map[string]crawler.Source{"github": recheckSource{}}
	for _, c := range []struct {
		max  int
		want string
	}{
		{10, "gh:repo:a/live-old gh:repo:a/live-new gh:repo:a/gone-late gh:repo:a/gone-early"},
		{3, "gh:repo:a/live-old gh:repo:a/live-new gh:repo:a/gone-late"},
	} {
		fr := &enqueueLog{}
		p := &monitor.Incremental{MaxRechecks: c.max}
		if _, err := p.EnqueueRechecks(ctx, st, fr, srcs, "r2", nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(fr.urls, " "); got != c.want {
			t.Errorf("MaxRechecks %d: re-checked %q, want %q", c.max, got, c.want)
		}
	}
}

// Issue 16, cheap repeats: on a run that lists a source filtered (only what changed since the last
// run), every known artifact is missing from the listings; re-checking each would cost one
// request per known artifact. Only FilteredRechecks live ones are re-checked (least recently seen
// first, so the sample rotates), then the gone ones; a full-listing run re-checks every live one
// its listings did not show.
func TestFilteredRunRechecksABoundedSampleNotEveryKnownArtifact(t *testing.T) {
	ctx := context.Background()
	st, t0 := recheckStore(t, "r1")
	const known = 40
	var ids []string
	for i := 0; i < known; i++ {
		id := fmt.Sprintf("gh:repo:a/r%02d", i)
		ids = append(ids, id)
		recordRepo(t, st, "r1", id, t0.Add(time.Duration(i)*time.Minute))
	}
	if err := st.MarkGone(ctx, "r1", []string{ids[known-1]}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	srcs := map[string]crawler.Source{"github": recheckSource{}}
	p := &monitor.Incremental{MaxRechecks: 1000, FilteredRechecks: 5}
	filtered := map[string]crawler.Incremental{"github": {Since: t0}}
	fr := &enqueueLog{}
	if _, err := p.EnqueueRechecksFor(ctx, st, fr, srcs, filtered, "r2", nil); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(append(ids[:5:5], ids[known-1]), " ")
	if got := strings.Join(fr.urls, " "); got != want {
		t.Errorf("filtered run re-checked %d artifacts %q, want the 5 least recently seen live ones and the gone one %q", len(fr.urls), got, want)
	}
	full := map[string]crawler.Incremental{"github": {Since: t0, Full: true}}
	fr = &enqueueLog{}
	if _, err := p.EnqueueRechecksFor(ctx, st, fr, srcs, full, "r2", nil); err != nil {
		t.Fatal(err)
	}
	if len(fr.urls) != known {
		t.Errorf("full-listing run re-checked %d artifacts, want all %d its listings did not show", len(fr.urls), known)
	}
}

// Issue 16, scale 100 epoch 2: gone is marked after MissAfter complete listings, so on the first
// full listing after a change the re-checks of what the listings did not show are what report
// the gone ones. A fixed MaxRechecks cut them at 1,000 per source (GitHub had 1,585 gone, the Hub
// 1,138); on a full-listing run the bound grows with the source (FullRecheckShare of its known
// artifacts) and still bounds a source whose listing failed.
func TestFullListingRunRechecksScaleWithTheSourceNotAFixedCap(t *testing.T) {
	ctx := context.Background()
	st, t0 := recheckStore(t, "r1", "r2")
	const known, missing = 40, 8 // the bound lowered to 5: the missing ones are over it
	var gone []string
	for i := 0; i < known; i++ {
		id := fmt.Sprintf("gh:repo:a/r%02d", i)
		recordRepo(t, st, "r1", id, t0.Add(time.Duration(i)*time.Minute))
		if i < known-missing {
			recordRepo(t, st, "r2", id, t0.Add(time.Hour)) // r2's full listing shows it
		} else {
			gone = append(gone, id)
		}
	}
	srcs := map[string]crawler.Source{"github": recheckSource{}}
	full := map[string]crawler.Incremental{"github": {Since: t0, Full: true}}
	for _, c := range []struct {
		share float64
		want  int
	}{
		{0.25, missing},    // bound max(5, 0.25×40 = 10): every missing one
		{-1, 5},            // the fixed bound alone (before issue 16d): cut at 5
		{0.1, missing - 3}, // bound max(5, 4) = 5: still a bound
	} {
		p := &monitor.Incremental{MaxRechecks: 5, FilteredRechecks: 5, FullRecheckShare: c.share}
		fr := &enqueueLog{}
		if _, err := p.EnqueueRechecksFor(ctx, st, fr, srcs, full, "r2", nil); err != nil {
			t.Fatal(err)
		}
		if len(fr.urls) != c.want {
			t.Errorf("FullRecheckShare %v: re-checked %d of the %d artifacts the full listing did not show (%q), want %d", c.share, len(fr.urls), missing, fr.urls, c.want)
		}
		if c.want == missing && strings.Join(fr.urls, " ") != strings.Join(gone, " ") {
			t.Errorf("FullRecheckShare %v: re-checked %q, want %q", c.share, fr.urls, gone)
		}
	}
}

// Issue 16, next cut: after a full listing reported thousands gone, every following filtered run
// re-checked up to MaxRechecks gone artifacts per source (7,525 requests at scale 100, 12% of a
// first scan). A filtered run now re-checks a sample of FilteredGoneRechecks of them, drawn afresh
// each run (the same on a resumed run), so over runs every gone artifact is still re-checked.
func TestFilteredRunRechecksARotatingSampleOfGoneArtifacts(t *testing.T) {
	ctx := context.Background()
	st, t0 := recheckStore(t, "r1")
	const live, goneN, sample = 3, 30, 10
	var gone []string
	for i := 0; i < live+goneN; i++ {
		id := fmt.Sprintf("gh:repo:a/r%02d", i)
		recordRepo(t, st, "r1", id, t0.Add(time.Duration(i)*time.Minute))
		if i >= live {
			gone = append(gone, id)
		}
	}
	if err := st.MarkGone(ctx, "r1", gone, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srcs := map[string]crawler.Source{"github": recheckSource{}}
	filtered := map[string]crawler.Incremental{"github": {Since: t0}}
	p := &monitor.Incremental{MaxRechecks: 1000, FilteredRechecks: 100, FilteredGoneRechecks: sample}
	isGone := map[string]bool{}
	for _, id := range gone {
		isGone[id] = true
	}
	draw := func(runID string) []string {
		fr := &enqueueLog{}
		if _, err := p.EnqueueRechecksFor(ctx, st, fr, srcs, filtered, runID, nil); err != nil {
			t.Fatal(err)
		}
		var g []string
		for _, u := range fr.urls {
			if isGone[u] {
				g = append(g, u)
			}
		}
		if len(fr.urls)-len(g) != live {
			t.Fatalf("run %s re-checked %d live artifacts, want all %d (under FilteredRechecks)", runID, len(fr.urls)-len(g), live)
		}
		return g
	}
	first := draw("r2")
	if len(first) != sample {
		t.Fatalf("filtered run re-checked %d of %d gone artifacts, want a sample of %d: %q", len(first), goneN, sample, first)
	}
	if again := draw("r2"); strings.Join(again, " ") != strings.Join(first, " ") {
		t.Errorf("a resumed run drew another sample: %q, then %q", first, again)
	}
	covered := map[string]bool{}
	differs := false
	for i := 2; i < 42; i++ {
		s := draw(fmt.Sprintf("r%d", i))
		if strings.Join(s, " ") != strings.Join(first, " ") {
			differs = true
		}
		for _, id := range s {
			covered[id] = true
		}
	}
	if !differs {
		t.Errorf("40 runs drew the same sample %q: the sample does not rotate", first)
	}
	if len(covered) != goneN {
		t.Errorf("40 filtered runs re-checked %d of the %d gone artifacts, want every one", len(covered), goneN)
	}
	// A full-listing run still re-checks every gone one its listings did not show.
	fr := &enqueueLog{}
	full := map[string]crawler.Incremental{"github": {Since: t0, Full: true}}
	if _, err := p.EnqueueRechecksFor(ctx, st, fr, srcs, full, "r50", nil); err != nil {
		t.Fatal(err)
	}
	if len(fr.urls) != live+goneN {
		t.Errorf("full-listing run re-checked %d, want all %d", len(fr.urls), live+goneN)
	}
}
