package academictorrents

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
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
}

// MaxCatalogueItems bounds how many items one catalogue parse reads (the live catalogue has tens
// of thousands).
const MaxCatalogueItems = 2_000_000

var hashRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ParseCatalogue streams the <item>s of database.xml (or rss.xml / a collection feed) to fn, one at a
// time, so the whole catalogue is never held as structs. Items without a valid info-hash are
// skipped and counted.
func ParseCatalogue(b []byte, fn func(Item) error) (items, skipped int, err error) {
	if err := crawler.CheckXMLDepth(b, 0); err != nil {
		return 0, 0, fmt.Errorf("academictorrents catalogue: %w", err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	sawRSS := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return items, skipped, fmt.Errorf("academictorrents catalogue: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "rss", "channel":
			sawRSS = true
		case "item":
			if items+skipped >= MaxCatalogueItems {
				return items, skipped, fmt.Errorf("academictorrents catalogue: more than %d items", MaxCatalogueItems)
			}
			var it Item
			if err := dec.DecodeElement(&it, &se); err != nil {
				return items, skipped, fmt.Errorf("academictorrents catalogue: item %d: %w", items+skipped+1, err)
			}
			it.InfoHash = strings.ToLower(strings.TrimSpace(it.InfoHash))
			if !hashRE.MatchString(it.InfoHash) {
				skipped++
				continue
			}
			it.Size = -1
			if n, err := strconv.ParseInt(strings.TrimSpace(it.SizeText), 10, 64); err == nil && n >= 0 {
				it.Size = n
			}
			it.Title = collapse(it.Title)
			it.Description = strings.TrimSpace(it.Description)
			it.Category = collapse(it.Category)
			items++
			if err := fn(it); err != nil {
				return items, skipped, err
			}
		}
	}
	if !sawRSS {
		return items, skipped, fmt.Errorf("academictorrents catalogue: not an RSS document")
	}
	return items, skipped, nil
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
