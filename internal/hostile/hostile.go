// Package hostile is a test world of servers that misbehave on purpose, on 127.0.0.1 only: a
// slowloris, gzip and deflate bombs, a 10 GB body (streamed, never held in memory), an endless
// redirect chain, redirects to cloud-metadata and private addresses, malformed and deeply nested
// JSON, XML and HTML, invalid UTF-8, a lying Content-Type, a 429 storm with an absurd Retry-After,
// and a BitTorrent tracker (HTTP and UDP) that answers garbage; and floods (floods.go): gzip at
// 77:1, a search page of 20,000 hits for 25 asked, a .torrent naming 30,000 trackers, details pages
// of a million links a million deep.
//
// Every behaviour is served under its own path prefix on one HTTP server ("/gzip-bomb/..."), so a
// watch config can point any source's base_url at a behaviour: every path under the prefix gets
// the same treatment, whatever the adapter asks for. /robots.txt answers 404 (allow all).
package hostile

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Behaviour names one kind of hostility; it is the first path segment of its URLs.
type Behaviour string

// The behaviours.
const (
	Slowloris        Behaviour = "slowloris"         // headers at once, then one body byte per second, forever
	SlowHeaders      Behaviour = "slow-headers"      // never sends a status line
	GzipBomb         Behaviour = "gzip-bomb"         // Content-Encoding: gzip; ~10 GiB of zeros in ~10 MiB
	DeflateBomb      Behaviour = "deflate-bomb"      // Content-Encoding: deflate; the same, as raw deflate
	HugeBody         Behaviour = "huge-body"         // Content-Length: 10 GiB, streamed
	HugeChunked      Behaviour = "huge-chunked"      // 10 GiB without a Content-Length (chunked)
	RedirectLoop     Behaviour = "redirect-loop"     // 302 to the next hop, forever
	RedirectMetadata Behaviour = "redirect-metadata" // 302 to http://169.254.169.254/latest/meta-data/
	RedirectPrivate  Behaviour = "redirect-private"  // 302 to http://10.0.0.1/
	NestedJSON       Behaviour = "nested-json"       // [[[[…]]]] a million deep
	MalformedJSON    Behaviour = "malformed-json"    // truncated JSON with a stray NUL
	NestedXML        Behaviour = "nested-xml"        // <a><a>… a million deep, an Atom/RSS root first
	MalformedXML     Behaviour = "malformed-xml"     // unclosed tags, an undeclared entity, a DOCTYPE with entity expansion
	NestedHTML       Behaviour = "nested-html"       // <div><div>… a million deep
	MalformedHTML    Behaviour = "malformed-html"    // unterminated tags, attributes and comments
	InvalidUTF8      Behaviour = "invalid-utf8"      // JSON and text with invalid UTF-8 sequences
	WrongType        Behaviour = "wrong-type"        // says application/json, sends a PNG
	RateStorm        Behaviour = "429-storm"         // 429 with Retry-After: 999999999
	RateStormDate    Behaviour = "429-storm-date"    // 429 with a Retry-After date in 2999
	GarbageTracker   Behaviour = "tracker"           // /tracker/announce and /tracker/scrape answer garbage
)

// All lists every HTTP behaviour.
var All = []Behaviour{Slowloris, SlowHeaders, GzipBomb, DeflateBomb, HugeBody, HugeChunked, RedirectLoop,
	RedirectMetadata, RedirectPrivate, NestedJSON, MalformedJSON, NestedXML, MalformedXML, NestedHTML,
	MalformedHTML, InvalidUTF8, WrongType, RateStorm, RateStormDate, GarbageTracker}

// TenGiB is the size of the huge bodies and of the bombs' decompressed content.
const TenGiB = int64(10) << 30

// Depth is how deep the nested documents go.
const Depth = 1_000_000

// World is the running hostile server.
type World struct {
	URL string // http://127.0.0.1:PORT
	// UDPTracker is udp://127.0.0.1:PORT/announce, a tracker answering every datagram with garbage.
	UDPTracker string

	srv   *httptest.Server
	udp   net.PacketConn
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	hits  sync.Map // Behaviour -> *atomic.Int64
	wrote atomic.Int64
	// trackerN cycles the tracker's garbage.
	trackerN atomic.Int64
	flood    floodState
}

// Start starts the world on 127.0.0.1 (random ports). Close it when done.
func Start() (*World, error) {
	w := &World{quit: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hostile: listen: %w", err)
	}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	w.srv.Listener.Close()
	w.srv.Listener = ln
	w.srv.Start()
	w.URL = w.srv.URL
	gzipMember()
	w.deflateBlock()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		w.srv.Close()
		return nil, fmt.Errorf("hostile: udp tracker: %w", err)
	}
	w.udp = pc
	w.UDPTracker = "udp://" + pc.LocalAddr().String() + "/announce"
	w.wg.Add(1)
	go w.serveUDP()
	return w, nil
}

