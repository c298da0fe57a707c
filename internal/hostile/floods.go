package hostile

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/anacrolix/torrent/bencode"
)

// The flood behaviours of issue 18: inputs that are not malformed at all, only far larger than
// what was asked for, so that each defence is a bound (a cap on count, on bytes), not a parse
// error. Each one is served in the shape of the adapter it floods.
const (
	// Gzip77 answers every request with Content-Encoding: gzip at about 77:1 (under the 250:1
	// bomb check) decoding to Gzip77Decoded bytes — the response that took 4 workers to 768 MB.
	Gzip77 Behaviour = "gzip-77"
	// SearchFlood is a Zenodo-shaped API (base_url = Base(SearchFlood)): every search page
	// (/api/records?...&size=25) answers SearchFloodHits hits and a next link, for ever; every
	// record (/api/records/ID) answers a small record.
	SearchFlood Behaviour = "search-flood"
	// TrackerFlood is an Academic Torrents-shaped site (base_url = Base(TrackerFlood)):
	// /database.xml lists three MS-Celeb-1M torrents (/trackers.xml the first, /links.xml the other two); the first's details page is honest and its
	// .torrent names TrackerFloodCount trackers (http://…/tracker-flood/t/N/announce, each
	// answering a scrape failure); the second's details page is nested 500,000 <i> deep with
	// as many links (NestedLinksPage), the third's a flat million links (FlatLinksPage).
	TrackerFlood Behaviour = "tracker-flood"
)

// Flood sizes.
const (
	Gzip77Decoded     = 60 << 20
	SearchFloodHits   = 20_000
	TrackerFloodCount = 30_000
	FloodLinks        = 1_000_000
	NestedLinks       = 500_000
)

// Floods lists the flood behaviours.
var Floods = []Behaviour{Gzip77, SearchFlood, TrackerFlood}

// The three catalogue entries of TrackerFlood, by role.
var (
	FloodTorrentHash string // the honest page whose .torrent names TrackerFloodCount trackers
	NestedLinksHash  = strings.Repeat("ab", 20)
	FlatLinksHash    = strings.Repeat("cd", 20)
)

var floodInfo []byte

func init() {
	var err error
	floodInfo, err = bencode.Marshal(map[string]any{"name": "ms-celeb-1m-flood.tar", "length": 1 << 20,
		"piece length": 1 << 18, "pieces": strings.Repeat("\x01", 20*4)})
	if err != nil {
		panic(err)
	}
	sum := sha1.Sum(floodInfo)
	FloodTorrentHash = hex.EncodeToString(sum[:])
}

// floodState is the bookkeeping of the flood behaviours.
type floodState struct {
	mu       sync.Mutex
	trackers map[int]int // tracker index -> requests
	searches int64
	records  int64
	torrent  []byte
	gz       []byte
	ratio    float64
	once     sync.Once
	tonce    sync.Once
}

// FloodCounts is what the flood behaviours were asked.
type FloodCounts struct {
	SearchPages, Records int64 // SearchFlood
	Trackers             int   // distinct TrackerFlood trackers contacted (announce or scrape)
	TrackerRequests      int
}

// FloodCounts returns what the flood behaviours were asked so far.
func (w *World) FloodCounts() FloodCounts {
	w.flood.mu.Lock()
	defer w.flood.mu.Unlock()
	c := FloodCounts{SearchPages: w.flood.searches, Records: w.flood.records, Trackers: len(w.flood.trackers)}
	for _, n := range w.flood.trackers {
		c.TrackerRequests += n
	}
	return c
}

// ResetFloodCounts zeroes FloodCounts.
func (w *World) ResetFloodCounts() {
	w.flood.mu.Lock()
	defer w.flood.mu.Unlock()
	w.flood.trackers, w.flood.searches, w.flood.records = nil, 0, 0
}

