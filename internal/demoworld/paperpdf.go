package demoworld

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Open-access PDFs of the demo's papers. A planted paper whose extra holds "pdf" — a title line is
// taken from the paper, then {"sections": [{"heading": "4 Experiments", "text": "…"}, …]} — has a
// full text: the paper sites list it (OpenAlex best_oa_location.pdf_url, Semantic Scholar
// openAccessPdf, arXiv /pdf/<id>) and serve it, rendered at startup by PaperPDF (plain Go, no
// external tool), with a strong ETag so an unchanged PDF is answered 304 on the next run.

// PaperSection is one section of a demo paper's full text.
type PaperSection struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// PaperFullText is the "pdf" extra of a planted paper.
type PaperFullText struct {
	Sections []PaperSection `json:"sections"`
	// Expect labels the full text: what the run reports for the paper once it has read the PDF
	// (the artifact's own expect labels the text the site's API serves).
	Expect []struct {
		Dataset  string `json:"dataset"`
		Relation string `json:"relation"`
	} `json:"expect"`
}

// FullTextOf returns the planted paper's full text, if it has one.
func FullTextOf(p Planted) (PaperFullText, bool) {
	var ft PaperFullText
	v, ok := p.Extra["pdf"]
	if !ok {
		return ft, false
	}
	b, err := json.Marshal(v)
	if err != nil || json.Unmarshal(b, &ft) != nil || len(ft.Sections) == 0 {
		return ft, false
	}
	return ft, true
}

// Page geometry and fonts of PaperPDF: US Letter, 1-inch margins, Helvetica 10/13 for the body,
// Helvetica-Bold for the title and headings.
const (
	ppWidth, ppHeight = 612, 792
	ppMargin          = 72
	ppLeading         = 13
	ppWrap            = 92 // characters per body line
)

// PaperPDF renders a paper as a small, valid text PDF: the title on the first page, then each
// section's heading on a line of its own and its text wrapped into lines, over as many pages as it
// takes. Only printable ASCII is written (other characters become '?').
func PaperPDF(title string, sections []PaperSection) []byte {
	type line struct {
		font string
		size int
		text string
	}
	var lines []line
	lines = append(lines, line{"F2", 14, title}, line{"F1", 10, ""})
	for _, s := range sections {
		lines = append(lines, line{"F2", 11, s.Heading})
		for _, para := range strings.Split(s.Text, "\n") {
			for _, l := range ppWrapText(para, ppWrap) {
				lines = append(lines, line{"F1", 10, l})
			}
		}
		lines = append(lines, line{"F1", 10, ""})
	}
	perPage := (ppHeight - 2*ppMargin) / ppLeading
	var pages []string
	for i := 0; i < len(lines); i += perPage {
		var c strings.Builder
		y := ppHeight - ppMargin
		for _, l := range lines[i:min(i+perPage, len(lines))] {
			if l.text != "" {
				fmt.Fprintf(&c, "BT /%s %d Tf %d %d Td (%s) Tj ET\n", l.font, l.size, ppMargin, y, ppEscape(l.text))
			}
			y -= ppLeading
		}
		fmt.Fprintf(&c, "BT /F1 9 Tf %d %d Td (%d) Tj ET\n", ppWidth/2, ppMargin/2, len(pages)+1)
		pages = append(pages, c.String())
	}
	// Objects: 1 catalog, 2 page tree, 3 and 4 fonts, then a page and its content per page.
	widths := make([]string, 0, 95)
	for c := 32; c <= 126; c++ {
		w := 556
		switch {
		case c == ' ':
			w = 278
		case strings.ContainsRune("iljtf.,;:!'|()[]", rune(c)):
			w = 278
		case c >= 'A' && c <= 'Z', c == 'm', c == 'w':
			w = 667
		}
		widths = append(widths, fmt.Sprint(w))
	}
	font := func(base string) string {
		return fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [%s] >>",
			base, strings.Join(widths, " "))
	}
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", font("Helvetica"), font("Helvetica-Bold")}
	var kids []string
	for _, content := range pages {
		pageObj, contentObj := len(objs)+1, len(objs)+2
		kids = append(kids, fmt.Sprintf("%d 0 R", pageObj))
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>", ppWidth, ppHeight, contentObj),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content)+1, content))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// ppWrapText breaks s into lines of at most n characters at spaces.
func ppWrapText(s string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, w := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(w) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// ppEscape writes s as the body of a PDF literal string: printable ASCII, with \, ( and ) escaped.
func ppEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '(' || r == ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// paperPDFs holds each world's rendered PDFs and what serving them cost.
type paperPDFs struct {
	once   sync.Once
	bodies map[string][]byte // planted id -> PDF
	full   sync.Map          // planted id -> *atomic.Int64: 200 answers with the body
	cached sync.Map          // planted id -> *atomic.Int64: 304 answers
	misses sync.Map          // asked id -> *atomic.Int64: 404 answers (no PDF, or not in this epoch)
}

func (w *World) pdfs() *paperPDFs {
	pp := &w.pdf
	pp.once.Do(func() {
		pp.bodies = map[string][]byte{}
		w.mu.RLock()
		defer w.mu.RUnlock()
		for _, ps := range w.planted {
			for _, p := range ps {
				if ft, ok := FullTextOf(p); ok {
					pp.bodies[p.ID] = PaperPDF(p.Title, ft.Sections)
				}
			}
		}
	})
	return pp
}

// PaperPDFOf returns the PDF the world serves for a planted paper.
func (w *World) PaperPDFOf(id string) ([]byte, bool) {
	b, ok := w.pdfs().bodies[id]
	return b, ok
}

// HasPDF reports whether the planted paper has a full text served as PDF in this epoch.
func (w *World) HasPDF(p Planted) bool {
	_, ok := w.pdfs().bodies[p.ID]
	return ok
}

// PDFRequests counts the requests for a planted paper's PDF: answered in full, and answered 304.
func (w *World) PDFRequests(id string) (full, notModified int64) {
	pp := w.pdfs()
	return pdfCount(&pp.full, id), pdfCount(&pp.cached, id)
}

// PDFMisses counts the requests for a paper's PDF that were answered 404.
func (w *World) PDFMisses(id string) int64 { return pdfCount(&w.pdfs().misses, id) }

func pdfCount(m *sync.Map, id string) int64 {
	if v, ok := m.Load(id); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// servePDF answers a request for a planted paper's PDF (404 when it has none or is not in the
// current epoch), counting it.
func (w *World) servePDF(rw http.ResponseWriter, r *http.Request, source, id string) {
	_, ok := w.Find(source, id)
	body, has := w.PaperPDFOf(id)
	if !ok || !has {
		v, _ := w.pdfs().misses.LoadOrStore(id, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		http.NotFound(rw, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: rw}
	pwServe(rec, r, http.StatusOK, "application/pdf", body)
	m := &w.pdfs().full
	if rec.status == http.StatusNotModified {
		m = &w.pdfs().cached
	}
	v, _ := m.LoadOrStore(id, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
