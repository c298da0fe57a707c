package kaggle

import (
	"strings"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Recheck returns the view job of one known dataset (kaggle:dataset:owner/slug); a 404 marks it
// gone (crawler.Rechecker).
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	ref, ok := strings.CutPrefix(artifactID, "kaggle:dataset:")
	if o, sl, two := strings.Cut(ref, "/"); !ok || !two || o == "" || sl == "" || strings.Contains(sl, "/") {
		return crawler.Job{}, false
	}
	return s.ViewJob("", ref), true
}
