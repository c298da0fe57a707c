package monitor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/reports"
)

// The frontier and the HTTP cache open side by side: when one cannot be opened, OpenEmbedded
// fails, closes the other and releases the data directory's lock, so the next open succeeds.
func TestOpenEmbeddedFailsCleanlyWhenOneFileCannotOpen(t *testing.T) {
	dir := t.TempDir()
	store, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, bad := range []string{CacheFile, FrontierFile} {
		olds, _ := filepath.Glob(filepath.Join(dir, bad+"*"))
		for _, o := range olds {
			os.Remove(o)
		}
		if err := os.Mkdir(filepath.Join(dir, bad), 0o755); err != nil { // a directory is no SQLite file
			t.Fatal(err)
		}
		if b, err := OpenEmbedded(dir, store); err == nil {
			b.Close()
			t.Fatalf("OpenEmbedded with %s a directory succeeded", bad)
		}
		if err := os.Remove(filepath.Join(dir, bad)); err != nil {
			t.Fatal(err)
		}
		b, err := OpenEmbedded(dir, store)
		if err != nil {
			t.Fatalf("OpenEmbedded after a failed open (%s): %v", bad, err)
		}
		if b.Frontier == nil || b.Cache == nil {
			t.Fatal("backend without its frontier or cache")
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
