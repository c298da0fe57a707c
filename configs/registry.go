// Package configs owns Afterlife's configuration: the registry of retracted datasets, the watch plan
// and the demo world's planted afterlife. The defaults are embedded in the binary and can be
// overridden with files.
package configs

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed registry.yaml
var defaultRegistry []byte

// DefaultRegistryName is how errors name the embedded registry.
const DefaultRegistryName = "configs/registry.yaml (embedded)"

// Dataset statuses. The first five are retractions: only those are scored as afterlife.
const (
	StatusWithdrawn         = "withdrawn"
	StatusDecommissioned    = "decommissioned"
	StatusRedacted          = "redacted"
	StatusTakenDown         = "taken-down"
	StatusOffline           = "offline"
	StatusActiveWithWarning = "active-with-warning"
	StatusReReleased        = "re-released"   // a cleaned re-release of a retracted dataset (Re-LAION-5B)
	StatusNotRetracted      = "not-retracted" // context entry: a look-alike that must not match (ImageNet-1k)
)

var statuses = map[string]bool{
	StatusWithdrawn: true, StatusDecommissioned: true, StatusRedacted: true, StatusTakenDown: true,
	StatusOffline: true, StatusActiveWithWarning: true, StatusReReleased: true, StatusNotRetracted: true,
}

var retractions = map[string]bool{
	StatusWithdrawn: true, StatusDecommissioned: true, StatusRedacted: true, StatusTakenDown: true, StatusOffline: true,
}

// Registry is the list of datasets Afterlife knows.
type Registry struct {
	SchemaVersion int       `yaml:"schema_version"`
	Datasets      []Dataset `yaml:"datasets"`
	// HostContacts say where to report a copy on each host, for every dataset.
	HostContacts []Contact `yaml:"host_contacts,omitempty"`

	// File names where the registry came from, for errors and reports.
	File string `yaml:"-"`
	byID map[string]int
}

// Dataset is one registry entry.
type Dataset struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	// AliasRules are weak names that need care: case-sensitive, or only counted with context words.
	AliasRules []AliasRule `yaml:"alias_rules,omitempty" json:"alias_rules,omitempty"`
	// NegativePhrases are occurrences that are never the dataset (a product of the same name, ...).
	NegativePhrases []string `yaml:"negative_phrases,omitempty" json:"negative_phrases,omitempty"`
	Status          string   `yaml:"status" json:"status"`
	RetractedOn     string   `yaml:"retracted_on,omitempty" json:"retracted_on,omitempty"` // YYYY-MM-DD, YYYY-MM or YYYY
	// DateUnknown marks a retraction whose date no source gives (then retracted_on may be empty).
	DateUnknown     bool     `yaml:"date_unknown,omitempty" json:"date_unknown,omitempty"`
	Reason          string   `yaml:"reason,omitempty" json:"reason,omitempty"`
	AnnouncementURL string   `yaml:"announcement_url,omitempty" json:"announcement_url,omitempty"`
	OriginalHosts   []string `yaml:"original_hosts,omitempty" json:"original_hosts,omitempty"`
	// Of names the dataset this entry is a version, re-release or look-alike of (context entries).
	Of          string       `yaml:"of,omitempty" json:"of,omitempty"`
	Derivatives []Derivative `yaml:"derivatives,omitempty" json:"derivatives,omitempty"`
	KnownFiles  []KnownFile  `yaml:"known_files,omitempty" json:"known_files,omitempty"`
	InfoHashes  []string     `yaml:"infohashes,omitempty" json:"infohashes,omitempty"`
	KnownModels []KnownModel `yaml:"known_models,omitempty" json:"known_models,omitempty"`
	Papers      []Paper      `yaml:"papers,omitempty" json:"papers,omitempty"`
	// Contacts are where a steward reports copies (takedown forms, abuse addresses), per host.
	Contacts  []Contact `yaml:"contacts,omitempty" json:"contacts,omitempty"`
	Notes     string    `yaml:"notes,omitempty" json:"notes,omitempty"`
	Uncertain []string  `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
	Sources   []string  `yaml:"sources" json:"sources"`

	line int
}

// Derivative is a dataset built from a registry entry.
type Derivative struct {
	ID         string      `yaml:"id" json:"id"`
	Name       string      `yaml:"name,omitempty" json:"name,omitempty"`
	Aliases    []string    `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	AliasRules []AliasRule `yaml:"alias_rules,omitempty" json:"alias_rules,omitempty"`
	Relation   string      `yaml:"relation,omitempty" json:"relation,omitempty"`
	// CarriesData says whether the derivative redistributes the original data (MS1MV2 does,
	// Re-LAION-5B and pile-uncopyrighted do not).
	CarriesData bool        `yaml:"carries_data" json:"carries_data"`
	KnownFiles  []KnownFile `yaml:"known_files,omitempty" json:"known_files,omitempty"`
	Uncertain   bool        `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
}

// KnownFile is a file name (and size, hashes where known) that fingerprints a dataset.
type KnownFile struct {
	Name   string `yaml:"name" json:"name"`
	Size   int64  `yaml:"size_bytes,omitempty" json:"size_bytes,omitempty"`
	MD5    string `yaml:"md5,omitempty" json:"md5,omitempty"`
	SHA1   string `yaml:"sha1,omitempty" json:"sha1,omitempty"`
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	Note   string `yaml:"note,omitempty" json:"note,omitempty"`
	// Uncertain marks a file name or size not verified in the sources.
	Uncertain bool `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
}

