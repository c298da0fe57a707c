package manuscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// MaxPDFPages bounds how many pages of one PDF are read.
const MaxPDFPages = 2000

// Bounds on a PDF's page tree (the /Pages /Kids nodes): a tree that loops (a node among its own
// /Kids, a /Parent chain that comes back) or shares subtrees is refused after this much walking,
// not followed for ever. 1024 levels is also PDFium's limit; an honest tree of MaxPDFPages pages
// has fewer than 2 × MaxPDFPages nodes.
const (
	maxPageTreeDepth = 1024
	maxPageTreeNodes = 4 * MaxPDFPages
)

// Bounds on one page's content, which a compressed stream can make huge from a small file (17 KB
// on disk expanded to 4 M glyphs and 2 GB of allocations before this bound): the decoded content
// stream, and the glyphs placed. A dense page of text is a few hundred KB and under 20,000 glyphs.
const (
	maxPageContentBytes = 16 << 20
	maxPageGlyphs       = 200_000
)

// errTooManyGlyphs is pageGlyphs' panic value when a page passes maxPageGlyphs.
var errTooManyGlyphs = fmt.Errorf("a page holds over %d glyphs", maxPageGlyphs)

// minTextPerPage is the average number of letters per page below which a PDF is taken to be a scan.
const minTextPerPage = 40

// ReadPDF extracts the text of a PDF into a Document: one block per section part per page, with
// page and line (on the page) for every line.
func ReadPDF(ctx context.Context, name string, r io.ReaderAt, size int64) (doc *Document, err error) {
	encrypted := false
	defer func() {
		// The PDF library panics on some malformed content streams.
		if x := recover(); x != nil {
			if x == errTooManyGlyphs {
				doc, err = nil, &Error{Name: name, Kind: ErrTooLarge, Err: errTooManyGlyphs}
				return
			}
			if encrypted {
				doc, err = nil, &Error{Name: name, Kind: ErrEncrypted, Err: fmt.Errorf("the PDF is encrypted (no user password) with a scheme this reader cannot decrypt (%v); ask for an unprotected copy", x)}
				return
			}
			doc, err = nil, &Error{Name: name, Kind: ErrBroken, Err: fmt.Errorf("malformed PDF: %v", x)}
		}
	}()
	head := make([]byte, 8)
	if _, err := r.ReadAt(head, 0); err != nil || !bytes.HasPrefix(head, []byte("%PDF-")) {
		return nil, &Error{Name: name, Kind: ErrFormat, Err: errors.New("not a PDF: the file does not start with %PDF-")}
	}
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) {
			return nil, &Error{Name: name, Kind: ErrEncrypted, Err: errors.New("the PDF is encrypted with a password; ask for an unprotected copy")}
		}
		if strings.Contains(err.Error(), "encrypt") || strings.Contains(err.Error(), "decrypt") {
			return nil, &Error{Name: name, Kind: ErrEncrypted, Err: fmt.Errorf("the PDF uses an encryption this reader does not support: %w", err)}
		}
		return nil, &Error{Name: name, Kind: ErrBroken, Err: fmt.Errorf("cannot read the PDF structure: %w", err)}
	}
	encrypted = !rd.Trailer().Key("Encrypt").IsNull()
	n := rd.NumPage()
	if n == 0 {
		return nil, &Error{Name: name, Kind: ErrBroken, Err: errors.New("the PDF has no pages")}
	}
	if n > MaxPDFPages {
		return nil, &Error{Name: name, Kind: ErrTooLarge, Err: fmt.Errorf("the PDF has %d pages (limit %d)", n, MaxPDFPages)}
	}
	pages, more, err := pageTree(ctx, rd.Trailer().Key("Root").Key("Pages"), n)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &Error{Name: name, Kind: ErrBroken, Err: err}
	}
	if len(pages) == 0 {
		return nil, &Error{Name: name, Kind: ErrBroken, Err: errors.New("the PDF has no pages")}
	}
	n = len(pages)
	doc = &Document{Name: name, Format: FormatPDF, Pages: n}
	if more {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("the page tree holds more pages than its /Count of %d (a subtree listed twice?): read the first %d", n, n))
	}
	b := newBuilder(doc, false)
	b.dehyphen = true
	letters := 0
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := pdf.Page{V: pages[i-1]}
		res, err := inherited(p.V, "Resources")
		if err != nil {
			return nil, &Error{Name: name, Kind: ErrBroken, Err: fmt.Errorf("page %d: %w", i, err)}
		}
		if n, err := contentSize(p.V.Key("Contents"), maxPageContentBytes); err != nil {
			return nil, &Error{Name: name, Kind: ErrBroken, Err: fmt.Errorf("page %d: content stream: %w", i, err)}
		} else if n > maxPageContentBytes {
			return nil, &Error{Name: name, Kind: ErrTooLarge, Err: fmt.Errorf("page %d: content stream over %d bytes decoded", i, maxPageContentBytes)}
		}
		lines := pageLines(pageGlyphs(p, res))
		lineNo := 0
		for _, ln := range lines {
			t := normalizeText(ln.text)
			if strings.TrimSpace(t) == "" {
				continue
			}
			lineNo++
			letters += countLetters(t)
			if isPageNumber(t) {
				continue
			}
			loc := Location{Page: i, Line: lineNo}
			if i == 1 && doc.Title == "" && lineNo <= 3 && ln.size > 0 {
				doc.Title = titleOf(t)
			}
			if h := headingOf(t); h != "" {
				b.headingLevel(h, numberedLevel(h), doc.appendix(h, b), loc)
				continue
			}
			b.line(t, loc)
		}
		b.flush() // a block never spans pages, so a sentence's page is its first line's page
	}
	if letters < minTextPerPage*n {
		return nil, &Error{Name: name, Kind: ErrNoText, Err: fmt.Errorf("the PDF has almost no extractable text (%d letters on %d pages): a scan needs OCR first", letters, n)}
	}
	doc.References = referencesFromBlocks(doc)
	return doc, nil
}

