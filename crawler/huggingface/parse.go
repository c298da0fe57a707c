package huggingface

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"strings"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Sibling is one file of a repo (siblings[] in the API; size and lfs only with blobs=true).
type Sibling struct {
	RFilename string `json:"rfilename"`
	Size      *int64 `json:"size,omitempty"`
	LFS       *struct {
		Size int64 `json:"size"`
	} `json:"lfs,omitempty"`
}

// Info is a model or dataset object from /api/models, /api/datasets and their {id} endpoints.
// Fields absent from a response stay zero (list items and ?expand= answers carry a subset).
type Info struct {
	ID           string         `json:"id"`
	ModelID      string         `json:"modelId"`
	Author       string         `json:"author"`
	SHA          string         `json:"sha"`
	LastModified string         `json:"lastModified"`
	CreatedAt    string         `json:"createdAt"`
	Private      bool           `json:"private"`
	Gated        any            `json:"gated"`
	Disabled     bool           `json:"disabled"`
	Downloads    int64          `json:"downloads"`
	Likes        int64          `json:"likes"`
	PipelineTag  string         `json:"pipeline_tag"`
	LibraryName  string         `json:"library_name"`
	Tags         []string       `json:"tags"`
	CardData     map[string]any `json:"cardData"`
	Siblings     []Sibling      `json:"siblings"`
	Description  string         `json:"description"` // datasets
	// ChildrenModelCount is the Hub's count of a model's children by relation
	// (expand=childrenModelCount).
	ChildrenModelCount ChildCounts `json:"childrenModelCount"`
}

// ChildCounts is a model's childrenModelCount: {"adapter": n, "finetune": n, "merge": n,
// "quantized": n} (one number is read as a total). Known is false when the answer carried none.
type ChildCounts struct {
	Known bool
	Total int
	By    map[string]int
}

// UnmarshalJSON reads an object of counts by relation, or one number. Anything else (a negative
// or non-numeric count) is read as no count, not as an error: the repo is still sighted, and a
// model without a count is searched for children (nothing is pruned on a count it cannot read).
func (c *ChildCounts) UnmarshalJSON(b []byte) error {
	*c = ChildCounts{}
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '{' {
		var by map[string]json.Number
		if json.Unmarshal(t, &by) != nil {
			return nil
		}
		out := ChildCounts{Known: true, By: make(map[string]int, len(by))}
		for rel, n := range by {
			v, err := n.Int64()
			if err != nil || v < 0 {
				return nil
			}
			out.By[rel] = int(v)
			out.Total += int(v)
		}
		*c = out
		return nil
	}
	var n json.Number
	if json.Unmarshal(t, &n) != nil {
		return nil
	}
	if v, err := n.Int64(); err == nil && v >= 0 {
		*c = ChildCounts{Known: true, Total: int(v)}
	}
	return nil
}

func (i *Info) hasSibling(name string) bool {
	for _, s := range i.Siblings {
		if s.RFilename == name {
			return true
		}
	}
	return false
}

// ErrNoID is returned for an object without an id.
var ErrNoID = errors.New("object has no id")

// ParseInfo decodes one model or dataset object.
func ParseInfo(body []byte) (*Info, error) {
	var in Info
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("decode repo info: %w", err)
	}
	if in.ID == "" {
		in.ID = in.ModelID
	}
	if !validID(in.ID) {
		if in.ID == "" {
			return nil, ErrNoID
		}
		return nil, fmt.Errorf("repo id %q is not a hub id", in.ID)
	}
	return &in, nil
}

// validID accepts "owner/name" and legacy un-namespaced "name".
func validID(id string) bool {
	if id == "" || len(id) > 200 || !utf8.ValidString(id) {
		return false
	}
	if webapi.IsHubID(id) {
		return true
	}
	return !strings.ContainsAny(id, "/ \t\r\n?#") && webapi.Slug(id) == id
}

// ParseList decodes a list/search response (a JSON array of objects). Items without a usable id
// are skipped.
func ParseList(body []byte, datasets bool) ([]*Info, error) {
	trim := bytes.TrimSpace(body)
	if len(trim) == 0 || trim[0] != '[' {
		return nil, fmt.Errorf("list response is not a JSON array")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trim, &raw); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	out := make([]*Info, 0, len(raw))
	for _, r := range raw {
		in, err := ParseInfo(r)
		if err != nil {
			continue
		}
		out = append(out, in)
	}
	return out, nil
}

// Artifact turns a repo object into an artifact (text comes from the card, see ApplyCard).
func (s *Source) Artifact(in *Info, isDataset bool) artifact.Artifact {
	a := artifact.Artifact{Source: Name, Title: in.ID, URL: s.PageURL(in.ID, isDataset)}
	if isDataset {
		a.ID, a.Kind = "hf:dataset:"+in.ID, artifact.KindDataset
	} else {
		a.ID, a.Kind = "hf:model:"+in.ID, artifact.KindModel
	}
	a.Tags = append([]string(nil), in.Tags...)
	a.Published = Published(in.CreatedAt)
	a.DeclaredDatasets = DeclaredDatasets(in.CardData, in.Tags)
	a.BaseModels = BaseModels(in.CardData, in.Tags)
	for _, sib := range in.Siblings {
		f := artifact.File{Path: sib.RFilename}
		switch {
		case sib.LFS != nil && sib.LFS.Size >= 0:
			f.Size = artifact.Size(sib.LFS.Size)
		case sib.Size != nil && *sib.Size >= 0:
			f.Size = artifact.Size(*sib.Size)
		}
		if f.Path != "" {
			a.Files = append(a.Files, f)
		}
	}
	if isDataset && in.Description != "" {
		a.Text = clip(in.Description)
	}
	return a
}

// createdAt prefix of repos made before the Hub recorded creation dates (2022-03-02T23:29:04/05Z).
const unknownCreated = "2022-03-02T23:29:0"

// Published is the YYYY-MM-DD creation date, or "" when the Hub does not know it.
func Published(createdAt string) string {
	if strings.HasPrefix(createdAt, unknownCreated) {
		return ""
	}
	return webapi.Date(createdAt)
}

// DeclaredDatasets merges cardData.datasets (a list or one string) and a dataset card's
// source_datasets ("extended|laion/laion2B-en" → "laion/laion2B-en"; "original" is dropped) with
// dataset:<id> tags.
func DeclaredDatasets(card map[string]any, tags []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, d := range webapi.Strings(card["datasets"]) {
		add(d)
	}
	for _, d := range sourceDatasets(card["source_datasets"]) {
		add(d)
	}
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, "dataset:"); ok {
			add(v)
		}
	}
	return out
}

// baseModelRelations are the qualifiers the Hub puts between base_model: and the id.
var baseModelRelations = map[string]bool{"finetune": true, "adapter": true, "quantized": true, "merge": true}

// BaseModels merges cardData.base_model (a string or list) with base_model:[relation:]<id> tags.
func BaseModels(card map[string]any, tags []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, b := range webapi.Strings(card["base_model"]) {
		add(b)
	}
	for _, t := range tags {
		v, ok := strings.CutPrefix(t, "base_model:")
		if !ok {
			continue
		}
		if rel, rest, ok := strings.Cut(v, ":"); ok && baseModelRelations[rel] {
			v = rest
		}
		add(v)
	}
	return out
}

// ApplyCard sets the artifact's text to the card and fills declared datasets and base models
// from its front matter when the API did not give them.
func ApplyCard(a *artifact.Artifact, body []byte) {
	text := string(bytes.ToValidUTF8(body, []byte("\uFFFD")))
	a.Text = clip(text)
	fm, _ := webapi.FrontMatter(text)
	if fm == nil {
		return
	}
	a.DeclaredDatasets = mergeStrings(a.DeclaredDatasets, webapi.Strings(fm["datasets"]))
	a.DeclaredDatasets = mergeStrings(a.DeclaredDatasets, sourceDatasets(fm["source_datasets"]))
	a.BaseModels = mergeStrings(a.BaseModels, webapi.Strings(fm["base_model"]))
	if len(a.Tags) == 0 {
		a.Tags = webapi.Strings(fm["tags"])
	}
}

func mergeStrings(a, b []string) []string {
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			a = append(a, s)
		}
	}
	return a
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

// sourceDatasets reads a dataset card's source_datasets: "original" says the data is new;
// "extended|<id>" and "<id>" name the datasets it was built from.
func sourceDatasets(v any) []string {
	var out []string
	for _, s := range webapi.Strings(v) {
		s = strings.TrimPrefix(s, "extended|")
		if s == "" || s == "original" || strings.HasPrefix(s, "extended") || s == "other" {
			continue
		}
		out = append(out, s)
	}
	return out
}
