package redisq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lock is a named lock with a token (SET NX PX): only its holder can refresh or release it, and
// it expires by itself if the holder dies. The scheduler takes one per run so two schedulers never
// start the same run.
type Lock struct {
	rdb   redis.UniversalClient
	key   string
	token string
	ttl   time.Duration
}

// ErrLocked is returned when another holder has the lock.
var ErrLocked = errors.New("redisq: lock held by another process")

var refreshScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// AcquireLock takes the lock name for ttl, or returns ErrLocked.
func AcquireLock(ctx context.Context, rdb redis.UniversalClient, prefix, name string, ttl time.Duration) (*Lock, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	l := &Lock{rdb: rdb, key: keys{cleanPrefix(prefix)}.lock(name), token: hex.EncodeToString(b[:]), ttl: ttl}
	ok, err := rdb.SetNX(ctx, l.key, l.token, ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("redisq: lock %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrLocked, name)
	}
	return l, nil
}

// Refresh extends the lock by its ttl; it returns false when the lock was lost (expired and taken).
func (l *Lock) Refresh(ctx context.Context) (bool, error) {
	n, err := refreshScript.Run(ctx, l.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("redisq: refresh lock: %w", err)
	}
	return n == 1, nil
}

// Release frees the lock if this holder still has it (never someone else's).
func (l *Lock) Release(ctx context.Context) (bool, error) {
	n, err := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.token).Int64()
	if err != nil {
		return false, fmt.Errorf("redisq: release lock: %w", err)
	}
	return n == 1, nil
}
