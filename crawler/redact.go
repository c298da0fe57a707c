package crawler

import (
	"errors"
	"net/url"
	"strings"
)

// SecretParams are query parameters the fetcher always treats as secrets: their values never reach
// a log line, an error message or a validator-cache key. Request.Redact adds more per request.
// ("token" and "key" are not in the list: Semantic Scholar's bulk search pages with a public
// continuation "token").
var SecretParams = []string{"api_key", "apikey", "api-key", "access_token", "private_token", "client_secret", "password", "sig"}

// Redacted is what a secret value is replaced with.
const Redacted = "REDACTED"

// secretValues returns the values of u's secret query parameters (SecretParams plus extra).
func secretValues(u *url.URL, extra []string) []string {
	if u == nil || u.RawQuery == "" {
		return nil
	}
	q := u.Query()
	var out []string
	for k, vs := range q {
		if !isSecretParam(k, extra) {
			continue
		}
		for _, v := range vs {
			if len(v) >= 4 { // shorter values would redact ordinary text
				out = append(out, v)
			}
		}
	}
	return out
}

func isSecretParam(name string, extra []string) bool {
	for _, p := range SecretParams {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	for _, p := range extra {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// RedactURL returns raw with the values of secret query parameters (SecretParams plus extra)
// replaced by REDACTED and any user:password removed. It is what the fetcher logs and uses as the
// validator-cache key. A URL that does not parse is returned with known secret values hidden as
// far as possible.
func RedactURL(raw string, extra ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.User != nil {
		u.User = nil
	}
	if u.RawQuery == "" {
		return u.String()
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		if isSecretParam(k, extra) {
			for i := range vs {
				vs[i] = Redacted
			}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactText replaces every secret (raw and query-escaped) in s.
func redactText(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, Redacted)
		if e := url.QueryEscape(v); e != v {
			s = strings.ReplaceAll(s, e, Redacted)
		}
		if e := url.PathEscape(v); e != v {
			s = strings.ReplaceAll(s, e, Redacted)
		}
	}
	return s
}

// secretError hides secrets in an error's message while keeping its chain for errors.Is/As.
type secretError struct {
	msg string
	err error
}

func (e *secretError) Error() string { return e.msg }
func (e *secretError) Unwrap() error { return e.err }

// redactErr returns err with secrets removed from its message (and from any StatusError in its
// chain, whose URL and message are rewritten in place: the fetcher made them).
func redactErr(err error, secrets []string, extra []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	var se *StatusError
	if errors.As(err, &se) {
		se.URL = RedactURL(se.URL, extra...)
		se.Msg = redactText(se.Msg, secrets)
	}
	msg := err.Error()
	red := redactText(msg, secrets)
	if red == msg {
		return err
	}
	return &secretError{msg: red, err: err}
}
