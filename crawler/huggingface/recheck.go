package huggingface

import (
	"strings"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Recheck returns the info job of one known model or dataset (hf:model:org/name,
// hf:dataset:org/name); a 404 or RepoNotFound marks it gone (crawler.Rechecker).
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	kind := KindModelInfo
	id, ok := strings.CutPrefix(artifactID, "hf:model:")
	if !ok {
		kind = KindDatasetInfo
		if id, ok = strings.CutPrefix(artifactID, "hf:dataset:"); !ok {
			return crawler.Job{}, false
		}
	}
	if id == "" || strings.ContainsAny(id, "?#") || strings.Contains(id, "..") {
		return crawler.Job{}, false
	}
	return s.infoJob(kind, "", id, 0), true
}
