package semanticscholar

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Paper is the subset of an S2 Academic Graph paper object the adapter uses.
type Paper struct {
	PaperID         string         `json:"paperId"`
	CorpusID        int64          `json:"corpusId"`
	ExternalIDs     map[string]any `json:"externalIds"`
	Title           string         `json:"title"`
	Abstract        string         `json:"abstract"`
	Year            int            `json:"year"`
	PublicationDate string         `json:"publicationDate"`
	URL             string         `json:"url"`
	Venue           string         `json:"venue"`
	OpenAccessPDF   *struct {
		URL string `json:"url"`
	} `json:"openAccessPdf"`
}

// PDFURL is the paper's open-access PDF as S2 lists it (openAccessPdf.url; S2 lists an arXiv
// paper's arXiv PDF there), or "".
func (p *Paper) PDFURL() string {
	if p.OpenAccessPDF != nil {
		return strings.TrimSpace(p.OpenAccessPDF.URL)
	}
	return ""
}

// Item is one element of a list's data[]: a paper (search), or a citation edge with the citing
// (citations) or cited (references) paper and the citation contexts and intents.
type Item struct {
	Paper
	CitingPaper   *Paper   `json:"citingPaper"`
	CitedPaper    *Paper   `json:"citedPaper"`
	Contexts      []string `json:"contexts"`
	Intents       []string `json:"intents"`
	IsInfluential bool     `json:"isInfluential"`
}

// Target is the paper an item is about: the citing paper of a citation, the cited paper of a
// reference, else the item itself.
func (it *Item) Target() *Paper {
	switch {
	case it.CitingPaper != nil:
		return it.CitingPaper
	case it.CitedPaper != nil:
		return it.CitedPaper
	}
	return &it.Paper
}

// List is one page of /paper/search (offset/next), /paper/search/bulk (token) or
// /paper/{id}/citations|references (offset/next).
type List struct {
	Total  int64
	Offset int
	Next   int    // 0 when absent
	Token  string // bulk search continuation; "" at the end
	Items  []Item
}

// ParseList decodes a paged list answer.
func ParseList(b []byte) (*List, error) {
	var r struct {
		Total  *int64  `json:"total"`
		Offset *int    `json:"offset"`
		Next   *int    `json:"next"`
		Token  *string `json:"token"`
		Data   []Item  `json:"data"`
		Error  string  `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("semanticscholar list: %w", err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("semanticscholar list: error body: %s", webapi.ErrorMessage(b))
	}
	if r.Data == nil && r.Total == nil && r.Offset == nil {
		return nil, fmt.Errorf("semanticscholar list: no data, total or offset")
	}
	l := &List{Items: r.Data}
	if r.Total != nil {
		l.Total = *r.Total
	}
	if r.Offset != nil {
		l.Offset = *r.Offset
	}
	if r.Next != nil {
		l.Next = *r.Next
	}
	if r.Token != nil {
		l.Token = *r.Token
	}
	return l, nil
}

// ParsePaper decodes a /paper/{id} answer.
func ParsePaper(b []byte) (*Paper, error) {
	var p Paper
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("semanticscholar paper: %w", err)
	}
	if p.PaperID == "" && p.Corpus() == 0 {
		return nil, fmt.Errorf("semanticscholar paper: no paperId or corpusId")
	}
	return &p, nil
}

// ParseBatch decodes a POST /paper/batch answer (an array with null for unknown ids).
func ParseBatch(b []byte) ([]*Paper, error) {
	var ps []*Paper
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("semanticscholar batch: %w", err)
	}
	return ps, nil
}

// Corpus returns the corpus id from corpusId or externalIds.CorpusId.
func (p *Paper) Corpus() int64 {
	if p.CorpusID > 0 {
		return p.CorpusID
	}
	switch v := p.ExternalIDs["CorpusId"].(type) {
	case float64:
		if v > 0 && v < 1<<53 {
			return int64(v)
		}
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func (p *Paper) ext(k string) string {
	if s, ok := p.ExternalIDs[k].(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

// ArtifactID is s2:CorpusId:<n>, or s2:paper:<sha> when the answer carried no corpus id.
func (p *Paper) ArtifactID() string {
	if c := p.Corpus(); c > 0 {
		return "s2:CorpusId:" + strconv.FormatInt(c, 10)
	}
	if p.PaperID != "" {
		return "s2:paper:" + p.PaperID
	}
	return ""
}

// MaxContexts bounds the citation contexts copied into one artifact.
const MaxContexts = 20

// Artifact turns a paper into the interchange format. For a citation edge, pass the item: its
// contexts are appended to the text (that is where "we train on MS1MV2 [12]" is written) and its
// intents become tags. The cited paper's title is deliberately not written into the text: it names
// the dataset, and the matcher would read that as the citing paper's own words.
func (p *Paper) Artifact(edge *Item) artifact.Artifact {
	a := artifact.Artifact{ID: p.ArtifactID(), Source: artifact.SourceSemanticScholar, Kind: artifact.KindPaper,
		URL: p.URL, Title: strings.Join(strings.Fields(p.Title), " "), Text: strings.TrimSpace(p.Abstract),
		Published: webapi.Date(p.PublicationDate)}
	if a.URL == "" && p.PaperID != "" {
		a.URL = "https://www.semanticscholar.org/paper/" + p.PaperID
	}
	if d := p.ext("DOI"); d != "" {
		a.Tags = append(a.Tags, "doi:"+strings.ToLower(d))
	}
	if ax := p.ext("ArXiv"); ax != "" {
		a.Tags = append(a.Tags, "arxiv:"+ax)
	}
	if a.Published == "" && p.Year > 0 {
		a.Tags = append(a.Tags, fmt.Sprintf("year:%d", p.Year))
	}
	if edge == nil {
		return a
	}
	var ctx []string
	for _, c := range edge.Contexts {
		if c = strings.Join(strings.Fields(c), " "); c != "" && len(ctx) < MaxContexts {
			ctx = append(ctx, "- "+c)
		}
	}
	if len(ctx) > 0 {
		block := "Citation contexts:\n" + strings.Join(ctx, "\n")
		if a.Text != "" {
			a.Text += "\n\n" + block
		} else {
			a.Text = block
		}
	}
	for _, in := range edge.Intents {
		if in = strings.TrimSpace(in); in != "" {
			a.Tags = append(a.Tags, "intent:"+in)
		}
	}
	if edge.IsInfluential {
		a.Tags = append(a.Tags, "influential-citation")
	}
	return a
}
