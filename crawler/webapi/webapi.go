// Package webapi holds the conventions the JSON-API source adapters share: RFC 8288 Link header
// pagination, turning HTTP statuses into results or errors the crawler understands, reading rate
// limit headers, and deriving search terms from registry entries.
package webapi

import (
	"net/http"
	"net/url"
	"strings"
)

// Links parses RFC 8288 Link headers into rel -> URL ("next", "last", "prev", "first").
// Relative targets are resolved against base when base is non-empty.
func Links(h http.Header, base string) map[string]string {
	out := map[string]string{}
	var b *url.URL
	if base != "" {
		b, _ = url.Parse(base)
	}
	for _, v := range h.Values("Link") {
		for _, part := range splitLinks(v) {
			part = strings.TrimSpace(part)
			if !strings.HasPrefix(part, "<") {
				continue
			}
			end := strings.Index(part, ">")
			if end < 0 {
				continue
			}
			target := part[1:end]
			for _, p := range strings.Split(part[end+1:], ";") {
				p = strings.TrimSpace(p)
				k, val, ok := strings.Cut(p, "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				for _, rel := range strings.Fields(val) {
					t := target
					if b != nil {
						if u, err := b.Parse(target); err == nil {
							t = u.String()
						}
					}
					if _, dup := out[strings.ToLower(rel)]; !dup {
						out[strings.ToLower(rel)] = t
					}
				}
			}
		}
	}
	return out
}

// splitLinks splits a Link header value on the commas between link-values (not inside <...>).
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			if !inQuote {
				depth++
			}
		case '>':
			if !inQuote && depth > 0 {
				depth--
			}
		case '"':
			if depth == 0 {
				inQuote = !inQuote
			}
		case ',':
			if depth == 0 && !inQuote {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// SameHost reports whether next points at the same scheme and host as base; pagination links that
// leave the source's host are not followed (crawled headers are hostile input).
func SameHost(base, next string) bool {
	b, err1 := url.Parse(base)
	n, err2 := url.Parse(next)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(b.Scheme, n.Scheme) && strings.EqualFold(b.Host, n.Host)
}