// Gzip77Body is the gzip stream Gzip77 serves, and its decoded:wire ratio.
func (w *World) Gzip77Body() ([]byte, float64) {
	w.flood.once.Do(func() {
		w.flood.gz = moderateGzip(Gzip77Decoded)
		w.flood.ratio = float64(Gzip77Decoded) / float64(len(w.flood.gz))
	})
	return w.flood.gz, w.flood.ratio
}

// moderateGzip is n bytes of JSON-ish filler (spaces with a few random letters per 4 KiB, so
// that gzip gets about 77:1) compressed.
func moderateGzip(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 7))
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	chunk := make([]byte, 4096)
	for written := 0; written < n; written += len(chunk) {
		for i := range chunk {
			chunk[i] = ' '
		}
		for i := 0; i < 16; i++ {
			chunk[rng.IntN(len(chunk))] = byte('a' + rng.IntN(26))
		}
		_, _ = zw.Write(chunk[:min(len(chunk), n-written)])
	}
	_ = zw.Close()
	return z.Bytes()
}

func (w *World) serveGzip77(rw http.ResponseWriter) {
	body, _ := w.Gzip77Body()
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Encoding", "gzip")
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.write(rw, body)
}

// serveSearchFlood answers Zenodo's search and record paths.
func (w *World) serveSearchFlood(rw http.ResponseWriter, r *http.Request, rest string) {
	rw.Header().Set("Content-Type", "application/json")
	switch {
	case rest == "api/records":
		w.flood.mu.Lock()
		w.flood.searches++
		w.flood.mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		var b strings.Builder
		b.Grow(SearchFloodHits * 64)
		fmt.Fprintf(&b, `{"hits":{"total":%d,"hits":[`, SearchFloodHits*1000)
		for i := 0; i < SearchFloodHits; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			id := page*SearchFloodHits + i
			fmt.Fprintf(&b, `{"id":%d,"metadata":{"title":"MS-Celeb-1M flood %d"}}`, id, id)
		}
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		fmt.Fprintf(&b, `]},"links":{"next":"http://%s/%s/api/records?%s"}}`, r.Host, SearchFlood, q.Encode())
		w.write(rw, []byte(b.String()))
	case strings.HasPrefix(rest, "api/records/"):
		w.flood.mu.Lock()
		w.flood.records++
		w.flood.mu.Unlock()
		id := strings.TrimPrefix(rest, "api/records/")
		w.write(rw, fmt.Appendf(nil, `{"id":%q,"metadata":{"title":"flood record %s","description":"not a dataset"}}`, id, id))
	default:
		http.NotFound(rw, r)
	}
}

