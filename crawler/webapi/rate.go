package webapi

// Rate is a documented default rate limit for one bucket of a source. Adapters expose theirs with a
// DefaultRates() map[string]Rate method (keyed by crawler.Request.RateKey; the key equal to the
// source name is the default bucket) so the fetcher can build its buckets when the watch config
// leaves rate at 0.
type Rate struct {
	PerSecond float64 // sustained requests per second
	Burst     int     // bucket size
	Doc       string  // where the number comes from
}

// Rater is implemented by sources that document their default rate limits.
type Rater interface {
	DefaultRates() map[string]Rate
}

// PerWindow converts "n requests per window seconds" to a Rate with burst b.
func PerWindow(n, windowSeconds float64, burst int, doc string) Rate {
	return Rate{PerSecond: n / windowSeconds, Burst: burst, Doc: doc}
}
