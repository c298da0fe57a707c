package academictorrents

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// parseBounded runs ParseDetails and fails the test if it has not returned within a safety bound
// (the HTML tree builder took minutes on deep nesting before the page was bounded).
func parseBounded(t *testing.T, page string) (*Details, error) {
	t.Helper()
	type result struct {
		d   *Details
		err error
	}
	done := make(chan result, 1)
	b := []byte(page)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	go func() {
		d, err := ParseDetails(b)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d-byte page: %d MiB allocated; %v", len(page), alloc>>20, r.err)
		if r.err != nil && alloc > 32<<20 {
			t.Errorf("refusing the page allocated %d MiB (bound 32 MiB)", alloc>>20)
		}
		return r.d, r.err
	case <-time.After(60 * time.Second): // safety net only
		t.Fatalf("ParseDetails of a %d-byte page did not return within a minute", len(page))
	}
	return nil, nil
}

// A details page nested 300,000 <div>s deep (the hostile world's nested page, under the 8 MiB
// details bound), holding 400,000 elements or carrying 100,000 links is refused by the HTML
// bounds, naming them, before it is built into a tree.
func TestParseDetailsRefusesHostileHTML(t *testing.T) {
	head := "<!doctype html><html><head><title>x - Academic Torrents</title></head><body><h1>Some dataset</h1>"
	pages := map[string]string{
		"depth": head + strings.Repeat("<div>", 300_000) + "12 seeders" + strings.Repeat("</div>", 300_000),
		"links": head + strings.Repeat(`<a href="/details/x">x</a>`, 100_000),
		"nodes": head + strings.Repeat(`<span></span>`, 400_000),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			_, err := parseBounded(t, page)
			if !errors.Is(err, crawler.ErrHTMLTooLarge) || !strings.Contains(err.Error(), name) {
				t.Fatalf("%d-byte page: err = %v; want crawler.ErrHTMLTooLarge naming the %s bound", len(page), err, name)
			}
		})
	}
}
