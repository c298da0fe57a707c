// Package swarmtest starts a real BitTorrent swarm on 127.0.0.1 for tests and benchmarks:
// opentracker (HTTP and UDP on one port), a torrent made by mktorrent, and aria2c and/or
// qbittorrent-nox seeding it. Every daemon runs under `timeout`, in its own process group, on
// random free ports, in a temporary directory, and is killed by Stop. Nothing listens beyond
// loopback: no public DHT, LPD, PEX, UPnP or GeoIP.
package swarmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// Seeder names.
const (
	Aria2       = "aria2"
	QBittorrent = "qbittorrent"
)

// Binaries the swarm needs.
var Binaries = []string{"opentracker", "mktorrent", "aria2c", "qbittorrent-nox", "timeout"}

// Missing returns the first needed binary not on PATH, or "".
func Missing(seeders []string) string {
	need := []string{"timeout", "opentracker", "mktorrent"}
	for _, s := range seeders {
		switch s {
		case Aria2:
			need = append(need, "aria2c")
		case QBittorrent:
			need = append(need, "qbittorrent-nox")
		}
	}
	for _, b := range need {
		if _, err := exec.LookPath(b); err != nil {
			return b
		}
	}
	return ""
}

// Options configures Start.
type Options struct {
	// Dir is a fresh working directory (it must exist and be empty).
	Dir string
	// Name of the torrent (the top directory).
	Name string
	// Files maps relative paths to contents.
	Files map[string][]byte
	// Comment put in the .torrent.
	Comment string
	// Seeders to start: Aria2, QBittorrent.
	Seeders []string
	// Whitelist holds extra info-hashes opentracker must accept (Debian's build is whitelist-only).
	Whitelist []string
	// DHTEntry, when set, enables aria2's DHT with this node (host:port) as its only entry point.
	DHTEntry string
	// TTL bounds every daemon's life (10 minutes when 0).
	TTL time.Duration
	// Ready bounds the wait for the seeders to show up on the tracker (60 s when 0).
	Ready time.Duration
	// Logf, when set, receives progress lines.
	Logf func(format string, args ...any)
}