// Base returns the base URL of behaviour b (what a source's base_url is set to).
func (w *World) Base(b Behaviour) string { return w.URL + "/" + string(b) }

// Hits returns how many requests behaviour b received.
func (w *World) Hits(b Behaviour) int64 {
	if v, ok := w.hits.Load(b); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// BytesWritten is how many body bytes the world managed to send in all.
func (w *World) BytesWritten() int64 { return w.wrote.Load() }

// Close stops the endless handlers and the servers.
func (w *World) Close() {
	w.once.Do(func() {
		close(w.quit)
		w.srv.CloseClientConnections()
		w.srv.Close()
		w.udp.Close()
		w.wg.Wait()
	})
}

func (w *World) hit(b Behaviour) {
	v, _ := w.hits.LoadOrStore(b, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (w *World) serve(rw http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "robots.txt" {
		http.NotFound(rw, r)
		return
	}
	seg, rest, _ := strings.Cut(path, "/")
	b := Behaviour(seg)
	w.hit(b)
	switch b {
	case Slowloris:
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		w.trickle(rw, r, []byte("[{\"id\":\"x\""), time.Second)
	case SlowHeaders:
		select { // never answer: the client's header timeout must end it
		case <-r.Context().Done():
		case <-w.quit:
		}
	case GzipBomb:
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Content-Encoding", "gzip")
		w.repeat(rw, r, gzipMember(), TenGiB/bombBlock)
	case DeflateBomb:
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Content-Encoding", "deflate")
		w.deflateStream(rw, r)
	case HugeBody:
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Content-Length", strconv.FormatInt(TenGiB, 10))
		w.zeros(rw, r, TenGiB)
	case HugeChunked:
		rw.Header().Set("Content-Type", "application/xml")
		w.zeros(rw, r, TenGiB)
	case RedirectLoop:
		n, _ := strconv.Atoi(strings.TrimPrefix(rest, "hop-"))
		http.Redirect(rw, r, fmt.Sprintf("/%s/hop-%d", RedirectLoop, n+1), http.StatusFound)
	case RedirectMetadata:
		http.Redirect(rw, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
	case RedirectPrivate:
		http.Redirect(rw, r, "http://10.0.0.1/admin", http.StatusMovedPermanently)
	case NestedJSON:
		rw.Header().Set("Content-Type", "application/json")
		w.write(rw, nested("[", "]", Depth))
	case MalformedJSON:
		rw.Header().Set("Content-Type", "application/json")
		w.write(rw, []byte(`{"items":[{"id":"a","name":"x\u00","downloads":1e999999,"tags":[1,2,`+"\x00"+`{"id":`))
	case NestedXML:
		rw.Header().Set("Content-Type", "application/atom+xml")
		w.write(rw, append([]byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>`), nested("<a>", "</a>", Depth)...))
	case MalformedXML:
		rw.Header().Set("Content-Type", "application/xml")
		w.write(rw, []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>`+
			`<rss><channel><item><title>&lol2;&undeclared;</title><link>http://169.254.169.254/</link><item><title>unclosed`))
	case NestedHTML:
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.write(rw, append([]byte("<!doctype html><html><body>"), nested("<div>", "</div>", Depth)...))
	case MalformedHTML:
		rw.Header().Set("Content-Type", "text/html")
		w.write(rw, []byte(`<html><head><title>x<body><a href="javascript:alert(1)" onclick=<script>alert(1)</script>`+
			`<table><tr><td><div <!-- unterminated <a href='http://10.0.0.1/`+"\x00\xff"+`<dl><dt><dd><dt><dd>`))
	case InvalidUTF8:
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.write(rw, []byte("{\"items\":[{\"id\":\"\xff\xfe\xfd\",\"title\":\"caf\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\",\"description\":\"\xc0\xaf\"}],\"next\":\"\xff\"}"))
	case WrongType:
		rw.Header().Set("Content-Type", "application/json")
		w.write(rw, pngBytes)
	case RateStorm:
		rw.Header().Set("Retry-After", "999999999")
		http.Error(rw, "slow down", http.StatusTooManyRequests)
	case RateStormDate:
		rw.Header().Set("Retry-After", "Fri, 31 Dec 2999 23:59:59 GMT")
		http.Error(rw, "slow down", http.StatusTooManyRequests)
	case GarbageTracker:
		w.tracker(rw, r, rest)
	case Gzip77:
		w.serveGzip77(rw)
	case SearchFlood:
		w.serveSearchFlood(rw, r, rest)
	case TrackerFlood:
		w.serveTrackerFlood(rw, r, rest)
	default:
		http.NotFound(rw, r)
	}
}

// tracker answers announce and scrape with garbage, cycling through: bencode nested a million
// deep, a scrape dictionary with absurd integers, an HTML error page with NUL bytes, and a
// truncated dictionary.
func (w *World) tracker(rw http.ResponseWriter, _ *http.Request, _ string) {
	rw.Header().Set("Content-Type", "text/plain")
	var body []byte
	switch w.trackerN.Add(1) % 4 {
	case 1:
		body = nested("l", "e", Depth)
	case 2:
		body = []byte("d5:filesd20:" + strings.Repeat("\xff", 20) + "d8:completei99999999999999999999999999ee10:incompletei-5eee")
	case 3:
		body = []byte("<html>502 Bad Gateway</html>\x00\xff")
	default:
		body = []byte("d8:intervali1800e5:peers6:")
	}
	w.write(rw, body)
}

func (w *World) serveUDP() {
	defer w.wg.Done()
	buf := make([]byte, 2048)
	garbage := [][]byte{
		{0, 0, 0, 3},                         // short "error" without a transaction id
		bytes.Repeat([]byte{0xff}, 1400),     // noise
		{0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}, // connect reply with a wrong transaction id
	}
	i := 0
	for {
		n, addr, err := w.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		_ = n
		g := garbage[i%len(garbage)]
		i++
		_, _ = w.udp.WriteTo(g, addr)
	}
}

func (w *World) write(rw http.ResponseWriter, b []byte) {
	n, _ := rw.Write(b)
	w.wrote.Add(int64(n))
}

// trickle writes prefix, then one byte per interval until the client or the world gives up.
func (w *World) trickle(rw http.ResponseWriter, r *http.Request, prefix []byte, every time.Duration) {
	fl, _ := rw.(http.Flusher)
	w.write(rw, prefix)
	if fl != nil {
		fl.Flush()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-w.quit:
			return
		case <-t.C:
			if _, err := rw.Write([]byte(" ")); err != nil {
				return
			}
			w.wrote.Add(1)
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// zeros streams n zero bytes in 64 KiB writes, stopping when the client goes away.
func (w *World) zeros(rw http.ResponseWriter, r *http.Request, n int64) {
	buf := make([]byte, 64<<10)
	w.repeatN(rw, r, buf, n)
}

func (w *World) repeatN(rw http.ResponseWriter, r *http.Request, chunk []byte, n int64) {
	for sent := int64(0); sent < n; {
		select {
		case <-r.Context().Done():
			return
		case <-w.quit:
			return
		default:
		}
		c := chunk
		if left := n - sent; int64(len(c)) > left {
			c = c[:left]
		}
		k, err := rw.Write(c)
		sent += int64(k)
		w.wrote.Add(int64(k))
		if err != nil {
			return
		}
	}
}

// repeat writes chunk count times (gzip members concatenate into one stream).
func (w *World) repeat(rw http.ResponseWriter, r *http.Request, chunk []byte, count int64) {
	w.repeatN(rw, r, chunk, int64(len(chunk))*count)
}

// bombBlock is the decompressed size of one gzip member (and deflate block) of the bombs: 1 MiB
// of zeros compresses to about 1 KiB, so 10 GiB decompressed is about 10 MiB on the wire.
const bombBlock = 1 << 20

var (
	memberOnce sync.Once
	member     []byte
	deflOnce   sync.Once
	deflBlock  []byte
)

// gzipMember is one gzip member holding bombBlock zero bytes (~64 KiB compressed).
func gzipMember() []byte {
	memberOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := 0; i < bombBlock>>20; i++ {
			_, _ = zw.Write(zeros)
		}
		_ = zw.Close()
		member = buf.Bytes()
	})
	return member
}

// deflateStream writes one raw-deflate stream of TenGiB zeros: a compressed 64 MiB block (sync
// flushed) repeated. Repeating the flushed block bytes is a valid stream of non-final blocks.
func (w *World) deflateStream(rw http.ResponseWriter, r *http.Request) {
	w.repeat(rw, r, w.deflateBlock(), TenGiB/bombBlock)
}

func (w *World) deflateBlock() []byte {
	deflOnce.Do(func() {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := 0; i < bombBlock>>20; i++ {
			_, _ = fw.Write(zeros)
		}
		_ = fw.Flush()
		deflBlock = buf.Bytes()
	})
	return deflBlock
}

// nested is open×n followed by close×n.
func nested(open, close string, n int) []byte {
	b := make([]byte, 0, (len(open)+len(close))*n)
	b = append(b, bytes.Repeat([]byte(open), n)...)
	return append(b, bytes.Repeat([]byte(close), n)...)
}

// pngBytes is a PNG header and junk: what a hostile server sends for "application/json".
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 0xff, 0x7f, '"', '{'}, 4096)...)
