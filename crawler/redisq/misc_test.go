package redisq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/internal/redistest"
)

func TestCacheRoundTripAndBounds(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rdb := srv.Client(t)
	c := NewCache(rdb, CacheConfig{Prefix: freshPrefix(), MaxBody: 16, TTL: time.Hour})
	other := NewCache(srv.Client(t), CacheConfig{Prefix: c.k.prefix}) // another worker
	u := "https://huggingface.co/api/models?search=ms1m"
	if _, ok, err := c.Lookup(ctx, u); ok || err != nil {
		t.Fatalf("lookup before store = %v, %v", ok, err)
	}
	want := crawler.CachedResponse{ETag: `W/"abc"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT", Status: 200,
		ContentType: "application/json", Body: []byte(`[{"id":"x"}]`)}
	if err := c.Store(ctx, u, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := other.Lookup(ctx, u)
	if err != nil || !ok || got.ETag != want.ETag || got.LastModified != want.LastModified || string(got.Body) != string(want.Body) ||
		got.Status != 200 || got.ContentType != want.ContentType || got.Stored.IsZero() {
		t.Fatalf("other worker's lookup = %+v, %v, %v", got, ok, err)
	}
	if ttl := rdb.TTL(ctx, c.key(u)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("cache entry TTL = %v", ttl)
	}
	big := "https://example.org/big"
	if err := c.Store(ctx, big, crawler.CachedResponse{ETag: "x", Body: []byte(strings.Repeat("a", 17))}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Lookup(ctx, big); ok {
		t.Fatal("a body over MaxBody was stored")
	}
	noval := "https://example.org/novalidator"
	_ = c.Store(ctx, noval, crawler.CachedResponse{Status: 200, Body: []byte("x")})
	if _, ok, _ := c.Lookup(ctx, noval); ok {
		t.Fatal("a response without validators was stored")
	}
}

func TestLockTokenSafety(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rdb := srv.Client(t)
	p := freshPrefix()
	a, err := AcquireLock(ctx, rdb, p, "schedule", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(ctx, srv.Client(t), p, "schedule", time.Second); !errors.Is(err, ErrLocked) {
		t.Fatalf("second acquire = %v, want ErrLocked", err)
	}
	if ok, err := a.Refresh(ctx); !ok || err != nil {
		t.Fatalf("refresh = %v %v", ok, err)
	}
	// a's lock expires; b takes it; a can neither refresh nor release b's lock.
	var b *Lock
	deadline := time.Now().Add(30 * time.Second)
	for b == nil && time.Now().Before(deadline) {
		b, err = AcquireLock(ctx, rdb, p, "schedule", time.Minute)
		if err != nil && !errors.Is(err, ErrLocked) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b == nil {
		t.Fatal("expired lock never became free")
	}
	if ok, _ := a.Refresh(ctx); ok {
		t.Fatal("stale holder refreshed someone else's lock")
	}
	if ok, _ := a.Release(ctx); ok {
		t.Fatal("stale holder released someone else's lock")
	}
	if ok, err := b.Release(ctx); !ok || err != nil {
		t.Fatalf("holder release = %v %v", ok, err)
	}
	if _, err := AcquireLock(ctx, rdb, p, "schedule", time.Second); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}

// TLS (rediss://), a password for the default user and an ACL user, from URLs as the CLI gets them.
func TestConnectTLSPasswordACL(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{TLS: true, Password: "s3cret pass",
		Users: []redistest.User{{Name: "crawler", Password: "crawlpw", Rules: "~afterlife:* &* +@all -flushall"}}})
	ctx := testCtx(t)
	host := srv.Addr

	// Default user with the password, trusting the test CA through the CA-file option.
	c, err := Connect(ctx, "rediss://:s3cret%20pass@"+host+"/0", ConnectOptions{CAFile: srv.CAFile})
	if err != nil {
		t.Fatalf("rediss with password: %v", err)
	}
	c.Close()
	// ACL user.
	c, err = Connect(ctx, "rediss://crawler:crawlpw@"+host+"/0", ConnectOptions{TLS: srv.TLSConfig})
	if err != nil {
		t.Fatalf("rediss as ACL user: %v", err)
	}
	f := NewFrontier(c, Config{})
	n, err := f.Enqueue(ctx, crawler.Job{ID: "a", RunID: "acl", URL: "http://127.0.0.1/"})
	if err != nil || n != 1 {
		t.Fatalf("enqueue as ACL user = %d, %v", n, err)
	}
	f.Close()
	// The ACL is enforced: a key outside afterlife:* is refused.
	if err := c.Set(ctx, "other:key", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("write outside the ACL pattern = %v, want NOPERM", err)
	}
	c.Close()

	// Wrong password: a clear error that does not leak the password.
	_, err = Connect(ctx, "rediss://crawler:wrongpw@"+host+"/0", ConnectOptions{TLS: srv.TLSConfig})
	if err == nil || strings.Contains(err.Error(), "wrongpw") {
		t.Fatalf("wrong password: err = %v (must fail without echoing the password)", err)
	}
	// Untrusted certificate: refused.
	if _, err := Connect(ctx, "rediss://crawler:crawlpw@"+host+"/0", ConnectOptions{}); err == nil {
		t.Fatal("TLS to a self-signed server without its CA succeeded")
	}
	// Plain redis:// to a TLS-only port fails.
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := Connect(cctx, "redis://crawler:crawlpw@"+host+"/0", ConnectOptions{}); err == nil {
		t.Fatal("plain connection to the TLS port succeeded")
	}
	if _, err := Connect(ctx, "", ConnectOptions{}); err == nil || !strings.Contains(err.Error(), EnvURL) {
		t.Fatalf("empty URL error = %v, want a hint naming %s", err, EnvURL)
	}
	if _, err := Options("http://x", ConnectOptions{}); err == nil {
		t.Fatal("http:// accepted as a Redis URL")
	}
}
