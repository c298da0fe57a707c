package manuscript

import (
	"context"
	"regexp"
	"strings"
)

var (
	mdHeadingRE = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$`)
	setextRE    = regexp.MustCompile(`^\s{0,3}(=+|-+)\s*$`)
	mdLinkRE    = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)`)
	fenceRE     = regexp.MustCompile("^\\s{0,3}(```|~~~)")
)

// ReadText reads plain text or Markdown (markdown=true) into a Document with file line numbers.
// Headings are Markdown ATX/setext headings, or (in both formats) numbered or known section names
// standing alone on a line.
func ReadText(ctx context.Context, name string, data []byte, markdown bool) (*Document, error) {
	format := FormatText
	if markdown {
		format = FormatMarkdown
	}
	doc := &Document{Name: name, Format: format}
	b := newBuilder(doc, true)
	lines := strings.Split(string(data), "\n")
	inFence := false
	for i := 0; i < len(lines); i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		raw := normalizeText(strings.TrimRight(lines[i], "\r"))
		loc := Location{Line: i + 1}
		if markdown {
			if fenceRE.MatchString(raw) {
				inFence = !inFence
				b.blank()
				continue
			}
			if !inFence {
				if m := mdHeadingRE.FindStringSubmatch(raw); m != nil {
					title := stripMarkdown(m[2])
					if doc.Title == "" && len(m[1]) == 1 {
						doc.Title = titleOf(title)
					}
					b.headingLevel(title, max(1, len(m[1])-1), false, loc)
					continue
				}
				if i+1 < len(lines) && strings.TrimSpace(raw) != "" && setextRE.MatchString(lines[i+1]) && !strings.HasPrefix(strings.TrimSpace(raw), "|") {
					level := 1
					if strings.Contains(lines[i+1], "-") {
						level = 2
					}
					title := stripMarkdown(strings.TrimSpace(raw))
					if doc.Title == "" && level == 1 {
						doc.Title = titleOf(title)
					}
					b.headingLevel(title, level, false, loc)
					i++
					continue
				}
			}
			raw = stripMarkdown(raw)
		}
		if strings.TrimSpace(raw) == "" {
			b.blank()
			continue
		}
		if !inFence {
			if h := headingOf(raw); h != "" {
				b.headingLevel(h, numberedLevel(h), doc.appendix(h, b), loc)
				continue
			}
		}
		if doc.Title == "" && !markdown && len(doc.Blocks) == 0 && len(b.cur.Starts) == 0 {
			doc.Title = titleOf(raw)
		}
		b.line(strings.TrimSpace(raw), loc)
	}
	b.flush()
	doc.References = referencesFromBlocks(doc)
	return doc, nil
}

// stripMarkdown removes emphasis markers and keeps link texts (and their targets, which often name
// a model: "[SD 1.5](https://huggingface.co/runwayml/stable-diffusion-v1-5)").
func stripMarkdown(s string) string {
	s = mdLinkRE.ReplaceAllString(s, "$1 ($2)")
	s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
	t := strings.TrimLeft(s, " ")
	if strings.HasPrefix(t, "> ") {
		s = t[2:]
	}
	if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "+ ") {
		s = t[2:]
	}
	return s
}

var numberPrefixRE = regexp.MustCompile(`^([0-9]{1,2}(?:\.[0-9]{1,2})*|[A-H](?:\.[0-9]{1,2})*)\.?\s`)

// numberedLevel returns the nesting of a numbered heading ("4" → 1, "4.2" → 2), 1 when unnumbered.
func numberedLevel(h string) int {
	m := numberPrefixRE.FindStringSubmatch(strings.TrimSpace(h))
	if m == nil {
		return 1
	}
	return strings.Count(m[1], ".") + 1
}

var refMarkerRE = regexp.MustCompile(`^\s*(\[[0-9]{1,4}\]|[0-9]{1,3}\.)\s`)

// referencesFromBlocks splits the bibliography sections of a PDF or text document into entries:
// at "[12]" / "12." markers where the list has them, else at line starts that begin a new
// capitalised author list after a line that ended an entry with a period.
func referencesFromBlocks(doc *Document) []Reference {
	var out []Reference
	cur := -1 // an entry may go on in the next block (the next page of the bibliography)
	for bi := range doc.Blocks {
		bl := &doc.Blocks[bi]
		if bl.Kind != SectionReferences {
			cur = -1
			continue
		}
		markers := hasMarkers(bl)
		for li, st := range bl.Starts {
			end := len(bl.Text)
			if li+1 < len(bl.Starts) {
				end = bl.Starts[li+1]
			}
			ln := strings.TrimSpace(bl.Text[st:end])
			if ln == "" || len(ln) < 20 && ClassifySection(ln) == SectionReferences {
				continue
			}
			m := refMarkerRE.FindStringSubmatch(ln)
			startNew := m != nil || cur < 0 || (!markers && strings.HasSuffix(strings.TrimSpace(out[cur].Text), ".") && startsUpper(ln) && doc.Format != FormatPDF)
			if startNew {
				out = append(out, Reference{Loc: bl.Lines[li]})
				cur = len(out) - 1
				if m != nil {
					out[cur].Key = "[" + strings.TrimSuffix(strings.Trim(m[1], "[]"), ".") + "]"
				}
			}
			r := &out[cur]
			switch {
			case len(r.Text)+1+len(ln) > maxReferenceBytes:
				// An entry this long is not one (no markers, no full stops): keep its start only,
				// rather than grow it by concatenation line after line.
				if !strings.HasSuffix(r.Text, "…") {
					r.Text = clip(r.Text+" "+ln, maxReferenceBytes-len("…"))
					if !strings.HasSuffix(r.Text, "…") {
						r.Text += "…"
					}
				}
			case r.Text == "":
				r.Text = ln
			case strings.HasSuffix(r.Text, "-"):
				r.Text += ln
			default:
				r.Text += " " + ln
			}
		}
	}
	for i := range out {
		out[i].ArXiv = findArXiv(out[i].Text)
		out[i].DOI = findDOI(out[i].Text)
	}
	return out
}

func hasMarkers(bl *Block) bool {
	for _, st := range bl.Starts {
		if refMarkerRE.MatchString(bl.Text[st:min(st+12, len(bl.Text))] + " ") {
			return true
		}
	}
	return false
}

func startsUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }
