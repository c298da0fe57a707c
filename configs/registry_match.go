package configs

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// pathLine walks a YAML node along keys (string) and sequence indexes (int) and returns the line of
// the deepest node reached, so errors point at nested fields (known_models[2].via).
func pathLine(n *yaml.Node, path ...any) int {
	if n == nil {
		return 1
	}
	line := n.Line
	cur := n
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if cur.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(cur.Content); i += 2 {
					if cur.Content[i].Value == k {
						line = cur.Content[i].Line
						next = cur.Content[i+1]
						break
					}
				}
			}
		case int:
			if cur.Kind == yaml.SequenceNode && k >= 0 && k < len(cur.Content) {
				next = cur.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		cur = next
	}
	return line
}

// validateMatching checks the fields the matcher reads: alias rules, negative phrases, derivative
// aliases, known models (and the derivative they came through), papers and contacts.
func (r *Registry) validateMatching(d *Dataset, i int, n *yaml.Node) ValidationErrors {
	var errs ValidationErrors
	bad := func(path []any, format string, args ...any) {
		var b strings.Builder
		fmt.Fprintf(&b, "datasets[%d]", i)
		for _, p := range path {
			switch k := p.(type) {
			case string:
				b.WriteString("." + k)
			case int:
				fmt.Fprintf(&b, "[%d]", k)
			}
		}
		errs = append(errs, &FieldError{File: r.File, Line: pathLine(n, path...), Field: b.String(), Msg: fmt.Sprintf(format, args...)})
	}
	checkRules := func(prefix []any, rules []AliasRule) {
		for j, ar := range rules {
			p := append(append([]any{}, prefix...), "alias_rules", j)
			if strings.TrimSpace(ar.Alias) == "" {
				bad(append(p, "alias"), "missing")
			}
			if ar.Before != "" && !validDate(ar.Before) {
				bad(append(p, "before"), "%q is not YYYY-MM-DD, YYYY-MM or YYYY", ar.Before)
			}
			for k, w := range ar.Requires {
				if strings.TrimSpace(w) == "" {
					bad(append(p, "requires", k), "empty context word")
				}
			}
		}
	}
	checkRules(nil, d.AliasRules)
	for j, p := range d.NegativePhrases {
		if strings.TrimSpace(p) == "" {
			bad([]any{"negative_phrases", j}, "empty phrase")
		}
	}
	derivs := map[string]bool{}
	for j, dv := range d.Derivatives {
		derivs[dv.ID] = true
		for k, a := range dv.Aliases {
			if strings.TrimSpace(a) == "" {
				bad([]any{"derivatives", j, "aliases", k}, "empty alias")
			}
		}
		checkRules([]any{"derivatives", j}, dv.AliasRules)
		for k, f := range dv.KnownFiles {
			if strings.TrimSpace(f.Name) == "" {
				bad([]any{"derivatives", j, "known_files", k, "name"}, "missing")
			}
		}
	}
	for j, km := range d.KnownModels {
		if strings.TrimSpace(km.ID) == "" && strings.TrimSpace(km.Name) == "" {
			bad([]any{"known_models", j}, "needs an id or a name")
		}
		if km.ID != "" && strings.Count(km.ID, "/") != 1 {
			bad([]any{"known_models", j, "id"}, "%q is not a hub id (owner/name)", km.ID)
		}
		if km.Via != "" && !derivs[km.Via] {
			bad([]any{"known_models", j, "via"}, "%q is not a derivative of %s", km.Via, d.ID)
		}
	}
	for j, p := range d.Papers {
		if strings.TrimSpace(p.Title) == "" {
			bad([]any{"papers", j, "title"}, "missing")
		}
		if p.ArXiv != "" && !arxiv.MatchString(p.ArXiv) {
			bad([]any{"papers", j, "arxiv"}, "%q is not an arXiv id", p.ArXiv)
		}
		if p.DOI != "" && !strings.HasPrefix(p.DOI, "10.") {
			bad([]any{"papers", j, "doi"}, "%q is not a DOI (10.xxxx/...)", p.DOI)
		}
	}
	for j, c := range d.Contacts {
		if strings.TrimSpace(c.Host) == "" {
			bad([]any{"contacts", j, "host"}, "missing")
		}
		if strings.TrimSpace(c.How) == "" {
			bad([]any{"contacts", j, "how"}, "missing")
		}
	}
	if !d.IsRetraction() && d.Of != "" && d.Of == d.ID {
		bad([]any{"of"}, "an entry cannot be a version of itself")
	}
	return errs
}
