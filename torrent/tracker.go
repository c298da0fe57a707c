package torrent

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/bencode"
	trHttp "github.com/anacrolix/torrent/tracker/http"
	"github.com/anacrolix/torrent/tracker/shared"
	"github.com/anacrolix/torrent/tracker/udp"
)

// Batch sizes for scrape requests. BEP 15 fits about 74 hashes in one UDP scrape; opentracker
// answers at most 64 hashes per HTTP scrape (OT_MAXMULTISCRAPE_COUNT).
const (
	DefaultHTTPScrapeBatch = 64
	DefaultUDPScrapeBatch  = 74
	// DefaultRequestTimeout bounds one tracker round trip.
	DefaultRequestTimeout = 10 * time.Second
	// maxTrackerBody bounds an HTTP tracker response.
	maxTrackerBody = 2 << 20
)

// ErrScrapeUnsupported says a tracker has no scrape convention (BEP 48) or refused scrapes.
var ErrScrapeUnsupported = errors.New("tracker does not support scrape")

// Counts is one tracker's view of one swarm. Counts are -1 when unknown.
type Counts struct {
	InfoHash  string `json:"infohash"`
	Tracker   string `json:"tracker"`
	Seeders   int    `json:"seeders"`
	Leechers  int    `json:"leechers"`
	Completed int    `json:"completed"`
	// Peers are the peer addresses an announce returned (not filled by scrape).
	Peers []string `json:"peers,omitempty"`
	// Method is scrape or announce.
	Method string `json:"method"`
	Err    string `json:"error,omitempty"`
}

// Trackers talks to BitTorrent trackers over HTTP(S) and UDP. The zero value is usable. It is safe
// for concurrent use.
type Trackers struct {
	// HTTP is the client for HTTP trackers (a bounded default when nil). Its redirects are not
	// followed.
	HTTP *http.Client
	// UserAgent for HTTP trackers.
	UserAgent string
	// BindHost is the local address UDP sockets listen on; "" picks 127.0.0.1 for loopback
	// trackers and 0.0.0.0 otherwise.
	BindHost string
	// RequestTimeout bounds each round trip (DefaultRequestTimeout when 0).
	RequestTimeout time.Duration
	// HTTPBatch and UDPBatch are the most hashes per scrape request (defaults above).
	HTTPBatch, UDPBatch int

	requests atomic.Int64
	// parent is the Trackers this one was copied from for one probe: requests count there.
	parent *Trackers
}

// Requests is the number of tracker requests sent so far (HTTP requests plus UDP datagrams).
func (tc *Trackers) Requests() int64 { return tc.counter().Load() }

func (tc *Trackers) counter() *atomic.Int64 {
	if tc.parent != nil {
		return tc.parent.counter()
	}
	return &tc.requests
}

// withBindHost returns a copy of tc binding UDP sockets to host, counting requests in tc.
func (tc *Trackers) withBindHost(host string) *Trackers {
	return &Trackers{HTTP: tc.HTTP, UserAgent: tc.UserAgent, BindHost: host, RequestTimeout: tc.RequestTimeout,
		HTTPBatch: tc.HTTPBatch, UDPBatch: tc.UDPBatch, parent: tc}
}

func (tc *Trackers) timeout() time.Duration {
	if tc.RequestTimeout > 0 {
		return tc.RequestTimeout
	}
	return DefaultRequestTimeout
}

func (tc *Trackers) userAgent() string {
	if tc.UserAgent != "" {
		return tc.UserAgent
	}
	return "afterlife-torrent/0.1 (+https://github.com/afterlife-watch/afterlife)"
}

var defaultHTTP = &http.Client{
	Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
	Transport: trackerTransport((&net.Dialer{Timeout: 10 * time.Second}).DialContext),
}