// serveTrackerFlood answers the Academic Torrents paths and the flood's trackers.
func (w *World) serveTrackerFlood(rw http.ResponseWriter, r *http.Request, rest string) {
	base := "http://" + r.Host + "/" + string(TrackerFlood)
	switch {
	case rest == "database.xml" || rest == "trackers.xml" || rest == "links.xml":
		rw.Header().Set("Content-Type", "application/xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss xmlns:academictorrents="http://academictorrents.com" version="2.0"><channel><title>Academic Torrents</title>`)
		for _, it := range []struct{ hash, title, in string }{{FloodTorrentHash, "MS-Celeb-1M (tracker flood)", "trackers.xml"},
			{NestedLinksHash, "MS-Celeb-1M (nested links)", "links.xml"}, {FlatLinksHash, "MS-Celeb-1M (flat links)", "links.xml"}} {
			if rest != "database.xml" && rest != it.in {
				continue
			}
			fmt.Fprintf(&b, `<item><title>%s</title><category>Dataset</category><infohash>%s</infohash><guid>%s/details/%s</guid><link>%s/details/%s</link><description>MS-Celeb-1M faces</description><size>1048576</size></item>`,
				it.title, it.hash, base, it.hash, base, it.hash)
		}
		b.WriteString(`</channel></rss>`)
		w.write(rw, []byte(b.String()))
	case rest == "details/"+FloodTorrentHash:
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.write(rw, fmt.Appendf(nil, `<!DOCTYPE html><html><head><title>MS-Celeb-1M (tracker flood) - Academic Torrents</title></head>
<body><h1>MS-Celeb-1M (tracker flood)</h1><p><span id="category">Dataset</span> · <b>1</b> seeders · <b>0</b> leechers ·
<a href="%s/download/%s.torrent">Download .torrent</a></p><div id="description">MS-Celeb-1M faces</div>
<table class="files"><thead><tr><th>File</th><th>Size</th></tr></thead><tbody><tr><td>ms-celeb-1m-flood.tar</td><td data-bytes="1048576">1.00 MB</td></tr></tbody></table></body></html>`,
			base, FloodTorrentHash))
	case rest == "details/"+NestedLinksHash:
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.write(rw, NestedLinksPage())
	case rest == "details/"+FlatLinksHash:
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.write(rw, FlatLinksPage())
	case rest == "download/"+FloodTorrentHash+".torrent":
		rw.Header().Set("Content-Type", "application/x-bittorrent")
		w.write(rw, w.floodTorrent(base))
	case strings.HasPrefix(rest, "t/"):
		n, _, _ := strings.Cut(strings.TrimPrefix(rest, "t/"), "/")
		i, err := strconv.Atoi(n)
		if err != nil {
			http.NotFound(rw, r)
			return
		}
		w.flood.mu.Lock()
		if w.flood.trackers == nil {
			w.flood.trackers = map[int]int{}
		}
		w.flood.trackers[i]++
		w.flood.mu.Unlock()
		// A well-formed scrape of the flood torrent (one seeder), so that the prober takes every
		// tracker it is allowed to: what bounds it is max_trackers, not a failure.
		ih, _ := hex.DecodeString(FloodTorrentHash)
		rw.Header().Set("Content-Type", "text/plain")
		w.write(rw, []byte("d5:filesd20:"+string(ih)+"d8:completei1e10:downloadedi0e10:incompletei0eeee"))
	default:
		http.NotFound(rw, r)
	}
}

// floodTorrent is the .torrent naming TrackerFloodCount trackers, one per tier, all under base
// (built once: the world's port does not change).
func (w *World) floodTorrent(base string) []byte {
	w.flood.tonce.Do(func() {
		tiers := make([][]string, TrackerFloodCount)
		for i := range tiers {
			tiers[i] = []string{fmt.Sprintf("%s/t/%d/announce", base, i)}
		}
		b, err := bencode.Marshal(map[string]any{"announce": tiers[0][0], "announce-list": tiers,
			"info": bencode.Bytes(floodInfo)})
		if err != nil {
			panic(err)
		}
		w.flood.torrent = b
	})
	return w.flood.torrent
}

var (
	linksOnce         sync.Once
	nestedLinks, flat []byte
)

func buildLinkPages() {
	linksOnce.Do(func() {
		head := func(title string) []byte {
			return []byte("<!DOCTYPE html><html><head><title>" + title + " - Academic Torrents</title></head><body><h1>" + title + "</h1>")
		}
		// <i> is never closed: NestedLinks open elements, each holding a link.
		nestedLinks = append(head("MS-Celeb-1M (nested links)"), bytes.Repeat([]byte("<i><a href></a>"), NestedLinks)...)
		flat = append(head("MS-Celeb-1M (flat links)"), bytes.Repeat([]byte("<a href>"), FloodLinks)...)
	})
}

// NestedLinksPage is a details page nested NestedLinks elements deep with NestedLinks links
// (7.5 MB: under Academic Torrents' 8 MiB bound on a details page, so that the HTML bounds are
// what refuses it).
func NestedLinksPage() []byte { buildLinkPages(); return nestedLinks }

// FlatLinksPage is a details page of FloodLinks links, a few elements deep (8.0 MB).
func FlatLinksPage() []byte { buildLinkPages(); return flat }
