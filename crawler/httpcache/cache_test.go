package httpcache

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

func TestStoreLookupOverwriteAndPersist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "http.db")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Lookup(ctx, "https://example.org/a"); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	want := crawler.CachedResponse{ETag: `W/"1"`, LastModified: "Wed, 21 Oct 2015 07:28:00 GMT", Status: 200,
		ContentType: "application/json", Body: []byte(`{"a":1}`), Stored: at}
	if err := c.Store(ctx, "https://example.org/a", want); err != nil {
		t.Fatal(err)
	}
	want2 := want
	want2.ETag, want2.Body = `W/"2"`, []byte(`{"a":2}`)
	if err := c.Store(ctx, "https://example.org/a", want2); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c, err = Open(path) // persisted across processes
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, ok, err := c.Lookup(ctx, "https://example.org/a")
	if err != nil || !ok {
		t.Fatalf("Lookup after reopen: ok=%v err=%v", ok, err)
	}
	if got.ETag != want2.ETag || string(got.Body) != `{"a":2}` || got.LastModified != want.LastModified ||
		got.Status != 200 || got.ContentType != "application/json" || !got.Stored.Equal(at) {
		t.Fatalf("got %+v", got)
	}
	if _, ok, _ := c.Lookup(ctx, "https://example.org/b"); ok {
		t.Fatal("another URL found")
	}
}
