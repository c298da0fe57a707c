package manuscript

import (
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

// Name kinds in the locator.
const (
	nameAlias      = "alias"      // the retracted dataset itself
	nameDerivative = "derivative" // a dataset built from it (MS1MV2, DukeMTMC-reID)
	nameModel      = "model"      // a model known to be trained on it (Stable Diffusion v1-5)
)

// name is one registry name the locator looks for, lower-cased, and what it leads to.
type name struct {
	lower   string
	dataset string
	kind    string
	via     string   // derivative or model id
	chain   []string // display chain: derivative/model → … → dataset
}

// locator finds registry names in block text. The extract matcher decides which datasets a block
// carries; the locator points at the sentences (for evidence) and follows lineage names
// (derivatives, known models) to their retracted root, with the chain.
type locator struct {
	names   []name
	display map[string]string // dataset, derivative and model ids → the names reports use
}

func newLocator(reg *configs.Registry) *locator {
	l := &locator{display: map[string]string{}}
	seen := map[string]bool{}
	add := func(n name) {
		n.lower = strings.ToLower(strings.TrimSpace(n.lower))
		if len(n.lower) < 4 && n.kind != nameAlias || len(n.lower) < 3 {
			return // too short to be told apart from ordinary words
		}
		k := n.dataset + "\x00" + n.lower
		if seen[k] {
			return
		}
		seen[k] = true
		l.names = append(l.names, n)
	}
	for _, d := range reg.Retracted() {
		root := d.Name
		if root == "" {
			root = d.ID
		}
		short := shortName(d)
		l.display[d.ID] = short
		for _, a := range append([]string{d.Name, short}, d.Aliases...) {
			add(name{lower: a, dataset: d.ID, kind: nameAlias, chain: []string{short}})
		}
		derivName := map[string]string{}
		for _, dv := range d.Derivatives {
			dn := stripParen(dv.Name)
			if dn == "" {
				dn = dv.ID
			}
			derivName[dv.ID] = dn
			l.display[dv.ID] = dn
			for _, a := range append([]string{dv.Name, dv.ID}, dv.Aliases...) {
				if a == "" {
					continue
				}
				add(name{lower: a, dataset: d.ID, kind: nameDerivative, via: dv.ID, chain: []string{dn, short}})
			}
		}
		for _, m := range d.KnownModels {
			mn := stripParen(m.Name)
			if mn == "" {
				mn = m.ID
			}
			chain := []string{mn}
			if m.Via != "" {
				if dn, ok := derivName[m.Via]; ok {
					chain = append(chain, dn)
				} else if !strings.EqualFold(m.Via, short) {
					chain = append(chain, m.Via)
				}
			}
			chain = append(chain, short)
			id := m.ID
			if id == "" {
				id = mn
			}
			l.display[id] = mn
			cands := []string{m.ID, m.Name}
			if i := strings.LastIndexByte(m.ID, '/'); i >= 0 {
				cands = append(cands, m.ID[i+1:])
			}
			cands = append(cands, m.Aliases...)
			for _, a := range cands {
				if a == "" {
					continue
				}
				add(name{lower: a, dataset: d.ID, kind: nameModel, via: id, chain: chain})
			}
		}
	}
	return l
}

// shortName is the name reports use for a dataset: the first alias that reads as a name
// ("MS-Celeb-1M"), else the name without its parenthetical.
func shortName(d *configs.Dataset) string {
	if n := stripParen(d.Name); n != "" {
		return n
	}
	return d.ID
}

// stripParen drops a trailing parenthetical: "MS1MV2 (MS1M-ArcFace, faces_emore)" → "MS1MV2".
func stripParen(n string) string {
	if i := strings.Index(n, " ("); i > 0 {
		n = n[:i]
	}
	return strings.TrimSpace(n)
}

// hit is one located name.
type hit struct {
	start, end int
	n          *name
}

// find returns every occurrence of a registry name in lower (an ASCII-lower-cased block text) at
// word boundaries; where names overlap, the longest wins (MS1MV2 over MS1M).
func (l *locator) find(lower string, keep func(*name) bool) []hit {
	var out []hit
	for i := range l.names {
		n := &l.names[i]
		if keep != nil && !keep(n) {
			continue
		}
		from := 0
		for {
			j := strings.Index(lower[from:], n.lower)
			if j < 0 {
				break
			}
			s := from + j
			e := s + len(n.lower)
			from = s + 1
			if s > 0 && isAlnum(lower[s-1]) || e < len(lower) && isAlnum(lower[e]) {
				continue
			}
			out = append(out, hit{s, e, n})
		}
	}
	if len(out) < 2 {
		return out
	}
	// Drop hits contained in a longer hit.
	kept := out[:0]
	for i, h := range out {
		inside := false
		for j, o := range out {
			if i != j && o.start <= h.start && h.end <= o.end && (o.end-o.start > h.end-h.start || j < i && o.end-o.start == h.end-h.start) {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, h)
		}
	}
	return kept
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those of the original text.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// displayChain turns a matcher chain of ids (artifact → model → derivative → dataset) into the
// names a reviewer reads, dropping the artifact itself.
func (l *locator) displayChain(ids []string, artifactID string) []string {
	var out []string
	for i, id := range ids {
		if i == 0 && id == artifactID {
			continue
		}
		if n, ok := l.display[id]; ok {
			id = n
		}
		if len(out) > 0 && out[len(out)-1] == id {
			continue
		}
		out = append(out, id)
	}
	return out
}
