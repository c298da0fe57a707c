// Package openalex is the OpenAlex source adapter: works searches for a dataset's names, and the
// works citing the dataset's own papers (filter=cites:W…), resolving the W id from the paper's DOI,
// its arXiv DOI or its title when the registry does not carry it. Pages are followed with
// cursor=* / meta.next_cursor. The API key (OPENALEX_API_KEY) is a query parameter: it is added at
// fetch time only, never stored in a job, and redacted from every error.
package openalex

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceOpenAlex

// Job kinds.
const (
	KindSearch  = "search"  // /works?search=… (title, abstract, fulltext), cursor-paged
	KindCites   = "cites"   // /works?filter=cites:W…, cursor-paged
	KindResolve = "resolve" // find the W id of a dataset paper (DOI, arXiv DOI, then title search)
	KindWork    = "work"    // /works/W… (recheck: 404 => gone)
	// KindFullText fetches the open-access PDF (best_oa_location.pdf_url) of a matched work whose
	// abstract does not already say it uses the dataset (crawler/fulltext).
	KindFullText = fulltext.Kind
)

// Meta keys of this adapter's jobs.
const (
	metaCandidates = "candidates" // remaining resolve URLs, newline-separated
	metaTitle      = "title"      // the dataset paper's title (resolve by title)
	metaCites      = "cites"      // the W ids a cites job lists citations of
	metaNotes      = "notes"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL  = "https://api.openalex.org"
	DefaultPageSize = 200 // the documented maximum: a quarter of the calls (and of the dollar cost) of 50
	DefaultMaxPages = 3
	MaxPageSize     = 200
	TermsPerQuery   = 6
	MinTermLen      = 4
)

// DefaultRatePerSecond is a tenth of OpenAlex's documented ceiling (100 requests/s for everyone);
// the daily dollar budget (anonymous $0.01, free key $1; list $0.10 and search $1 per 1,000 calls)
// is the real bound, so the adapter stays well below the ceiling.
const (
	DefaultRatePerSecond = 10.0
	DefaultBurst         = 5
)

// selectFields keeps list answers small.
const selectFields = "id,doi,title,display_name,publication_date,publication_year,ids,type,is_retracted,abstract_inverted_index,keywords,primary_location,best_oa_location"

func init() { crawler.Register(Name, New) }

// Source is the OpenAlex adapter.
type Source struct {
	fulltext.Gate // the run's matcher, for the full-text jobs
	base          string
	pageSize      int
	maxPages      int
	key           string
	budget        bool // without a key, plan within the anonymous dollar budget (no works searches)
}

// New builds the adapter; the API key comes from OPENALEX_API_KEY. Option anonymous = budget |
// full: without a key, skip the works searches the anonymous budget cannot pay for (default on
// api.openalex.org), or plan everything (default on any other base_url: a mirror, the demo world).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPageSize: MaxPageSize, MaxPages: DefaultMaxPages, TokenEnv: "OPENALEX_API_KEY"})
	if err != nil {
		return nil, err
	}
	// Without a key, the anonymous budget is OpenAlex's own: other hosts (the demo world) list fully.
	def := "full"
	if strings.EqualFold(c.URL.Host, "api.openalex.org") {
		def = "budget"
	}
	anon, err := webapi.Choice(Name, cfg, "anonymous", def, "budget", "full")
	if err != nil {
		return nil, err
	}
	return &Source{base: c.Base, pageSize: c.PageSize, maxPages: c.MaxPages, key: c.Token, budget: anon == "budget"}, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates implements crawler.Rater.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	rates := fulltext.Rates(Name)
	rates[Name] = crawler.Rate{PerSecond: DefaultRatePerSecond, Burst: DefaultBurst,
		Doc: "OpenAlex: max 100 requests/s; daily budget by API key ($0.01 anonymous, $1 free key)"}
	return rates
}

// quoteStripper strips the characters the search syntax reserves from a term.
var quoteStripper = strings.NewReplacer(`"`, "")

// SearchTerms are the names searched for: aliases, name and derivative names, without file names
// and path-like ids.
func SearchTerms(d *configs.Dataset) []string {
	return webapi.PhraseTerms(d, MinTermLen, quoteStripper)
}

// SearchQuery ORs quoted phrases (OpenAlex search accepts boolean OR and phrases).
func SearchQuery(terms []string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + t + `"`
	}
	return strings.Join(q, " OR ")
}

