package webapi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// The base every source adapter builds on: its options from the watch config (API root, page
// size, page cap, token from the environment, named options) and its plan's de-duplication.

// Defaults are an adapter's documented defaults and bounds.
type Defaults struct {
	BaseURL     string
	PageSize    int
	MaxPageSize int // 0: no bound
	MaxPages    int
	// TokenEnv names the environment variable holding the adapter's token ("" if none).
	TokenEnv string
}

// Common is what every adapter reads from its watch config.
type Common struct {
	Base     string   // API root, no trailing slash
	URL      *url.URL // Base, parsed
	PageSize int
	MaxPages int
	Token    string // from the environment; never logged
}

// ParseCommon reads base_url, page_size, max_pages and the token for source name, applying d.
// Errors name the source and the key.
func ParseCommon(name string, cfg configs.SourceConfig, env crawler.Env, d Defaults) (Common, error) {
	c := Common{Base: strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"), PageSize: cfg.PageSize, MaxPages: cfg.MaxPages}
	if c.Base == "" {
		c.Base = strings.TrimRight(d.BaseURL, "/")
	}
	u, err := url.Parse(c.Base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Common{}, fmt.Errorf("%s: base_url %q is not an http(s) URL", name, cfg.BaseURL)
	}
	c.URL = u
	if c.PageSize <= 0 {
		c.PageSize = d.PageSize
	}
	if d.MaxPageSize > 0 && c.PageSize > d.MaxPageSize {
		c.PageSize = d.MaxPageSize
	}
	if c.MaxPages <= 0 {
		c.MaxPages = d.MaxPages
	}
	if env != nil && d.TokenEnv != "" {
		c.Token = strings.TrimSpace(env(d.TokenEnv))
	}
	return c, nil
}

// Choice returns option key of cfg when it is one of allowed, allowed[0] when it is unset, and
// an error naming the source, the option and the allowed values otherwise.
func Choice(name string, cfg configs.SourceConfig, key string, allowed ...string) (string, error) {
	v, ok := cfg.Options[key]
	if !ok || v == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: options.%s: %q is not one of %s", name, key, v, strings.Join(allowed, ", "))
}

// Bool returns option key of cfg as a boolean (def when unset).
func Bool(name string, cfg configs.SourceConfig, key string, def bool) (bool, error) {
	v, ok := cfg.Options[key]
	if !ok || v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: options.%s: %q is not true or false", name, key, v)
	}
	return b, nil
}

// NonNegative returns option key of cfg as a non-negative integer (def when unset).
func NonNegative(name string, cfg configs.SourceConfig, key string, def int) (int, error) {
	v, ok := cfg.Options[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: options.%s: %q is not a non-negative integer", name, key, v)
	}
	return n, nil
}

// Plan collects an adapter's seed jobs, each job id once (two terms, or two datasets, often make
// the same request).
type Plan struct {
	jobs []crawler.Job
	seen map[string]bool
}

// Add appends j unless a job with its id (compared as key, e.g. lower-cased; "" : j.ID) was
// added before; it reports whether j was new.
func (p *Plan) Add(j crawler.Job, key ...string) bool {
	k := j.ID
	if len(key) > 0 && key[0] != "" {
		k = key[0]
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[k] {
		return false
	}
	p.seen[k] = true
	p.jobs = append(p.jobs, j)
	return true
}

// Jobs returns the jobs added, in order.
func (p *Plan) Jobs() []crawler.Job { return p.jobs }
