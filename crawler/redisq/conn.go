// Package redisq is Afterlife's distributed run state on Redis: the frontier (a stream with a
// consumer group, leases reclaimed from dead workers, attempts and dead letters, not-before), job
// and artifact dedup, the shared per-host and per-source rate limiter (GCRA), the validator cache,
// the findings stream the report builder consumes, run status and run-end detection, and a run
// lock for the scheduler.
package redisq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable read when --redis is not given.
const EnvURL = "AFTERLIFE_REDIS_URL"

// EnvCA names a PEM file of extra CA certificates to trust for rediss:// (self-signed servers).
const EnvCA = "AFTERLIFE_REDIS_CA"

// URL returns flag if set, else $AFTERLIFE_REDIS_URL.
func URL(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(EnvURL)
}

// ConnectOptions tune Connect.
type ConnectOptions struct {
	// TLS overrides the TLS client config of a rediss:// URL (tests pass one trusting their CA).
	TLS *tls.Config
	// CAFile is a PEM file of CA certificates to trust for rediss:// (default $AFTERLIFE_REDIS_CA).
	CAFile string
	// PoolSize bounds connections (default go-redis: 10 per CPU).
	PoolSize int
}

// Options parses a Redis URL: redis://[user:password@]host:port/db, rediss:// for TLS (query
// parameters as go-redis ParseURL: skip_verify, dial_timeout, ...). The password never appears in
// returned errors.
func Options(rawURL string, co ConnectOptions) (*redis.Options, error) {
	if rawURL == "" {
		return nil, errors.New("redis: no URL (use --redis redis://host:6379/0 or " + EnvURL + ")")
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", Redact(rawURL), err)
	}
	if opt.TLSConfig != nil {
		if co.TLS != nil {
			opt.TLSConfig = co.TLS.Clone()
		} else {
			ca := co.CAFile
			if ca == "" {
				ca = os.Getenv(EnvCA)
			}
			if ca != "" {
				pem, err := os.ReadFile(ca)
				if err != nil {
					return nil, fmt.Errorf("redis CA file: %w", err)
				}
				pool, err := x509.SystemCertPool()
				if err != nil || pool == nil {
					pool = x509.NewCertPool()
				}
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("redis CA file %s: no PEM certificate in it", ca)
				}
				opt.TLSConfig.RootCAs = pool
			}
		}
	}
	if co.PoolSize > 0 {
		opt.PoolSize = co.PoolSize
	}
	return opt, nil
}

// Connect opens a client from a URL and checks it with PING (AUTH and TLS errors surface here).
func Connect(ctx context.Context, rawURL string, co ConnectOptions) (*redis.Client, error) {
	opt, err := Options(rawURL, co)
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis %s: %w", Redact(rawURL), err)
	}
	return c, nil
}

// Redact hides the password of a Redis URL.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable redis URL)"
	}
	return u.Redacted()
}

// transient reports errors worth retrying: the connection dropped or Redis is restarting.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	for _, p := range []string{"LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "connection refused",
		"connection reset", "broken pipe", "i/o timeout", "use of closed network connection", "EOF"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// retry runs op until it succeeds, fails for good, ctx ends or patience runs out, so a Redis
// restart (or a failover) pauses the caller instead of failing the run.
func retry(ctx context.Context, patience time.Duration, op func() error) error {
	deadline := time.Now().Add(patience)
	wait := 50 * time.Millisecond
	for {
		err := op()
		if err == nil || !transient(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while Redis was unreachable: %v)", ctx.Err(), err)
		case <-t.C:
		}
		if wait < 2*time.Second {
			wait *= 2
		}
	}
}
