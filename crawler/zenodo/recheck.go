package zenodo

import (
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Recheck returns the detail job of one known record (zenodo:<id>); a 404 or 410 marks it gone
// (crawler.Rechecker).
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	id, ok := strings.CutPrefix(artifactID, "zenodo:")
	if _, err := strconv.ParseUint(id, 10, 64); !ok || err != nil {
		return crawler.Job{}, false
	}
	return s.RecordJob("", id), true
}
