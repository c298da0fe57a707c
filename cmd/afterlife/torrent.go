package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/torrent"
)

type torrentFlags struct {
	trackers []string
	peers    []string
	dht      []string
	timeout  time.Duration
	bind     string
	source   string
	record   bool
	announce bool
	known    bool
}

func init() {
	var f torrentFlags
	cmd := &cobra.Command{
		Use:   "torrent",
		Short: "BitTorrent swarms: parse, probe and count peers, metadata only",
	}
	probe := &cobra.Command{
		Use:   "probe <infohash|magnet|file.torrent>",
		Short: "Probe one swarm: tracker counts, DHT peers, metadata (BEP 9) and matches, as one JSON object",
		Long: `Probe one swarm and print one JSON object: infohash, name, files, trackers (seeders, leechers,
completed, error per tracker), dht_peers, metadata_source and matches (the findings of the
matcher). Trackers come from --tracker, the magnet's tr= and the .torrent's announce list; peers
from --peer, the magnet's x.pe= and tracker announces; the DHT is only used with --dht bootstrap
nodes (there is no public default). Without a .torrent the info dictionary is fetched from peers
(BEP 9): never any content.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runTorrentProbe(cmd, args[0], &f) },
	}
	pf := probe.Flags()
	pf.StringArrayVar(&f.trackers, "tracker", nil, "tracker announce URL, http(s):// or udp:// (repeatable)")
	pf.StringArrayVar(&f.peers, "peer", nil, "peer address HOST:PORT to fetch metadata from (repeatable)")
	pf.StringArrayVar(&f.dht, "dht", nil, "DHT bootstrap node HOST:PORT (repeatable; no default)")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "bound on the whole probe")
	pf.StringVar(&f.bind, "bind", "", "local address for our sockets (default 127.0.0.1 when every target is on loopback, else 0.0.0.0)")
	pf.StringVar(&f.source, "source", artifact.SourceDHT, "artifact source for the result: dht or academictorrents")
	pf.BoolVar(&f.record, "record", false, "store the swarm probe (seeders, leechers, completed, distinct peers) in the store under --data")

	parse := &cobra.Command{
		Use:   "parse <file.torrent|magnet>...",
		Short: "Print .torrent files or magnet links as artifacts (JSON Lines, for `afterlife match`)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTorrentParse(cmd.OutOrStdout(), args, f.source)
		},
	}
	parse.Flags().StringVar(&f.source, "source", artifact.SourceDHT, "artifact source: dht or academictorrents")

	health := &cobra.Command{
		Use:   "health --tracker URL [--known] [infohash...]",
		Short: "Seeders/leechers of many info-hashes by batched scrape (announce with --announce); hashes from args, stdin or the registry (--known)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTorrentHealth(cmd, args, &f)
		},
	}
	hf := health.Flags()
	hf.StringArrayVar(&f.trackers, "tracker", nil, "tracker announce URL (repeatable)")
	hf.DurationVar(&f.timeout, "timeout", 10*time.Second, "bound on each tracker request")
	hf.BoolVar(&f.announce, "announce", false, "count by one announce (started+stopped) per hash instead of batched scrape")
	hf.BoolVar(&f.known, "known", false, "also check every info-hash the registry (--registry) lists for a dataset")

	cmd.AddCommand(probe, parse, health)
	rootCmd.AddCommand(cmd)
}

// probeOutput is the JSON printed by `afterlife torrent probe`.
type probeOutput struct {
	*torrent.Result
	Matches []extract.Finding `json:"matches"`
}

func runTorrentProbe(cmd *cobra.Command, arg string, f *torrentFlags) error {
	if f.source != artifact.SourceDHT && f.source != artifact.SourceAcademicTorrents {
		return fmt.Errorf("--source: %q is not dht or academictorrents", f.source)
	}
	reg, err := configs.LoadRegistry(g.registryFile)
	if err != nil {
		return err
	}
	tg, err := torrent.TargetFromArg(arg, readTorrentFile)
	if err != nil {
		return err
	}
	tg.Trackers = append(tg.Trackers, f.trackers...)
	tg.Peers = append(tg.Peers, f.peers...)
	tg.DHTNodes = append(tg.DHTNodes, f.dht...)
	p := &torrent.Prober{
		Trackers: &torrent.Trackers{BindHost: f.bind, UserAgent: "afterlife/" + version},
		BindHost: f.bind, Timeout: f.timeout, Source: f.source,
	}
	var store *reports.SQLiteStore
	if f.record {
		if err := os.MkdirAll(g.dataDir, 0o755); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		store, err = reports.OpenStore(filepath.Join(g.dataDir, reports.StoreFile))
		if err != nil {
			return err
		}
		defer store.Close()
		p.Sink = swarmSink{store}
	}
	ctx := cmd.Context()
	res, err := p.Probe(ctx, tg)
	if err != nil {
		return err
	}
	a := res.Artifact(f.source, "")
	if a == nil && res.Name != "" {
		// No metadata: the display name alone can still match.
		a = &artifact.Artifact{ID: torrent.IDPrefix(f.source) + ":" + res.InfoHash, Source: f.source, Kind: artifact.KindTorrent,
			URL: (&torrent.Magnet{InfoHash: res.InfoHash, Name: res.Name}).String(), Title: res.Name, InfoHash: res.InfoHash}
	}
	out := probeOutput{Result: res, Matches: []extract.Finding{}}
	if a != nil {
		if fs := extract.New(reg).Match(a); fs != nil {
			out.Matches = fs
		}
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if ctx.Err() != nil {
		// A signal (not --timeout, which is the probe's own bound) stopped it: the result above
		// is partial, and the exit status says so.
		return fmt.Errorf("probe interrupted (%v): the result above is partial", context.Cause(ctx))
	}
	return nil
}

// swarmSink stores probes in the reports store.
type swarmSink struct{ st reports.SwarmStore }

func (s swarmSink) RecordProbe(ctx context.Context, p torrent.ProbeRecord) error {
	return s.st.RecordProbe(ctx, reports.SwarmProbe{
		InfoHash: p.InfoHash, ArtifactID: p.ArtifactID, Source: p.Source, At: p.At,
		Seeders: p.Seeders, Leechers: p.Leechers, Completed: p.Completed, Peers: p.Peers,
	})
}

func readTorrentFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, torrent.MaxMetainfoSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > torrent.MaxMetainfoSize {
		return nil, fmt.Errorf("%s: over %d bytes: %w", path, torrent.MaxMetainfoSize, torrent.ErrTooLarge)
	}
	return b, nil
}

func runTorrentParse(w io.Writer, args []string, source string) error {
	var errs []error
	for _, arg := range args {
		var a artifact.Artifact
		if strings.HasPrefix(strings.ToLower(arg), "magnet:") {
			m, err := torrent.ParseMagnet(arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			a = artifact.Artifact{ID: torrent.IDPrefix(source) + ":" + m.InfoHash, Source: source, Kind: artifact.KindTorrent,
				URL: m.String(), Title: m.Name, InfoHash: m.InfoHash}
		} else {
			b, err := readTorrentFile(arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m, err := torrent.ParseMetainfo(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", arg, err))
				continue
			}
			a = m.Artifact(source, "")
		}
		if err := artifact.Write(w, a); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func runTorrentHealth(cmd *cobra.Command, args []string, f *torrentFlags) error {
	if len(f.trackers) == 0 {
		return errors.New("--tracker: at least one tracker is required")
	}
	var known []string
	if f.known {
		reg, err := configs.LoadRegistry(g.registryFile)
		if err != nil {
			return err
		}
		for _, id := range reg.IDs() {
			d, _ := reg.Get(id)
			known = append(known, d.InfoHashes...)
		}
	}
	hashes, err := readHashes(args, cmd.InOrStdin(), known)
	if err != nil {
		return err
	}
	tc := &torrent.Trackers{RequestTimeout: f.timeout, UserAgent: "afterlife/" + version}
	w := bufio.NewWriter(cmd.OutOrStdout())
	defer w.Flush()
	enc := json.NewEncoder(w)
	ctx := cmd.Context()
	for _, tr := range f.trackers {
		var cs []torrent.Counts
		if !f.announce {
			cs, err = tc.Scrape(ctx, tr, hashes)
		}
		if f.announce || errors.Is(err, torrent.ErrScrapeUnsupported) {
			cs, err = nil, nil
			for _, ih := range hashes {
				c, aerr := tc.Announce(ctx, tr, ih, 0)
				if aerr != nil {
					c.Err = aerr.Error()
				}
				c.Peers = nil
				cs = append(cs, c)
			}
		}
		if err != nil {
			slog.Warn("tracker failed", "tracker", tr, "err", err)
			// Every hash gets a line: the ones the tracker never answered carry the error.
			for _, ih := range hashes[len(cs):] {
				cs = append(cs, torrent.Counts{InfoHash: ih, Tracker: tr, Seeders: -1, Leechers: -1, Completed: -1, Method: "scrape", Err: err.Error()})
			}
		}
		for _, c := range cs {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d hashes, %d trackers, %d tracker requests\n", len(hashes), len(f.trackers), tc.Requests())
	return nil
}

func readHashes(args []string, stdin io.Reader, known []string) ([]string, error) {
	src := args
	if len(src) == 0 && len(known) == 0 {
		sc := bufio.NewScanner(io.LimitReader(stdin, 64<<20))
		for sc.Scan() {
			if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "#") {
				src = append(src, s)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	src = append(src, known...)
	out := make([]string, 0, len(src))
	seen := map[string]bool{}
	for i, s := range src {
		ih, err := torrent.ParseInfoHash(s)
		if err != nil {
			return nil, fmt.Errorf("hash %d: %w", i+1, err)
		}
		if !seen[ih] {
			seen[ih] = true
			out = append(out, ih)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no info-hashes given (arguments or one per line on stdin)")
	}
	return out, nil
}
