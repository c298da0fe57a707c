package render

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// fileCache keeps the exports rendered from one built report as files: each export is rendered
// once per report (per run, or per rebuild while a run goes on) and served from disk after that, so
// concurrent downloads of a 40 MB report.json cost one render and no buffer per client.
type fileCache struct {
	mu    sync.Mutex
	dir   string
	key   string
	files map[string]*cachedFile
}

type cachedFile struct {
	done    chan struct{} // closed when the render ended
	path    string
	err     error
	modTime time.Time
}

// get returns the entry of name for the report key, and whether the caller must render it. A new
// key drops the files of the previous report.
func (c *fileCache) get(key, name string) (*cachedFile, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != key {
		if err := c.resetLocked(key); err != nil {
			return nil, false, err
		}
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "afterlife-serve-*")
		if err != nil {
			return nil, false, fmt.Errorf("serve: directory for rendered files: %w", err)
		}
		c.dir = dir
	}
	if f, ok := c.files[name]; ok {
		return f, false, nil
	}
	if c.files == nil {
		c.files = map[string]*cachedFile{}
	}
	f := &cachedFile{done: make(chan struct{})}
	c.files[name] = f
	return f, true, nil
}

// drop forgets a failed render, so the next request tries again.
func (c *fileCache) drop(name string, f *cachedFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files[name] == f {
		delete(c.files, name)
	}
}

func (c *fileCache) reset(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resetLocked(key)
}

// resetLocked removes the rendered files (open ones stay readable until closed) and sets key.
func (c *fileCache) resetLocked(key string) error {
	var err error
	if c.dir != "" {
		err = os.RemoveAll(c.dir)
	}
	c.dir, c.key, c.files = "", key, nil
	return err
}

// countingWriter counts what was written to the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// serveExport streams an export: the first request for it renders into the client and a file at
// once (bytes go out while the render runs, through a 32 KiB buffer), the others wait for that
// render and are served from the file (http.ServeContent: Range and conditional requests work). A
// render that fails before anything was sent gets an error page; after, the connection is aborted,
// so a client never takes half a file for a whole one.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, key, name, ctype string, fn func(io.Writer) error) {
	f, leader, err := s.files.get(key, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !leader {
		select {
		case <-f.done:
		case <-r.Context().Done():
			return
		}
		if f.err != nil {
			s.fail(w, f.err)
			return
		}
		fh, err := os.Open(f.path)
		if err != nil {
			s.fail(w, fmt.Errorf("serve: rendered %s: %w", name, err))
			return
		}
		defer fh.Close()
		w.Header().Set("Content-Type", ctype)
		http.ServeContent(w, r, name, f.modTime, fh)
		return
	}
	sent, err := s.renderExport(w, r.Context(), f, name, ctype, fn)
	if err != nil {
		f.err = err
		s.files.drop(name, f)
		close(f.done)
		if sent == 0 {
			s.fail(w, err)
			return
		}
		s.log.Warn("serve: export failed midway; connection aborted", "file", name, "err", err)
		panic(http.ErrAbortHandler)
	}
	close(f.done)
}

func (s *Server) renderExport(w http.ResponseWriter, ctx context.Context, f *cachedFile, name, ctype string, fn func(io.Writer) error) (int64, error) {
	n := s.rendering.Add(1)
	defer s.rendering.Add(-1)
	for {
		m := s.maxRendering.Load()
		if n <= m || s.maxRendering.CompareAndSwap(m, n) {
			break
		}
	}
	s.files.mu.Lock()
	dir := s.files.dir
	s.files.mu.Unlock()
	fh, err := os.CreateTemp(dir, "render-*")
	if err != nil {
		return 0, fmt.Errorf("serve: file for %s: %w", name, err)
	}
	defer fh.Close()
	fail := func(err error) error { os.Remove(fh.Name()); return err }
	w.Header().Set("Content-Type", ctype)
	client := &countingWriter{w: w}
	// A client that goes away does not stop the render: the file is still wanted by the others.
	out := &teeWriter{file: fh, client: client, ctx: ctx}
	bw := bufio.NewWriterSize(out, 32<<10)
	if err := fn(bw); err != nil {
		return client.n, fail(fmt.Errorf("render %s: %w", name, err))
	}
	if err := bw.Flush(); err != nil {
		return client.n, fail(fmt.Errorf("render %s: %w", name, err))
	}
	if err := fh.Close(); err != nil {
		return client.n, fail(fmt.Errorf("render %s: %w", name, err))
	}
	path := filepath.Join(dir, filepath.Base(name))
	if err := os.Rename(fh.Name(), path); err != nil {
		return client.n, fail(fmt.Errorf("render %s: %w", name, err))
	}
	f.path, f.modTime = path, time.Now()
	s.renders.Add(1)
	return client.n, nil
}

// teeWriter writes to the file, and to the client while it listens.
type teeWriter struct {
	file      io.Writer
	client    io.Writer
	ctx       context.Context
	clientErr error
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if _, err := t.file.Write(p); err != nil {
		return 0, err
	}
	if t.clientErr == nil && t.ctx.Err() == nil {
		if _, err := t.client.Write(p); err != nil {
			t.clientErr = err
		}
	}
	return len(p), nil
}
