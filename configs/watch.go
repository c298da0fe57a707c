package configs

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed watch.yaml
var defaultWatch []byte

// Watch is the watch plan: which sources to crawl, how politely, how deep, and when.
type Watch struct {
	// Contact is a URL or mail address put in the User-Agent so operators can reach us.
	Contact string `yaml:"contact"`
	// UserAgent overrides the default "Afterlife/<version> (+<contact>)".
	UserAgent string `yaml:"user_agent,omitempty"`
	// AllowLoopback and AllowPrivate let the crawler reach 127.0.0.0/8 and private ranges (the demo
	// world and tests need loopback; nothing else should).
	AllowLoopback bool `yaml:"allow_loopback,omitempty"`
	AllowPrivate  bool `yaml:"allow_private,omitempty"`
	// Datasets limits the watch to these registry ids (empty: every retracted dataset).
	Datasets []string `yaml:"datasets,omitempty"`
	// Workers is the number of concurrent crawl workers in one process.
	Workers int `yaml:"workers,omitempty"`
	// Politeness off is for benchmarks against the demo world only.
	PolitenessOff bool `yaml:"politeness_off,omitempty"`
	// Schedule is the default cron schedule for `afterlife schedule`.
	Schedule string `yaml:"schedule,omitempty"`
	// DatasetSchedules gives registry datasets (by id) runs of their own: on its schedule, every
	// scheduled source searches only for that dataset (e.g. hourly for a copy being chased),
	// besides the plan's regular runs.
	DatasetSchedules map[string]string       `yaml:"dataset_schedules,omitempty"`
	Sources          map[string]SourceConfig `yaml:"sources"`
	// Demo marks a plan that points at the demo world (`afterlife demo --write-config` writes it):
	// its runs go only into stores that hold demo data, never into a real one.
	Demo bool `yaml:"demo,omitempty"`

	File string `yaml:"-"`
	// sourceLines are the lines of the source names under sources:, for errors.
	sourceLines map[string]int
}

// SourceConfig configures one source adapter.
type SourceConfig struct {
	Enabled bool `yaml:"enabled"`
	// BaseURL is the API root (the demo world rewrites it to 127.0.0.1).
	BaseURL string `yaml:"base_url"`
	// Rate is the allowed requests per second to this source (0: the adapter's documented default).
	Rate  float64 `yaml:"rate,omitempty"`
	Burst int     `yaml:"burst,omitempty"`
	// MaxPages bounds pagination per query; PageSize is the page size asked for.
	MaxPages int `yaml:"max_pages,omitempty"`
	PageSize int `yaml:"page_size,omitempty"`
	// Schedule overrides Watch.Schedule for this source.
	Schedule string `yaml:"schedule,omitempty"`
	// Options holds adapter-specific settings.
	Options map[string]string `yaml:"options,omitempty"`
	// MaxBody overrides the response-size bound for this source, in bytes (0: the adapter's
	// declared limit, else the fetcher's 16 MiB default).
	MaxBody int64 `yaml:"max_body,omitempty"`
	// MaxInFlight caps concurrent requests to this source in one process (0: the adapter's
	// declared limit, else no cap beyond the rate limit).
	MaxInFlight int `yaml:"max_in_flight,omitempty"`
}

// DefaultWatchName is how errors name the embedded watch plan.
const DefaultWatchName = "configs/watch.yaml (embedded)"

// LoadWatch loads a watch plan from path, or the embedded default when path is "".
func LoadWatch(path string) (*Watch, error) {
	if path == "" {
		return ParseWatch(defaultWatch, DefaultWatchName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("watch config: %w", err)
	}
	return ParseWatch(b, path)
}

// ParseWatch decodes and validates a watch plan. Every problem is one line naming the file, the
// line, the key and what is allowed; nothing is decoded from a file with an unknown key.
func ParseWatch(b []byte, name string) (*Watch, error) {
	root, err := parseYAML(b, name, "a watch config needs `sources:` with at least one enabled source (`afterlife demo --write-config FILE` writes an example)", reflect.TypeOf(Watch{}))
	if err != nil {
		return nil, err
	}
	var w Watch
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		return nil, decodeError(name, err)
	}
	w.File = name
	if err := w.validate(root); err != nil {
		return nil, err
	}
	return &w, nil
}

// CheckSources refuses source names that are not in known (the source adapters of this build),
// naming the nearest known one: a misspelt source would otherwise be skipped in silence.
func (w *Watch) CheckSources(known []string) error {
	var errs ValidationErrors
	ks := append([]string(nil), known...)
	sort.Strings(ks)
	for _, name := range w.SourceNames() {
		if slices.Contains(ks, name) {
			continue
		}
		msg := fmt.Sprintf("unknown source %q", name)
		if near := Nearest(name, ks); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		line := w.sourceLines[name]
		if line == 0 {
			line = 1
		}
		errs = append(errs, &FieldError{File: w.File, Line: line, Field: "sources." + name, Msg: msg + "; known sources: " + strings.Join(ks, ", ")})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (w *Watch) validate(root *yaml.Node) error {
	var errs ValidationErrors
	var doc, srcs *yaml.Node
	if len(root.Content) > 0 {
		doc = root.Content[0]
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "sources" {
				srcs = doc.Content[i+1]
			}
		}
	}
	w.sourceLines = map[string]int{}
	enabled := 0
	for _, name := range w.SourceNames() {
		sc := w.Sources[name]
		if sc.Enabled {
			enabled++
		}
		var n *yaml.Node
		if srcs != nil && srcs.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(srcs.Content); i += 2 {
				if srcs.Content[i].Value == name {
					n = srcs.Content[i+1]
					w.sourceLines[name] = srcs.Content[i].Line
				}
			}
		}
		if sc.BaseURL != "" {
			u, err := url.Parse(sc.BaseURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, &FieldError{File: w.File, Line: fieldLine(n, "base_url"),
					Field: "sources." + name + ".base_url", Msg: fmt.Sprintf("%q is not an http(s) URL", sc.BaseURL)})
			}
		}
		if sc.Rate < 0 {
			errs = append(errs, &FieldError{File: w.File, Line: fieldLine(n, "rate"), Field: "sources." + name + ".rate", Msg: "negative"})
		}
		if sc.MaxPages < 0 {
			errs = append(errs, &FieldError{File: w.File, Line: fieldLine(n, "max_pages"), Field: "sources." + name + ".max_pages", Msg: "negative"})
		}
	}
	if w.Workers < 0 {
		errs = append(errs, &FieldError{File: w.File, Line: fieldLine(doc, "workers"), Field: "workers", Msg: "negative"})
	}
	if enabled == 0 {
		msg := "no source is enabled, so a run would check nothing: set `enabled: true` under at least one source"
		if len(w.Sources) > 0 {
			msg += " (" + strings.Join(w.SourceNames(), ", ") + ")"
		}
		errs = append(errs, &FieldError{File: w.File, Line: fieldLine(doc, "sources"), Field: "sources", Msg: msg})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// SourceNames returns the configured source names, sorted.
func (w *Watch) SourceNames() []string {
	out := make([]string, 0, len(w.Sources))
	for k := range w.Sources {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Marshal renders the watch plan as YAML.
func (w *Watch) Marshal() ([]byte, error) { return yaml.Marshal(w) }

// DefaultRequestTimeout bounds one HTTP request.
const DefaultRequestTimeout = 30 * time.Second
