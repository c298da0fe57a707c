package openalex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Page is one page of a /works list answer.
type Page struct {
	Count      int64
	PerPage    int
	NextCursor string // "" when there is none (null or absent)
	Works      []Work
	// Groups is the number of group_by buckets (a group_by answer carries no works).
	Groups int
}

// Work is the subset of an OpenAlex Work object the adapter uses.
type Work struct {
	ID              string           `json:"id"`
	DOI             string           `json:"doi"`
	Title           string           `json:"title"`
	DisplayName     string           `json:"display_name"`
	PublicationDate string           `json:"publication_date"`
	PublicationYear int              `json:"publication_year"`
	Type            string           `json:"type"`
	IDs             map[string]any   `json:"ids"`
	IsRetracted     bool             `json:"is_retracted"`
	Abstract        map[string][]int `json:"abstract_inverted_index"`
	Keywords        []struct {
		Name string `json:"display_name"`
	} `json:"keywords"`
	PrimaryLocation *Location `json:"primary_location"`
	// BestOALocation is the best open-access copy (its pdf_url is the full text fetched).
	BestOALocation *Location `json:"best_oa_location"`
}

// Location is the subset of an OpenAlex location object the adapter uses.
type Location struct {
	LandingPageURL string `json:"landing_page_url"`
	PDFURL         string `json:"pdf_url"`
	Source         *struct {
		DisplayName string `json:"display_name"`
	} `json:"source"`
}

// PDFURL is the work's open-access PDF: best_oa_location.pdf_url, else primary_location.pdf_url
// (a landing page is not a PDF and is not used).
func (w *Work) PDFURL() string {
	for _, l := range []*Location{w.BestOALocation, w.PrimaryLocation} {
		if l != nil && strings.TrimSpace(l.PDFURL) != "" {
			return strings.TrimSpace(l.PDFURL)
		}
	}
	return ""
}

type rawPage struct {
	Meta *struct {
		Count      int64   `json:"count"`
		PerPage    int     `json:"per_page"`
		NextCursor *string `json:"next_cursor"`
	} `json:"meta"`
	Results []Work            `json:"results"`
	GroupBy []json.RawMessage `json:"group_by"`
}

// ParsePage decodes a /works list answer (search, filter, cursor pages, group_by).
func ParsePage(b []byte) (*Page, error) {
	var r rawPage
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("openalex works page: %w", err)
	}
	if r.Meta == nil {
		return nil, fmt.Errorf("openalex works page: no meta object")
	}
	p := &Page{Count: r.Meta.Count, PerPage: r.Meta.PerPage, Works: r.Results, Groups: len(r.GroupBy)}
	if r.Meta.NextCursor != nil {
		p.NextCursor = *r.Meta.NextCursor
	}
	return p, nil
}

// ParseWork decodes a singleton /works/{id} answer.
func ParseWork(b []byte) (*Work, error) {
	var w Work
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("openalex work: %w", err)
	}
	if w.WID() == "" {
		return nil, fmt.Errorf("openalex work: no OpenAlex id")
	}
	return &w, nil
}

var widRE = regexp.MustCompile(`(?:^|/)(W\d+)$`)

// WID returns the work's short id ("W2162348455"), from id or ids.openalex (select=ids answers).
func (w *Work) WID() string {
	for _, s := range []string{w.ID, w.idString("openalex")} {
		if m := widRE.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
			return m[1]
		}
	}
	return ""
}

func (w *Work) idString(k string) string {
	if s, ok := w.IDs[k].(string); ok {
		return s
	}
	return ""
}

// DOIName returns the bare DOI ("10.1038/35002501") or "".
func (w *Work) DOIName() string {
	d := w.DOI
	if d == "" {
		d = w.idString("doi")
	}
	d = strings.TrimSpace(d)
	for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"} {
		d = strings.TrimPrefix(d, p)
	}
	return strings.ToLower(d)
}

// MaxAbstractWords bounds the rebuilt abstract (an inverted index with absurd positions must not
// allocate without limit).
const MaxAbstractWords = 20000

// AbstractText rebuilds the abstract from its inverted index (word -> positions).
func (w *Work) AbstractText() string {
	if len(w.Abstract) == 0 {
		return ""
	}
	type wp struct {
		pos  int
		word string
	}
	var all []wp
	for word, ps := range w.Abstract {
		for _, p := range ps {
			if p >= 0 && p < MaxAbstractWords {
				all = append(all, wp{p, word})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].pos != all[j].pos {
			return all[i].pos < all[j].pos
		}
		return all[i].word < all[j].word
	})
	words := make([]string, 0, len(all))
	last := -1
	for _, x := range all {
		if x.pos == last {
			continue // two words claim one position: keep the first
		}
		last = x.pos
		words = append(words, x.word)
	}
	return strings.Join(strings.Fields(strings.Join(words, " ")), " ")
}

// Artifact turns a work into the interchange format: id openalex:W…, the rebuilt abstract as text.
func (w *Work) Artifact() artifact.Artifact {
	wid := w.WID()
	title := w.Title
	if title == "" {
		title = w.DisplayName
	}
	a := artifact.Artifact{
		ID: "openalex:" + wid, Source: artifact.SourceOpenAlex, Kind: artifact.KindPaper,
		URL: "https://openalex.org/" + wid, Title: strings.Join(strings.Fields(title), " "),
		Text: w.AbstractText(), Published: webapi.Date(w.PublicationDate),
	}
	if d := w.DOIName(); d != "" {
		a.Tags = append(a.Tags, "doi:"+d)
	}
	if w.Type != "" {
		a.Tags = append(a.Tags, "type:"+w.Type)
	}
	if w.IsRetracted {
		a.Tags = append(a.Tags, "retracted")
	}
	for _, k := range w.Keywords {
		if n := strings.TrimSpace(k.Name); n != "" {
			a.Tags = append(a.Tags, "keyword:"+n)
		}
	}
	if w.PublicationDate == "" && w.PublicationYear > 0 {
		a.Tags = append(a.Tags, fmt.Sprintf("year:%d", w.PublicationYear))
	}
	return a
}