// AliasRule is a weak alias: matched only case-sensitively and/or only when one of Requires also
// occurs in the artifact (or, with Before, for artifacts published before that date).
type AliasRule struct {
	Alias         string   `yaml:"alias" json:"alias"`
	CaseSensitive bool     `yaml:"case_sensitive,omitempty" json:"case_sensitive,omitempty"`
	Requires      []string `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Before (YYYY-MM) accepts the alias without Requires for artifacts published before it.
	Before string `yaml:"before,omitempty" json:"before,omitempty"`
}

// KnownModel is a model known to be trained on the dataset (directly or through a derivative).
type KnownModel struct {
	// ID is a hub id ("EleutherAI/gpt-j-6b") when the model has one.
	ID      string   `yaml:"id,omitempty" json:"id,omitempty"`
	Name    string   `yaml:"name,omitempty" json:"name,omitempty"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Files   []string `yaml:"files,omitempty" json:"files,omitempty"`
	// Via names the derivative the model was trained on, if any.
	Via    string `yaml:"via,omitempty" json:"via,omitempty"`
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Uncertain marks a lineage fact not verified in the sources.
	Uncertain bool `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
}

// Paper is the publication that introduced a dataset (or a key derivative).
type Paper struct {
	Title      string `yaml:"title" json:"title"`
	ArXiv      string `yaml:"arxiv,omitempty" json:"arxiv,omitempty"`
	DOI        string `yaml:"doi,omitempty" json:"doi,omitempty"`
	S2CorpusID int64  `yaml:"s2_corpus_id,omitempty" json:"s2_corpus_id,omitempty"`
	OpenAlexID string `yaml:"openalex_id,omitempty" json:"openalex_id,omitempty"`
	Year       int    `yaml:"year,omitempty" json:"year,omitempty"`
	Uncertain  bool   `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
}

// Contact is where to report a copy on one host.
type Contact struct {
	Host string `yaml:"host" json:"host"`
	How  string `yaml:"how" json:"how"`
	URL  string `yaml:"url,omitempty" json:"url,omitempty"`
	// Uncertain marks a route not verified in the sources.
	Uncertain bool `yaml:"uncertain,omitempty" json:"uncertain,omitempty"`
}

// ContactsFor returns the dataset's own contacts followed by the registry's per-host contacts.
func (r *Registry) ContactsFor(id string) []Contact {
	var out []Contact
	if d, ok := r.Get(id); ok {
		out = append(out, d.Contacts...)
	}
	return append(out, r.HostContacts...)
}

// IsRetraction reports whether the dataset's status is a retraction (scored as afterlife).
func (d *Dataset) IsRetraction() bool { return retractions[d.Status] }

// IsRetraction reports whether status is one of the retraction statuses.
func IsRetraction(status string) bool { return retractions[status] }

// Get returns the dataset with the given id.
func (r *Registry) Get(id string) (*Dataset, bool) {
	i, ok := r.byID[id]
	if !ok {
		return nil, false
	}
	return &r.Datasets[i], true
}

// Retracted returns the datasets whose status is a retraction, in registry order.
func (r *Registry) Retracted() []*Dataset {
	var out []*Dataset
	for i := range r.Datasets {
		if r.Datasets[i].IsRetraction() {
			out = append(out, &r.Datasets[i])
		}
	}
	return out
}

// IDs returns all dataset ids in registry order.
func (r *Registry) IDs() []string {
	out := make([]string, len(r.Datasets))
	for i := range r.Datasets {
		out[i] = r.Datasets[i].ID
	}
	return out
}

// LoadRegistry loads the registry from path, or the embedded default when path is "".
func LoadRegistry(path string) (*Registry, error) {
	if path == "" {
		return ParseRegistry(defaultRegistry, DefaultRegistryName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return ParseRegistry(b, path)
}

// DefaultRegistryYAML returns the embedded registry's bytes.
func DefaultRegistryYAML() []byte { return bytes.Clone(defaultRegistry) }

// FieldError names the file, line and field of a registry or config problem.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s:%d: field %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// ValidationErrors collects every problem found.
type ValidationErrors []*FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// ParseRegistry decodes and validates a registry; name is used in errors.
func ParseRegistry(b []byte, name string) (*Registry, error) {
	root, err := parseYAML(b, name, "a registry needs `datasets:` with at least one entry (see `afterlife registry list`)", reflect.TypeOf(Registry{}))
	if err != nil {
		return nil, err
	}
	doc := root.Content[0]
	var reg Registry
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&reg); err != nil {
		return nil, decodeError(name, err)
	}
	reg.File = name
	lines := datasetNodes(doc)
	for i := range reg.Datasets {
		if i < len(lines) {
			reg.Datasets[i].line = lines[i].Line
		}
	}
	if errs := reg.validate(lines); len(errs) > 0 {
		return nil, errs
	}
	return &reg, nil
}

// datasetNodes returns the mapping node of each dataset entry.
func datasetNodes(doc *yaml.Node) []*yaml.Node {
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "datasets" && doc.Content[i+1].Kind == yaml.SequenceNode {
			return doc.Content[i+1].Content
		}
	}
	return nil
}

