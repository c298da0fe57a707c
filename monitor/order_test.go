package monitor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// The result of a run must not depend on the order its jobs run in. These tests scan the demo
// world's paper sources (Semantic Scholar and OpenAlex: the adapters whose output depends on the
// dataset a job was planned for, through the cites-dataset tags of citation listings) with the
// job order forced both ways — datasets planned in opposite orders, one worker (strict FIFO) and
// several — and compare the sets of (artifact, dataset, relation).

// orderRun is one run of the paper sources over datasets (planned in that order) with n workers.
func orderRun(t *testing.T, srv *demoworld.Server, reg *configs.Registry, datasets []string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fr, err := frontier.Open(filepath.Join(dir, monitor.FrontierFile), frontier.Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	wc := srv.WatchConfig()
	for name, sc := range wc.Sources {
		sc.Enabled = name == "semanticscholar" || name == "openalex"
		wc.Sources[name] = sc
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fetcher, err := crawler.NewFetcher(wc, crawler.FetcherOptions{Logger: log, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sources := monitor.BuildSources(wc, func(string) string { return "" })
	if len(sources.Active) != 2 {
		t.Fatalf("sources: %v (failed %v)", sources.Names(), sources.Failed)
	}
	var ds []*configs.Dataset
	for _, id := range datasets {
		d, ok := reg.Get(id)
		if !ok {
			t.Fatalf("no dataset %q in the registry", id)
		}
		ds = append(ds, d)
	}
	co := &monitor.Coordinator{Store: st, Frontier: fr, Sources: sources, Datasets: ds, Mode: "embedded", Log: log}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = monitor.Pool(ctx, runID, n, monitor.Worker{Name: "w", Frontier: fr, Fetcher: fetcher, Sources: sources.Active,
		Matcher: extract.New(reg, extract.WithLineage(st)), Recorder: st, Log: log, ExitWhenDrained: true,
		RetryBase: 10 * time.Millisecond, RetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := co.Finish(ctx, runID); err != nil {
		t.Fatal(err)
	}
	ss, err := st.Sightings(ctx, reports.SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	set := make([]string, 0, len(ss))
	for _, s := range ss {
		set = append(set, fmt.Sprintf("%s × %s %s", s.Artifact.ID, s.Dataset, s.Relation))
	}
	sort.Strings(set)
	return set
}

// diffSets names what is in a and not in b, and the other way round.
func diffSets(a, b []string) string {
	in := func(x []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range x {
			m[s] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, s := range a {
		if !mb[s] {
			out = append(out, "only first:  "+s)
		}
	}
	for _, s := range b {
		if !ma[s] {
			out = append(out, "only second: "+s)
		}
	}
	return strings.Join(out, "\n")
}

func orderWorld(t *testing.T) *demoworld.Server {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// Two watched datasets that list the same paper (here: megaface also lists MS-Celeb-1M's paper).
// The citations of that paper are one URL, but what they record depends on the dataset the job
// was planned for (each citing paper is tagged cites-dataset:<id>, which the matcher reads as a
// mention of that dataset). With job ids that left the dataset out, the frontier kept whichever
// job was enqueued first: planned in one order, openalex:W9912004417 × megaface mention appeared
// and s2:CorpusId:950317288 × ms-celeb-1m mention vanished; in the other order, the reverse.
func TestScanSharedPaperIsOrderIndependent(t *testing.T) {
	srv := orderWorld(t)
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	celeb, _ := reg.Get("ms-celeb-1m")
	mega, _ := reg.Get("megaface")
	if celeb == nil || mega == nil || len(celeb.Papers) == 0 {
		t.Fatal("the registry lost ms-celeb-1m or megaface")
	}
	mega.Papers = append(mega.Papers, celeb.Papers[0])

	forward := orderRun(t, srv, reg, []string{"ms-celeb-1m", "megaface"}, 1)
	backward := orderRun(t, srv, reg, []string{"megaface", "ms-celeb-1m"}, 1)
	if d := diffSets(forward, backward); d != "" {
		t.Fatalf("planning the datasets in the opposite order changed the sightings:\n%s", d)
	}
	// Both datasets' citation listings ran: a paper citing the shared paper is a mention of both.
	for _, want := range []string{
		"openalex:W9912004417 × megaface mention", "openalex:W9912004417 × ms-celeb-1m uses",
		"s2:CorpusId:950317288 × megaface mention", "s2:CorpusId:950317288 × ms-celeb-1m mention",
	} {
		if !slices.Contains(forward, want) {
			t.Errorf("missing sighting %q in:\n%s", want, strings.Join(forward, "\n"))
		}
	}
	parallel := orderRun(t, srv, reg, []string{"megaface", "ms-celeb-1m"}, 6)
	if d := diffSets(forward, parallel); d != "" {
		t.Fatalf("6 workers instead of 1 changed the sightings:\n%s", d)
	}
}

// The unmodified demo world: one worker (FIFO) and several, datasets in both orders, give the
// same sightings, several times over.
func TestScanPaperSourcesSameSightingsAnyOrder(t *testing.T) {
	srv := orderWorld(t)
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"ms-celeb-1m", "megaface", "dukemtmc", "books3"}
	want := orderRun(t, srv, reg, ids, 1)
	if len(want) < 8 || !slices.Contains(want, "s2:CorpusId:950317288 × ms-celeb-1m mention") || slices.Contains(want, "openalex:W9912004417 × megaface mention") {
		t.Fatalf("first run: %d sightings:\n%s", len(want), strings.Join(want, "\n"))
	}
	rev := append([]string(nil), ids...)
	sort.Sort(sort.Reverse(sort.StringSlice(rev)))
	for i, n := range []int{8, 3, 8} {
		order := ids
		if i%2 == 0 {
			order = rev
		}
		got := orderRun(t, srv, reg, order, n)
		if d := diffSets(want, got); d != "" {
			t.Fatalf("run %d (%d workers, datasets %v) differs from the 1-worker run:\n%s", i+2, n, order, d)
		}
	}
}
