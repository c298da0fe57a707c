package academictorrents

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Item is one torrent of the database.xml catalogue (RSS 2.0).
type Item struct {
	Title       string `xml:"title"`
	Category    string `xml:"category"`
	InfoHash    string `xml:"infohash"`
	GUID        string `xml:"guid"`
	Link        string `xml:"link"`
	Description string `xml:"description"`
	// Size is the total size in bytes (-1 when the item's <size> is missing or not a number).
	Size     int64  `xml:"-"`
	SizeText string `xml:"size"`
	// Malformed marks an item that is not well-formed XML. Its fields were salvaged from the raw
	// text (only when a valid info-hash was found there); it is never followed, only reported and
	// kept in the listing so a torrent whose entry broke is not declared gone.
	Malformed bool `xml:"-"`
}

// MaxCatalogueItems bounds how many items one catalogue parse reads (the live catalogue has tens
// of thousands).
const MaxCatalogueItems = 2_000_000

var hashRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// CatalogueStats is what one parse of the catalogue read.
type CatalogueStats struct {
	Items     int  // well-formed items with a valid info-hash, handed to fn
	Skipped   int  // well-formed items without a valid info-hash
	Malformed int  // items that are not well-formed XML (skipped; salvaged ones handed to fn marked Malformed)
	Complete  bool // the document ended with its </channel> or </rss>: false for a cut-off body
}

// ParseCatalogue streams the <item>s of database.xml (or rss.xml / a collection feed) to fn, one
// at a time, so the whole catalogue is never held as structs. The document is read token by token
// (xml.Decoder.RawToken); each item's bytes are then decoded on their own. An item that is not
// well-formed (a stray '<' or '&', a control character, a missing end tag, a nested <item>) is
// skipped and counted, and reading resumes at the next <item>: one bad entry never costs the
// catalogue. Items without a valid info-hash are skipped and counted. Errors: not an RSS document,
// nesting over crawler.MaxXMLDepth, more than MaxCatalogueItems items, or an error from fn.
func ParseCatalogue(b []byte, fn func(Item) error) (CatalogueStats, error) {
	var st CatalogueStats
	if err := crawler.CheckXMLDepth(b, 0); err != nil {
		return st, fmt.Errorf("academictorrents catalogue: %w", err)
	}
	sawRSS := false
	base := 0 // offset of the current decoder's input in b
	dec := newRawDecoder(b)
	for {
		at := base + int(dec.InputOffset())
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !sawRSS {
				return st, fmt.Errorf("academictorrents catalogue: %w", err)
			}
			// Broken markup between items: go on at the next item.
			next := nextItem(b, at+1)
			if next < 0 {
				break
			}
			base, dec = next, newRawDecoder(b[next:])
			continue
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "rss", "channel", "RDF":
				sawRSS = true
			case "item":
				if !sawRSS {
					return st, fmt.Errorf("academictorrents catalogue: not an RSS document")
				}
				if st.Items+st.Skipped+st.Malformed >= MaxCatalogueItems {
					return st, fmt.Errorf("academictorrents catalogue: more than %d items", MaxCatalogueItems)
				}
				end, ok := itemEnd(dec)
				var it Item
				if ok {
					end += base
					ok = xml.NewDecoder(bytes.NewReader(b[at:end])).Decode(&it) == nil
				}
				if !ok {
					st.Malformed++
					next := resumeAfter(b, at)
					seg := b[at:]
					if next >= 0 {
						seg = b[at:next]
					}
					if it, ok := salvage(seg); ok {
						if err := fn(it); err != nil {
							return st, err
						}
					}
					if next < 0 {
						return st, nil // cut off inside an item: not complete
					}
					base, dec = next, newRawDecoder(b[next:])
					continue
				}
				if !clean(&it) {
					st.Skipped++
					continue
				}
				st.Items++
				if err := fn(it); err != nil {
					return st, err
				}
			}
		case xml.EndElement:
			if t.Name.Local == "channel" || t.Name.Local == "rss" {
				st.Complete = true
			}
		}
	}
	if !sawRSS {
		return st, fmt.Errorf("academictorrents catalogue: not an RSS document")
	}
	return st, nil
}

func newRawDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	return d
}

// itemEnd reads the rest of an <item> (its start tag just read) and returns the offset just past
// its </item> in the decoder's input. ok is false when the item is not well-formed: a syntax
// error, an end tag that does not match, a nested <item>, or the end of the input.
func itemEnd(dec *xml.Decoder) (int, bool) {
	stack := []string{"item"}
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return 0, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "item" || len(stack) >= crawler.MaxXMLDepth {
				return 0, false
			}
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if stack[len(stack)-1] != t.Name.Local {
				return 0, false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return int(dec.InputOffset()), true
			}
		}
	}
}

var itemStartRE = regexp.MustCompile(`<item[\s>]`)

// resumeAfter is where reading goes on after a malformed item starting at at: the next <item>,
// else just past the first </item> or at the first </channel> after it (the last item was the
// bad one), else -1 (the body ends inside the item).
func resumeAfter(b []byte, at int) int {
	if next := nextItem(b, at+1); next >= 0 {
		return next
	}
	rest := b[at:]
	if i := bytes.Index(rest, []byte("</item>")); i >= 0 {
		return at + i + len("</item>")
	}
	if i := bytes.Index(rest, []byte("</channel>")); i >= 0 {
		return at + i
	}
	return -1
}