// Plan implements crawler.Source: per dataset, works searches for its names, and per dataset paper
// the works citing it (directly when the registry has the W id, else through a resolve job).
// Without OPENALEX_API_KEY the searches are skipped, with a note: the anonymous budget ($0.01 a
// day) pays for about 10 search calls but 100 list calls, and the citation lists are kept.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	var plan webapi.Plan
	skipped := 0
	add := func(j crawler.Job) { plan.Add(j) }
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		terms := SearchTerms(d)
		for i := 0; i < len(terms); i += TermsPerQuery {
			if s.key == "" && s.budget {
				skipped++ // search calls are what the anonymous budget cannot pay for
				continue
			}
			add(s.searchJob(d.ID, SearchQuery(terms[i:min(i+TermsPerQuery, len(terms))])))
		}
		var wids []string
		for _, p := range d.Papers {
			if w := widRE.FindStringSubmatch(strings.TrimSpace(p.OpenAlexID)); w != nil {
				wids = append(wids, w[1])
				continue
			}
			if j, ok := s.resolveJob(d.ID, p); ok {
				add(j)
			}
		}
		if len(wids) > 0 {
			add(s.citesJob(d.ID, wids))
		}
	}
	jobs := plan.Jobs()
	switch {
	case len(jobs) > 0 && s.key == "" && !s.budget:
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, metaNotes,
			"openalex: no OPENALEX_API_KEY: anonymous budget ($0.01/day) covers about 100 list or 10 search calls; the rest come back 429 and are retried later")
	case len(jobs) > 0 && s.key == "":
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, metaNotes, fmt.Sprintf(
			"openalex: no OPENALEX_API_KEY: %d works searches skipped (search calls cost $1 per 1,000 and the anonymous budget is $0.01/day); citation lists and DOI look-ups kept (list calls $0.10 per 1,000, singletons free); a free key gives $1/day",
			skipped))
	}
	return jobs, nil
}

func (s *Source) listURL(q url.Values) string {
	q.Set("per_page", strconv.Itoa(s.pageSize))
	q.Set("cursor", "*")
	q.Set("select", selectFields)
	return s.base + "/works?" + q.Encode()
}

func (s *Source) searchJob(dataset, query string) crawler.Job {
	u := s.listURL(url.Values{"search": {query}})
	return crawler.Job{ID: crawler.Key(Name, KindSearch, u), Source: Name, Kind: KindSearch, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":search=" + query}}
}

func (s *Source) citesJob(dataset string, wids []string) crawler.Job {
	f := "cites:" + strings.Join(wids, "|")
	u := s.listURL(url.Values{"filter": {f}})
	return crawler.Job{ID: jobID(KindCites, u, dataset), Source: Name, Kind: KindCites, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":filter=" + f, metaCites: strings.Join(wids, "|")}}
}

// jobID is a job's dedup key. A cites listing tags what it finds with the dataset it was planned
// for (cites-dataset:<id>), and a resolve job plans that listing for its dataset, so their ids carry
// the dataset: two datasets listing the same paper get one listing each, whatever order their jobs
// are enqueued in (a resolve finishes at a time that depends on the other workers). Searches record
// the same thing whichever dataset asked, so they stay keyed by URL and are shared.
func jobID(kind, u, dataset string) string {
	if kind == KindCites || kind == KindResolve {
		return webapi.DatasetJobID(Name, kind, u, dataset)
	}
	return crawler.Key(Name, kind, u)
}

// titleFilterRE drops what OpenAlex filter values cannot carry (commas separate filters, colons
// separate field and value).
var titleFilterRE = regexp.MustCompile(`[,:|"]+`)

// resolveJob plans the look-ups that find a paper's W id: its DOI, its arXiv DOI
// (10.48550/arXiv.<id>), then a title search. The first that answers wins.
func (s *Source) resolveJob(dataset string, p configs.Paper) (crawler.Job, bool) {
	var cands []string
	if doi := strings.TrimSpace(p.DOI); doi != "" {
		cands = append(cands, s.base+"/works/doi:"+escapeDOI(doi)+"?select=id,doi,title,display_name")
	}
	if ax := strings.TrimSpace(p.ArXiv); ax != "" {
		cands = append(cands, s.base+"/works/doi:"+escapeDOI("10.48550/arxiv."+ax)+"?select=id,doi,title,display_name")
	}
	if t := strings.Join(strings.Fields(titleFilterRE.ReplaceAllString(p.Title, " ")), " "); t != "" {
		cands = append(cands, s.base+"/works?"+url.Values{"filter": {"title.search:" + t}, "per_page": {"5"},
			"select": {"id,doi,title,display_name"}}.Encode())
	}
	if len(cands) == 0 {
		return crawler.Job{}, false
	}
	return crawler.Job{ID: jobID(KindResolve, cands[0], dataset), Source: Name, Kind: KindResolve, URL: cands[0],
		Dataset: dataset, Meta: map[string]string{metaCandidates: strings.Join(cands[1:], "\n"), metaTitle: p.Title}}, true
}

