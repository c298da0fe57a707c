package hostile_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// rebinder is a DNS server on 127.0.0.1 that answers the first A query for a name with a public
// address and every later one with 127.0.0.1: the DNS-rebinding attack on a crawler that checks
// a host name once and connects later.
type rebinder struct {
	pc      net.PacketConn
	queries atomic.Int64
	first   [4]byte
	mu      sync.Mutex
	answers []string
}

func startRebinder(t *testing.T, first [4]byte) *rebinder {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rebinder{pc: pc, first: first}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.serve()
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return r
}

func (r *rebinder) serve() {
	buf := make([]byte, 1500)
	for {
		n, addr, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		b.EnableCompression()
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		if q.Type == dnsmessage.TypeA {
			ip := [4]byte{127, 0, 0, 1}
			if r.queries.Add(1) == 1 {
				ip = r.first
			}
			r.mu.Lock()
			r.answers = append(r.answers, net.IP(ip[:]).String())
			r.mu.Unlock()
			_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}, dnsmessage.AResource{A: ip})
		}
		msg, err := b.Finish()
		if err != nil {
			continue
		}
		_, _ = r.pc.WriteTo(msg, addr)
	}
}

func (r *rebinder) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", r.pc.LocalAddr().String())
	}}
}

// A host name that resolves to a public address when checked and to 127.0.0.1 when dialled must
// still be refused: the guard checks the address the socket connects to, not an earlier lookup.
// The first answer is a documentation address (TEST-NET-3): it is only looked up, never dialled.
func TestGuardDefeatsDNSRebinding(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("internal secrets"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	dns := startRebinder(t, [4]byte{203, 0, 113, 7})
	res := dns.resolver()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// What a check-then-fetch crawler would see: a public address, "safe".
	ips, err := res.LookupNetIP(ctx, "ip4", "rebind.afterlife.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(ips) != 1 || ips[0].String() != "203.0.113.7" {
		t.Fatalf("first lookup answered %v, want the public address", ips)
	}
	// The fetcher's dial resolves again and gets 127.0.0.1; loopback is not allowed.
	f, err := crawler.NewFetcher(&configs.Watch{Contact: "mailto:ops@example.org"},
		crawler.FetcherOptions{Resolver: res, Timeout: 5 * time.Second, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(ctx, crawler.Request{Source: "t", URL: "http://rebind.afterlife.test:" + port + "/latest/meta-data/"})
	if !errors.Is(err, crawler.ErrBlockedAddress) {
		t.Fatalf("err = %v, want the guard's refusal", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the internal server was reached %d times", hits.Load())
	}
	dns.mu.Lock()
	t.Logf("DNS answers in order: %v; fetch refused: %v", dns.answers, err)
	dns.mu.Unlock()
	if dns.queries.Load() < 2 {
		t.Fatalf("the dial did not resolve the name again (%d A queries)", dns.queries.Load())
	}

	// With loopback allowed the same name is fetched: the refusal above was the guard's.
	f2, err := crawler.NewFetcher(&configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true},
		crawler.FetcherOptions{Resolver: res, Timeout: 5 * time.Second, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f2.Fetch(ctx, crawler.Request{Source: "t", URL: "http://rebind.afterlife.test:" + port + "/ok"})
	if err != nil || resp.Status != 200 || hits.Load() != 1 {
		t.Fatalf("with allow_loopback: resp=%v err=%v hits=%d", resp, err, hits.Load())
	}
}

// Redirects to internal addresses are refused at dial time, whichever way they are spelled.
func TestGuardRefusesRedirectsToInternalAddresses(t *testing.T) {
	targets := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://10.0.0.1/",
		"http://192.168.1.1/",
		"http://100.100.100.200/",
		"http://0.0.0.0:1/",
		"http://[::ffff:169.254.169.254]/",
		"http://2852039166/", // 169.254.169.254 as one number: Go treats it as a name, so it is never dialled
		"http://169.254.169.254.nip.io.invalid/",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, http.StatusFound)
			}))
			defer srv.Close()
			f, err := crawler.NewFetcher(&configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true},
				crawler.FetcherOptions{Timeout: 5 * time.Second, MaxAttempts: 1,
					Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
						return nil, errors.New("no DNS in tests")
					}}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err = f.Fetch(ctx, crawler.Request{Source: "t", URL: srv.URL + "/"})
			if err == nil {
				t.Fatal("redirect followed")
			}
			// Names that do not resolve fail at lookup (no address to refuse); every address is refused by the guard.
			if !strings.Contains(target, ".invalid") && !strings.Contains(target, "2852039166") && !errors.Is(err, crawler.ErrBlockedAddress) {
				t.Fatalf("err = %v, want the guard's refusal", err)
			}
			t.Logf("%s: %v", target, err)
		})
	}
}
