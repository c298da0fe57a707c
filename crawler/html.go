package crawler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ErrHTMLTooLarge is returned (wrapped, as an *HTMLBoundError) by ParseHTML and CheckHTML for a
// page over one of its bounds.
var ErrHTMLTooLarge = errors.New("HTML page over its bounds")

// HTMLBoundError says which bound a page crossed and where.
type HTMLBoundError struct {
	Bound  string // "depth", "nodes" or "links"
	Limit  int
	Offset int64 // bytes of the page read when the bound was crossed
}

func (e *HTMLBoundError) Error() string {
	return fmt.Sprintf("%v: over %d %s (refused at byte %d)", ErrHTMLTooLarge, e.Limit, e.what(), e.Offset)
}

func (e *HTMLBoundError) what() string {
	if e.Bound == "depth" {
		return "open elements (depth)"
	}
	return e.Bound
}

// Unwrap makes errors.Is(err, ErrHTMLTooLarge) hold, and errors.Is(err, ErrBodyTooLarge): a page
// over its bounds is a response too large to use, which retrying will not change (Permanent).
func (e *HTMLBoundError) Unwrap() []error { return []error{ErrHTMLTooLarge, ErrBodyTooLarge} }

// Default bounds of ParseHTML. A page's tree costs about 120 bytes a node: 250,000 nodes is
// about 30 MiB, within a worker's share of the memory budget (docs/operations.md). Crawled
// pages (Academic Torrents details) hold a few thousand nodes and a few hundred links.
const (
	DefaultHTMLMaxDepth = 512 // as golang.org/x/net/html's tree builder, which fails beyond it
	DefaultHTMLMaxNodes = 250_000
	DefaultHTMLMaxLinks = 25_000
)

// HTMLLimits bound a page ParseHTML accepts. Zero fields take the defaults.
type HTMLLimits struct {
	MaxDepth int // elements open at once
	MaxNodes int // elements, text runs and comments
	MaxLinks int // <a href> and <area href>
}

func (l HTMLLimits) withDefaults() HTMLLimits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultHTMLMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultHTMLMaxNodes
	}
	if l.MaxLinks <= 0 {
		l.MaxLinks = DefaultHTMLMaxLinks
	}
	return l
}

// ParseHTML parses a crawled page into a tree (for goquery.NewDocumentFromNode), within bounds on
// nesting, nodes and links. A tokenizer pass — linear in the page, allocating next to nothing —
// counts them first and stops at the first bound crossed, so a hostile page (a million nested
// elements, a flood of links) is refused before the tree builder spends time and memory on it.
func ParseHTML(body []byte, lim HTMLLimits) (*html.Node, error) {
	if err := CheckHTML(body, lim); err != nil {
		return nil, err
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		if strings.Contains(err.Error(), "open stack of elements") {
			// The tree builder opened more elements than CheckHTML counted (it opens implied
			// ones: <tbody>, <tr> in bare tables) and stopped at its own limit of 512.
			return nil, &HTMLBoundError{Bound: "depth", Limit: DefaultHTMLMaxDepth, Offset: int64(len(body))}
		}
		return nil, fmt.Errorf("html: %w", err)
	}
	return doc, nil
}

