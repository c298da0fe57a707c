// Command torrent-bench measures swarm health checks against a real loopback swarm (opentracker
// + aria2 + qBittorrent, started and stopped by torrent/swarmtest):
//
//  1. the health of N info-hashes (all whitelisted on the tracker, one of them the live swarm)
//     by batched scrape vs by one announce (started + stopped) each, over HTTP and UDP: wall
//     time and tracker requests, side by side, median of -rounds runs;
//  2. the median BEP 9 metadata fetch time from each seeder client (aria2, qBittorrent).
//
// Run it through bench/torrent/run.sh. Results: bench/results/torrent.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/torrent"
	"github.com/afterlife-watch/afterlife/torrent/swarmtest"
)

func main() {
	n := flag.Int("n", 1000, "info-hashes to check")
	rounds := flag.Int("rounds", 5, "runs of each health method (median reported)")
	fetches := flag.Int("fetches", 20, "metadata fetches per seeder client")
	conc := flag.Int("announce-concurrency", 16, "parallel announces for the concurrent announce row")
	flag.Parse()
	if err := run(*n, *rounds, *fetches, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "torrent-bench:", err)
		os.Exit(1)
	}
}

type row struct {
	name     string
	walls    []time.Duration
	requests int64
	seeders  int // seeders counted for the live swarm
	errors   int
}

func run(n, rounds, fetches, conc int) error {
	seeders := []string{swarmtest.Aria2, swarmtest.QBittorrent}
	if m := swarmtest.Missing(seeders); m != "" {
		return fmt.Errorf("%s is not installed", m)
	}
	dir, err := os.MkdirTemp("", "afterlife-torrent-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = fmt.Sprintf("%040x", 0xbe9c000000+i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	sw, err := swarmtest.Start(ctx, swarmtest.Options{
		Dir: dir, Name: "bench-sample", Seeders: seeders, Whitelist: hashes,
		Files: map[string][]byte{"data/tiny_images.bin": make([]byte, 1<<20), "README.txt": []byte("bench\n")},
	})
	if err != nil {
		return err
	}
	defer sw.Stop()
	fmt.Printf("swarm ready in %v (opentracker + aria2 + qBittorrent on 127.0.0.1)\n\n", time.Since(t0).Round(time.Millisecond))
	live := len(hashes) / 2
	hashes[live] = sw.InfoHash

	var rows []*row
	for _, tr := range []string{sw.HTTPTracker, sw.UDPTracker} {
		proto := tr[:4]
		if proto == "http" {
			proto = "HTTP"
		} else {
			proto = "UDP "
		}
		scrape := &row{name: proto + " batched scrape"}
		seq := &row{name: proto + " announce each, sequential"}
		par := &row{name: fmt.Sprintf("%s announce each, %d parallel", proto, conc)}
		for range rounds {
			tc := &torrent.Trackers{BindHost: "127.0.0.1"}
			start := time.Now()
			cs, err := tc.Scrape(ctx, tr, hashes)
			scrape.walls = append(scrape.walls, time.Since(start))
			if err != nil {
				return fmt.Errorf("scrape %s: %w", tr, err)
			}
			scrape.requests, scrape.seeders = tc.Requests(), cs[live].Seeders
			for _, c := range cs {
				if c.Err != "" && c.InfoHash == sw.InfoHash {
					scrape.errors++
				}
			}
			for _, r := range []struct {
				row *row
				c   int
			}{{seq, 1}, {par, conc}} {
				tc := &torrent.Trackers{BindHost: "127.0.0.1"}
				start := time.Now()
				res, errs := announceAll(ctx, tc, tr, hashes, r.c)
				r.row.walls = append(r.row.walls, time.Since(start))
				r.row.requests, r.row.seeders, r.row.errors = tc.Requests(), res[live].Seeders, errs
			}
		}
		rows = append(rows, scrape, seq, par)
	}
	fmt.Printf("Health of %d info-hashes against opentracker on 127.0.0.1 (median of %d runs; the live swarm has 2 seeders)\n\n", n, rounds)
	fmt.Println("| method | wall time (median) | min–max | tracker requests | vs batched scrape | live seeders counted | errors |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for i, r := range rows {
		base := rows[i/3*3]
		fmt.Printf("| %s | %v | %v–%v | %d | %.1f× time, %.0f× requests | %d | %d |\n", r.name,
			median(r.walls).Round(time.Microsecond), slices.Min(r.walls).Round(time.Microsecond), slices.Max(r.walls).Round(time.Microsecond),
			r.requests, float64(median(r.walls))/float64(median(base.walls)), float64(r.requests)/float64(base.requests), r.seeders, r.errors)
	}
	fmt.Println("\nRequests: HTTP requests; for UDP, datagrams sent (connect + scrape/announce). An announce is two requests: started, then stopped.")

	// Metadata fetch times.
	fmt.Printf("\nBEP 9 metadata fetch by info-hash from one seeder (%d fetches each; the torrent is added and dropped each time)\n\n", fetches)
	fmt.Println("| seeder | client | median | min | max | metadata chunks | content bytes read |")
	fmt.Println("|---|---|---|---|---|---|---|")
	shared, err := torrent.NewMetadataClient(torrent.MetadataClientConfig{BindHost: "127.0.0.1"})
	if err != nil {
		return err
	}
	defer shared.Close()
	for _, s := range []string{swarmtest.QBittorrent, swarmtest.Aria2} {
		for _, fresh := range []bool{false, true} {
			var took []time.Duration
			var chunks, content int64
			for range fetches {
				mc := shared
				if fresh {
					if mc, err = torrent.NewMetadataClient(torrent.MetadataClientConfig{BindHost: "127.0.0.1"}); err != nil {
						return err
					}
				}
				fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
				_, st, err := mc.Fetch(fctx, sw.InfoHash, []string{sw.Peers[s]}, nil)
				fcancel()
				if fresh {
					mc.Close()
				}
				if err != nil {
					return fmt.Errorf("fetch from %s: %w", s, err)
				}
				took = append(took, st.Took)
				chunks += st.MetadataChunks
				content += st.ContentBytesRead
			}
			kind := "one client reused"
			if fresh {
				kind = "fresh client each"
			}
			fmt.Printf("| %s | %s | %v | %v | %v | %d | %d |\n", s, kind, median(took).Round(10*time.Microsecond),
				slices.Min(took).Round(10*time.Microsecond), slices.Max(took).Round(10*time.Microsecond), chunks, content)
		}
	}
	return nil
}

func announceAll(ctx context.Context, tc *torrent.Trackers, tr string, hashes []string, conc int) ([]torrent.Counts, int) {
	out := make([]torrent.Counts, len(hashes))
	var mu sync.Mutex
	errs := 0
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, ih := range hashes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := tc.Announce(ctx, tr, ih, 0)
			out[i] = c
			if err != nil {
				mu.Lock()
				errs++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, errs
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