// TrackerWriteBuffer is the write buffer of an HTTP client that talks to trackers. It holds a
// whole scrape request (64 hashes make a ~4.6 KB request line; opentracker refuses requests over
// 8 KB anyway), so the request leaves in one write. With net/http's default 4 KB buffer a request
// line longer than the buffer is written on its own and the headers follow in a second write;
// opentracker answers as soon as one read holds a newline and closes the connection, so the second
// write can meet a closed socket ("broken pipe": CI, stop 24). Clients set on Trackers.HTTP should
// use it too.
const TrackerWriteBuffer = 16 << 10

func trackerTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		MaxIdleConnsPerHost:   4,
		ResponseHeaderTimeout: 20 * time.Second,
		WriteBufferSize:       TrackerWriteBuffer,
		DialContext:           dial,
	}
}

func (tc *Trackers) httpClient() *http.Client {
	if tc.HTTP != nil {
		return tc.HTTP
	}
	return defaultHTTP
}

// ScrapeURL derives the scrape URL of an HTTP announce URL (BEP 48): the last path component must
// start with "announce", which becomes "scrape".
func ScrapeURL(announce string) (string, error) {
	u, err := url.Parse(announce)
	if err != nil {
		return "", fmt.Errorf("tracker %q: %w", announce, err)
	}
	i := strings.LastIndex(u.Path, "/")
	last := u.Path[i+1:]
	if !strings.HasPrefix(last, "announce") {
		return "", fmt.Errorf("%s: %w (last path part %q does not start with announce)", announce, ErrScrapeUnsupported, last)
	}
	u.Path = u.Path[:i+1] + "scrape" + strings.TrimPrefix(last, "announce")
	u.RawPath = ""
	return u.String(), nil
}

func decodeHashes(ihs []string) ([][20]byte, error) {
	out := make([][20]byte, len(ihs))
	for i, s := range ihs {
		if len(s) != 40 {
			return nil, fmt.Errorf("info-hash %q: want 40 hex digits", s)
		}
		if _, err := hex.Decode(out[i][:], []byte(s)); err != nil {
			return nil, fmt.Errorf("info-hash %q: %w", s, err)
		}
	}
	return out, nil
}

