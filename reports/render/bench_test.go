package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// benchStores caches the big stores across benchmark invocations (b.N rounds).
var benchStores sync.Map

var benchDatasets = []string{"ms-celeb-1m", "megaface", "tiny-images", "dukemtmc", "imagenet-21k-fall11", "laion-5b",
	"laion-400m", "books3", "vggface2", "brainwash", "oxford-town-centre", "hrt-transgender", "uccs"}

// benchObservations makes n artifacts with one finding each, spread over datasets, relations,
// sources and hosts, with ~600 bytes of text each.
func benchObservations(n, offset int) []reports.Observation {
	return benchObservationsIn(n, offset, nil)
}

// oneDataset puts every sighting in laion-5b (the --scale 100 shape: one base model's tens of
// thousands of fine-tunes), 7 of 8 of them trained-on, the rest copies.
var oneDataset = []string{"laion-5b"}

func benchObservationsIn(n, offset int, only []string) []reports.Observation {
	rels := []extract.Relation{extract.Copy, extract.Derivative, extract.TrainedOn, extract.TrainedOn, extract.Uses, extract.Uses, extract.Studies, extract.Mention}
	kinds := []string{artifact.KindDataset, artifact.KindDataset, artifact.KindModel, artifact.KindModel, artifact.KindPaper, artifact.KindPaper, artifact.KindPaper, artifact.KindRepository}
	text := strings.Repeat("A model card that mentions a retracted dataset among other words. ", 9)
	out := make([]reports.Observation, n)
	for i := range out {
		k := i + offset
		r := k % len(rels)
		ds := benchDatasets[(k/len(rels))%len(benchDatasets)]
		if only != nil {
			ds = only[k%len(only)]
			if r != 0 {
				r = 2 // trained-on
			}
		}
		a := artifact.Artifact{ID: fmt.Sprintf("bench:%s:%07d", kinds[r], k), Source: artifact.SourceHuggingFace, Kind: kinds[r],
			URL: fmt.Sprintf("https://host%02d.example.org/x/%07d", k%40, k), Title: fmt.Sprintf("Artifact %d <b>%s</b>", k, ds),
			Text: text, Published: fmt.Sprintf("%d-01-01", 2015+k%10)}
		out[i] = reports.Observation{Artifact: a, Findings: []extract.Finding{{ArtifactID: a.ID, Dataset: ds, Relation: rels[r], Confidence: 0.5 + float64(k%50)/100,
			Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: "… mentions " + ds + " …", Start: 10, End: 20}}}}}
	}
	return out
}

// benchStore builds (once) a store with n sightings over three runs; 5% go in the last run.
func benchStore(b *testing.B, n int) *reports.SQLiteStore { return benchStoreIn(b, n, nil) }

