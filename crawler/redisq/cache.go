package redisq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Cache is crawler.Cache on Redis: validators (ETag, Last-Modified) and the body they stand for,
// shared by every worker, so a re-scan sends conditional requests whichever worker fetches a URL.
type Cache struct {
	rdb     redis.UniversalClient
	k       keys
	ttl     time.Duration
	maxBody int
}

var _ crawler.Cache = (*Cache)(nil)

// CacheConfig tunes a Cache.
type CacheConfig struct {
	Prefix string
	// TTL expires an entry not stored again for this long (default 30 days).
	TTL time.Duration
	// MaxBody skips storing responses with larger bodies (default 4 MiB): they are re-fetched.
	MaxBody int
}

// NewCache returns a cache on rdb.
func NewCache(rdb redis.UniversalClient, cfg CacheConfig) *Cache {
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * 24 * time.Hour
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	return &Cache{rdb: rdb, k: keys{cleanPrefix(cfg.Prefix)}, ttl: cfg.TTL, maxBody: cfg.MaxBody}
}

func (c *Cache) key(url string) string {
	sum := sha256.Sum256([]byte(url))
	return c.k.cache(hex.EncodeToString(sum[:16]))
}

type cacheEntry struct {
	URL string `json:"url"`
	crawler.CachedResponse
}

// Lookup returns the stored response for url.
func (c *Cache) Lookup(ctx context.Context, url string) (crawler.CachedResponse, bool, error) {
	b, err := c.rdb.Get(ctx, c.key(url)).Bytes()
	if errors.Is(err, redis.Nil) {
		return crawler.CachedResponse{}, false, nil
	}
	if err != nil {
		return crawler.CachedResponse{}, false, fmt.Errorf("redisq: cache lookup: %w", err)
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || e.URL != url {
		// Corrupt or (astronomically unlikely) colliding entry: treat as a miss.
		return crawler.CachedResponse{}, false, nil
	}
	return e.CachedResponse, true, nil
}

// Store keeps validators and body for url (skipped when the body is over MaxBody or there is no
// validator to send next time).
func (c *Cache) Store(ctx context.Context, url string, r crawler.CachedResponse) error {
	if len(r.Body) > c.maxBody || (r.ETag == "" && r.LastModified == "") {
		return nil
	}
	if r.Stored.IsZero() {
		r.Stored = time.Now().UTC()
	}
	b, err := json.Marshal(cacheEntry{URL: url, CachedResponse: r})
	if err != nil {
		return fmt.Errorf("redisq: cache encode: %w", err)
	}
	if err := c.rdb.Set(ctx, c.key(url), b, c.ttl).Err(); err != nil {
		return fmt.Errorf("redisq: cache store: %w", err)
	}
	return nil
}