// escapeDOI lower-cases a DOI and escapes each of its path segments (OpenAlex takes the slash
// unescaped: /works/doi:10.48550/arxiv.1607.08221).
func escapeDOI(doi string) string {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(doi)), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Recheck returns a job that looks up one known work; a 404 marks it gone.
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	wid, ok := strings.CutPrefix(artifactID, "openalex:")
	if !ok || !widRE.MatchString(wid) {
		return crawler.Job{}, false
	}
	u := s.base + "/works/" + wid + "?select=" + url.QueryEscape(selectFields)
	return crawler.Job{ID: crawler.Key(Name, KindWork, u), Source: Name, Kind: KindWork, URL: u,
		Meta: map[string]string{webapi.MetaID: artifactID}}, true
}

// fetchURL adds the API key to a job URL; the result must never be stored or logged.
func (s *Source) fetchURL(u string) string {
	if s.key == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "api_key=" + url.QueryEscape(s.key)
}

// redact removes the API key from a message.
func (s *Source) redact(msg string) string {
	if s.key == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, url.QueryEscape(s.key), "<redacted>")
	return strings.ReplaceAll(msg, s.key, "<redacted>")
}

// redactedError hides the key in the message of an error from the fetcher while keeping the chain
// for errors.Is (context cancellation).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if n := job.Meta[metaNotes]; n != "" {
		res.Notes = append(res.Notes, n)
	}
	switch job.Kind {
	case KindSearch, KindCites, KindResolve, KindWork:
	case KindFullText:
		return fulltext.Handle(ctx, job, f) // the PDF host, not the API: no api_key
	default:
		return res, fmt.Errorf("openalex: unknown job kind %q", job.Kind)
	}
	resp, err := f.Fetch(ctx, crawler.Request{Source: Name, URL: s.fetchURL(job.URL), Redact: []string{"api_key"},
		Header: map[string][]string{"Accept": {"application/json"}}})
	if err != nil {
		var se *crawler.StatusError
		if errors.As(err, &se) {
			return res, &crawler.StatusError{URL: job.URL, Status: se.Status, Msg: s.redact(se.Msg)}
		}
		return res, &redactedError{msg: s.redact(fmt.Sprintf("openalex %s %s: %v", job.Kind, job.URL, err)), err: err}
	}
	class := webapi.Classify(resp)
	switch {
	case class == webapi.OK:
	case class == webapi.Gone && job.Kind == KindWork:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return res, nil
	case class == webapi.Gone && job.Kind == KindResolve:
		return s.nextCandidate(job, res, fmt.Sprintf("HTTP %d", resp.Status))
	case class == webapi.Unauthorized:
		if s.key != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("openalex: OPENALEX_API_KEY rejected (HTTP 401: %s): %s skipped", s.redact(webapi.ErrorMessage(resp.Body)), job.Kind))
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("openalex: %s needs an API key (HTTP 401): skipped, set OPENALEX_API_KEY", job.Kind))
		}
		return res, nil
	case class == webapi.RateLimited:
		err := webapi.RateLimitError(resp, time.Now())
		// resp.URL carries the key: name the job's URL and redact the message.
		var se *crawler.StatusError
		if errors.As(err, &se) {
			se.URL, se.Msg = job.URL, s.redact(se.Msg)
		}
		return res, err
	default:
		return res, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: s.redact(webapi.ErrorMessage(resp.Body))}
	}
	switch job.Kind {
	case KindWork:
		w, err := ParseWork(resp.Body)
		if err != nil {
			return res, fmt.Errorf("openalex %s: %w", job.Meta[webapi.MetaID], err)
		}
		res.Artifacts = append(res.Artifacts, w.Artifact())
		return res, nil
	case KindResolve:
		return s.handleResolve(job, resp.Body, res)
	}
	return s.handleList(job, resp.Body, res)
}

