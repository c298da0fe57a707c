package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc reports whether the process can do its work (the store opens, Redis answers).
type ReadyFunc func(ctx context.Context) error

// Server serves /metrics, /healthz (the process is up) and /readyz (ReadyFunc, and the command
// said it is ready) on a loopback address.
type Server struct {
	m     *Metrics
	ready ReadyFunc
	up    atomic.Bool
	srv   *http.Server
	addr  net.Addr
}

// ErrNotLoopback is returned for a listen address that is not a loopback address: the metrics
// endpoint has no authentication and must not face a network (put a proxy in front instead).
var ErrNotLoopback = errors.New("metrics: listen address must be loopback (127.0.0.1, ::1 or localhost)")

// Listen starts the server on addr (e.g. 127.0.0.1:9464; port 0 picks one) until ctx ends.
func Listen(ctx context.Context, addr string, m *Metrics, ready ReadyFunc) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s := &Server{m: m, ready: ready, addr: ln.Addr()}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
	}()
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.addr }

// SetReady marks the command ready (after its store or Redis connection is open) or not.
func (s *Server) SetReady(ok bool) { s.up.Store(ok) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.up.Load() {
		http.Error(w, "not ready: starting", http.StatusServiceUnavailable)
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}