// Swarm is a running swarm.
type Swarm struct {
	Dir         string
	Torrent     string // path of the .torrent
	InfoHash    string
	HTTPTracker string
	UDPTracker  string
	// Peers maps seeder name to its peer address (127.0.0.1:port).
	Peers map[string]string

	opts  Options
	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start builds the torrent and starts the tracker and seeders; it returns once the tracker
// reports every seeder as complete. On error everything started is stopped.
func Start(ctx context.Context, o Options) (s *Swarm, err error) {
	if o.TTL <= 0 {
		o.TTL = 10 * time.Minute
	}
	if o.Ready <= 0 {
		o.Ready = 60 * time.Second
	}
	if o.Name == "" {
		o.Name = "swarm-payload"
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if m := Missing(o.Seeders); m != "" {
		return nil, fmt.Errorf("swarmtest: %s not on PATH", m)
	}
	s = &Swarm{Dir: o.Dir, opts: o, Peers: map[string]string{}}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	if err := s.makeTorrent(ctx); err != nil {
		return s, err
	}
	if err := s.startTracker(ctx); err != nil {
		return s, err
	}
	for _, name := range o.Seeders {
		switch name {
		case Aria2:
			err = s.startAria2(ctx)
		case QBittorrent:
			err = s.startQBittorrent(ctx)
		default:
			err = fmt.Errorf("swarmtest: unknown seeder %q", name)
		}
		if err != nil {
			return s, err
		}
	}
	if len(o.Seeders) > 0 {
		if err := s.waitSeeders(ctx, len(o.Seeders)); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *Swarm) makeTorrent(ctx context.Context) error {
	root := filepath.Join(s.Dir, "data", s.opts.Name)
	for p, b := range s.opts.Files {
		fp := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(fp, b, 0o644); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.HTTPTracker = fmt.Sprintf("http://127.0.0.1:%d/announce", port)
	s.UDPTracker = fmt.Sprintf("udp://127.0.0.1:%d/announce", port)
	s.Torrent = filepath.Join(s.Dir, s.opts.Name+".torrent")
	args := []string{"-a", s.HTTPTracker, "-a", s.UDPTracker, "-l", "15", "-n", s.opts.Name, "-o", s.Torrent}
	if s.opts.Comment != "" {
		args = append(args, "-c", s.opts.Comment)
	}
	args = append(args, root)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(cctx, "mktorrent", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("mktorrent: %v: %s", err, out)
	}
	mi, err := metainfo.LoadFromFile(s.Torrent)
	if err != nil {
		return fmt.Errorf("load %s: %w", s.Torrent, err)
	}
	s.InfoHash = mi.HashInfoBytes().HexString()
	s.opts.Logf("torrent %s infohash %s", s.Torrent, s.InfoHash)
	return nil
}

// start runs name under `timeout` in its own process group.
func (s *Swarm) start(name string, env []string, bin string, args ...string) error {
	ttl := strconv.Itoa(int(s.opts.TTL.Seconds()))
	cmd := exec.Command("timeout", append([]string{"--kill-after=5", ttl, bin}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdin = nil
	logf, err := os.Create(filepath.Join(s.Dir, name+".out"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	s.opts.Logf("started %s (pid %d)", name, cmd.Process.Pid)
	return nil
}

// Stop terminates every daemon (TERM to its process group, KILL after 10 s) and waits for them.
func (s *Swarm) Stop() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for _, p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	deadline := time.After(10 * time.Second)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

func (s *Swarm) startTracker(ctx context.Context) error {
	root := filepath.Join(s.Dir, "opentracker")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	wl := append([]string{s.InfoHash}, s.opts.Whitelist...)
	if err := os.WriteFile(filepath.Join(root, "whitelist.txt"), []byte(strings.Join(wl, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	// opentracker chroots to root and drops to nobody: every directory above must be searchable.
	for d := root; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil {
			_ = os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	u, _ := url.Parse(s.HTTPTracker)
	port := u.Port()
	// As root, opentracker chroots to -d, so the whitelist path is inside the chroot; as any other
	// user the chroot fails (silently) and the path must be the real one.
	wlPath := "/whitelist.txt"
	if os.Geteuid() != 0 {
		wlPath = filepath.Join(root, "whitelist.txt")
	}
	if err := s.start("opentracker", nil, "opentracker", "-i", "127.0.0.1", "-p", port, "-P", port,
		"-A", "127.0.0.1", "-d", root, "-w", wlPath); err != nil {
		return err
	}
	return waitFor(ctx, 15*time.Second, "opentracker", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/scrape")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

var aria2Common = []string{"--check-integrity=true", "--seed-ratio=0.0", "--enable-dht6=false", "--bt-enable-lpd=false",
	"--enable-peer-exchange=false", "--interface=127.0.0.1", "--disable-ipv6=true", "--summary-interval=0",
	"--console-log-level=warn", "--log-level=info", "--file-allocation=none", "--no-conf=true",
	"--auto-save-interval=0", "--bt-save-metadata=false"}

func (s *Swarm) startAria2(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	args := append([]string{}, aria2Common...)
	if s.opts.DHTEntry != "" {
		dport, err := freePort()
		if err != nil {
			return err
		}
		args = append(args, "--enable-dht=true", "--dht-listen-port="+strconv.Itoa(dport),
			"--dht-entry-point="+s.opts.DHTEntry, "--dht-file-path="+filepath.Join(s.Dir, "aria2-dht.dat"))
	} else {
		args = append(args, "--enable-dht=false")
	}
	args = append(args, "--dir="+filepath.Join(s.Dir, "data"), "--listen-port="+strconv.Itoa(port),
		"--log="+filepath.Join(s.Dir, "aria2.log"), s.Torrent)
	if err := s.start("aria2", []string{"HOME=" + s.Dir}, "aria2c", args...); err != nil {
		return err
	}
	s.Peers[Aria2] = "127.0.0.1:" + strconv.Itoa(port)
	return waitFor(ctx, 20*time.Second, "aria2 listening", func() bool { return listening(port) })
}

const qbtConf = `[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Port=%[1]d
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\DisableIPv6=true
Session\MultiConnectionsPerIp=true
Session\QueueingSystemEnabled=false
Session\GlobalMaxRatio=-1
Session\DefaultSavePath=%[3]s
Session\AnnounceToAllTrackers=true
Session\AnnounceToAllTiers=true
Session\AddTrackersEnabled=false

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\UPnP=false
Connection\ResolvePeerCountries=false
Connection\ResolvePeerHostNames=false
General\Locale=en
WebUI\Address=127.0.0.1
WebUI\Port=%[2]d
WebUI\LocalHostAuth=false
WebUI\CSRFProtection=false
WebUI\HostHeaderValidation=false
WebUI\UseUPnP=false
`

func (s *Swarm) startQBittorrent(ctx context.Context) error {
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	webPort, err := freePort()
	if err != nil {
		return err
	}
	prof := filepath.Join(s.Dir, "qbt")
	cfgDir := filepath.Join(prof, "qBittorrent", "config")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(s.Dir, "data")
	if err := os.WriteFile(filepath.Join(cfgDir, "qBittorrent.conf"), fmt.Appendf(nil, qbtConf, peerPort, webPort, data), 0o644); err != nil {
		return err
	}
	if err := s.start("qbittorrent", []string{"HOME=" + prof, "XDG_CONFIG_HOME=" + filepath.Join(prof, "xdg")}, "qbittorrent-nox",
		"--profile="+prof, "--webui-port="+strconv.Itoa(webPort)); err != nil {
		return err
	}
	web := "http://127.0.0.1:" + strconv.Itoa(webPort)
	if err := waitFor(ctx, 30*time.Second, "qbittorrent web UI", func() bool {
		resp, err := http.Get(web + "/api/v2/app/version")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}); err != nil {
		return err
	}
	tb, err := os.ReadFile(s.Torrent)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("torrents", filepath.Base(s.Torrent))
	_, _ = fw.Write(tb)
	_ = mw.WriteField("savepath", data)
	_ = mw.WriteField("skip_checking", "false")
	_ = mw.Close()
	resp, err := http.Post(web+"/api/v2/torrents/add", mw.FormDataContentType(), &body)
	if err != nil {
		return fmt.Errorf("qbittorrent add: %w", err)
	}
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("qbittorrent add: %s: %s", resp.Status, rb)
	}
	s.Peers[QBittorrent] = "127.0.0.1:" + strconv.Itoa(peerPort)
	return waitFor(ctx, 30*time.Second, "qbittorrent listening", func() bool { return listening(peerPort) })
}

// waitSeeders polls the tracker's HTTP scrape until it counts n complete peers.
func (s *Swarm) waitSeeders(ctx context.Context, n int) error {
	u, _ := url.Parse(s.HTTPTracker)
	var ih metainfo.Hash
	_ = ih.FromHexString(s.InfoHash)
	su := "http://" + u.Host + "/scrape?info_hash=" + url.QueryEscape(string(ih[:]))
	last := -1
	err := waitFor(ctx, s.opts.Ready, fmt.Sprintf("%d seeders on the tracker", n), func() bool {
		resp, err := http.Get(su)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		var d struct {
			Files map[string]struct {
				Complete int `bencode:"complete"`
			} `bencode:"files"`
		}
		if bencode.Unmarshal(b, &d) != nil {
			return false
		}
		last = d.Files[string(ih[:])].Complete
		return last >= n
	})
	if err != nil {
		return fmt.Errorf("%w (last count %d; logs in %s)", err, last, s.Dir)
	}
	return nil
}

func waitFor(ctx context.Context, d time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swarmtest: timed out after %v waiting for %s", d, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePort returns a port free for both TCP and UDP on 127.0.0.1.
func freePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return port, nil
	}
	return 0, errors.New("swarmtest: no free port")
}

// FreePort is exported for tests that need a port nobody answers on.
func FreePort() (int, error) { return freePort() }
