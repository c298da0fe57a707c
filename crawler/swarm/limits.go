package swarm

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/torrent"
)

// hostLimits is the per-tracker-host politeness limit: every request of this source to one
// tracker host (scrape, announce, each batch) waits for a token of that host's bucket.
type hostLimits struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	by    map[string]*rate.Limiter
}

func newHostLimits(perSecond float64, burst int) *hostLimits {
	return &hostLimits{rate: rate.Limit(perSecond), burst: burst, by: map[string]*rate.Limiter{}}
}

// wait blocks until host may be asked again (or ctx ends).
func (h *hostLimits) wait(ctx context.Context, host string) error {
	h.mu.Lock()
	l, ok := h.by[host]
	if !ok {
		l = rate.NewLimiter(h.rate, h.burst)
		h.by[host] = l
	}
	h.mu.Unlock()
	return l.Wait(ctx)
}

// guardedClient is the HTTP client for trackers named by crawled torrents: it dials only
// addresses the guard allows, uses no proxy (a proxy would bypass the guard) and follows no
// redirect.
func guardedClient(g crawler.Guard, timeout time.Duration) *http.Client {
	d := g.Dialer(timeout)
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: timeout,
			ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second,
			WriteBufferSize: torrent.TrackerWriteBuffer}, // a scrape in one write: see torrent.TrackerWriteBuffer
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkHost resolves a crawled tracker's host and refuses it when any address is one the guard
// refuses (UDP sockets have no dial hook, so the check is made before).
func checkHost(ctx context.Context, g crawler.Guard, host string) error {
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	for _, ip := range ips {
		if err := g.Check(ip); err != nil {
			return err
		}
	}
	return nil
}

// checkTracker accepts an http(s) or udp tracker URL with a host.
func checkTracker(tr string) error {
	u, err := url.Parse(tr)
	if err != nil {
		return fmt.Errorf("tracker %q: %w", tr, err)
	}
	switch u.Scheme {
	case "http", "https", "udp", "udp4":
	default:
		return fmt.Errorf("tracker %q: scheme must be http, https or udp", tr)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("tracker %q: no host", tr)
	}
	return nil
}

func trackerHost(tr string) string {
	u, err := url.Parse(tr)
	if err != nil {
		return tr
	}
	return strings.ToLower(u.Hostname())
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

func digest(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:6])
}
