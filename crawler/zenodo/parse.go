package zenodo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// File is a record file in either format: RDM ({key, size} or {filename, filesize}) or legacy.
type File struct {
	Key      string `json:"key"`
	Filename string `json:"filename"`
	Size     *int64 `json:"size"`
	Filesize *int64 `json:"filesize"`
}

// Record is a Zenodo record (search hit or /api/records/{id}).
type Record struct {
	ID       json.RawMessage `json:"id"` // a number (records) or a string (communities, drafts)
	Created  string          `json:"created"`
	Updated  string          `json:"updated"` // when the record last changed (RFC 3339)
	Title    string          `json:"title"`
	DOI      string          `json:"doi"`
	Metadata struct {
		Title           string   `json:"title"`
		Description     string   `json:"description"`
		PublicationDate string   `json:"publication_date"`
		Keywords        []string `json:"keywords"`
		ResourceType    struct {
			Type    string `json:"type"`
			Subtype string `json:"subtype"`
		} `json:"resource_type"`
		RelatedIdentifiers []struct {
			Identifier string `json:"identifier"`
			Relation   string `json:"relation"`
		} `json:"related_identifiers"`
		Creators []struct {
			Name string `json:"name"`
		} `json:"creators"`
		Notes string `json:"notes"`
	} `json:"metadata"`
	Files json.RawMessage `json:"files"` // a list (search, legacy) or {entries: {...}} / {enabled: false}
	Links map[string]any  `json:"links"`
}

// RecordID returns the numeric record id as a string.
func (r *Record) RecordID() (string, error) {
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(r.ID))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return "", fmt.Errorf("record id %s is not a number", r.ID)
	}
	if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
		return "", fmt.Errorf("record id %s is not a record number", n)
	}
	return n.String(), nil
}

// SearchPage is a records search response.
type SearchPage struct {
	Hits struct {
		Hits  []json.RawMessage `json:"hits"`
		Total json.RawMessage   `json:"total"` // a number, or {"value": n} in some versions
	} `json:"hits"`
	Links map[string]string `json:"links"`
}

// ParseSearch decodes a search response; records that do not parse are skipped.
func ParseSearch(body []byte) ([]*Record, *SearchPage, error) {
	var p SearchPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, fmt.Errorf("decode records search: %w", err)
	}
	if p.Hits.Hits == nil && len(p.Hits.Total) == 0 {
		return nil, nil, fmt.Errorf("not a records search response (no hits)")
	}
	var out []*Record
	for _, h := range p.Hits.Hits {
		r, err := ParseRecord(h)
		if err == nil {
			out = append(out, r)
		}
	}
	return out, &p, nil
}

// Total is hits.total as a number (0 when absent).
func (p *SearchPage) Total() int {
	var n int
	if json.Unmarshal(p.Hits.Total, &n) == nil {
		return n
	}
	var o struct {
		Value int `json:"value"`
	}
	_ = json.Unmarshal(p.Hits.Total, &o)
	return o.Value
}

// ParseRecord decodes one record; it must carry a numeric id and a title.
func ParseRecord(body []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if _, err := r.RecordID(); err != nil {
		return nil, err
	}
	if r.Metadata.Title == "" && r.Title == "" {
		return nil, fmt.Errorf("record has no title")
	}
	return &r, nil
}

// files reads the files list of either format.
func (r *Record) files() []artifact.File {
	var list []File
	if err := json.Unmarshal(r.Files, &list); err != nil {
		var obj struct {
			Entries map[string]File `json:"entries"`
		}
		if json.Unmarshal(r.Files, &obj) != nil {
			return nil
		}
		for k, f := range obj.Entries {
			if f.Key == "" {
				f.Key = k
			}
			list = append(list, f)
		}
	}
	var out []artifact.File
	for _, f := range list {
		name := f.Key
		if name == "" {
			name = f.Filename
		}
		if name == "" {
			continue
		}
		af := artifact.File{Path: name}
		if f.Size != nil && *f.Size >= 0 {
			af.Size = artifact.Size(*f.Size)
		} else if f.Filesize != nil && *f.Filesize >= 0 {
			af.Size = artifact.Size(*f.Filesize)
		}
		out = append(out, af)
	}
	return out
}

// Artifact turns a record into an artifact.
func (s *Source) Artifact(r *Record) artifact.Artifact {
	id, _ := r.RecordID()
	title := r.Metadata.Title
	if title == "" {
		title = r.Title
	}
	a := artifact.Artifact{ID: "zenodo:" + id, Source: Name, Kind: artifact.KindRecord, Title: title,
		URL: s.base + "/records/" + id}
	if h, ok := r.Links["self_html"].(string); ok && strings.HasPrefix(h, "http") {
		a.URL = h
	} else if h, ok := r.Links["html"].(string); ok && strings.HasPrefix(h, "http") {
		a.URL = h
	}
	// The upload date on Zenodo (created) is when the copy appeared; publication_date is what the
	// uploader typed and may be the original dataset's year.
	a.Published = webapi.Date(r.Created)
	if a.Published == "" {
		a.Published = webapi.Date(r.Metadata.PublicationDate)
	}
	var parts []string
	if d := HTMLText(r.Metadata.Description); d != "" {
		parts = append(parts, d)
	}
	if n := HTMLText(r.Metadata.Notes); n != "" {
		parts = append(parts, n)
	}
	for _, ri := range r.Metadata.RelatedIdentifiers {
		if ri.Identifier != "" {
			parts = append(parts, ri.Relation+": "+ri.Identifier)
		}
	}
	a.Text = clip(strings.Join(parts, "\n\n"))
	a.Tags = append(a.Tags, r.Metadata.Keywords...)
	if t := r.Metadata.ResourceType.Type; t != "" {
		a.Tags = append(a.Tags, "resource_type:"+t)
	}
	a.Files = r.files()
	return a
}

var (
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	blockRE = regexp.MustCompile(`(?i)</?(p|br|div|li|ul|ol|h[1-6]|tr|pre)\b[^>]*>`)
	spaceRE = regexp.MustCompile(`[ \t]+`)
	nlRE    = regexp.MustCompile(`\n\s*\n+`)
)

// HTMLText turns Zenodo's HTML description into plain text (tags dropped, entities decoded).
// It never executes or keeps markup; reports escape whatever remains.
func HTMLText(s string) string {
	if s == "" {
		return ""
	}
	s = blockRE.ReplaceAllString(s, "\n")
	s = tagRE.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = spaceRE.ReplaceAllString(s, " ")
	s = nlRE.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

func clip(s string) string {
	if len(s) <= MaxTextBytes {
		return s
	}
	s = s[:MaxTextBytes]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
