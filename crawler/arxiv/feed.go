package arxiv

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// XML namespaces of the arXiv API's Atom feed. Both feed generations use the same namespace URIs;
// the 2016-era feed declares opensearch/arxiv on each element, the 2026 one on the root.
const (
	nsAtom       = "http://www.w3.org/2005/Atom"
	nsOpenSearch = "http://a9.com/-/spec/opensearch/1.1/"
	nsArXiv      = "http://arxiv.org/schemas/atom"
)

// Feed is one page of an arXiv API answer.
type Feed struct {
	Title        string
	TotalResults int
	StartIndex   int
	ItemsPerPage int
	Entries      []Entry
}

// Entry is one paper of a feed.
type Entry struct {
	ID         string // bare arXiv id without version ("1605.08386", "astro-ph/0601001")
	Version    string // "v1"
	Title      string
	Summary    string
	Published  string // YYYY-MM-DD
	Updated    string // YYYY-MM-DD
	Authors    []string
	Categories []string
	Primary    string
	DOI        string
	JournalRef string
	Comment    string
	AbsURL     string
}

// APIError is the arXiv API's error feed: one entry titled "Error" whose id is .../api/errors#...
type APIError struct {
	Code    string // the fragment of the error id ("incorrect_id_format_for_abc")
	Message string
}

func (e *APIError) Error() string { return "arXiv API error: " + e.Message }

// xmlFeed mirrors the Atom document; element names carry their namespace so that both the
// per-element and the root-declared namespace styles decode the same way.
type xmlFeed struct {
	XMLName      xml.Name   `xml:"http://www.w3.org/2005/Atom feed"`
	Title        string     `xml:"http://www.w3.org/2005/Atom title"`
	TotalResults string     `xml:"http://a9.com/-/spec/opensearch/1.1/ totalResults"`
	StartIndex   string     `xml:"http://a9.com/-/spec/opensearch/1.1/ startIndex"`
	ItemsPerPage string     `xml:"http://a9.com/-/spec/opensearch/1.1/ itemsPerPage"`
	Entries      []xmlEntry `xml:"http://www.w3.org/2005/Atom entry"`
}

type xmlEntry struct {
	ID        string `xml:"http://www.w3.org/2005/Atom id"`
	Title     string `xml:"http://www.w3.org/2005/Atom title"`
	Summary   string `xml:"http://www.w3.org/2005/Atom summary"`
	Published string `xml:"http://www.w3.org/2005/Atom published"`
	Updated   string `xml:"http://www.w3.org/2005/Atom updated"`
	Authors   []struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
	Links []struct {
		Href  string `xml:"href,attr"`
		Rel   string `xml:"rel,attr"`
		Title string `xml:"title,attr"`
	} `xml:"http://www.w3.org/2005/Atom link"`
	Categories []struct {
		Term string `xml:"term,attr"`
	} `xml:"http://www.w3.org/2005/Atom category"`
	Primary struct {
		Term string `xml:"term,attr"`
	} `xml:"http://arxiv.org/schemas/atom primary_category"`
	DOI        string `xml:"http://arxiv.org/schemas/atom doi"`
	JournalRef string `xml:"http://arxiv.org/schemas/atom journal_ref"`
	Comment    string `xml:"http://arxiv.org/schemas/atom comment"`
}

// MaxFeedBytes bounds a feed body the parser accepts.
const MaxFeedBytes = 64 << 20

// ErrNotFeed is returned for a body that is not an Atom feed.
var ErrNotFeed = errors.New("not an Atom feed")

// ParseFeed decodes an arXiv API Atom feed (2016-era or 2026 format). An error feed comes back as
// *APIError.
func ParseFeed(b []byte) (*Feed, error) {
	if len(b) > MaxFeedBytes {
		return nil, fmt.Errorf("arxiv feed: %d bytes is over the %d limit", len(b), MaxFeedBytes)
	}
	if err := crawler.CheckXMLDepth(b, 0); err != nil {
		return nil, fmt.Errorf("arxiv feed: %w", err)
	}
	var x xmlFeed
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		var se *xml.UnmarshalError
		if errors.As(err, &se) || strings.Contains(err.Error(), "expected element type") {
			return nil, fmt.Errorf("arxiv feed: %w: %v", ErrNotFeed, err)
		}
		return nil, fmt.Errorf("arxiv feed: %w", err)
	}
	f := &Feed{Title: collapse(x.Title)}
	var err error
	if f.TotalResults, err = atoiField("totalResults", x.TotalResults); err != nil {
		return nil, err
	}
	if f.StartIndex, err = atoiField("startIndex", x.StartIndex); err != nil {
		return nil, err
	}
	if f.ItemsPerPage, err = atoiField("itemsPerPage", x.ItemsPerPage); err != nil {
		return nil, err
	}
	for _, xe := range x.Entries {
		if i := strings.Index(xe.ID, "/api/errors#"); i >= 0 {
			return nil, &APIError{Code: xe.ID[i+len("/api/errors#"):], Message: collapse(xe.Summary)}
		}
		e, err := entryFrom(xe)
		if err != nil {
			return nil, err
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

func atoiField(name, v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, fmt.Errorf("arxiv feed: opensearch:%s %q is not a count", name, v)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// absRE pulls the id and version out of an entry id (http(s)://arxiv.org/abs/<id>v<n>).
var absRE = regexp.MustCompile(`arxiv\.org/abs/([A-Za-z.-]+/\d{7}|\d{4}\.\d{4,5})(v\d+)?$`)

func entryFrom(xe xmlEntry) (Entry, error) {
	m := absRE.FindStringSubmatch(strings.TrimSpace(xe.ID))
	if m == nil {
		return Entry{}, fmt.Errorf("arxiv feed: entry id %q is not an arXiv abs URL", truncate(xe.ID, 100))
	}
	e := Entry{
		ID: m[1], Version: m[2], Title: collapse(xe.Title), Summary: collapse(xe.Summary),
		Published: webapi.Date(strings.TrimSpace(xe.Published)), Updated: webapi.Date(strings.TrimSpace(xe.Updated)),
		Primary: strings.TrimSpace(xe.Primary.Term), DOI: strings.TrimSpace(xe.DOI),
		JournalRef: collapse(xe.JournalRef), Comment: collapse(xe.Comment),
		AbsURL: "https://arxiv.org/abs/" + m[1],
	}
	for _, a := range xe.Authors {
		if n := collapse(a.Name); n != "" {
			e.Authors = append(e.Authors, n)
		}
	}
	for _, c := range xe.Categories {
		if t := strings.TrimSpace(c.Term); t != "" {
			e.Categories = append(e.Categories, t)
		}
	}
	return e, nil
}

// Artifact turns an entry into the interchange format: id arxiv:<id>, the abstract as text,
// categories and DOI as tags.
func (e Entry) Artifact() artifact.Artifact {
	a := artifact.Artifact{
		ID: "arxiv:" + e.ID, Source: artifact.SourceArXiv, Kind: artifact.KindPaper, URL: e.AbsURL,
		Title: e.Title, Text: e.Summary, Published: e.Published,
	}
	for _, c := range e.Categories {
		a.Tags = append(a.Tags, "arxiv-category:"+c)
	}
	if e.DOI != "" {
		a.Tags = append(a.Tags, "doi:"+strings.ToLower(e.DOI))
	}
	return a
}

// collapse folds the feed's hard-wrapped text into single spaces.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
