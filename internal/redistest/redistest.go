// Package redistest starts real redis-server processes for tests and benchmarks: on 127.0.0.1, on a
// free port, in a temporary directory, killed when the test ends. Options turn on AOF persistence,
// a password, ACL users and TLS (with a self-signed certificate made on the fly).
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// User is an ACL user added to the server.
type User struct {
	Name     string
	Password string
	// Rules are ACL rules after "on >password", e.g. "~al:* &* +@all". Default: "~* &* +@all".
	Rules string
}

// Options configure a test server.
type Options struct {
	// AOF turns on append-only persistence (appendfsync always, so a restart loses nothing).
	AOF bool
	// Password is required from the default user (requirepass).
	Password string
	// Users are extra ACL users.
	Users []User
	// TLS serves TLS only (no plain port); Server.TLSConfig trusts the generated certificate.
	TLS bool
	// Args are extra config lines ("maxmemory 10mb").
	Args []string
}

// Server is a running redis-server.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Port int
	Dir  string
	// URL is redis://[:password@]127.0.0.1:PORT/0 (rediss:// with TLS).
	URL string
	// TLSConfig trusts the server's certificate (nil without TLS).
	TLSConfig *tls.Config
	// CAFile is the PEM file of the certificate that signed the server's (TLS only).
	CAFile string

	opts Options
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logf string
}

// Available reports whether redis-server is on PATH.
func Available() bool { _, err := exec.LookPath("redis-server"); return err == nil }

// Start starts a server for the test and stops it at the end. It skips the test, with a clear
// message, only when redis-server is not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if !Available() {
		t.Skip("redis-server not on PATH (apt-get install redis-server); skipping Redis test")
	}
	s, err := StartProcess(opts, t.TempDir())
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Kill)
	return s
}

// StartProcess starts a server in dir (for benchmarks and tools). The caller must Kill it.
func StartProcess(opts Options, dir string) (*Server, error) {
	s := &Server{Dir: dir, opts: opts}
	if opts.TLS {
		ca, err := writeCerts(dir)
		if err != nil {
			return nil, err
		}
		s.TLSConfig = ca
		s.CAFile = filepath.Join(dir, "ca.pem")
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := s.writeConf(); err != nil {
			return nil, err
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	u := url.URL{Scheme: "redis", Host: s.Addr, Path: "/0"}
	if opts.TLS {
		u.Scheme = "rediss"
	}
	if opts.Password != "" {
		u.User = url.UserPassword("", opts.Password)
	}
	s.URL = u.String()
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) writeConf() error {
	var b strings.Builder
	line := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	line("bind 127.0.0.1")
	line("protected-mode yes")
	line("dir %s", s.Dir)
	line("save \"\"")
	line("daemonize no")
	line("databases 16")
	if s.opts.TLS {
		line("port 0")
		line("tls-port %d", s.Port)
		line("tls-cert-file %s", filepath.Join(s.Dir, "server.pem"))
		line("tls-key-file %s", filepath.Join(s.Dir, "server-key.pem"))
		line("tls-ca-cert-file %s", filepath.Join(s.Dir, "ca.pem"))
		line("tls-auth-clients no")
	} else {
		line("port %d", s.Port)
	}
	if s.opts.AOF {
		line("appendonly yes")
		line("appendfsync always")
		line("appendfilename \"appendonly.aof\"")
	}
	if s.opts.Password != "" {
		line("requirepass %q", s.opts.Password)
	}
	for _, u := range s.opts.Users {
		rules := u.Rules
		if rules == "" {
			rules = "~* &* +@all"
		}
		line("user %s on %q %s", u.Name, ">"+u.Password, rules)
	}
	for _, a := range s.opts.Args {
		line("%s", a)
	}
	s.conf = filepath.Join(s.Dir, "redis.conf")
	s.logf = filepath.Join(s.Dir, "redis.log")
	return os.WriteFile(s.conf, []byte(b.String()), 0o600)
}

// start runs redis-server on the written config and waits until it answers.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command("redis-server", s.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start: %s", s.logTail())
		default:
		}
		if s.ready() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("redis-server on %s not ready after 30s: %s", s.Addr, s.logTail())
}

// ready reports whether the server has finished loading (answers PING as any configured user).
func (s *Server) ready() bool {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	opt := &redis.Options{Addr: s.Addr, TLSConfig: s.TLSConfig, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second}
	if s.opts.Password != "" {
		opt.Password = s.opts.Password
	} else if len(s.opts.Users) > 0 {
		opt.Username, opt.Password = s.opts.Users[0].Name, s.opts.Users[0].Password
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err() == nil
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logf)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, " | ")
}

// Options returns client options for the default user (or the first ACL user when no password).
func (s *Server) Options() *redis.Options {
	opt, err := redis.ParseURL(s.URL)
	if err != nil {
		panic(err)
	}
	if s.TLSConfig != nil {
		opt.TLSConfig = s.TLSConfig.Clone()
	}
	return opt
}

// Client returns a client closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(s.Options())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop shuts the server down cleanly (SIGTERM: the AOF is flushed) and waits for it to exit.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it to exit. Safe to call twice.
func (s *Server) Kill() { _ = s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server did not stop on %v within 30s", sig)
	}
}

// Restart starts the server again on the same port and directory (after Stop or Kill), reloading
// its AOF when persistence is on.
func (s *Server) Restart() error {
	s.Kill()
	return s.start()
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Log returns the server's log so far (for failure messages).
func (s *Server) Log() string {
	f, err := os.Open(s.logf)
	if err != nil {
		return ""
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}
