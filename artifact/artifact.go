// Package artifact holds the interchange format every stage shares: a normalized description of one
// thing found online (see docs/artifact.md). Source adapters and torrent parsing produce artifacts,
// extract matches them, reports store and render them.
package artifact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources an artifact may come from.
const (
	SourceHuggingFace      = "huggingface"
	SourceGitHub           = "github"
	SourceZenodo           = "zenodo"
	SourceKaggle           = "kaggle"
	SourceArXiv            = "arxiv"
	SourceOpenAlex         = "openalex"
	SourceSemanticScholar  = "semanticscholar"
	SourceAcademicTorrents = "academictorrents"
	SourceDHT              = "dht"
	SourceWeb              = "web"
)

// Kinds of artifact.
const (
	KindModel      = "model"
	KindDataset    = "dataset"
	KindRepository = "repository"
	KindIssue      = "issue"
	KindPaper      = "paper"
	KindTorrent    = "torrent"
	KindRecord     = "record"
	KindPage       = "page"
)

// File is one entry of an artifact's file listing. Size is nil where unknown.
type File struct {
	Path string `json:"path"`
	Size *int64 `json:"size"`
}

// Expect is a gold label carried by evaluation corpora.
type Expect struct {
	Dataset  string `json:"dataset"`
	Relation string `json:"relation"`
}

// Artifact is one line of the JSON Lines interchange format.
type Artifact struct {
	ID               string   `json:"id"`
	Source           string   `json:"source"`
	Kind             string   `json:"kind"`
	URL              string   `json:"url"`
	Title            string   `json:"title"`
	Text             string   `json:"text,omitempty"`
	Tags             []string `json:"tags,omitempty"`
	DeclaredDatasets []string `json:"declared_datasets,omitempty"`
	BaseModels       []string `json:"base_models,omitempty"`
	Files            []File   `json:"files,omitempty"`
	Published        string   `json:"published,omitempty"` // YYYY-MM-DD
	// InfoHash is the BitTorrent v1 info-hash (40 hex) for torrent artifacts.
	InfoHash string `json:"infohash,omitempty"`
	// Expect is only present in labelled corpora.
	Expect []Expect `json:"expect,omitempty"`
	// FullText is a paper's open-access full text as a source fetched and read it in this run (a
	// *manuscript.Document), for the run's matcher only (manuscript.FullTextMatcher): it is never
	// serialized, stored or compared.
	FullText any `json:"-"`
}

var validSources = map[string]bool{
	SourceHuggingFace: true, SourceGitHub: true, SourceZenodo: true, SourceKaggle: true, SourceArXiv: true,
	SourceOpenAlex: true, SourceSemanticScholar: true, SourceAcademicTorrents: true, SourceDHT: true, SourceWeb: true,
}

var validKinds = map[string]bool{
	KindModel: true, KindDataset: true, KindRepository: true, KindIssue: true, KindPaper: true,
	KindTorrent: true, KindRecord: true, KindPage: true,
}

// Validate reports the first problem that makes the artifact unusable.
func (a *Artifact) Validate() error {
	switch {
	case strings.TrimSpace(a.ID) == "":
		return errors.New("field id: missing")
	case !validSources[a.Source]:
		return fmt.Errorf("field source: %q is not one of the known sources", a.Source)
	case !validKinds[a.Kind]:
		return fmt.Errorf("field kind: %q is not one of the known kinds", a.Kind)
	}
	for i, f := range a.Files {
		if f.Size != nil && *f.Size < 0 {
			return fmt.Errorf("field files[%d].size: negative", i)
		}
	}
	return nil
}

// Host returns the host part of the artifact's URL, or the source name when the URL has none.
func (a *Artifact) Host() string {
	u := a.URL
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexAny(u, "/?#"); j >= 0 {
			u = u[:j]
		}
		return strings.ToLower(u)
	}
	return a.Source
}

// MaxLine bounds one JSONL line (and so one artifact) when reading.
const MaxLine = 16 << 20

// LineError names the line of a JSONL stream that could not be used.
type LineError struct {
	Name string // file name or "<stdin>"
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader streams artifacts from JSON Lines. Blank lines are skipped; a bad line (invalid JSON,
// binary data, an invalid artifact, a line longer than MaxLine) is a *LineError and the reader
// goes on with the next line.
type Reader struct {
	name string
	br   *bufio.Reader
	line int
}

// NewReader reads JSON Lines from r; name is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// readLine returns the next line without its newline; a line longer than MaxLine is read through
// and dropped (long is true).
func (r *Reader) readLine() (b []byte, long bool, err error) {
	for {
		frag, err := r.br.ReadSlice('\n')
		if !long {
			if len(b)+len(frag) > MaxLine+2 {
				long, b = true, nil
			} else {
				b = append(b, frag...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(b) == 0 && !long {
				return nil, false, io.EOF
			}
			return b, long, nil
		case err != nil:
			return nil, false, err
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		return b, long, nil
	}
}

// Next returns the next artifact, io.EOF at the end, or a *LineError for a bad line. After a
// *LineError the reader goes on with the next line (a read error other than a bad line is
// returned as is).
func (r *Reader) Next() (Artifact, error) {
	for {
		b, long, err := r.readLine()
		if err == io.EOF {
			return Artifact{}, io.EOF
		}
		if err != nil {
			return Artifact{}, fmt.Errorf("read %s: %w", r.name, err)
		}
		r.line++
		if long {
			return Artifact{}, &LineError{Name: r.name, Line: r.line, Err: fmt.Errorf("line longer than %d bytes", MaxLine)}
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		a, err := ParseLine(b)
		if err != nil {
			return Artifact{}, &LineError{Name: r.name, Line: r.line, Err: err}
		}
		return a, nil
	}
}

// ParseLine decodes and validates one JSON line. A line that is binary data (a NUL byte, or not
// UTF-8) is said to be so, without echoing it.
func ParseLine(b []byte) (Artifact, error) {
	var a Artifact
	if err := json.Unmarshal(b, &a); err != nil {
		if LooksBinary(b) {
			return Artifact{}, errors.New("binary data, not a JSON line (is this an artifacts JSONL file?)")
		}
		return Artifact{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if err := a.Validate(); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// LooksBinary reports whether b holds a NUL byte or is not UTF-8.
func LooksBinary(b []byte) bool { return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) }

// ReadAll reads every artifact; it stops at the first bad line.
func ReadAll(r io.Reader, name string) ([]Artifact, error) {
	rd := NewReader(r, name)
	var out []Artifact
	for {
		a, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
}

// Write writes one artifact as one JSON line.
func Write(w io.Writer, a Artifact) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode artifact %s: %w", a.ID, err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// Size is a helper to take the address of a size literal.
func Size(n int64) *int64 { return &n }
