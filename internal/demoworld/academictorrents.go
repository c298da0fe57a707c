package demoworld

import (
	"bytes"
	"crypto/sha1"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// Academic Torrents: GET /database.xml (the RSS 2.0 catalogue as in fixtures/real/academictorrents,
// one <item> per planted torrent of the epoch), /details/<infohash> (an HTML page: title,
// description, category, date, seeders/leechers, bibtex, file table; 404 when absent), and
// /download/<infohash>[.torrent] — a real bencoded .torrent built at serve time from a made-up info
// dict (name, files, piece length, pseudo-random piece hashes), so the info-hash is SHA-1 of that
// dict and equals the planted id. There is no content behind any of it. Planted artifacts' extra:
// torrent_name (multi-file root; single-file when absent), category, seeders, leechers.
func init() {
	registerSource("academictorrents", func(w *World) http.Handler { return &atHandler{w: w} })
}

type atHandler struct{ w *World }

const atSource = "academictorrents"

func (h *atHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/database.xml":
		h.catalogue(rw, r)
	case strings.HasPrefix(p, "/details/"):
		h.details(rw, r, strings.TrimPrefix(p, "/details/"))
	case strings.HasPrefix(p, "/download/"):
		h.download(rw, r, strings.TrimSuffix(strings.TrimPrefix(p, "/download/"), ".torrent"))
	case p == "/announce.php":
		// Not a tracker: a well-formed tracker failure so clients get a clear answer.
		pwServe(rw, r, http.StatusOK, "text/plain", []byte("d14:failure reason30:demo world: no tracker here :)e"))
	default:
		http.NotFound(rw, r)
	}
}

func (h *atHandler) find(hash string) (Planted, bool) {
	return h.w.Find(atSource, "at:"+strings.ToLower(hash))
}

type atItem struct {
	Title       string `xml:"title"`
	Category    string `xml:"category"`
	InfoHash    string `xml:"infohash"`
	GUID        string `xml:"guid"`
	Link        string `xml:"link"`
	Description string `xml:"description"`
	Size        int64  `xml:"size"`
}

func (h *atHandler) catalogue(rw http.ResponseWriter, r *http.Request) {
	type channel struct {
		Title       string   `xml:"title"`
		Description string   `xml:"description"`
		Link        string   `xml:"link"`
		Items       []atItem `xml:"item"`
	}
	type rss struct {
		XMLName xml.Name `xml:"rss"`
		NS      string   `xml:"xmlns:academictorrents,attr"`
		Version string   `xml:"version,attr"`
		Channel channel  `xml:"channel"`
	}
	ps := append([]Planted(nil), h.w.Planted(atSource)...) // shared: sort a copy
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	doc := rss{NS: "http://academictorrents.com", Version: "2.0",
		Channel: channel{Title: "Academic Torrents", Description: "All Torrents", Link: pwAbs(r, "/academictorrents/")}}
	for _, p := range ps {
		hash := strings.TrimPrefix(p.ID, "at:")
		link := pwAbs(r, "/academictorrents/details/"+hash)
		doc.Channel.Items = append(doc.Channel.Items, atItem{Title: p.Title, Category: atCategory(p), InfoHash: hash,
			GUID: link, Link: link, Description: p.Text, Size: atTotal(p)})
	}
	b, err := xml.MarshalIndent(doc, "", "")
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	pwServe(rw, r, http.StatusOK, "application/xml", b)
}

func atCategory(p Planted) string {
	if c := pwString(p, "category"); c != "" {
		return c
	}
	return "Dataset"
}

func atTotal(p Planted) int64 {
	var n int64
	for _, f := range p.Files {
		if f.Size != nil {
			n += *f.Size
		}
	}
	return n
}

