package monitor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
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
