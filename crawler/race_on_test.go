//go:build race

package crawler_test

// raceEnabled: the race detector changes allocation counts, so byte bounds on allocations are
// checked only without it.
const raceEnabled = true