// Scrape asks a tracker for the counts of many info-hashes, in batches. The result has one entry
// per hash in order; a hash the tracker does not know gets zero counts and an error. The error
// return is for the tracker as a whole (unreachable, unsupported, refused): ErrScrapeUnsupported
// (wrapped) means the caller may fall back to Announce.
func (tc *Trackers) Scrape(ctx context.Context, trackerURL string, ihs []string) ([]Counts, error) {
	hs, err := decodeHashes(ihs)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(trackerURL)
	if err != nil {
		return nil, fmt.Errorf("tracker %q: %w", trackerURL, err)
	}
	var batch int
	var do func(ctx context.Context, hs [][20]byte) ([]udp.ScrapeInfohashResult, []bool, error)
	switch u.Scheme {
	case "http", "https":
		su, err := ScrapeURL(trackerURL)
		if err != nil {
			return nil, err
		}
		batch = tc.HTTPBatch
		if batch <= 0 {
			batch = DefaultHTTPScrapeBatch
		}
		do = func(ctx context.Context, hs [][20]byte) ([]udp.ScrapeInfohashResult, []bool, error) {
			return tc.scrapeHTTP(ctx, su, hs)
		}
	case "udp", "udp4":
		uc, err := tc.dialUDP(ctx, u)
		if err != nil {
			return nil, err
		}
		defer uc.Close()
		batch = tc.UDPBatch
		if batch <= 0 {
			batch = DefaultUDPScrapeBatch
		}
		do = func(ctx context.Context, hs [][20]byte) ([]udp.ScrapeInfohashResult, []bool, error) {
			return tc.scrapeUDP(ctx, uc, hs)
		}
	default:
		return nil, fmt.Errorf("tracker %q: unsupported scheme %q", trackerURL, u.Scheme)
	}
	out := make([]Counts, 0, len(ihs))
	for start := 0; start < len(hs); start += batch {
		end := min(start+batch, len(hs))
		rctx, cancel := context.WithTimeout(ctx, tc.timeout())
		res, found, err := do(rctx, hs[start:end])
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %v: %w", tc.timeout(), err)
			}
			return out, fmt.Errorf("scrape %s: %w", trackerURL, err)
		}
		for i := start; i < end; i++ {
			c := Counts{InfoHash: ihs[i], Tracker: trackerURL, Method: "scrape"}
			if r := res[i-start]; found[i-start] {
				c.Seeders, c.Leechers, c.Completed = int(r.Seeders), int(r.Leechers), int(r.Completed)
			} else {
				c.Err = "not in the scrape response (torrent unknown to the tracker)"
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (tc *Trackers) scrapeHTTP(ctx context.Context, scrapeURL string, hs [][20]byte) ([]udp.ScrapeInfohashResult, []bool, error) {
	u, err := url.Parse(scrapeURL)
	if err != nil {
		return nil, nil, err
	}
	q := u.Query()
	for _, h := range hs {
		q.Add("info_hash", string(h[:]))
	}
	u.RawQuery = q.Encode()
	body, err := tc.get(ctx, u.String())
	if err != nil {
		return nil, nil, err
	}
	byKey, err := ParseScrapeResponse(body)
	if err != nil {
		return nil, nil, err
	}
	res := make([]udp.ScrapeInfohashResult, len(hs))
	found := make([]bool, len(hs))
	for i, h := range hs {
		res[i], found[i] = byKey[h]
	}
	return res, found, nil
}

func (tc *Trackers) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", tc.userAgent())
	tc.counter().Add(1)
	resp, err := tc.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTrackerBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if len(body) > maxTrackerBody {
		return nil, fmt.Errorf("response over %d bytes: %w", maxTrackerBody, ErrTooLarge)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("HTTP %s: %w", resp.Status, ErrScrapeUnsupported)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return body, nil
}

// ParseScrapeResponse decodes an HTTP scrape response (BEP 48) into counts keyed by the 20-byte
// info-hash. Keys that a tracker wrongly sent UTF-8-encoded (npm bittorrent-tracker) are decoded
// back to their bytes. A "failure reason" is an error.
func ParseScrapeResponse(body []byte) (map[[20]byte]udp.ScrapeInfohashResult, error) {
	if len(body) > maxTrackerBody {
		return nil, fmt.Errorf("scrape response: %w", ErrTooLarge)
	}
	if err := checkBencodeDepth(body); err != nil {
		return nil, fmt.Errorf("scrape response: %w", err)
	}
	var d struct {
		Files         map[string]udp.ScrapeInfohashResult `bencode:"files"`
		FailureReason string                              `bencode:"failure reason"`
	}
	if err := decodeSafely(func() error { return bencode.Unmarshal(body, &d) }); err != nil {
		var trailing bencode.ErrUnusedTrailingBytes
		if !errors.As(err, &trailing) {
			return nil, fmt.Errorf("scrape response: %w", err)
		}
	}
	if d.FailureReason != "" {
		return nil, fmt.Errorf("tracker refused the scrape: %q", cleanText(d.FailureReason))
	}
	out := make(map[[20]byte]udp.ScrapeInfohashResult, len(d.Files))
	for k, v := range d.Files {
		var key [20]byte
		switch {
		case len(k) == 20:
			copy(key[:], k)
		case len([]rune(k)) == 20:
			ok := true
			for i, r := range []rune(k) {
				if r > 0xff {
					ok = false
					break
				}
				key[i] = byte(r)
			}
			if !ok {
				continue
			}
		default:
			continue
		}
		out[key] = v
	}
	return out, nil
}

// udpTracker is one UDP tracker "connection" (the connection id is reused for a minute).
type udpTracker struct {
	cc  *udp.ConnClient
	uri string
}

func (u *udpTracker) Close() error { return u.cc.Close() }

// dialUDP opens a socket for one UDP tracker. The tracker's name is resolved here, under ctx: the
// UDP client would otherwise resolve it on every datagram without a deadline, so a tracker whose
// name server never answers held a goroutine past the probe's end.
func (tc *Trackers) dialUDP(ctx context.Context, u *url.URL) (*udpTracker, error) {
	host := u.Hostname()
	if host == "" || u.Port() == "" {
		return nil, fmt.Errorf("tracker %q: missing host or port", u.String())
	}
	addr := u.Host
	if _, err := netip.ParseAddr(host); err != nil {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
		if err != nil {
			return nil, fmt.Errorf("tracker %s: %w", u, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("tracker %s: %s has no IPv4 address", u, host)
		}
		addr = net.JoinHostPort(ips[0].Unmap().String(), u.Port())
	}
	bind := tc.BindHost
	if bind == "" {
		bind = "0.0.0.0"
		if isLoopbackHost(host) {
			bind = "127.0.0.1"
		}
	}
	cc, err := udp.NewConnClient(udp.NewConnClientOpts{
		Network: "udp4",
		Host:    addr,
		Logger:  quietLogger(),
		ListenPacket: func(string, string) (net.PacketConn, error) {
			pc, err := net.ListenPacket("udp4", net.JoinHostPort(bind, "0"))
			if err != nil {
				return nil, err
			}
			return &countingPacketConn{PacketConn: pc, n: tc.counter()}, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("tracker %s: %w", u, err)
	}
	return &udpTracker{cc: cc, uri: u.RequestURI()}, nil
}

func (tc *Trackers) scrapeUDP(ctx context.Context, ut *udpTracker, hs [][20]byte) ([]udp.ScrapeInfohashResult, []bool, error) {
	ihs := make([]udp.InfoHash, len(hs))
	for i, h := range hs {
		ihs[i] = h
	}
	res, err := ut.cc.Client.Scrape(ctx, ihs)
	if err != nil {
		return nil, nil, err
	}
	if len(res) != len(hs) {
		return nil, nil, fmt.Errorf("udp scrape: %d results for %d hashes", len(res), len(hs))
	}
	found := make([]bool, len(hs))
	for i := range found {
		found[i] = true // UDP scrape answers every hash, in order (zeros when unknown)
	}
	return res, found, nil
}

// countingPacketConn counts datagrams sent.
type countingPacketConn struct {
	net.PacketConn
	n *atomic.Int64
}

func (c *countingPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.n.Add(1)
	return c.PacketConn.WriteTo(p, addr)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Announce gets counts and peers from a tracker by announcing: "started" (as a leecher with one
// byte left, so the tracker returns seeders too), then ALWAYS "stopped" with its own short
// deadline so that we never linger in the swarm as a ghost leecher. The counts come from the
// stopped answer when it has any (opentracker answers with clean counts), else from the started
// answer less ourselves. port is the port we claim (0: a port reserved for the call); peers on it
// are taken to be us.
func (tc *Trackers) Announce(ctx context.Context, trackerURL, infoHash string, port uint16) (c Counts, err error) {
	c = Counts{InfoHash: infoHash, Tracker: trackerURL, Method: "announce", Seeders: -1, Leechers: -1, Completed: -1}
	hs, err := decodeHashes([]string{infoHash})
	if err != nil {
		return c, err
	}
	if err := ctx.Err(); err != nil {
		// Stopped before the started announce went out: nothing to unannounce either.
		return c, fmt.Errorf("announce %s: not sent: %w", trackerURL, context.Cause(ctx))
	}
	u, err := url.Parse(trackerURL)
	if err != nil {
		return c, fmt.Errorf("tracker %q: %w", trackerURL, err)
	}
	if port == 0 {
		host := tc.BindHost
		if host == "" {
			host = "0.0.0.0"
			if isLoopbackHost(u.Hostname()) {
				host = "127.0.0.1"
			}
		}
		p, release, err := reservePort(host)
		if err != nil {
			return c, err
		}
		defer release()
		port = p
	}
	var peerID [20]byte
	copy(peerID[:], "-AL0001-")
	_, _ = rand.Read(peerID[8:])
	req := udp.AnnounceRequest{
		InfoHash: hs[0], PeerId: peerID, Left: 1, Event: shared.Started, NumWant: 200, Port: port,
		Key: int32(binary.BigEndian.Uint32(peerID[8:12])),
	}
	var ann func(context.Context, udp.AnnounceRequest) (trHttp.AnnounceResponse, error)
	switch u.Scheme {
	case "http", "https":
		ann = func(ctx context.Context, r udp.AnnounceRequest) (trHttp.AnnounceResponse, error) {
			return tc.announceHTTP(ctx, u, r)
		}
	case "udp", "udp4":
		ut, err := tc.dialUDP(ctx, u)
		if err != nil {
			return c, err
		}
		defer ut.Close()
		ann = func(ctx context.Context, r udp.AnnounceRequest) (trHttp.AnnounceResponse, error) {
			return announceUDP(ctx, ut, r)
		}
	default:
		return c, fmt.Errorf("tracker %q: unsupported scheme %q", trackerURL, u.Scheme)
	}
	defer func() {
		// The started announce may have reached the tracker even if we gave up waiting: always
		// unannounce, with a deadline of its own.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(tc.timeout(), 5*time.Second))
		defer cancel()
		r := req
		r.Event, r.NumWant = shared.Stopped, 0
		res, serr := ann(sctx, r)
		switch {
		case serr != nil && err == nil:
			err = fmt.Errorf("announce %s: stopped: %w", trackerURL, serr)
		case serr == nil && err == nil && res.Seeders+res.Leechers > 0:
			c.Seeders, c.Leechers = int(res.Seeders), int(res.Leechers)
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, tc.timeout())
	defer cancel()
	res, err := ann(rctx, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %v: %w", tc.timeout(), err)
		}
		return c, fmt.Errorf("announce %s: %w", trackerURL, err)
	}
	c.Seeders, c.Leechers = int(res.Seeders), max(int(res.Leechers)-1, 0)
	seen := map[string]bool{}
	for _, p := range res.Peers {
		if p.Port == int(port) || p.Port <= 0 || p.Port > 65535 || p.IP == nil {
			continue // that is us
		}
		k := net.JoinHostPort(p.IP.String(), strconv.Itoa(p.Port))
		if !seen[k] {
			seen[k] = true
			c.Peers = append(c.Peers, k)
		}
	}
	return c, nil
}

func (tc *Trackers) announceHTTP(ctx context.Context, base *url.URL, r udp.AnnounceRequest) (trHttp.AnnounceResponse, error) {
	u := *base
	q := url.Values{}
	q.Set("info_hash", string(r.InfoHash[:]))
	q.Set("peer_id", string(r.PeerId[:]))
	q.Set("port", strconv.Itoa(int(r.Port)))
	q.Set("uploaded", "0")
	q.Set("downloaded", "0")
	q.Set("left", strconv.FormatInt(r.Left, 10))
	q.Set("compact", "1")
	q.Set("numwant", strconv.Itoa(int(r.NumWant)))
	q.Set("key", strconv.FormatUint(uint64(uint32(r.Key)), 16))
	switch r.Event {
	case shared.Started:
		q.Set("event", "started")
	case shared.Stopped:
		q.Set("event", "stopped")
	}
	qs := strings.ReplaceAll(q.Encode(), "+", "%20")
	if u.RawQuery != "" {
		u.RawQuery += "&" + qs
	} else {
		u.RawQuery = qs
	}
	body, err := tc.get(ctx, u.String())
	if err != nil {
		return trHttp.AnnounceResponse{}, err
	}
	return ParseAnnounceResponse(body)
}

// ParseAnnounceResponse decodes an HTTP announce response (compact or dictionary peers, BEP 7
// peers6). A "failure reason" is an error. Peers are parsed here rather than by anacrolix's
// httpTracker.Peers, which panics on a peer list holding a non-dictionary (found by fuzzing).
func ParseAnnounceResponse(body []byte) (trHttp.AnnounceResponse, error) {
	var ret trHttp.AnnounceResponse
	if len(body) > maxTrackerBody {
		return ret, fmt.Errorf("announce response: %w", ErrTooLarge)
	}
	if err := checkBencodeDepth(body); err != nil {
		return ret, fmt.Errorf("announce response: %w", err)
	}
	var d struct {
		FailureReason string        `bencode:"failure reason"`
		Interval      int32         `bencode:"interval"`
		Complete      int32         `bencode:"complete"`
		Incomplete    int32         `bencode:"incomplete"`
		Peers         bencode.Bytes `bencode:"peers"`
		Peers6        bencode.Bytes `bencode:"peers6"`
	}
	if err := decodeSafely(func() error { return bencode.Unmarshal(body, &d) }); err != nil {
		var trailing bencode.ErrUnusedTrailingBytes
		if !errors.As(err, &trailing) {
			return ret, fmt.Errorf("announce response: %w", err)
		}
	}
	if d.FailureReason != "" {
		return ret, fmt.Errorf("tracker refused the announce: %q", cleanText(d.FailureReason))
	}
	ret.Interval, ret.Seeders, ret.Leechers = d.Interval, d.Complete, d.Incomplete
	var err error
	if ret.Peers, err = parsePeers(d.Peers, 4); err != nil {
		return ret, fmt.Errorf("announce response: peers: %w", err)
	}
	p6, err := parsePeers(d.Peers6, 16)
	if err != nil {
		return ret, fmt.Errorf("announce response: peers6: %w", err)
	}
	ret.Peers = append(ret.Peers, p6...)
	return ret, nil
}

// parsePeers reads a compact peer string (ipLen-byte addresses + 2-byte ports) or a list of
// {ip, port} dictionaries; entries that are not dictionaries are skipped.
func parsePeers(raw bencode.Bytes, ipLen int) ([]trHttp.Peer, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	if err := decodeSafely(func() error { return bencode.Unmarshal(raw, &v) }); err != nil {
		return nil, err
	}
	var out []trHttp.Peer
	switch x := v.(type) {
	case string:
		n := ipLen + 2
		if len(x)%n != 0 {
			return nil, fmt.Errorf("compact peers of %d bytes is not a multiple of %d", len(x), n)
		}
		for i := 0; i < len(x); i += n {
			ip := net.IP([]byte(x[i : i+ipLen]))
			port := int(x[i+ipLen])<<8 | int(x[i+ipLen+1])
			out = append(out, trHttp.Peer{IP: ip, Port: port})
		}
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			ipS, _ := m["ip"].(string)
			port, _ := m["port"].(int64)
			ip := net.ParseIP(ipS)
			if ip == nil || port <= 0 || port > 65535 {
				continue
			}
			out = append(out, trHttp.Peer{IP: ip, Port: int(port)})
		}
	}
	return out, nil
}

func announceUDP(ctx context.Context, ut *udpTracker, r udp.AnnounceRequest) (trHttp.AnnounceResponse, error) {
	h, nas, err := ut.cc.Announce(ctx, r, udp.Options{RequestUri: ut.uri})
	if err != nil {
		return trHttp.AnnounceResponse{}, err
	}
	ret := trHttp.AnnounceResponse{Interval: h.Interval, Seeders: h.Seeders, Leechers: h.Leechers}
	if nas != nil {
		for _, na := range nas.NodeAddrs() {
			ret.Peers = append(ret.Peers, trHttp.Peer{IP: na.IP, Port: na.Port})
		}
	}
	return ret, nil
}