// nextItem is the offset of the next "<item" start tag at or after from, -1 when there is none.
func nextItem(b []byte, from int) int {
	if from >= len(b) {
		return -1
	}
	loc := itemStartRE.FindIndex(b[from:])
	if loc == nil {
		return -1
	}
	return from + loc[0]
}

var (
	salvageHashRE  = regexp.MustCompile(`(?i)<infohash>\s*([0-9a-f]{40})\s*</infohash>`)
	salvageTitleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	salvageDescRE  = regexp.MustCompile(`(?s)<description>(.*?)</description>`)
	salvageSizeRE  = regexp.MustCompile(`<size>\s*([0-9]{1,19})\s*</size>`)
	salvageTagRE   = regexp.MustCompile(`<[^>]{0,200}>`)
)

// salvage reads what it can of a malformed item's raw bytes: only when a valid info-hash is there.
func salvage(seg []byte) (Item, bool) {
	m := salvageHashRE.FindSubmatch(seg)
	if m == nil {
		return Item{}, false
	}
	it := Item{InfoHash: strings.ToLower(string(m[1])), Malformed: true, Size: -1}
	text := func(re *regexp.Regexp) string {
		if m := re.FindSubmatch(seg); m != nil {
			return strings.ToValidUTF8(html.UnescapeString(salvageTagRE.ReplaceAllString(string(m[1]), " ")), "")
		}
		return ""
	}
	it.Title = collapse(text(salvageTitleRE))
	it.Description = strings.TrimSpace(text(salvageDescRE))
	if m := salvageSizeRE.FindSubmatch(seg); m != nil {
		if n, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
			it.Size = n
		}
	}
	return it, true
}

// clean normalises a decoded item; false when its info-hash is not 40 hex digits.
func clean(it *Item) bool {
	it.InfoHash = strings.ToLower(strings.TrimSpace(it.InfoHash))
	if !hashRE.MatchString(it.InfoHash) {
		return false
	}
	it.Size = -1
	if n, err := strconv.ParseInt(strings.TrimSpace(it.SizeText), 10, 64); err == nil && n >= 0 {
		it.Size = n
	}
	it.Title = collapse(it.Title)
	it.Description = strings.TrimSpace(it.Description)
	it.Category = collapse(it.Category)
	return true
}

// Spec is what the catalogue is matched against, for one dataset: names (word-bounded,
// case-insensitive), info-hashes and file sizes. It travels in the job's metadata because a
// distributed worker only sees the job.
type Spec struct {
	Dataset    string   `json:"dataset"`
	Terms      []string `json:"terms"`
	InfoHashes []string `json:"infohashes,omitempty"`
	Sizes      []int64  `json:"sizes,omitempty"`
}

// MinFingerprintSize is the smallest known file size matched against a torrent's total size (small
// sizes collide by chance).
const MinFingerprintSize = 1 << 20

// SpecFor builds the match spec of a dataset: its names and file names (and those of its
// derivatives), its info-hashes, and known file sizes of at least MinFingerprintSize.
func SpecFor(d *configs.Dataset) Spec {
	sp := Spec{Dataset: d.ID}
	seen := map[string]bool{}
	for _, t := range append(webapi.Terms(d, 4), webapi.FileNames(d)...) {
		n := norm(t)
		if len(n) < 4 || seen[n] {
			continue
		}
		seen[n] = true
		sp.Terms = append(sp.Terms, t)
	}
	for _, h := range d.InfoHashes {
		if h = strings.ToLower(strings.TrimSpace(h)); hashRE.MatchString(h) {
			sp.InfoHashes = append(sp.InfoHashes, h)
		}
	}
	addSize := func(n int64) {
		if n >= MinFingerprintSize {
			sp.Sizes = append(sp.Sizes, n)
		}
	}
	for _, f := range d.KnownFiles {
		addSize(f.Size)
	}
	for _, dv := range d.Derivatives {
		for _, f := range dv.KnownFiles {
			addSize(f.Size)
		}
	}
	return sp
}

// Match says why an item matches a spec ("" when it does not).
func (sp *Spec) Match(it Item) string {
	for _, h := range sp.InfoHashes {
		if h == it.InfoHash {
			return "infohash " + h
		}
	}
	for _, n := range sp.Sizes {
		if n == it.Size {
			return "size " + strconv.FormatInt(n, 10) + " bytes equals a known file"
		}
	}
	hay := " " + norm(it.Title+" "+it.Description) + " "
	for _, t := range sp.Terms {
		if n := norm(t); n != "" && strings.Contains(hay, " "+n+" ") {
			return "name " + strconv.Quote(t)
		}
	}
	return ""
}

var nonAlnum = regexp.MustCompile(`[^\p{L}\p{N}]+`)

// norm lower-cases s and turns every run of non-alphanumerics into one space ("MS-Celeb-1M" and
// "ms celeb 1m" are the same).
func norm(s string) string {
	return strings.TrimSpace(nonAlnum.ReplaceAllString(strings.ToLower(s), " "))
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