// pageTree walks the page tree from the catalog's /Pages in document order and returns its first
// count pages (/Type /Page leaves; count is the root's /Count, at most MaxPDFPages, as the PDF
// library reads) and whether the tree holds more. It gives up with an error naming the page tree
// when the tree nests deeper than maxPageTreeDepth or lists more than maxPageTreeNodes kids in all:
// a /Kids entry that loops back. The PDF library's own walk (Reader.Page) follows a loop for ever.
func pageTree(ctx context.Context, root pdf.Value, count int) (pages []pdf.Value, more bool, err error) {
	type node struct {
		v     pdf.Value
		depth int
	}
	stack := []node{{root, 0}}
	listed := 1
	for visited := 1; len(stack) > 0; visited++ {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		switch nd.v.Key("Type").Name() {
		case "Pages":
			if nd.depth >= maxPageTreeDepth {
				return nil, false, fmt.Errorf("page tree nested over %d levels deep: a /Kids entry loops back", maxPageTreeDepth)
			}
			kids := nd.v.Key("Kids")
			k := kids.Len()
			if listed += k; listed > maxPageTreeNodes {
				return nil, false, fmt.Errorf("page tree lists over %d nodes (%d pages found so far): a /Kids entry loops back", maxPageTreeNodes, len(pages))
			}
			for i := k - 1; i >= 0; i-- { // pushed last to first: popped in document order
				stack = append(stack, node{kids.Index(i), nd.depth + 1})
			}
		case "Page":
			if len(pages) == count {
				return pages, true, nil
			}
			pages = append(pages, nd.v)
		}
	}
	return pages, false, nil
}

// contentSize is the decoded size of a page's /Contents (a stream or an array of streams),
// counted up to limit+1 bytes.
func contentSize(v pdf.Value, limit int64) (int64, error) {
	var total int64
	count := func(s pdf.Value) error {
		rc := s.Reader()
		defer rc.Close()
		n, err := io.Copy(io.Discard, io.LimitReader(rc, limit+1-total))
		total += n
		return err
	}
	switch v.Kind() {
	case pdf.Stream:
		if err := count(v); err != nil {
			return total, err
		}
	case pdf.Array:
		for i := 0; i < v.Len() && total <= limit; i++ {
			if s := v.Index(i); s.Kind() == pdf.Stream {
				if err := count(s); err != nil {
					return total, err
				}
			}
		}
	}
	return total, nil
}

