package reports

import (
	"slices"
	"sync"

	"github.com/afterlife-watch/afterlife/extract"
)

// taintCacheMax bounds the memoized lineage answers. A --scale 10 scan asks ~22,000 times about
// ~2,100 keys; a --scale 100 scan has ~10× the keys, and its RSS budget is 512 MiB, so the cache
// forgets everything when full rather than growing with the hub.
const taintCacheMax = 16384

// taintCache memoizes SQLiteStore.TaintOf per model key. At hub scale the matcher asks the store
// about the declared base of every fine-tune, and the same few bases over and over: each answer
// was a query (~50 µs in modernc's SQLite, 6 % of a --scale 10 scan's CPU; bench/results/crawl.md
// "Stop 26").
//
// A key's answer changes only when a record of an artifact with that model key commits; the record
// paths call forget with the keys they wrote once their transaction is over (committed or not).
// A lookup that was running while its key was forgotten may have read the old rows, so its answer
// is not kept (dirty). An answer kept before a commit is forgotten before the writer returns, so a
// caller that recorded a model and then asks about it sees its record, as without the cache.
type taintCache struct {
	mu       sync.Mutex
	answers  map[string][]extract.Taint
	inflight map[string]int  // lookups of the key running now
	dirty    map[string]bool // keys forgotten while a lookup of them ran
}

// get returns a copy of the memoized answer for key.
func (c *taintCache) get(key string) ([]extract.Taint, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.answers[key]
	if !ok {
		if c.inflight == nil {
			c.inflight = map[string]int{}
		}
		c.inflight[key]++ // the caller looks it up and reports with done
		return nil, false
	}
	return slices.Clone(t), true
}

// done ends a lookup that get missed: the answer is kept if the lookup succeeded and no record of
// the key ended while it ran.
func (c *taintCache) done(key string, t []extract.Taint, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok && !c.dirty[key] {
		if c.answers == nil || len(c.answers) >= taintCacheMax {
			c.answers = map[string][]extract.Taint{}
		}
		c.answers[key] = t
	}
	if c.inflight[key]--; c.inflight[key] <= 0 {
		delete(c.inflight, key)
		delete(c.dirty, key)
	}
}

// forget drops the answers of keys whose records just ended.
func (c *taintCache) forget(keys []string) {
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.answers, k)
		if c.inflight[k] > 0 {
			if c.dirty == nil {
				c.dirty = map[string]bool{}
			}
			c.dirty[k] = true
		}
	}
}
