package demoworld

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The arXiv API as recorded in fixtures/real/arxiv (2026 format): GET /query with search_query
// (ti:, abs:, all: terms and quoted phrases, OR-ed), id_list, start and max_results; an Atom feed
// with opensearch totals; an unknown id gives an empty feed (200), a malformed one the 400 error
// feed. Planted artifacts' extra: authors, categories.
func init() {
	registerSource("arxiv", func(w *World) http.Handler { w.pdfs(); return &arxivHandler{w: w} })
}

type arxivHandler struct{ w *World }

const arxivSource = "arxiv"

var (
	arxivIDRE   = regexp.MustCompile(`^([a-z-]+(\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?$`)
	arxivTermRE = regexp.MustCompile(`\b(ti|abs|all|au):("([^"]*)"|[^\s()]+)`)
)

func (h *arxivHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/pdf/"); ok {
		// A paper's PDF, as export.arxiv.org/pdf/<id> serves it (paperpdf.go).
		h.w.servePDF(rw, r, arxivSource, "arxiv:"+id)
		return
	}
	if r.URL.Path != "/query" && r.URL.Path != "/api/query" {
		http.NotFound(rw, r)
		return
	}
	q := r.URL.Query()
	start, err1 := strconv.Atoi(q.Get("start"))
	if q.Get("start") == "" {
		start, err1 = 0, nil
	}
	max, err2 := strconv.Atoi(q.Get("max_results"))
	if q.Get("max_results") == "" {
		max, err2 = 10, nil
	}
	if err1 != nil || err2 != nil || start < 0 || max < 0 || max > 2000 {
		h.errorFeed(rw, r, "start_and_max_results", "start and max_results must be non-negative integers, max_results at most 2000")
		return
	}
	var hits []Planted
	switch ids, sq := q.Get("id_list"), q.Get("search_query"); {
	case ids != "":
		for _, id := range strings.Split(ids, ",") {
			m := arxivIDRE.FindStringSubmatch(strings.TrimSpace(id))
			if m == nil {
				h.errorFeed(rw, r, "incorrect_id_format_for_"+id, "incorrect id format for "+id)
				return
			}
			if p, ok := h.w.Find(arxivSource, "arxiv:"+m[1]); ok {
				hits = append(hits, p)
			}
		}
	case sq != "":
		terms := arxivTermRE.FindAllStringSubmatch(sq, -1)
		if len(terms) == 0 {
			terms = [][]string{{"", "all", sq, sq}}
		}
		for _, p := range h.w.Planted(arxivSource) {
			for _, t := range terms {
				phrase := t[3]
				if phrase == "" {
					phrase = t[2]
				}
				if arxivFieldHas(p, t[1], phrase) {
					hits = append(hits, p)
					break
				}
			}
		}
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].Published > hits[j].Published })
		if q.Get("sortBy") == "lastUpdatedDate" {
			// Newest update first (World.ChangedAt: what the epoch added changed when it began).
			asc := q.Get("sortOrder") == "ascending"
			sort.SliceStable(hits, func(i, j int) bool {
				a, b := h.w.ChangedAt(hits[i], arxivClock), h.w.ChangedAt(hits[j], arxivClock)
				if asc {
					return a.Before(b)
				}
				return a.After(b)
			})
		}
	default:
		h.errorFeed(rw, r, "empty_query", "either search_query or id_list must be given")
		return
	}
	lo, hi := pwPage(len(hits), start, max)
	h.feed(rw, r, len(hits), start, max, hits[lo:hi])
}

// arxivClock is the time of day entries render with their dates.
const arxivClock = "09:00:00"

func arxivFieldHas(p Planted, field, phrase string) bool {
	switch field {
	case "ti":
		return pwHas(p.Title, phrase)
	case "abs":
		return pwHas(p.Text, phrase)
	case "au":
		return pwHas(strings.Join(pwStrings(p, "authors"), " ; "), phrase)
	}
	return pwHas(p.Title+" \n "+p.Text, phrase)
}

type arxivLink struct {
	Href  string `xml:"href,attr"`
	Rel   string `xml:"rel,attr,omitempty"`
	Type  string `xml:"type,attr,omitempty"`
	Title string `xml:"title,attr,omitempty"`
}

type arxivTerm struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
}

type arxivEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Links     []arxivLink `xml:"link"`
	Summary   string      `xml:"summary"`
	Category  []arxivTerm `xml:"category"`
	Published string      `xml:"published"`
	Comment   string      `xml:"arxiv:comment,omitempty"`
	Primary   *arxivTerm  `xml:"arxiv:primary_category,omitempty"`
	Authors   []struct {
		Name string `xml:"name"`
	} `xml:"author"`
}

type arxivFeed struct {
	XMLName      xml.Name     `xml:"feed"`
	NSOpenSearch string       `xml:"xmlns:opensearch,attr"`
	NSArXiv      string       `xml:"xmlns:arxiv,attr"`
	NS           string       `xml:"xmlns,attr"`
	ID           string       `xml:"id"`
	Title        string       `xml:"title"`
	Updated      string       `xml:"updated"`
	Link         *arxivLink   `xml:"link,omitempty"`
	PerPage      int          `xml:"opensearch:itemsPerPage"`
	Total        int          `xml:"opensearch:totalResults"`
	Start        int          `xml:"opensearch:startIndex"`
	Entries      []arxivEntry `xml:"entry"`
}

func newArxivFeed(title string) arxivFeed {
	return arxivFeed{NSOpenSearch: "http://a9.com/-/spec/opensearch/1.1/", NSArXiv: "http://arxiv.org/schemas/atom",
		NS: "http://www.w3.org/2005/Atom", Title: title, Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}
}

func (h *arxivHandler) feed(rw http.ResponseWriter, r *http.Request, total, start, per int, ps []Planted) {
	f := newArxivFeed("arXiv Query: " + r.URL.RawQuery)
	f.ID = "https://arxiv.org/api/demo-" + strconv.Itoa(h.w.Epoch())
	f.Link = &arxivLink{Href: pwAbs(r, "/arxiv/query?"+r.URL.RawQuery), Type: "application/atom+xml"}
	f.PerPage, f.Total, f.Start = per, total, start
	for _, p := range ps {
		id := strings.TrimPrefix(p.ID, "arxiv:")
		ts := p.Published + "T" + arxivClock + "Z"
		up := h.w.ChangedAt(p, arxivClock).UTC().Format(time.RFC3339) // ts, but for what the epoch added
		e := arxivEntry{ID: "http://arxiv.org/abs/" + id + "v1", Title: p.Title, Updated: up, Summary: p.Text, Published: ts,
			Links: []arxivLink{{Href: "https://arxiv.org/abs/" + id + "v1", Rel: "alternate", Type: "text/html"},
				{Href: "https://arxiv.org/pdf/" + id + "v1", Rel: "related", Type: "application/pdf", Title: "pdf"}},
			Comment: pwString(p, "comment")}
		for i, c := range pwStrings(p, "categories") {
			e.Category = append(e.Category, arxivTerm{Term: c, Scheme: "http://arxiv.org/schemas/atom"})
			if i == 0 {
				e.Primary = &arxivTerm{Term: c}
			}
		}
		for _, a := range pwStrings(p, "authors") {
			e.Authors = append(e.Authors, struct {
				Name string `xml:"name"`
			}{a})
		}
		f.Entries = append(f.Entries, e)
	}
	h.write(rw, r, http.StatusOK, f)
}

func (h *arxivHandler) errorFeed(rw http.ResponseWriter, r *http.Request, code, msg string) {
	f := newArxivFeed("arXiv Search Results")
	f.ID = "https://arxiv.org/"
	f.PerPage, f.Total = 1, 1
	eid := "https://arxiv.org/api/errors#" + code
	f.Entries = []arxivEntry{{ID: eid, Title: "Error", Updated: f.Updated, Summary: msg,
		Links: []arxivLink{{Href: eid, Rel: "alternate", Type: "text/html"}},
		Authors: []struct {
			Name string `xml:"name"`
		}{{"arXiv api core"}}}}
	h.write(rw, r, http.StatusBadRequest, f)
}

func (h *arxivHandler) write(rw http.ResponseWriter, r *http.Request, status int, f arxivFeed) {
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		http.Error(rw, fmt.Sprintf("arxiv feed: %v", err), http.StatusInternalServerError)
		return
	}
	body := append([]byte("<?xml version='1.0' encoding='UTF-8'?>\n"), b...)
	pwServe(rw, r, status, "application/atom+xml; charset=utf-8", body)
}
