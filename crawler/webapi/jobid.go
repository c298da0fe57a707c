package webapi

import "github.com/afterlife-watch/afterlife/crawler"

// DatasetJobID is the id of a job whose output depends on the dataset it was planned for, not
// only on its URL: a citation listing tags every citing paper cites-dataset:<id> (which the matcher
// reads as a mention of that dataset), and its follow-ups carry the dataset on. The frontier keeps
// one job per id and run, so with the URL alone as id, two watched datasets listing the same paper
// would share one job and whichever was enqueued first would decide what the run records. With the
// dataset in the id each dataset gets its own job and the run's result does not depend on job
// order.
func DatasetJobID(source, kind, url, dataset string) string {
	id := crawler.Key(source, kind, url)
	if dataset != "" {
		id += "|dataset=" + dataset
	}
	return id
}