// fieldLine finds the line of key in a mapping node, or the node's own line.
func fieldLine(n *yaml.Node, key string) int {
	if n == nil {
		return 1
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

var (
	idRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	dateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
	arxiv  = regexp.MustCompile(`^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$`)
	hashRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func (r *Registry) validate(nodes []*yaml.Node) ValidationErrors {
	var errs ValidationErrors
	r.byID = make(map[string]int, len(r.Datasets))
	if len(r.Datasets) == 0 {
		errs = append(errs, &FieldError{File: r.File, Line: 1, Field: "datasets", Msg: "no datasets"})
	}
	derivIDs := map[string]string{}
	for i := range r.Datasets {
		d := &r.Datasets[i]
		var n *yaml.Node
		if i < len(nodes) {
			n = nodes[i]
		}
		bad := func(field, format string, args ...any) {
			key := field
			if j := strings.IndexAny(key, ".["); j >= 0 {
				key = key[:j]
			}
			errs = append(errs, &FieldError{File: r.File, Line: fieldLine(n, key),
				Field: fmt.Sprintf("datasets[%d].%s", i, field), Msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case d.ID == "":
			bad("id", "missing")
		case !idRE.MatchString(d.ID):
			bad("id", "%q is not kebab-case", d.ID)
		default:
			if j, dup := r.byID[d.ID]; dup {
				bad("id", "%q duplicates datasets[%d]", d.ID, j)
			}
			r.byID[d.ID] = i
		}
		if strings.TrimSpace(d.Name) == "" {
			bad("name", "missing")
		}
		if !statuses[d.Status] {
			bad("status", "%q is not one of %s", d.Status, strings.Join(sortedKeys(statuses), ", "))
		}
		if d.RetractedOn != "" && !validDate(d.RetractedOn) {
			bad("retracted_on", "%q is not a date: YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2019-06-06)", d.RetractedOn)
		}
		if d.IsRetraction() && d.RetractedOn == "" && !d.DateUnknown {
			bad("retracted_on", "a retracted dataset needs a date")
		}
		if len(d.Sources) == 0 {
			bad("sources", "every fact needs a source: list at least one")
		}
		for j, h := range d.InfoHashes {
			if !hashRE.MatchString(h) {
				bad(fmt.Sprintf("infohashes[%d]", j), "%q is not a 40-hex lowercase info-hash", h)
			}
		}
		for j, a := range d.Aliases {
			if strings.TrimSpace(a) == "" {
				bad(fmt.Sprintf("aliases[%d]", j), "empty alias")
			}
		}
		errs = append(errs, r.validateMatching(d, i, n)...)
		for j, dv := range d.Derivatives {
			if !idRE.MatchString(dv.ID) {
				bad(fmt.Sprintf("derivatives[%d].id", j), "%q is not kebab-case", dv.ID)
			} else if other, dup := derivIDs[dv.ID]; dup {
				bad(fmt.Sprintf("derivatives[%d].id", j), "%q is already a derivative of %s", dv.ID, other)
			} else {
				derivIDs[dv.ID] = d.ID
			}
		}
		for j, f := range d.KnownFiles {
			if strings.TrimSpace(f.Name) == "" {
				bad(fmt.Sprintf("known_files[%d].name", j), "missing")
			}
			if f.Size < 0 {
				bad(fmt.Sprintf("known_files[%d].size_bytes", j), "negative")
			}
		}
	}
	for i := range r.Datasets {
		d := &r.Datasets[i]
		if d.Of != "" {
			if _, ok := r.byID[d.Of]; !ok {
				var n *yaml.Node
				if i < len(nodes) {
					n = nodes[i]
				}
				errs = append(errs, &FieldError{File: r.File, Line: fieldLine(n, "of"),
					Field: fmt.Sprintf("datasets[%d].of", i), Msg: fmt.Sprintf("%q is not a dataset id in this registry", d.Of)})
			}
		}
	}
	return errs
}

// validDate reports whether s is a real date as YYYY-MM-DD, YYYY-MM or YYYY (2021-13-45 is not).
func validDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(s)]
	_, err := time.Parse(layout, s)
	return err == nil
}

// Line returns the line of the entry in its registry file (0 if unknown).
func (d *Dataset) Line() int { return d.line }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
