package webapi

import "github.com/afterlife-watch/afterlife/crawler"

// PerWindow converts "n requests per window seconds" to a Rate with burst b.
func PerWindow(n, windowSeconds float64, burst int, doc string) crawler.Rate {
	return crawler.Rate{PerSecond: n / windowSeconds, Burst: burst, Doc: doc}
}
