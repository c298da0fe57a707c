package render

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/reports"
)

// updateGolden rewrites testdata/golden/*.sha256 from the current renderer:
//
//	go test ./reports/render -run TestRenderMatchesGolden -update-golden
//
// The files in testdata/golden were written by the renderer of main at eab68e4, before rendering
// streamed the store (issue 16, memory): the streamed renderer must give the same bytes.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from the current renderer")

// goldenBenchStore is a smaller benchStore: n sightings over 13 datasets (or one), three runs,
// every 20th artifact gone in the last.
func goldenBenchStore(t *testing.T, n int, only []string) *reports.SQLiteStore {
	t.Helper()
	st := openTest(t)
	ctx := context.Background()
	obs := benchObservationsIn(n, 0, only)
	per := n / 3
	for r := 0; r < 3; r++ {
		id := fmt.Sprintf("bench-run-%d", r+1)
		at := t0.Add(time.Duration(r) * 24 * time.Hour)
		if err := st.BeginRun(ctx, reports.Run{ID: id, Started: at}); err != nil {
			t.Fatal(err)
		}
		lo, hi := r*per, (r+1)*per
		if r == 2 {
			hi = n
		}
		if _, err := st.RecordBatch(ctx, id, at, obs[lo:hi]); err != nil {
			t.Fatal(err)
		}
		if r == 2 {
			var gone []string
			for i := 0; i < n; i += 20 {
				gone = append(gone, obs[i].Artifact.ID)
			}
			if err := st.MarkGone(ctx, id, gone, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.FinishRun(ctx, id, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestRenderMatchesGolden renders stores of every shape the tests know (hostile strings, a
// reappearance, a relation of many pages, 13 datasets, an older run) and compares every file's
// bytes with what the renderer gave before it streamed the store.
func TestRenderMatchesGolden(t *testing.T) {
	cases := []struct {
		name string
		st   func(t *testing.T) reports.Store
		run  string
	}{
		{"fixture", func(t *testing.T) reports.Store { return fixtureStore(t) }, ""},
		{"fixture-run-1", func(t *testing.T) reports.Store { return fixtureStore(t) }, "run-1"},
		{"reappeared", func(t *testing.T) reports.Store { return reappearedStore(t) }, ""},
		{"large", func(t *testing.T) reports.Store { st, _ := largeStore(t, 1200); return st }, ""},
		{"bench", func(t *testing.T) reports.Store { return goldenBenchStore(t, 4000, nil) }, ""},
		{"bench-run-2", func(t *testing.T) reports.Store { return goldenBenchStore(t, 4000, nil) }, "bench-run-2"},
		{"bench-one", func(t *testing.T) reports.Store { return goldenBenchStore(t, 3000, oneDataset) }, ""},
	}
	reg := registry(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			files, err := Write(context.Background(), c.st(t), reg, c.run, out)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				rel, _ := filepath.Rel(out, f)
				got[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(b))
			}
			path := filepath.Join("testdata", "golden", c.name+".sha256")
			if *updateGolden {
				var names []string
				for n := range got {
					names = append(names, n)
				}
				sort.Strings(names)
				var sb strings.Builder
				for _, n := range names {
					fmt.Fprintf(&sb, "%s  %s\n", got[n], n)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want := map[string]string{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				sum, name, ok := strings.Cut(sc.Text(), "  ")
				if ok {
					want[name] = sum
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: no golden sums", path)
			}
			for name, sum := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s: not written", name)
				} else if g != sum {
					t.Errorf("%s: bytes differ from the golden render (sha256 %s, want %s); keep the old file with -update-golden on the old code and diff", name, g, sum)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s: written, not in the golden render", name)
				}
			}
		})
	}
}

// loadAllStore is a store that reads every sighting at once (reports.Store.Sightings): it hides
// the streaming, counting and text-reading methods of the SQLite store and keeps the rest.
type loadAllStore struct {
	reports.Store
	reports.FailureLister
	reports.SwarmStore
	reports.EventLister
}

// TestStreamedRenderMatchesLoadAll renders the same stores streamed (SQLiteStore) and loaded
// at once (loadAllStore: the views keep their excerpts) and compares every file.
func TestStreamedRenderMatchesLoadAll(t *testing.T) {
	reg := registry(t)
	stores := map[string]*reports.SQLiteStore{"fixture": fixtureStore(t), "reappeared": reappearedStore(t),
		"bench": goldenBenchStore(t, 2000, nil)}
	for name, st := range stores {
		var all reports.Store = loadAllStore{st, st, st, st}
		if _, ok := all.(reports.SightingStreamer); ok {
			t.Fatal("loadAllStore streams")
		}
		for _, run := range []string{"", "run-1", "bench-run-2"} {
			if _, err := Build(context.Background(), st, reg, run, Options{}); err != nil {
				continue // not a run of this store
			}
			a, b := t.TempDir(), t.TempDir()
			fa, err := Write(context.Background(), st, reg, run, a)
			if err != nil {
				t.Fatal(err)
			}
			fb, err := Write(context.Background(), all, reg, run, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(fa) != len(fb) {
				t.Fatalf("%s %q: %d files streamed, %d loaded at once", name, run, len(fa), len(fb))
			}
			for i := range fa {
				x, _ := os.ReadFile(fa[i])
				y, _ := os.ReadFile(fb[i])
				if !bytes.Equal(x, y) {
					t.Errorf("%s %q: %s differs between the streamed and the loaded render", name, run, filepath.Base(fa[i]))
				}
			}
		}
	}
}