func benchStoreIn(b *testing.B, n int, only []string) *reports.SQLiteStore {
	b.Helper()
	key := fmt.Sprint(n, only)
	if v, ok := benchStores.Load(key); ok {
		return v.(*reports.SQLiteStore)
	}
	st, err := reports.OpenTempStore() // removed by Close (TestMain)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	obs := benchObservationsIn(n, 0, only)
	per := n / 3
	for r := 0; r < 3; r++ {
		id := fmt.Sprintf("bench-run-%d", r+1)
		at := t0.Add(time.Duration(r) * 24 * time.Hour)
		if err := st.BeginRun(ctx, reports.Run{ID: id, Started: at}); err != nil {
			b.Fatal(err)
		}
		lo, hi := r*per, (r+1)*per
		if r == 2 {
			hi = n
		}
		for i := lo; i < hi; i += 1000 {
			j := min(i+1000, hi)
			if _, err := st.RecordBatch(ctx, id, at, obs[i:j]); err != nil {
				b.Fatal(err)
			}
		}
		if r == 2 {
			var gone []string
			for i := 0; i < n; i += 20 {
				gone = append(gone, obs[i].Artifact.ID)
			}
			if err := st.MarkGone(ctx, id, gone, at.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.FinishRun(ctx, id, at.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built a store of %d sightings in %.1fs", n, time.Since(start).Seconds())
	benchStores.Store(key, st)
	return st
}

func TestMain(m *testing.M) {
	code := m.Run()
	benchStores.Range(func(_, v any) bool { v.(*reports.SQLiteStore).Close(); return true })
	os.Exit(code)
}

// BenchmarkRender100k renders every output (JSON, Markdown, HTML, CSV, GraphML, DOT, Atom) from
// a store of 100,000 sightings, and reports seconds per render and the split between reading
// the store (Build) and writing the files.
func BenchmarkRender100k(b *testing.B) { benchRender(b, nil) }

// BenchmarkRender100kOneDataset is the same with all 100,000 sightings in one dataset: 87,500
// models trained on it make one relation of 438 pages.
func BenchmarkRender100kOneDataset(b *testing.B) { benchRender(b, oneDataset) }

func benchRender(b *testing.B, only []string) {
	st := benchStoreIn(b, 100_000, only)
	reg := registry(b)
	ctx := context.Background()
	out := b.TempDir()
	var build, write time.Duration
	var bytesOut int64
	runtime.GC()
	peak := startHeapPeak()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		rep, err := Build(ctx, st, reg, "", Options{})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		files, err := WriteAll(ctx, rep, reg, out)
		if err != nil {
			b.Fatal(err)
		}
		build += t2.Sub(t1)
		write += time.Since(t2)
		if i == 0 {
			var html int
			var largest int64
			var largestName string
			for _, f := range files {
				if fi, err := os.Stat(f); err == nil {
					bytesOut += fi.Size()
					if strings.HasSuffix(f, ".html") {
						html++
						if fi.Size() > largest {
							largest, largestName = fi.Size(), f
						}
					}
				}
			}
			fmt.Printf("%d files (%d HTML pages, the largest %s of %.1f MB), %.1f MB in all\n", len(files), html,
				filepath.Base(largestName), float64(largest)/1e6, float64(bytesOut)/1e6)
		}
	}
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	live, alloc := peak()
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(alloc)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(cpu, "cpu-s/render")
	b.ReportMetric((build+write).Seconds()/float64(b.N), "s/render")
	b.ReportMetric(build.Seconds()/float64(b.N), "s/build")
	b.ReportMetric(write.Seconds()/float64(b.N), "s/write")
	fmt.Printf("render of 100,000 sightings: %.2f s wall (build %.2f s, write %.2f s), %.2f s CPU, %.1f MB of output\n",
		(build+write).Seconds()/float64(b.N), build.Seconds()/float64(b.N), write.Seconds()/float64(b.N), cpu, float64(bytesOut)/1e6)
}

// BenchmarkRecord compares recording one artifact per transaction with batches of 100.
func BenchmarkRecord(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st, err := reports.OpenStore(filepath.Join(b.TempDir(), reports.StoreFile))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			st.BeginRun(ctx, reports.Run{ID: "r", Started: t0})
			obs := benchObservations(b.N, 0)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if _, err := st.RecordBatch(ctx, "r", t0, obs[i:min(i+batch, b.N)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "artifacts/s")
		})
	}
}

// startHeapPeak samples the heap every 5 ms until the returned function is called, which returns
// the largest live heap the collector marked (/gc/heap/live:bytes, what stays after a GC) and
// the largest heap in use (live and garbage not yet collected), in bytes.
func startHeapPeak() func() (live, alloc uint64) {
	done := make(chan struct{})
	res := make(chan [2]uint64, 1)
	go func() {
		samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		var maxLive, maxAlloc uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			maxLive = max(maxLive, samples[0].Value.Uint64())
			maxAlloc = max(maxAlloc, samples[1].Value.Uint64())
			select {
			case <-done:
				res <- [2]uint64{maxLive, maxAlloc}
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) { close(done); r := <-res; return r[0], r[1] }
}

// cpuTime is the process's user+system CPU time (the machine may be shared: wall time alone
// says little).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
