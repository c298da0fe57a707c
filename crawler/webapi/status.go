package webapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Class is what a response status means for an adapter.
type Class int

const (
	OK           Class = iota // 2xx, or 304 served from the fetcher's cache
	Gone                      // 404 / 410: the thing asked for does not exist (any more)
	Unauthorized              // 401: missing or rejected token
	Forbidden                 // 403 that is not a rate limit (private, blocked, gated)
	RateLimited               // 429, or a 403 that is a primary or secondary rate limit
	Invalid                   // 400 / 422: the query itself is bad; retrying will not help
	NotModified               // 304 without a cached body (the fetcher should not hand us this)
	ServerError               // 5xx
	Other                     // anything else (3xx not followed, 1xx, odd 4xx)
)

var classNames = [...]string{"ok", "gone", "unauthorized", "forbidden", "rate-limited", "invalid", "not-modified", "server-error", "other"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

var secondaryRE = regexp.MustCompile(`(?i)secondary rate limit|abuse detection|rate limit exceeded|too many requests`)

// Classify says what resp means.
func Classify(resp *crawler.Response) Class {
	if resp.FromCache {
		return OK
	}
	s := resp.Status
	switch {
	case s >= 200 && s < 300:
		return OK
	case s == http.StatusNotModified:
		return NotModified
	case s == http.StatusNotFound || s == http.StatusGone:
		return Gone
	case s == http.StatusTooManyRequests:
		return RateLimited
	case s == http.StatusForbidden:
		if resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0" ||
			secondaryRE.Match(headBytes(resp.Body, 2048)) {
			return RateLimited
		}
		return Forbidden
	case s == http.StatusUnauthorized:
		return Unauthorized
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		return Invalid
	case s >= 500:
		return ServerError
	}
	return Other
}

func headBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// RetryAfter reads how long a rate-limited response asks us to wait: Retry-After (seconds or an
// HTTP date), X-RateLimit-Reset (epoch seconds, GitHub and Zenodo), or the IETF draft RateLimit
// header's t= (Hugging Face). It returns 0 when none is given.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" && h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d := time.Unix(n, 0).Sub(now); d > 0 {
				return d
			}
		}
	}
	if v := h.Get("RateLimit"); v != "" {
		for _, p := range strings.Split(v, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && k == "t" {
				if n, err := strconv.Atoi(val); err == nil && n >= 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	return 0
}

// ErrorMessage pulls a short human-readable message out of an error body ({"message": ...},
// {"error": ...}) or its first line, cleaned of control characters and cut to 200 bytes.
func ErrorMessage(body []byte) string {
	var env struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
		Detail  string `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(body, &env) == nil {
		switch {
		case env.Message != "":
			msg = env.Message
		case env.Detail != "":
			msg = env.Detail
		default:
			if s, ok := env.Error.(string); ok {
				msg = s
			}
		}
	}
	if msg == "" {
		msg = string(headBytes(body, 400))
		if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	msg = strings.TrimSpace(msg)
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// RetryError is a rate-limited answer: a retryable *crawler.StatusError (status 429, reachable with
// errors.As) that also says how long the server asked us to wait. Workers can honour it with
//
//	var ra interface{ RetryAfter() time.Duration }
//	if errors.As(err, &ra) { wait = max(wait, ra.RetryAfter()) }
type RetryError struct {
	*crawler.StatusError
	Wait time.Duration // 0 when the server gave no hint
}

// RetryAfter is how long to wait before trying again (0: unknown, use backoff).
func (e *RetryError) RetryAfter() time.Duration { return e.Wait }

// Unwrap exposes the StatusError to errors.As and crawler.Permanent.
func (e *RetryError) Unwrap() error { return e.StatusError }

// RateLimitError builds the retryable error for a rate-limited response. It always carries status
// 429 (so StatusError.Permanent is false even for GitHub's 403 limits) and says how long to wait.
func RateLimitError(resp *crawler.Response, now time.Time) error {
	msg := "rate limited"
	if resp.Status != http.StatusTooManyRequests {
		msg = fmt.Sprintf("rate limited (HTTP %d)", resp.Status)
	}
	if m := ErrorMessage(resp.Body); m != "" {
		msg += ": " + m
	}
	d := RetryAfter(resp.Header, now)
	if d > 0 {
		msg += fmt.Sprintf("; retry after %ds", int(d.Round(time.Second)/time.Second))
	}
	return &RetryError{StatusError: &crawler.StatusError{URL: resp.URL, Status: http.StatusTooManyRequests, Msg: msg}, Wait: d}
}

// StatusErr builds a StatusError carrying the body's message.
func StatusErr(resp *crawler.Response) *crawler.StatusError {
	return &crawler.StatusError{URL: resp.URL, Status: resp.Status, Msg: ErrorMessage(resp.Body)}
}
