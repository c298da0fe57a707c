package webapi

import "github.com/afterlife-watch/afterlife/crawler"

// Rate is crawler.Rate: a documented default rate limit for one bucket of a source.
type Rate = crawler.Rate

// Rater is crawler.Rater.
type Rater = crawler.Rater

// PerWindow converts "n requests per window seconds" to a Rate with burst b.
func PerWindow(n, windowSeconds float64, burst int, doc string) Rate {
	return Rate{PerSecond: n / windowSeconds, Burst: burst, Doc: doc}
}