// inherited looks key up on a page node and up its /Parent chain (PDF inheritable attributes such
// as /Resources), at most maxPageTreeDepth levels: a /Parent chain that loops is an error, where
// the PDF library's Page.Resources follows it for ever.
func inherited(v pdf.Value, key string) (pdf.Value, error) {
	for depth := 0; !v.IsNull(); depth++ {
		if depth > maxPageTreeDepth {
			return pdf.Value{}, fmt.Errorf("page tree: the /Parent chain is over %d levels long: it loops", maxPageTreeDepth)
		}
		if r := v.Key(key); !r.IsNull() {
			return r, nil
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}, nil
}

type pdfLine struct {
	text string
	size float64
}

// pageLines groups the glyphs of a page into lines in content-stream order (which is reading order
// for the producers that matter, including two-column layouts written column by column). Spaces
// come from space glyphs where the producer writes them, and from gaps wider than 0.15 of the font
// size where it positions words instead (TeX shrinks word spaces to about 0.22 of the size; kerns
// stay under 0.1).
func pageLines(glyphs []glyph) []pdfLine {
	var out []pdfLine
	var line []glyph
	var lastY, lastEnd, lastSize float64
	flush := func() {
		if len(line) > 0 {
			out = append(out, buildLine(line))
		}
		line = line[:0]
	}
	for _, g := range glyphs {
		if g.s == "\n" || g.s == "\r" || g.s == "" {
			continue
		}
		size := g.size
		if size <= 0 {
			size = 10
		}
		if len(line) > 0 {
			tol := math.Max(size, lastSize) * 0.5
			if math.Abs(g.y-lastY) > tol || g.x < lastEnd-size*3 {
				// a new baseline, or a jump far back on the same one (a new column)
				flush()
			}
		}
		line = append(line, g)
		lastY, lastSize, lastEnd = g.y, size, g.x+g.w
	}
	flush()
	return out
}

func buildLine(gs []glyph) pdfLine {
	var sb strings.Builder
	var l pdfLine
	var lastEnd, lastW float64
	for i, g := range gs {
		size := g.size
		if size <= 0 {
			size = 10
		}
		if size > l.size {
			l.size = size
		}
		if g.s == " " {
			if sb.Len() > 0 && !endsSpace(&sb) {
				sb.WriteByte(' ')
			}
		} else {
			// A glyph of unknown width (no width table) says nothing about the gap after it.
			if i > 0 && lastW > 0 && g.x-lastEnd > size*0.15 && sb.Len() > 0 && !endsSpace(&sb) {
				sb.WriteByte(' ')
			}
			sb.WriteString(g.s)
		}
		lastEnd, lastW = g.x+g.w, g.w
	}
	l.text = strings.TrimRight(sb.String(), " ")
	return l
}

func endsSpace(sb *strings.Builder) bool {
	s := sb.String()
	return len(s) > 0 && s[len(s)-1] == ' '
}

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != utf8.RuneError {
			n++
		}
	}
	return n
}

// isPageNumber reports lines like "3", "- 3 -", "Page 3".
func isPageNumber(s string) bool {
	t := strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "-–— "))
	t = strings.TrimPrefix(strings.ToLower(t), "page ")
	if t == "" || len(t) > 5 {
		return false
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var ligatures = strings.NewReplacer(
	"\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\ufb05", "st", "\ufb06", "st",
	"\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2212", "-", "\u00ad", "",
	"\u2018", "'", "\u2019", "'", "\u201c", "\"", "\u201d", "\"", "\u00a0", " ", "\t", " ",
)

// normalizeText folds ligatures, typographic dashes and quotes so names match as typed.
func normalizeText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '\t' {
			return ligatures.Replace(s)
		}
	}
	return s
}
