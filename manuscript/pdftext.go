package manuscript

import (
	"github.com/ledongthuc/pdf"
)

// This file walks a page's content stream with the PDF library's interpreter and places every
// glyph. It follows the library's Page.Content (BSD licence, Go Authors and ledongthuc), with three
// changes that matter for reading papers:
//   - word spacing (Tw) is applied to the space character, as the PDF spec says, so that a
//     justified line's positions after a space are right (the library ignores Tw, and groff
//     justifies with it, which split and joined words);
//   - fonts, their encoders and width tables are parsed once per page, not at every Tf;
//   - form XObjects are not entered (figures), as before.

// glyph is one decoded character placed on the page.
type glyph struct {
	x, y, w, size float64
	s             string
}

type mat [3][3]float64

var identMat = mat{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}

func (x mat) mul(y mat) mat {
	var z mat
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				z[i][j] += x[i][k] * y[k][j]
			}
		}
	}
	return z
}

func translate(tx, ty float64) mat { return mat{{1, 0, 0}, {0, 1, 0}, {tx, ty, 1}} }

type pageFont struct {
	f      *pdf.Font
	enc    pdf.TextEncoding
	first  int
	widths []float64
	// table decodes each code of a simple (one-byte) font, built once: the library's Differences
	// decoder walks the array for every byte, which was most of the extraction time.
	table *[256]string
}

func newPageFont(v pdf.Value) *pageFont {
	f := &pdf.Font{V: v}
	pf := &pageFont{f: f, enc: f.Encoder(), first: f.FirstChar(), widths: f.Widths()}
	if v.Key("Subtype").Name() != "Type0" && pf.enc != nil {
		var t [256]string
		for c := 0; c < 256; c++ {
			t[c] = pf.enc.Decode(string([]byte{byte(c)}))
		}
		pf.table = &t
	}
	return pf
}

func (pf *pageFont) width(code int) float64 {
	if pf == nil {
		return 0
	}
	i := code - pf.first
	if i < 0 || i >= len(pf.widths) {
		return 0
	}
	return pf.widths[i]
}

type textState struct {
	Tc, Tw, Th, Tl, Tfs, Trise float64
	font                       *pageFont
	Tm, Tlm, CTM               mat
}

// pageGlyphs returns the page's glyphs in content-stream order; resources is the page's (inherited)
// /Resources dictionary. It panics on malformed content (the interpreter does); ReadPDF recovers.
func pageGlyphs(p pdf.Page, resources pdf.Value) []glyph {
	if p.V.IsNull() || p.V.Key("Contents").Kind() == pdf.Null {
		return nil
	}
	fonts := map[string]*pageFont{}
	res := resources.Key("Font")
	fontFor := func(name string) *pageFont {
		if pf, ok := fonts[name]; ok {
			return pf
		}
		pf := newPageFont(res.Key(name))
		fonts[name] = pf
		return pf
	}
	g := textState{Th: 1, CTM: identMat, Tm: identMat, Tlm: identMat}
	var stack []textState
	var out []glyph
	place := func(ch string, code int, w0 float64) {
		if len(out) >= maxPageGlyphs {
			panic(errTooManyGlyphs) // ReadPDF recovers: a too-large error
		}
		trm := mat{{g.Tfs * g.Th, 0, 0}, {0, g.Tfs, 0}, {0, g.Trise, 1}}.mul(g.Tm).mul(g.CTM)
		out = append(out, glyph{x: trm[2][0], y: trm[2][1], w: w0 / 1000 * trm[0][0], size: trm[0][0], s: ch})
		tx := w0/1000*g.Tfs + g.Tc
		if code == ' ' {
			tx += g.Tw
		}
		tx *= g.Th
		g.Tm = translate(tx, 0).mul(g.Tm)
	}
	show := func(raw string) {
		pf := g.font
		if pf != nil && pf.table != nil {
			for i := 0; i < len(raw); i++ {
				c := int(raw[i])
				place(pf.table[c], c, pf.width(c))
			}
			return
		}
		decoded := raw
		if pf != nil && pf.enc != nil {
			decoded = pf.enc.Decode(raw)
		}
		// Simple fonts: one byte per code. Two-byte encodings decode to fewer runes than bytes;
		// widths are then read per byte pair.
		step := 1
		if n := len([]rune(decoded)); n > 0 && len(raw) >= 2*n && len(raw)%n == 0 {
			step = len(raw) / n
		}
		bi := 0
		for _, ch := range decoded {
			code := 0
			for k := 0; k < step && bi+k < len(raw); k++ {
				code = code<<8 | int(raw[bi+k])
			}
			bi += step
			if step != 1 {
				code = -code - 1 // two-byte codes: word spacing applies to one-byte 32 only
			}
			place(string(ch), code, pf.width(max(code, -code-1)))
		}
	}
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "cm":
			if len(args) == 6 {
				var m mat
				for i := 0; i < 6; i++ {
					m[i/2][i%2] = args[i].Float64()
				}
				m[2][2] = 1
				g.CTM = m.mul(g.CTM)
			}
		case "q":
			if len(stack) < 1024 {
				stack = append(stack, g)
			}
		case "Q":
			if k := len(stack) - 1; k >= 0 {
				g = stack[k]
				stack = stack[:k]
			}
		case "BT":
			g.Tm, g.Tlm = identMat, identMat
		case "T*":
			g.Tlm = translate(0, -g.Tl).mul(g.Tlm)
			g.Tm = g.Tlm
		case "Tc":
			g.Tc = num(0)
		case "Tw":
			g.Tw = num(0)
		case "Tz":
			g.Th = num(0) / 100
		case "TL":
			g.Tl = num(0)
		case "Ts":
			g.Trise = num(0)
		case "TD":
			g.Tl = -num(1)
			g.Tlm = translate(num(0), num(1)).mul(g.Tlm)
			g.Tm = g.Tlm
		case "Td":
			g.Tlm = translate(num(0), num(1)).mul(g.Tlm)
			g.Tm = g.Tlm
		case "Tm":
			if len(args) == 6 {
				var m mat
				for i := 0; i < 6; i++ {
					m[i/2][i%2] = args[i].Float64()
				}
				m[2][2] = 1
				g.Tm, g.Tlm = m, m
			}
		case "Tf":
			if len(args) == 2 {
				g.font = fontFor(args[0].Name())
				g.Tfs = args[1].Float64()
			}
		case "\"":
			if len(args) == 3 {
				g.Tw, g.Tc = num(0), num(1)
				g.Tlm = translate(0, -g.Tl).mul(g.Tlm)
				g.Tm = g.Tlm
				show(args[2].RawString())
			}
		case "'":
			if len(args) == 1 {
				g.Tlm = translate(0, -g.Tl).mul(g.Tlm)
				g.Tm = g.Tlm
				show(args[0].RawString())
			}
		case "Tj":
			if len(args) == 1 {
				show(args[0].RawString())
			}
		case "TJ":
			if len(args) == 1 {
				v := args[0]
				for i := 0; i < v.Len(); i++ {
					x := v.Index(i)
					if x.Kind() == pdf.String {
						show(x.RawString())
					} else {
						g.Tm = translate(-x.Float64()/1000*g.Tfs*g.Th, 0).mul(g.Tm)
					}
				}
			}
		}
	})
	return out
}
