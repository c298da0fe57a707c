package crawler

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// ErrBodyTooLarge is returned when a response (on the wire or decompressed) exceeds the bound.
var ErrBodyTooLarge = errors.New("response body too large")

// ErrTooManyRedirects is returned when a request exceeds the redirect bound.
var ErrTooManyRedirects = errors.New("too many redirects")

type wireKey struct{}

// withWireCounter makes the metered transport add the bytes read off the wire to n.
func withWireCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, wireKey{}, n)
}

// meteredTransport counts wire bytes, decompresses gzip itself (so the bound applies to the
// decompressed size, not only the compressed one) and fails bodies that exceed the bounds instead
// of truncating them silently.
type meteredTransport struct {
	base       http.RoundTripper
	maxWire    int64
	maxDecoded int64
}

// bodyLimitKey carries a request's own size bounds (a source allowed a larger body).
type bodyLimitKey struct{}

type bodyLimits struct{ wire, decoded int64 }

func withBodyLimits(ctx context.Context, wire, decoded int64) context.Context {
	return context.WithValue(ctx, bodyLimitKey{}, bodyLimits{wire, decoded})
}

func (t *meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	maxWire, maxDecoded := t.maxWire, t.maxDecoded
	if l, ok := req.Context().Value(bodyLimitKey{}).(bodyLimits); ok {
		maxWire, maxDecoded = l.wire, l.decoded
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > maxWire {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrBodyTooLarge, req.URL.Redacted(), resp.ContentLength, maxWire)
	}
	counter, _ := req.Context().Value(wireKey{}).(*atomic.Int64)
	var body io.Reader = &boundedReader{r: resp.Body, n: counter, left: maxWire, what: "on the wire"}
	if strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		wire := &countingReader{r: body}
		body = &ratioGuard{r: &boundedReader{r: &lazyGzip{src: wire}, left: maxDecoded, what: "decompressed"}, wire: wire}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	resp.Body = newMeteredBody(readCloser{Reader: body, Closer: resp.Body}) // BodyStats
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// boundedReader counts bytes into n and fails once more than left bytes arrive.
type boundedReader struct {
	r    io.Reader
	n    *atomic.Int64
	left int64
	what string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w (%s)", ErrBodyTooLarge, b.what)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	k, err := b.r.Read(p)
	if b.n != nil {
		b.n.Add(int64(k))
	}
	b.left -= int64(k)
	if b.left < 0 {
		return 0, fmt.Errorf("%w (%s)", ErrBodyTooLarge, b.what)
	}
	return k, err
}

// lazyGzip opens the gzip stream on first read (an empty 304 body has no gzip header).
type lazyGzip struct {
	src io.Reader
	zr  *gzip.Reader
	err error
}

func (l *lazyGzip) Read(p []byte) (int, error) {
	if l.zr == nil && l.err == nil {
		l.zr, l.err = gzip.NewReader(l.src)
		if l.err == io.EOF {
			l.err = io.EOF // empty body
		} else if l.err != nil {
			l.err = fmt.Errorf("gzip: %w", l.err)
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.zr.Read(p)
}

// Gzip bombs are cut off by their compression ratio long before the decompressed bound: zeros
// compress about 1000:1, real JSON, XML and HTML 5–50:1. The decompressed bound itself
// (DefaultMaxBody, a worker's share of the memory budget) holds whatever the ratio.
const (
	bombRatio    = 250     // decompressed:wire bytes
	bombMinBytes = 4 << 20 // checked once this much has been decompressed
)

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// ratioGuard fails a gzip body whose decompressed size passes bombMinBytes at over bombRatio
// times its size on the wire.
type ratioGuard struct {
	r       io.Reader
	wire    *countingReader
	decoded int64
}

func (g *ratioGuard) Read(p []byte) (int, error) {
	k, err := g.r.Read(p)
	g.decoded += int64(k)
	if g.decoded > bombMinBytes && g.decoded > bombRatio*max(g.wire.n, 1) {
		return 0, fmt.Errorf("%w (decompressed %d bytes from %d: over %d:1, a compression bomb)", ErrBodyTooLarge, g.decoded, g.wire.n, bombRatio)
	}
	return k, err
}
