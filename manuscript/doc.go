// Package manuscript reads manuscripts (PDF, LaTeX sources and bundles, BibTeX and .bbl, Markdown and
// plain text) and decides, for each retracted dataset in the registry, whether the work uses it,
// studies it, only mentions it, or does none of these — with evidence a reviewer can check: page or
// line, section, sentence and the cited reference.
//
// Reading a document yields a Document: blocks of text in reading order, each tagged with the
// section it belongs to and with a map from byte offsets back to pages and lines. Checking a
// Document runs the extract matcher on each block and turns its findings into verdicts.
package manuscript

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Formats a manuscript can be read from.
const (
	FormatPDF      = "pdf"
	FormatLaTeX    = "latex"
	FormatBibTeX   = "bibtex"
	FormatBBL      = "bbl"
	FormatMarkdown = "markdown"
	FormatText     = "text"
)

// Location points at a place in the source a reviewer can open: a page (PDF, 1-based) and line
// (on the page for PDF, in the file for text and LaTeX, 1-based), and the file inside a bundle.
type Location struct {
	File string `json:"file,omitempty"`
	Page int    `json:"page,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Block is a run of text inside one section (a paragraph, or the part of a section on one page).
// Lines maps byte offsets of Text to source locations: Lines[i] starts at Starts[i].
type Block struct {
	Text    string     `json:"text"`
	Section string     `json:"section"` // the heading as written ("4 Experiments"), "" before any heading
	Kind    Section    `json:"kind"`
	Starts  []int      `json:"-"`
	Lines   []Location `json:"-"`
}

// LocAt returns the source location of byte offset off in the block's text.
func (b *Block) LocAt(off int) Location {
	if len(b.Starts) == 0 {
		return Location{}
	}
	i := sort.Search(len(b.Starts), func(i int) bool { return b.Starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return b.Lines[i]
}

// Reference is one entry of the bibliography.
type Reference struct {
	Key   string   `json:"key,omitempty"` // BibTeX or \bibitem key, or "[12]" for numbered lists
	Title string   `json:"title,omitempty"`
	Text  string   `json:"text"` // the entry as written (flattened), for the report
	ArXiv string   `json:"arxiv,omitempty"`
	DOI   string   `json:"doi,omitempty"`
	Loc   Location `json:"location"`
}

// Document is a manuscript read into blocks and references.
type Document struct {
	Name       string      `json:"name"`
	Format     string      `json:"format"`
	Title      string      `json:"title,omitempty"`
	Pages      int         `json:"pages,omitempty"`
	Blocks     []Block     `json:"blocks"`
	References []Reference `json:"references,omitempty"`
	// Files lists the files read (LaTeX bundles: every resolved \input, plus .bib/.bbl).
	Files []string `json:"files,omitempty"`
	// Warnings are problems that did not stop reading (a missing \input, an include cycle).
	Warnings []string `json:"warnings,omitempty"`
}

// Bounds on what reading a manuscript produces, so that checking it is linear in its size: the
// matcher, sentence location and verdicts work block by block, each block at most MaxBlockBytes.
const (
	// MaxBlockBytes bounds a block's text. A longer paragraph, or a single line longer than this
	// (a submission of one 16 MB line), is cut into several blocks of the same section, at a
	// sentence end where there is one. Paragraphs and PDF page sections are far shorter.
	MaxBlockBytes = 16 << 10
	// maxTitleBytes bounds a title: a longer first line is not taken for one.
	maxTitleBytes = 500
	// maxReferenceBytes bounds one bibliography entry's text (real ones are under 1 KB).
	maxReferenceBytes = 4 << 10
)

// titleOf returns s trimmed as a title, or "" when it is too long to be one.
func titleOf(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxTitleBytes {
		return ""
	}
	return s
}

// builder accumulates lines into blocks, splitting at section changes and blank lines, and at
// MaxBlockBytes.
type builder struct {
	doc     *Document
	cur     Block
	buf     []byte // cur's text until flush
	section string
	kind    Section
	// para splits blocks at blank lines (text formats); PDF keeps a section's lines on a page together.
	para bool
	// dehyphen removes the typesetter's hyphens at line ends (PDF).
	dehyphen bool
}

func newBuilder(doc *Document, para bool) *builder {
	return &builder{doc: doc, para: para, kind: SectionFront}
}

// heading closes the current block and starts a new top-level section.
func (b *builder) heading(title string, loc Location) { b.headingLevel(title, 1, false, loc) }

// headingLevel starts a section at a nesting level (1 = section). A subsection whose title says
// nothing about its role ("4.2 Face verification") keeps its parent's role; in the appendix every
// section is appendix unless it is the bibliography.
func (b *builder) headingLevel(title string, level int, appendix bool, loc Location) {
	b.flush()
	kind := ClassifySection(title)
	switch {
	case kind == SectionReferences:
	case appendix:
		kind = SectionAppendix
	case level > 1 && b.kind == SectionAppendix:
		kind = SectionAppendix
	case level > 1 && kind == SectionOther && b.kind != SectionReferences:
		kind = b.kind
	}
	b.section = title
	b.kind = kind
	// The heading line is itself a (short) block so that "Experiments on MS1MV2" is seen.
	b.line(title, loc)
	b.flush()
}

// line appends one source line to the current block. Lines are joined with a space; a line ending
// in a hyphen is joined without one, and in PDFs the typesetter's hyphen is removed when it split a
// plain word ("Mil-/lion") but kept where it may belong to a name ("MS-/Celeb-1M",
// "stable-/diffusion-v1-5"). A block that would pass MaxBlockBytes is closed first, and a line
// longer than that is cut (at a sentence end where it can be) into blocks of its own, all at loc.
func (b *builder) line(text string, loc Location) {
	for {
		room := MaxBlockBytes - len(b.buf) - 1
		if len(text) <= room {
			b.appendLine(text, loc)
			return
		}
		if len(b.cur.Starts) > 0 && room < MaxBlockBytes/4 {
			b.flush() // the block is nearly full: the line starts the next one
			continue
		}
		cut := cutPoint(text, room)
		b.appendLine(text[:cut], loc)
		b.flush()
		text = strings.TrimLeft(text[cut:], " \t")
		if text == "" {
			return
		}
	}
}

func (b *builder) appendLine(text string, loc Location) {
	if len(b.cur.Starts) == 0 {
		b.cur.Section, b.cur.Kind = b.section, b.kind
	} else if n := len(b.buf); n > 0 && b.buf[n-1] == '-' && endsWordHyphen(b.buf) {
		if b.dehyphen && typesetHyphen(b.buf[:n-1], text) {
			b.buf = b.buf[:n-1]
		}
	} else {
		b.buf = append(b.buf, ' ')
	}
	b.cur.Starts = append(b.cur.Starts, len(b.buf))
	b.cur.Lines = append(b.cur.Lines, loc)
	b.buf = append(b.buf, text...)
}

// cutPoint is where to cut text to keep at most room bytes: after the last sentence end (". ",
// "! ", "? ") in the second half of the room, else at the last space there, else at room (moved
// back to a UTF-8 character boundary).
func cutPoint(text string, room int) int {
	room = max(room, 1)
	head := text[:room]
	for i := len(head) - 1; i > room/2; i-- {
		if head[i] == ' ' && (head[i-1] == '.' || head[i-1] == '!' || head[i-1] == '?') {
			return i
		}
	}
	if i := strings.LastIndexByte(head, ' '); i > room/2 {
		return i
	}
	cut := room
	for cut > 1 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return cut
}

// typesetHyphen reports whether a hyphen at a line end split one ordinary word: the part before is
// letters with at most a leading capital, the part after starts with a lower-case letter and runs
// to the next space with letters only (and closing punctuation).
func typesetHyphen(before []byte, after string) bool {
	i := len(before)
	for i > 0 && before[i-1] != ' ' {
		i--
	}
	frag := before[i:]
	if len(frag) < 2 {
		return false
	}
	for k := 0; k < len(frag); k++ {
		c := frag[k]
		if !(c >= 'a' && c <= 'z' || k == 0 && c >= 'A' && c <= 'Z') {
			return false
		}
	}
	if after == "" || !(after[0] >= 'a' && after[0] <= 'z') {
		return false
	}
	for k := 0; k < len(after) && after[k] != ' '; k++ {
		c := after[k]
		if c >= 'a' && c <= 'z' || c == '.' || c == ',' || c == ';' || c == ':' || c == ')' {
			continue
		}
		return false
	}
	return true
}

// blank marks a paragraph break.
func (b *builder) blank() {
	if b.para {
		b.flush()
	}
}

func (b *builder) flush() {
	if len(b.cur.Starts) > 0 {
		b.cur.Text = string(b.buf)
		if len(trimSpace(b.cur.Text)) > 0 {
			b.doc.Blocks = append(b.doc.Blocks, b.cur)
		}
	}
	b.cur = Block{}
	b.buf = b.buf[:0]
}

func endsWordHyphen(s []byte) bool {
	return len(s) >= 2 && isAlnum(s[len(s)-2])
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\n' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
}

// appendix reports whether a heading starts or continues the appendix of a text-like document.
func (d *Document) appendix(h string, b *builder) bool {
	if ClassifySection(h) == SectionAppendix {
		return true
	}
	return b.kind == SectionAppendix && ClassifySection(h) != SectionReferences && numberPrefixLetter(h)
}

// numberPrefixLetter reports appendix-style numbering ("A", "B.2").
func numberPrefixLetter(h string) bool {
	m := numberPrefixRE.FindStringSubmatch(h)
	return m != nil && m[1][0] >= 'A' && m[1][0] <= 'Z'
}
