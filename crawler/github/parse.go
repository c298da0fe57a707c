package github

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// TextMatch is one element of text_matches (Accept: application/vnd.github.text-match+json).
type TextMatch struct {
	ObjectType string `json:"object_type"`
	Property   string `json:"property"`
	Fragment   string `json:"fragment"`
}

// Repo is a repository object (search items, /repos/{o}/{r}, code search's repository).
type Repo struct {
	FullName    string      `json:"full_name"`
	HTMLURL     string      `json:"html_url"`
	Description *string     `json:"description"`
	Topics      []string    `json:"topics"`
	CreatedAt   string      `json:"created_at"`
	PushedAt    string      `json:"pushed_at"`
	Fork        bool        `json:"fork"`
	Archived    bool        `json:"archived"`
	Language    *string     `json:"language"`
	Branch      string      `json:"default_branch"`
	Stars       int64       `json:"stargazers_count"`
	TextMatches []TextMatch `json:"text_matches"`
}

// Issue is an issue or pull request (search items and /repos/{o}/{r}/issues).
type Issue struct {
	Number        int         `json:"number"`
	Title         string      `json:"title"`
	Body          *string     `json:"body"`
	HTMLURL       string      `json:"html_url"`
	RepositoryURL string      `json:"repository_url"`
	State         string      `json:"state"`
	Comments      int         `json:"comments"`
	CreatedAt     string      `json:"created_at"`
	PullRequest   *struct{}   `json:"pull_request"`
	Labels        []Label     `json:"labels"`
	TextMatches   []TextMatch `json:"text_matches"`
}

// Label is an issue label.
type Label struct {
	Name string `json:"name"`
}

// CodeItem is a code search hit.
type CodeItem struct {
	Name        string      `json:"name"`
	Path        string      `json:"path"`
	HTMLURL     string      `json:"html_url"`
	Repository  Repo        `json:"repository"`
	TextMatches []TextMatch `json:"text_matches"`
}

// Comment is an issue comment.
type Comment struct {
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
	User      struct {
		Login string `json:"login"`
	} `json:"user"`
}

// Search is a search response envelope.
type Search struct {
	TotalCount int             `json:"total_count"`
	Incomplete bool            `json:"incomplete_results"`
	Items      json.RawMessage `json:"items"`
}

// ErrNotSearch is returned when a body is not a search envelope.
var ErrNotSearch = errors.New("not a search response (no items)")

// ParseSearch decodes a search envelope.
func ParseSearch(body []byte) (*Search, error) {
	var s Search
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("decode search response: %w", err)
	}
	if string(s.Items) == "null" {
		s.Items = json.RawMessage("[]")
	}
	if len(s.Items) == 0 || s.Items[0] != '[' {
		return nil, ErrNotSearch
	}
	return &s, nil
}

var fullNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$`)

// ParseRepos decodes repository items (search items or a one-element list); items without a valid
// full_name are skipped.
func ParseRepos(items []byte) ([]Repo, error) {
	var raw []Repo
	if err := json.Unmarshal(items, &raw); err != nil {
		return nil, fmt.Errorf("decode repositories: %w", err)
	}
	out := raw[:0]
	for _, r := range raw {
		if fullNameRE.MatchString(r.FullName) {
			out = append(out, r)
		}
	}
	return out, nil
}

// ParseRepo decodes one repository object.
func ParseRepo(body []byte) (*Repo, error) {
	var r Repo
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode repository: %w", err)
	}
	if !fullNameRE.MatchString(r.FullName) {
		return nil, fmt.Errorf("repository full_name %q is not owner/name", r.FullName)
	}
	return &r, nil
}

// ParseIssues decodes issue items (a search's items or a /issues list).
func ParseIssues(items []byte) ([]Issue, error) {
	var raw []Issue
	if err := json.Unmarshal(items, &raw); err != nil {
		return nil, fmt.Errorf("decode issues: %w", err)
	}
	out := raw[:0]
	for _, is := range raw {
		if is.Number > 0 && issueRepo(is) != "" {
			out = append(out, is)
		}
	}
	return out, nil
}

// ParseCode decodes code search items.
func ParseCode(items []byte) ([]CodeItem, error) {
	var raw []CodeItem
	if err := json.Unmarshal(items, &raw); err != nil {
		return nil, fmt.Errorf("decode code results: %w", err)
	}
	out := raw[:0]
	for _, c := range raw {
		if fullNameRE.MatchString(c.Repository.FullName) && c.Path != "" {
			out = append(out, c)
		}
	}
	return out, nil
}

// ParseComments decodes an issue's comments.
func ParseComments(body []byte) ([]Comment, error) {
	var out []Comment
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode comments: %w", err)
	}
	return out, nil
}

var issueHTMLRE = regexp.MustCompile(`/([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/(issues|pull)/\d+$`)

// issueRepo is the owner/name of an issue's repository.
func issueRepo(is Issue) string {
	if m := issueHTMLRE.FindStringSubmatch(is.HTMLURL); m != nil {
		return m[1]
	}
	if _, r, ok := strings.Cut(is.RepositoryURL, "/repos/"); ok && fullNameRE.MatchString(r) {
		return r
	}
	return ""
}

// RepoArtifact turns a repository into an artifact (README text is appended later).
func (s *Source) RepoArtifact(r *Repo) artifact.Artifact {
	a := artifact.Artifact{ID: "gh:repo:" + r.FullName, Source: Name, Kind: artifact.KindRepository,
		URL: s.htmlURL(r.HTMLURL, "/"+r.FullName), Title: r.FullName, Published: webapi.Date(r.CreatedAt)}
	var parts []string
	if r.Description != nil && strings.TrimSpace(*r.Description) != "" {
		parts = append(parts, strings.TrimSpace(*r.Description))
	}
	parts = append(parts, fragments(r.TextMatches, parts)...)
	a.Text = clip(strings.Join(parts, "\n\n"))
	a.Tags = append(a.Tags, r.Topics...)
	if r.Fork {
		a.Tags = append(a.Tags, "fork")
	}
	if r.Archived {
		a.Tags = append(a.Tags, "archived")
	}
	return a
}

// IssueArtifact turns an issue into an artifact (comments are appended later).
func (s *Source) IssueArtifact(is Issue) artifact.Artifact {
	repo := issueRepo(is)
	a := artifact.Artifact{ID: fmt.Sprintf("gh:issue:%s#%d", repo, is.Number), Source: Name, Kind: artifact.KindIssue,
		URL: s.htmlURL(is.HTMLURL, fmt.Sprintf("/%s/issues/%d", repo, is.Number)), Title: is.Title, Published: webapi.Date(is.CreatedAt)}
	var parts []string
	if is.Body != nil && strings.TrimSpace(*is.Body) != "" {
		parts = append(parts, *is.Body)
	}
	parts = append(parts, fragments(is.TextMatches, parts)...)
	a.Text = clip(strings.Join(parts, "\n\n"))
	for _, l := range is.Labels {
		if l.Name != "" {
			a.Tags = append(a.Tags, l.Name)
		}
	}
	if is.PullRequest != nil {
		a.Tags = append(a.Tags, "pull-request")
	}
	if is.State != "" {
		a.Tags = append(a.Tags, "state:"+is.State)
	}
	return a
}

// CodeArtifact turns a code hit into an artifact for its repository, listing the matched file.
func (s *Source) CodeArtifact(c CodeItem) artifact.Artifact {
	a := s.RepoArtifact(&c.Repository)
	extra := fragments(c.TextMatches, []string{a.Text})
	if len(extra) > 0 {
		a.Text = clip(strings.TrimSpace(a.Text + "\n\n" + strings.Join(extra, "\n\n")))
	}
	a.Files = []artifact.File{{Path: c.Path}}
	return a
}

// fragments returns text-match fragments not already contained in have.
func fragments(tm []TextMatch, have []string) []string {
	var out []string
	joined := strings.Join(have, "\n")
	for _, m := range tm {
		f := strings.TrimSpace(m.Fragment)
		if f == "" || strings.Contains(joined, f) {
			continue
		}
		joined += "\n" + f
		out = append(out, f)
	}
	return out
}

// htmlURL uses the API's html_url when it is an http(s) URL, else builds one from the web root.
func (s *Source) htmlURL(given, path string) string {
	if strings.HasPrefix(given, "https://") || strings.HasPrefix(given, "http://") {
		return given
	}
	return s.web + path
}

// AppendText appends a section to an artifact's text.
func AppendText(a *artifact.Artifact, section []byte) {
	t := strings.TrimSpace(string(bytes.ToValidUTF8(section, []byte("\uFFFD"))))
	if t == "" {
		return
	}
	if a.Text == "" {
		a.Text = clip(t)
		return
	}
	a.Text = clip(a.Text + "\n\n" + t)
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

// Tree is a git tree (GET /repos/{o}/{r}/git/trees/{ref}?recursive=1).
type Tree struct {
	Tree []struct {
		Path string `json:"path"`
		Type string `json:"type"`
		Size *int64 `json:"size"`
	} `json:"tree"`
	Truncated bool `json:"truncated"`
}

// ParseTree decodes a git tree.
func ParseTree(body []byte) (*Tree, error) {
	var t Tree
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("decode tree: %w", err)
	}
	if t.Tree == nil {
		return nil, fmt.Errorf("not a git tree (no tree)")
	}
	return &t, nil
}

// RateLimits is the /rate_limit body.
type RateLimits struct {
	Resources map[string]struct {
		Limit     int   `json:"limit"`
		Remaining int   `json:"remaining"`
		Reset     int64 `json:"reset"`
	} `json:"resources"`
}
