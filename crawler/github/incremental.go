package github

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// metaSince marks a search restricted to what changed since a time: its pages are not a complete
// listing, so they never feed gone detection.
const metaSince = "since"

// sinceJob restricts a repository or issue search to items changed since the last complete run
// (qualifier pushed:>= for repositories, updated:>= for issues; GitHub takes a time with an
// offset). GitHub sends no ETag on search answers, so on a re-scan this is what keeps searches
// cheap. A full run (inc.Full) or a first run (no Since) keeps the search unfiltered.
func (s *Source) sinceJob(j crawler.Job, qualifier string, inc crawler.Incremental) crawler.Job {
	if !inc.Filtered() {
		return j
	}
	u, err := url.Parse(j.URL)
	if err != nil {
		return j
	}
	ts := inc.Since.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05+00:00")
	v := u.Query()
	v.Set("q", v.Get("q")+" "+qualifier+":>="+ts)
	u.RawQuery = v.Encode()
	out := s.job(j.Kind, j.Dataset, u.String(), webapi.CopyMeta(j.Meta, metaSince, ts))
	return out
}

// KindIssue is GET /repos/{o}/{r}/issues/{n}: one known issue re-checked (404/410 → gone).
const KindIssue = "issue"

// Recheck returns the detail job of one known repository (gh:repo:owner/name) or issue
// (gh:issue:owner/name#N): a 404 or 410 (451 for a repository) marks it gone.
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	if rest, ok := strings.CutPrefix(artifactID, "gh:issue:"); ok {
		repo, num, _ := strings.Cut(rest, "#")
		n, err := strconv.Atoi(num)
		if o, r, two := strings.Cut(repo, "/"); !two || o == "" || r == "" || strings.Contains(r, "/") || err != nil || n <= 0 {
			return crawler.Job{}, false
		}
		u := s.base + "/repos/" + escapeRepo(repo) + "/issues/" + strconv.Itoa(n)
		return s.job(KindIssue, "", u, map[string]string{webapi.MetaID: artifactID}), true
	}
	repo, ok := strings.CutPrefix(artifactID, "gh:repo:")
	if o, r, two := strings.Cut(repo, "/"); !ok || !two || o == "" || r == "" || strings.ContainsAny(r, "/#?") {
		return crawler.Job{}, false
	}
	return s.RepoJob("", repo), true
}

// handleIssue reads one issue (a re-check) and emits it like a listed one (with its comments when
// details are on).
func (s *Source) handleIssue(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	issues, err := ParseIssues(append(append([]byte("["), resp.Body...), ']'))
	if err != nil {
		return err
	}
	if len(issues) != 1 {
		return fmt.Errorf("issue answer without a number or repository")
	}
	s.emitIssues(job, issues, res)
	return nil
}