var atDetailsTmpl = template.Must(template.New("details").Funcs(template.FuncMap{"bytes": atHuman}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} - Academic Torrents</title>
<meta property="og:title" content="{{.Title}}"><meta property="og:description" content="{{.Text}}"></head>
<body><div class="container">
<h1>{{.Title}}</h1>
<p><span id="category">{{.Category}}</span> · added <time datetime="{{.Published}}T00:00:00Z">{{.Published}}</time> ·
<b>{{.Seeders}}</b> seeders · <b>{{.Leechers}}</b> leechers · <a href="{{.Download}}">Download .torrent</a></p>
<div id="description">{{.Text}}</div>
<pre class="bibtex">@misc{ {{- .Key}},
title= { {{- .Title}}},
howpublished= {\url{ {{- .Link}}}}
}</pre>
<table class="files"><thead><tr><th>File</th><th>Size</th></tr></thead><tbody>
{{range .Files}}<tr><td>{{.Path}}</td><td data-bytes="{{.Bytes}}">{{bytes .Bytes}}</td></tr>
{{end}}</tbody></table>
</div></body></html>
`))

func atHuman(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.2f TB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (h *atHandler) details(rw http.ResponseWriter, r *http.Request, hash string) {
	p, ok := h.find(hash)
	if !ok {
		pwServe(rw, r, http.StatusNotFound, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html><head><title>Not found - Academic Torrents</title></head><body><p>Torrent not found.</p></body></html>"))
		return
	}
	type file struct {
		Path  string
		Bytes int64
	}
	data := struct {
		Title, Text, Category, Published, Download, Link, Key string
		Seeders, Leechers                                     int64
		Files                                                 []file
	}{Title: p.Title, Text: p.Text, Category: atCategory(p), Published: p.Published,
		Download: pwAbs(r, "/academictorrents/download/"+hash+".torrent"), Link: pwAbs(r, "/academictorrents/details/"+hash),
		Key: "demo" + hash[:8], Seeders: pwInt(p, "seeders"), Leechers: pwInt(p, "leechers")}
	for _, f := range p.Files {
		var n int64
		if f.Size != nil {
			n = *f.Size
		}
		data.Files = append(data.Files, file{f.Path, n})
	}
	var b bytes.Buffer
	if err := atDetailsTmpl.Execute(&b, data); err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	pwServe(rw, r, http.StatusOK, "text/html; charset=utf-8", b.Bytes())
}

func (h *atHandler) download(rw http.ResponseWriter, r *http.Request, hash string) {
	p, ok := h.find(hash)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	b, ih, err := ATTorrent(p, pwAbs(r, TrackerAnnouncePath)) // the demo tracker (tracker.go)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	if "at:"+ih != p.ID {
		http.Error(rw, fmt.Sprintf("planted %s builds info-hash %s", p.ID, ih), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Disposition", `attachment; filename="`+hash+`.torrent"`)
	pwServe(rw, r, http.StatusOK, "application/x-bittorrent", b)
}

// ATInfo builds the made-up info dictionary of a planted torrent: deterministic, so its SHA-1 (the
// info-hash) is stable and can be written into the planted id. Piece hashes are SHA-1s of the
// torrent name and piece index — there is no content.
func ATInfo(p Planted) ([]byte, error) {
	if len(p.Files) == 0 {
		return nil, errors.New("planted torrent without files")
	}
	total := atTotal(p)
	pl := int64(256 << 10)
	for total/pl > 4000 {
		pl *= 2
	}
	n := total / pl
	if total%pl != 0 || n == 0 {
		n++
	}
	info := metainfo.Info{PieceLength: pl, Pieces: make([]byte, 0, n*20)}
	name := pwString(p, "torrent_name")
	for i := int64(0); i < n; i++ {
		s := sha1.Sum([]byte(p.Title + "/" + name + "/" + strconv.FormatInt(i, 10)))
		info.Pieces = append(info.Pieces, s[:]...)
	}
	if name == "" {
		if len(p.Files) != 1 || p.Files[0].Size == nil {
			return nil, errors.New("single-file torrent needs exactly one file with a size (or extra.torrent_name)")
		}
		info.Name, info.Length = p.Files[0].Path, *p.Files[0].Size
	} else {
		info.Name = name
		for _, f := range p.Files {
			if f.Size == nil {
				return nil, fmt.Errorf("file %s has no size", f.Path)
			}
			info.Files = append(info.Files, metainfo.FileInfo{Length: *f.Size, Path: strings.Split(f.Path, "/")})
		}
	}
	return bencode.Marshal(info)
}

// ATTorrent builds the .torrent of a planted torrent and returns it with its info-hash.
func ATTorrent(p Planted, announce string) ([]byte, string, error) {
	infoBytes, err := ATInfo(p)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", p.ID, err)
	}
	mi := metainfo.MetaInfo{InfoBytes: infoBytes, Announce: announce, AnnounceList: [][]string{{announce}},
		Comment: "Demo world torrent (metadata only, nothing to download)", CreatedBy: "afterlife demo world"}
	if t, err := time.Parse("2006-01-02", p.Published); err == nil {
		mi.CreationDate = t.Unix()
	}
	var b bytes.Buffer
	if err := mi.Write(&b); err != nil {
		return nil, "", fmt.Errorf("%s: %w", p.ID, err)
	}
	return b.Bytes(), metainfo.HashBytes(infoBytes).HexString(), nil
}
