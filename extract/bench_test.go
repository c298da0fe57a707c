package extract

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

func loadBench(b *testing.B, file string, limit int) []artifact.Artifact {
	b.Helper()
	f, err := os.Open(file)
	if err != nil {
		b.Skipf("no corpus: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, artifact.MaxLine)
	var out []artifact.Artifact
	for sc.Scan() && len(out) < limit {
		var a artifact.Artifact
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			b.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func benchMatch(b *testing.B, arts []artifact.Artifact) {
	m := testMatcher(b)
	var n int64
	for i := range arts {
		n += int64(len(arts[i].Text) + len(arts[i].Title))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range arts {
			m.Match(&arts[j])
		}
	}
}

// BenchmarkMatchDev: the labelled dev artifacts (every one names a dataset or a look-alike).
func BenchmarkMatchDev(b *testing.B) { benchMatch(b, loadBench(b, "testdata/dev.jsonl", 1000)) }

// BenchmarkMatchCorpus: generated artifacts (bench/matcher/gen), mostly clean prose. Set
// AFTERLIFE_BENCH_CORPUS to a generated JSONL file; default: a small one generated here.
func BenchmarkMatchCorpus(b *testing.B) {
	file := os.Getenv("AFTERLIFE_BENCH_CORPUS")
	if file == "" {
		file = "testdata/bench_corpus.jsonl"
	}
	benchMatch(b, loadBench(b, file, 2000))
}

// BenchmarkMatchParallel: Match from all cores at once (it is safe for concurrent use).
func BenchmarkMatchParallel(b *testing.B) {
	arts := loadBench(b, "testdata/dev.jsonl", 1000)
	m := testMatcher(b)
	var n int64
	for i := range arts {
		n += int64(len(arts[i].Text) + len(arts[i].Title))
	}
	b.SetBytes(n)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for j := range arts {
				m.Match(&arts[j])
			}
		}
	})
}

// BenchmarkScanLine: the raw-line prefilter alone over the corpus lines (AFTERLIFE_BENCH_CORPUS,
// default the dev lines). BenchmarkScanLineBefore is the scanner before the interleaved chains
// (scanLineRef), BenchmarkScanLineScored the prefilter of `match --fast --scored-only`: the three
// in one run compare under the same load.
func BenchmarkScanLine(b *testing.B) {
	benchScanLine(b, testMatcher(b).ScanLine)
}

func BenchmarkScanLineBefore(b *testing.B) {
	benchScanLine(b, testMatcher(b).scanLineRef)
}

func BenchmarkScanLineScored(b *testing.B) {
	benchScanLine(b, testMatcher(b, ScanScoredOnly()).ScanLine)
}

func benchScanLine(b *testing.B, scan func([]byte) (bool, bool)) {
	file := os.Getenv("AFTERLIFE_BENCH_CORPUS")
	if file == "" {
		file = "testdata/dev.jsonl"
	}
	f, err := os.Open(file)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, artifact.MaxLine)
	var lines [][]byte
	var n int64
	for sc.Scan() && len(lines) < 20000 {
		lines = append(lines, append([]byte{}, sc.Bytes()...))
		n += int64(len(sc.Bytes()))
	}
	b.SetBytes(n)
	b.ResetTimer()
	may := 0
	for i := 0; i < b.N; i++ {
		may = 0
		for _, l := range lines {
			if m, _ := scan(l); m {
				may++
			}
		}
	}
	b.ReportMetric(float64(may)/float64(len(lines)), "may/line")
}