// CheckHTML is ParseHTML's bounds pass alone: nil when body is within lim.
//
// Depth is counted as the tree builder will open elements: void elements (<br>, <img>) and
// elements whose end tag is optional and implied by their next sibling (<p>, <li>, <td>, <tr>,
// <option>, ...) are not counted as open, and an end tag closes up to its matching start tag.
func CheckHTML(body []byte, lim HTMLLimits) error {
	lim = lim.withDefaults()
	rd := &countingReader{r: bytes.NewReader(body)}
	z := html.NewTokenizer(rd)
	at := func() int64 { return rd.n - int64(len(z.Buffered())) }
	var open []atom.Atom
	var nodes, links, depth int
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return fmt.Errorf("html: %w", err)
			}
			htmlStats.accepted(nodes, links, depth)
			return nil
		case html.TextToken, html.CommentToken:
			nodes++
		case html.StartTagToken, html.SelfClosingTagToken:
			nodes++
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if (a == atom.A || a == atom.Area) && hasAttr {
				for more := true; more; {
					var k []byte
					k, _, more = z.TagAttr()
					if string(k) == "href" {
						if links++; links > lim.MaxLinks {
							htmlStats.refused.Add(1)
							return &HTMLBoundError{Bound: "links", Limit: lim.MaxLinks, Offset: at()}
						}
						break
					}
				}
			}
			if a == atom.A {
				closeTo(&open, atom.A) // a new <a> closes an open one (the tree builder's adoption agency)
			}
			if tt == html.StartTagToken && !voidElement[a] && !impliedEnd[a] {
				open = append(open, a)
				depth = max(depth, len(open))
				if len(open) > lim.MaxDepth {
					htmlStats.refused.Add(1)
					return &HTMLBoundError{Bound: "depth", Limit: lim.MaxDepth, Offset: at()}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			closeTo(&open, atom.Lookup(name))
		}
		if nodes > lim.MaxNodes {
			htmlStats.refused.Add(1)
			return &HTMLBoundError{Bound: "nodes", Limit: lim.MaxNodes, Offset: at()}
		}
	}
}

// closeTo pops the open elements down to and including the last a, if one is open.
func closeTo(open *[]atom.Atom, a atom.Atom) {
	if a == 0 {
		return
	}
	for i := len(*open) - 1; i >= 0; i-- {
		if (*open)[i] == a {
			*open = (*open)[:i]
			return
		}
	}
}

var voidElement = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true,
	atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true, atom.Param: true,
	atom.Source: true, atom.Track: true, atom.Wbr: true, atom.Keygen: true, atom.Frame: true,
}

// impliedEnd are elements whose end tag may be left out (the next sibling closes them).
var impliedEnd = map[atom.Atom]bool{
	atom.Html: true, atom.Head: true, atom.Body: true, atom.P: true, atom.Li: true, atom.Dt: true,
	atom.Dd: true, atom.Option: true, atom.Optgroup: true, atom.Tr: true, atom.Td: true, atom.Th: true,
	atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Colgroup: true, atom.Caption: true,
	atom.Rb: true, atom.Rt: true, atom.Rtc: true, atom.Rp: true,
}

// HTMLCounts is what the bounds pass has seen in this process since ResetHTMLCounts: pages
// accepted and refused, and the most nodes, links and open elements of any accepted page. Tests
// and benchmarks read it to show that no page past the bounds reached a tree builder.
type HTMLCounts struct {
	Accepted, Refused            int64
	MaxNodes, MaxLinks, MaxDepth int64
}

type htmlCounter struct {
	acc, refused              atomic.Int64
	maxNodes, maxLinks, maxDp atomic.Int64
}

var htmlStats htmlCounter

func (c *htmlCounter) accepted(nodes, links, depth int) {
	c.acc.Add(1)
	storeMax(&c.maxNodes, int64(nodes))
	storeMax(&c.maxLinks, int64(links))
	storeMax(&c.maxDp, int64(depth))
}

// HTMLStats returns the process's HTML bound counts.
func HTMLStats() HTMLCounts {
	c := &htmlStats
	return HTMLCounts{Accepted: c.acc.Load(), Refused: c.refused.Load(), MaxNodes: c.maxNodes.Load(),
		MaxLinks: c.maxLinks.Load(), MaxDepth: c.maxDp.Load()}
}

// ResetHTMLCounts zeroes HTMLStats.
func ResetHTMLCounts() {
	c := &htmlStats
	for _, v := range []*atomic.Int64{&c.acc, &c.refused, &c.maxNodes, &c.maxLinks, &c.maxDp} {
		v.Store(0)
	}
}

// storeMax raises v to n if n is larger.
func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}
