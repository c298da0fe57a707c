package redisq

import "strings"

// DefaultPrefix starts every key Afterlife writes, so one Redis can host other data too.
const DefaultPrefix = "afterlife"

// keys names a run's keys. The run id is a hash tag ({run}) so a run's keys share a cluster slot
// and multi-key scripts stay valid on Redis Cluster.
type keys struct{ prefix string }

func (k keys) run(runID, what string) string {
	return k.prefix + ":{" + runID + "}:" + what
}

func (k keys) queue(r string) string     { return k.run(r, "q") }       // stream of ready jobs
func (k keys) delayed(r string) string   { return k.run(r, "delayed") } // zset: not-before ms → "attempt|job"
func (k keys) seen(r string) string      { return k.run(r, "seen") }    // set of job ids (dedup)
func (k keys) stats(r string) string     { return k.run(r, "stats") }   // hash: enqueued, done, dead, dropped
func (k keys) dead(r string) string      { return k.run(r, "dead") }    // stream of dead letters
func (k keys) artifacts(r string) string { return k.run(r, "art") }     // set of artifact digests (dedup)
func (k keys) events(r string) string    { return k.run(r, "events") }  // findings stream
func (k keys) meta(r string) string      { return k.run(r, "meta") }    // hash: run status
func (k keys) runKeys(r string) []string {
	return []string{k.queue(r), k.delayed(r), k.seen(r), k.stats(r), k.dead(r), k.artifacts(r), k.events(r), k.meta(r)}
}
func (k keys) active() string             { return k.prefix + ":runs" }   // set of active run ids
func (k keys) channel() string            { return k.prefix + ":events" } // pub/sub: "done <run>", "new <run>"
func (k keys) cache(digest string) string { return k.prefix + ":cache:" + digest }
func (k keys) lock(name string) string    { return k.prefix + ":lock:" + name }
func (k keys) rate(key string) string     { return k.prefix + ":" + key }

func cleanPrefix(p string) string {
	p = strings.TrimSuffix(p, ":")
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// Consumer groups.
const (
	groupWorkers = "workers"
	groupBuilder = "builder"
)
