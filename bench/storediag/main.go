// Command storediag runs one pipeline scan of the demo world into a fresh data directory and
// reads the store's write-ahead log before it is checkpointed: commits, frames (pages written)
// per commit and which table or index each written page belongs to (dbstat on a copy).
package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

func main() {
	tmp := flag.String("tmp", "/tmp/store/diag", "work dir")
	file := flag.String("file", reports.StoreFile, "which file's WAL to read (afterlife.db, frontier.db, ...)")
	flag.Parse()
	if err := run(*tmp, *file); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func cp(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, in)
	return err
}

func run(tmp, file string) error {
	ctx := context.Background()
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: world, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	wc := (&demoworld.Server{World: world, URL: base}).WatchConfig()
	wc.PolitenessOff = true
	wc.Workers = 4
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return err
	}
	os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	store, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		return err
	}
	be, err := monitor.OpenEmbedded(dir, store)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	res, err := monitor.Run(ctx, be, monitor.RunConfig{Watch: wc, Registry: reg, Workers: 4, Version: "diag", Log: log, Incremental: monitor.DefaultIncremental()})
	if err != nil {
		return err
	}
	if err := store.Sync(ctx); err != nil {
		return err
	}
	cdir := filepath.Join(tmp, "copy")
	os.MkdirAll(cdir, 0o755)
	if err := cp(filepath.Join(cdir, file), filepath.Join(dir, file)); err != nil {
		return err
	}
	if err := cp(filepath.Join(cdir, file+"-wal"), filepath.Join(dir, file+"-wal")); err != nil {
		return err
	}
	be.Close()
	store.Close()
	fmt.Printf("scan: %d new sightings\n", res.Run.New)

	wal, err := os.ReadFile(filepath.Join(cdir, file+"-wal"))
	if err != nil {
		return err
	}
	psz := int(binary.BigEndian.Uint32(wal[8:12]))
	fsz := 24 + psz
	type frame struct{ page, commit uint32 }
	var frames []frame
	for off := 32; off+fsz <= len(wal); off += fsz {
		frames = append(frames, frame{binary.BigEndian.Uint32(wal[off:]), binary.BigEndian.Uint32(wal[off+4:])})
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cdir, file))
	if err != nil {
		return err
	}
	defer db.Close()
	names := map[uint32]string{}
	rows, err := db.Query(`SELECT pageno, name, pagetype FROM dbstat`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var p uint32
		var n, t string
		rows.Scan(&p, &n, &t)
		names[p] = n + "/" + t
	}
	rows.Close()
	commits := 0
	per := map[string]int{}
	var cur []frame
	var sizes []int
	for _, f := range frames {
		cur = append(cur, f)
		if f.commit != 0 {
			commits++
			seen := map[uint32]bool{}
			for _, g := range cur {
				if seen[g.page] {
					continue
				}
				seen[g.page] = true
				n := names[g.page]
				if n == "" {
					n = fmt.Sprintf("?page %d", g.page)
					if g.page == 1 {
						n = "page 1"
					}
				}
				per[n]++
			}
			sizes = append(sizes, len(cur))
			cur = nil
		}
	}
	fmt.Printf("%s: page size %d, %d frames, %d commits, %.2f frames per commit, WAL %d KiB\n", file, psz, len(frames), commits, float64(len(frames))/float64(max(commits, 1)), len(wal)>>10)
	var ks []string
	for k := range per {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return per[ks[i]] > per[ks[j]] })
	for _, k := range ks {
		fmt.Printf("  %-40s %6d frames  %.2f per commit\n", k, per[k], float64(per[k])/float64(max(commits, 1)))
	}
	return nil
}
