package academictorrents

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Details is what a /details/<infohash> page says about a torrent.
type Details struct {
	Title       string
	Description string
	Category    string
	Added       string // YYYY-MM-DD
	Files       []DetailFile
	Seeders     int // -1 when the page does not say
	Leechers    int
	Bibtex      string
}

// DetailFile is one row of the page's file list.
type DetailFile struct {
	Path string
	Size int64 // -1 when unknown
}

// MaxDetailsBytes bounds a details page the parser accepts.
const MaxDetailsBytes = 8 << 20

var (
	seedRE  = regexp.MustCompile(`(?i)(\d[\d,]*)\s*seeders?|seeders?\s*[:=]?\s*(\d[\d,]*)`)
	leechRE = regexp.MustCompile(`(?i)(\d[\d,]*)\s*leechers?|leechers?\s*[:=]?\s*(\d[\d,]*)`)
	dateRE  = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})`)
	sizeRE  = regexp.MustCompile(`(?i)^\s*([\d.,]+)\s*(b|bytes|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$`)
)

// ParseDetails reads an Academic Torrents details page. No copy of a live page was recorded (see
// testdata/README.md); the parser reads the parts any version of the page carries, by meaning
// rather than by one layout: the title (h1, og:title or <title>), the description (#description,
// .description, og:description or meta description), the file table (a table whose header names a
// file/path column and a size column), "N seeders / M leechers", an "Added" date and a bibtex block.
func ParseDetails(b []byte) (*Details, error) {
	if len(b) > MaxDetailsBytes {
		return nil, fmt.Errorf("academictorrents details: %d bytes is over the %d limit: %w", len(b), MaxDetailsBytes, crawler.ErrBodyTooLarge)
	}
	root, err := crawler.ParseHTML(b, crawler.HTMLLimits{}) // bounded depth, nodes and links
	if err != nil {
		return nil, fmt.Errorf("academictorrents details: %w", err)
	}
	doc := goquery.NewDocumentFromNode(root)
	d := &Details{Seeders: -1, Leechers: -1}
	d.Title = firstText(doc, "h1", "h2.title")
	if d.Title == "" {
		d.Title = attr(doc, `meta[property="og:title"]`, "content")
	}
	if d.Title == "" {
		d.Title = collapse(strings.TrimSuffix(strings.TrimSpace(doc.Find("title").First().Text()), " - Academic Torrents"))
	}
	if d.Title == "" {
		return nil, fmt.Errorf("academictorrents details: no title: not a details page")
	}
	d.Description = strings.TrimSpace(doc.Find("#description, .description, #abstract, .abstract").First().Text())
	if d.Description == "" {
		d.Description = attr(doc, `meta[property="og:description"]`, "content")
	}
	if d.Description == "" {
		d.Description = attr(doc, `meta[name="description"]`, "content")
	}
	d.Category = firstText(doc, "#category, .category")
	d.Bibtex = strings.TrimSpace(doc.Find("#bibtex, .bibtex, pre.bibtex").First().Text())
	page := collapse(doc.Find("body").Text())
	if m := seedRE.FindStringSubmatch(page); m != nil {
		d.Seeders = atoi(m[1] + m[2])
	}
	if m := leechRE.FindStringSubmatch(page); m != nil {
		d.Leechers = atoi(m[1] + m[2])
	}
	added := firstText(doc, "#added, .added, time")
	if v, ok := doc.Find("time[datetime]").First().Attr("datetime"); ok {
		added = v
	}
	if m := dateRE.FindStringSubmatch(added); m != nil {
		d.Added = m[1]
	}
	doc.Find("table").EachWithBreak(func(_ int, tbl *goquery.Selection) bool {
		pathCol, sizeCol := -1, -1
		tbl.Find("tr").First().Find("th, td").Each(func(i int, c *goquery.Selection) {
			h := strings.ToLower(collapse(c.Text()))
			switch {
			case pathCol < 0 && (strings.Contains(h, "file") || strings.Contains(h, "path") || h == "name"):
				pathCol = i
			case sizeCol < 0 && (strings.Contains(h, "size") || strings.Contains(h, "bytes")):
				sizeCol = i
			}
		})
		if pathCol < 0 {
			return true
		}
		tbl.Find("tr").Slice(1, goquery.ToEnd).Each(func(_ int, tr *goquery.Selection) {
			cells := tr.Find("td")
			p := collapse(cells.Eq(pathCol).Text())
			if p == "" {
				return
			}
			f := DetailFile{Path: p, Size: -1}
			if sizeCol >= 0 {
				c := cells.Eq(sizeCol)
				if v, ok := c.Attr("data-bytes"); ok {
					f.Size = parseSize(v)
				} else {
					f.Size = parseSize(c.Text())
				}
			}
			d.Files = append(d.Files, f)
		})
		return len(d.Files) == 0
	})
	return d, nil
}

func firstText(doc *goquery.Document, sels ...string) string {
	for _, s := range sels {
		if t := collapse(doc.Find(s).First().Text()); t != "" {
			return t
		}
	}
	return ""
}

func attr(doc *goquery.Document, sel, name string) string {
	v, _ := doc.Find(sel).First().Attr(name)
	return strings.TrimSpace(v)
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// parseSize reads "39516981435", "39,516,981,435 bytes", "36.8 GB" or "4.2GiB" (binary units for
// both spellings, as AT prints them). It returns -1 for anything else.
func parseSize(s string) int64 {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	num := strings.ReplaceAll(m[1], ",", "")
	unit := strings.ToLower(m[2])
	if unit == "" || unit == "b" || unit == "bytes" {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f > 1e6 {
		return -1
	}
	mult := map[string]float64{"kb": 1 << 10, "kib": 1 << 10, "mb": 1 << 20, "mib": 1 << 20, "gb": 1 << 30, "gib": 1 << 30, "tb": 1 << 40, "tib": 1 << 40}[unit]
	return int64(f * mult)
}
