package main

import (
	"io"
	"os"
	"testing"

	"github.com/afterlife-watch/afterlife/extract"
)

// BenchmarkMatchStream: the whole `afterlife match` path (read, decode, match, encode) over the
// corpus in AFTERLIFE_BENCH_CORPUS (skipped when unset).
func BenchmarkMatchStream(b *testing.B) {
	file := os.Getenv("AFTERLIFE_BENCH_CORPUS")
	if file == "" {
		b.Skip("set AFTERLIFE_BENCH_CORPUS to a generated corpus (bench/matcher/gen)")
	}
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	m := newBenchMatcher(b)
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := matchStream(f, file, io.Discard, io.Discard, m, 2, func(f extract.Finding) bool { return true }); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func newBenchMatcher(b *testing.B) *extract.Matcher {
	reg, err := loadRegistry()
	if err != nil {
		b.Fatal(err)
	}
	return extract.New(reg)
}
