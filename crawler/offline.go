package crawler

import "errors"

// ErrOffline is wrapped by the error of anything a replayed run would have to send outside the
// fetcher (a UDP tracker, an announce): a replay reaches no network at all.
var ErrOffline = errors.New("replay: not recorded (cassettes hold the fetcher's HTTP exchanges only)")

// ErrNotRecorded is wrapped by the error of a replayed request the recordings have no answer for
// (crawler/cassette). Replaying the job again cannot change that: it is permanent.
var ErrNotRecorded = errors.New("not in the cassette")

// IsOffline reports whether f answers from recordings (`afterlife scan --replay`): a source that
// would reach the network outside the fetcher must fail that part with ErrOffline instead.
func IsOffline(f Fetcher) bool {
	o, ok := f.(interface{ Offline() bool })
	return ok && o.Offline()
}

// Offline forwards the wrapped fetcher's answer: the run loop hands adapters its fetcher wrapped
// with the job's logger (WithLog), and a replay must stay offline through it.
func (l logFetcher) Offline() bool { return IsOffline(l.f) }
