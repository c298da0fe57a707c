package monitor

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// matchers keeps the process's compiled matchers for reuse by its later runs: compiling one
// (extract.New: the registry's aliases, variants, file names into one automaton) cost about as much
// as 50 pages of a crawl, on every run. A matcher is keyed on the registry's content (a registry
// edited in place, or another one at the same address, is compiled afresh) and lent to one crew at a
// time, its lineage (the crew's store) switched when it is lent; concurrent runs get their own.
var matchers = &matcherCache{max: 4}

type matcherCache struct {
	mu   sync.Mutex
	max  int            // registries kept
	regs []*regMatchers // least recently used first
	// checkers are the full-text checkers (manuscript.NewChecker compiles its own extract matcher,
	// without lineage): safe for concurrent use, so shared, not lent. At most max kept.
	checkers []keyedChecker
}

type keyedChecker struct {
	key [sha256.Size]byte
	c   *manuscript.Checker
}

// checker returns the process's full-text checker for reg's content, built once.
func (c *matcherCache) checker(reg *configs.Registry) *manuscript.Checker {
	key, ok := registryKey(reg)
	if !ok {
		return manuscript.NewChecker(reg)
	}
	c.mu.Lock()
	for _, k := range c.checkers {
		if k.key == key {
			c.mu.Unlock()
			return k.c
		}
	}
	c.mu.Unlock()
	ch := manuscript.NewChecker(reg) // outside the lock: compiling takes a while
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.checkers {
		if k.key == key {
			return k.c
		}
	}
	c.checkers = append(c.checkers, keyedChecker{key: key, c: ch})
	if len(c.checkers) > c.max {
		c.checkers = c.checkers[1:]
	}
	return ch
}

type regMatchers struct {
	key  [sha256.Size]byte
	free []*cachedMatcher
}

// cachedMatcher is a compiled matcher whose Lineage is a switch: set to the crew's lineage while it
// is lent, nil when it is returned.
type cachedMatcher struct {
	m   *extract.Matcher
	lin lineageSwitch
}

type lineageSwitch struct{ l extract.Lineage }

func (s *lineageSwitch) TaintOf(modelID string) []extract.Taint {
	if s.l == nil {
		return nil
	}
	return s.l.TaintOf(modelID)
}

// registryKey fingerprints what the matcher compiles: the registry's content.
func registryKey(reg *configs.Registry) ([sha256.Size]byte, bool) {
	b, err := json.Marshal(reg)
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(b), true
}

// get lends a matcher for reg with lineage lin (nil: none); release gives it back once the crew is
// done with it (Match is never called after release).
func (c *matcherCache) get(reg *configs.Registry, lin extract.Lineage) (m Matcher, release func()) {
	if lin == nil {
		// No lineage: extract skips the lineage step altogether; not worth a cache entry.
		return extract.New(reg), func() {}
	}
	key, ok := registryKey(reg)
	if !ok {
		return extract.New(reg, extract.WithLineage(lin)), func() {}
	}
	c.mu.Lock()
	var cm *cachedMatcher
	for i, r := range c.regs {
		if r.key != key {
			continue
		}
		if n := len(r.free); n > 0 {
			cm = r.free[n-1]
			r.free = r.free[:n-1]
		}
		c.regs = append(append(c.regs[:i:i], c.regs[i+1:]...), r) // most recently used last
		break
	}
	c.mu.Unlock()
	if cm == nil {
		cm = &cachedMatcher{}
		cm.m = extract.New(reg, extract.WithLineage(&cm.lin))
	}
	cm.lin.l = lin
	var once sync.Once
	return cm.m, func() { once.Do(func() { c.put(key, cm) }) }
}

func (c *matcherCache) put(key [sha256.Size]byte, cm *cachedMatcher) {
	cm.lin.l = nil // the crew's store is not kept alive by the cache
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.regs {
		if r.key == key {
			if len(r.free) < 4 {
				r.free = append(r.free, cm)
			}
			return
		}
	}
	c.regs = append(c.regs, &regMatchers{key: key, free: []*cachedMatcher{cm}})
	if len(c.regs) > c.max {
		c.regs = c.regs[1:]
	}
}