func (s *Source) handleList(job crawler.Job, body []byte, res crawler.Result) (crawler.Result, error) {
	page, err := ParsePage(body)
	if err != nil {
		return res, fmt.Errorf("openalex %s %s: %w", job.Kind, job.Meta[webapi.MetaScope], err)
	}
	var tags []string
	if job.Kind == KindCites {
		tags = append(tags, "cites-dataset:"+job.Dataset)
		for _, w := range strings.Split(job.Meta[metaCites], "|") {
			tags = append(tags, "cites:openalex:"+w)
		}
	}
	got := len(page.Works)
	var cut int
	if page.Works, cut = webapi.CapPage(page.Works, s.pageSize); cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, s.pageSize))
	}
	partial := webapi.Partial(job.Meta, cut)
	ids := make([]string, 0, len(page.Works))
	pdfs := map[string]string{}
	for i := range page.Works {
		w := &page.Works[i]
		if w.WID() == "" {
			continue
		}
		a := w.Artifact()
		a.Tags = append(a.Tags, tags...)
		ids = append(ids, a.ID)
		res.Artifacts = append(res.Artifacts, a)
		if u := w.PDFURL(); u != "" {
			pdfs[a.ID] = u
		}
	}
	switch {
	case page.NextCursor != "" && len(page.Works) > 0 && job.Page+1 < s.maxPages:
		u, err := url.Parse(job.URL)
		if err != nil {
			return res, fmt.Errorf("openalex: next page of %s: %w", job.URL, err)
		}
		q := u.Query()
		q.Set("cursor", page.NextCursor)
		u.RawQuery = q.Encode()
		res.Next = append(res.Next, crawler.Job{ID: jobID(job.Kind, u.String(), job.Dataset), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: u.String(), Dataset: job.Dataset, Page: job.Page + 1,
			Meta: webapi.MarkPartial(webapi.WithSeen(withoutNotes(job.Meta), ids), partial)})
	case (page.NextCursor == "" || len(page.Works) == 0) && !partial:
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: append(webapi.Seen(job.Meta), ids...)}
	}
	// After the next page: a job budget that runs short drops full texts, not pages of a listing.
	s.AddJobs(&res, job, func(a *artifact.Artifact) string { return pdfs[a.ID] })
	return res, nil
}

func withoutNotes(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != metaNotes {
			out[k] = v
		}
	}
	return out
}

// handleResolve reads a singleton (DOI look-up) or a title-search page and plans the cites job.
func (s *Source) handleResolve(job crawler.Job, body []byte, res crawler.Result) (crawler.Result, error) {
	var wid string
	if strings.Contains(job.URL, "/works?") {
		page, err := ParsePage(body)
		if err != nil {
			return res, fmt.Errorf("openalex resolve %q: %w", job.Meta[metaTitle], err)
		}
		want := normTitle(job.Meta[metaTitle])
		for i := range page.Works {
			w := &page.Works[i]
			t := w.Title
			if t == "" {
				t = w.DisplayName
			}
			if got := normTitle(t); got != "" && want != "" && (got == want || strings.HasPrefix(got, want) || strings.HasPrefix(want, got)) {
				wid = w.WID()
				break
			}
		}
	} else {
		w, err := ParseWork(body)
		if err != nil {
			return res, fmt.Errorf("openalex resolve %q: %w", job.Meta[metaTitle], err)
		}
		wid = w.WID()
	}
	if wid == "" {
		return s.nextCandidate(job, res, "no work with that title")
	}
	c := s.citesJob(job.Dataset, []string{wid})
	c.RunID = job.RunID
	res.Next = append(res.Next, c)
	return res, nil
}

// nextCandidate moves a resolve job to its next look-up, or notes that the paper is unknown.
func (s *Source) nextCandidate(job crawler.Job, res crawler.Result, why string) (crawler.Result, error) {
	rest := job.Meta[metaCandidates]
	if rest == "" {
		res.Notes = append(res.Notes, fmt.Sprintf("openalex: paper %q of %s not found (%s): its citations skipped", job.Meta[metaTitle], job.Dataset, why))
		return res, nil
	}
	next, remaining, _ := strings.Cut(rest, "\n")
	res.Next = append(res.Next, crawler.Job{ID: jobID(KindResolve, next, job.Dataset), RunID: job.RunID, Source: Name,
		Kind: KindResolve, URL: next, Dataset: job.Dataset,
		Meta: map[string]string{metaCandidates: remaining, metaTitle: job.Meta[metaTitle]}})
	return res, nil
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

func normTitle(s string) string {
	return strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(s), " "), " ")
}
