package render

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/reports"
)

// Coverage states: what a run could check.
const (
	CoverageAll     = "all"     // every enabled source worked
	CoveragePartial = "partial" // some sources failed, were skipped or lost jobs
	CoverageNone    = "none"    // no source worked: nothing was checked
)

// Coverage says what a run could check, first, so that a run that reached nothing never reads
// as good news ("no sighting").
type Coverage struct {
	State string `json:"state"`
	// Headline is the sentence reports put first.
	Headline string `json:"headline"`
	// Checked names the sources that worked (ok or degraded).
	Checked []string `json:"checked"`
	// Gaps are the sources that failed, were skipped or lost some jobs, each with what that
	// leaves unknown.
	Gaps []SourceGap `json:"gaps"`
}

// SourceGap is one source a run could not (fully) use.
type SourceGap struct {
	Source string `json:"source"`
	Status string `json:"status"`
	// Reason is the source's message (its last error, in words).
	Reason string `json:"reason,omitempty"`
	// Unknown says what the run could not check because of it.
	Unknown string `json:"unknown"`
}

// FailureGroup is one cause of failure of one source in a run: how many URLs failed that way and
// a few of them.
type FailureGroup struct {
	Source string `json:"source"`
	Cause  string `json:"cause"`
	Count  int    `json:"count"`
	// GivenUp counts the URLs given up (not retried again).
	GivenUp int `json:"given_up"`
	// Examples are up to MaxFailureExamples of the URLs, sorted.
	Examples []string `json:"examples"`
}

// MaxFailureExamples bounds the example URLs of a failure group.
const MaxFailureExamples = 3

// sourceWatches says, per source adapter, what a steward cannot know when it fails.
var sourceWatches = map[string]string{
	"huggingface":      "copies, derivatives and trained models on Hugging Face",
	"github":           "copies and code using the datasets on GitHub",
	"zenodo":           "copies and derivatives on Zenodo",
	"kaggle":           "copies and derivatives on Kaggle",
	"arxiv":            "new papers on arXiv",
	"openalex":         "papers using the datasets (OpenAlex)",
	"semanticscholar":  "papers using the datasets (Semantic Scholar)",
	"academictorrents": "torrents on Academic Torrents",
	"swarm":            "swarm health (seeders and leechers) of known torrents",
}

func watches(source string) string {
	if w, ok := sourceWatches[source]; ok {
		return w
	}
	return "what " + source + " lists"
}

// CoverageOf says what a run with these per-source results could check. A run without sources
// (an artifacts file rendered by `afterlife report --artifacts`) has no coverage: nil.
func CoverageOf(sources []reports.SourceStat) *Coverage {
	if len(sources) == 0 {
		return nil
	}
	c := &Coverage{State: CoverageAll, Checked: []string{}, Gaps: []SourceGap{}}
	var failed []string
	for _, s := range sources {
		switch s.Status {
		case "ok", "degraded":
			c.Checked = append(c.Checked, s.Name)
		}
		reason := strings.TrimPrefix(s.Message, "last error: ")
		switch s.Status {
		case "ok":
		case "degraded":
			c.Gaps = append(c.Gaps, SourceGap{Source: s.Name, Status: s.Status, Reason: reason,
				Unknown: "part of " + watches(s.Name) + " (some requests failed)"})
		default: // failed, skipped, or no status (interrupted)
			failed = append(failed, s.Name)
			c.Gaps = append(c.Gaps, SourceGap{Source: s.Name, Status: s.Status, Reason: reason, Unknown: watches(s.Name)})
		}
	}
	switch {
	case len(c.Checked) == 0:
		c.State = CoverageNone
		c.Headline = fmt.Sprintf("Nothing could be checked: every enabled source failed (%s). "+
			"This run reached nothing, so finding nothing means nothing; the last run that reached a source is the latest word on it.",
			strings.Join(failed, ", "))
	case len(c.Gaps) > 0:
		c.State = CoveragePartial
		var unknown []string
		for _, g := range c.Gaps {
			unknown = append(unknown, g.Unknown)
		}
		what := fmt.Sprintf("%d of %d sources failed (%s)", len(failed), len(sources), strings.Join(failed, ", "))
		if len(failed) == 0 {
			what = "every source ran but some lost requests"
		}
		c.Headline = fmt.Sprintf("Partly checked: %s. Unknown after this run: %s. Sightings from these sources keep the state of the last run that reached them.",
			what, strings.Join(unknown, "; "))
	}
	return c
}

var urlInError = regexp.MustCompile(`https?://[^\s"')]+`)

// failureCause is a failure's error with URLs taken out, so failures of one cause group together.
func failureCause(err string) string {
	c := strings.TrimSpace(urlInError.ReplaceAllString(err, "<url>"))
	if c == "" {
		return "unknown error"
	}
	return c
}

// GroupFailures groups a run's failures by source and cause: one group per cause with its count
// and the first few URLs, largest groups of a source first.
func GroupFailures(fs []reports.JobFailure) []FailureGroup {
	type key struct{ src, cause string }
	by := map[key]*FailureGroup{}
	for _, f := range fs {
		k := key{f.Source, failureCause(f.Error)}
		g := by[k]
		if g == nil {
			g = &FailureGroup{Source: f.Source, Cause: k.cause, Examples: []string{}}
			by[k] = g
		}
		g.Count++
		if f.Final {
			g.GivenUp++
		}
		g.Examples = append(g.Examples, f.URL)
	}
	out := make([]FailureGroup, 0, len(by))
	for _, g := range by {
		sort.Strings(g.Examples)
		if len(g.Examples) > MaxFailureExamples {
			g.Examples = g.Examples[:MaxFailureExamples]
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Cause < b.Cause
	})
	return out
}
