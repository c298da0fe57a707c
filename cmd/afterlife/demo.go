package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/reports"
)

type demoFlags struct {
	scan        scanFlags
	worldOnly   bool
	listen      string
	writeConfig string
	latency     time.Duration
	epoch       int
	scale       int
}

// demoAddrFile remembers the demo world's address in the data directory, so a resumed demo run
// serves the world where the queued jobs point.
const demoAddrFile = "demo-world.addr"

func newDemoCmd() *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve the offline demo world, scan it and write the reports",
		Long: `Demo starts the demo world — a local server on 127.0.0.1 that speaks each implemented source's
real API formats and holds a planted afterlife of retracted datasets — runs a scan against it into
a data directory of its own (OUT/data, or --data when given: never the default data directory, so
planted findings cannot mix with real ones), writes the reports to --out and prints where they
are. No internet is needed. A data directory remembers that it holds demo data: 'afterlife scan'
refuses to record a real run in it, and the demo refuses a directory that holds real data.

--world-only serves the world until stopped (Ctrl-C); with --write-config FILE it also writes a
watch config pointing every demo source at it, for 'afterlife scan --config FILE'.
--latency adds a delay to every response (so a run lasts long enough to interrupt); --epoch picks
the world's state (artifacts appear and disappear between epochs); --scale N plants a world about
N times larger (N=100: over 100,000 artifacts; docs/scale.md).

The summary says how much of the planted afterlife the run found ("ground_truth": planted, found,
missed, per source), which planted look-alikes it reported ("false_findings"), and the requests
it sent against the fewest that could list the planted world ("requests": actual, minimum, ratio).`,
		Example: `  afterlife demo --out /tmp/afterlife-demo
  afterlife demo --scale 10 --data /tmp/scale10 --out /tmp/scale10-out
  afterlife demo --world-only --listen 127.0.0.1:8700 --write-config /tmp/demo-watch.yaml
  afterlife scan --config /tmp/demo-watch.yaml --data /tmp/afterlife-demo-data --out /tmp/afterlife-demo2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scan.out, "out", "out/demo", "directory for the reports")
	fl.IntVar(&f.scan.workers, "workers", 0, "concurrent crawl workers (default 4)")
	fl.StringVar(&f.scan.progress, "progress", "auto", "progress display: auto (on a terminal), always or never")
	fl.BoolVar(&f.worldOnly, "world-only", false, "only serve the demo world, until stopped")
	fl.StringVar(&f.listen, "listen", "", "address to serve the world on, loopback only (default 127.0.0.1 and a free port)")
	fl.StringVar(&f.writeConfig, "write-config", "", "write a watch config pointing every demo source at the world to FILE")
	fl.DurationVar(&f.latency, "latency", 0, "delay added to every demo world response (e.g. 50ms)")
	fl.IntVar(&f.epoch, "epoch", 1, "demo world epoch (which planted artifacts exist)")
	fl.BoolVar(&f.scan.fullListing, "full-listing", false, "list every source in full this run (the periodic full listing that reports what went), not only what changed since the last run")
	fl.IntVar(&f.scale, "scale", 1, "plant a proportionally larger afterlife: N-1 generated units of about 1,000 artifacts beside the planted files (docs/scale.md)")
	return cmd
}

func init() { rootCmd.AddCommand(newDemoCmd()) }

func runDemo(cmd *cobra.Command, f *demoFlags) error {
	ctx := cmd.Context()
	if f.epoch < 1 {
		return fmt.Errorf("--epoch: %d, want 1 or more", f.epoch)
	}
	if f.scale < 1 {
		return fmt.Errorf("--scale: %d, want 1 or more", f.scale)
	}
	if f.latency < 0 {
		return fmt.Errorf("--latency: %s is negative", f.latency)
	}
	if g.configFile != "" {
		return errors.New("--config: demo scans the demo world with its own watch config; use --write-config to get it")
	}
	reg, err := loadRegistry()
	if err != nil {
		return err
	}
	// The demo never touches a real data directory: its data lives under --out unless --data is
	// given explicitly ($AFTERLIFE_DATA names the real one and does not count).
	dataDir := demoDataDir(cmd, f.scan.out)
	if !f.worldOnly && dataDir == "" {
		return errors.New("--out: empty; the demo needs a directory for its reports (and its data, unless --data is given)")
	}
	// A repeat of the data directory's last epoch keeps the time the world entered it: what the
	// epoch added changed once, not again on every run (an incremental run would list it again).
	var prevEpoch int
	var epochStart time.Time
	if !f.worldOnly {
		prevEpoch, epochStart = readDemoEpoch(dataDir, f.scale)
		if prevEpoch != f.epoch {
			epochStart = time.Time{}
		}
	}
	world, err := demoworld.New(demoworld.Options{Epoch: f.epoch, Latency: f.latency, Scale: f.scale, EpochStart: epochStart})
	if err != nil {
		return fmt.Errorf("demo world: %w", err)
	}
	addr := f.listen
	if addr == "" && !f.worldOnly {
		addr = rememberedDemoAddr(dataDir)
	}
	srv, err := demoworld.Start(world, addr)
	if err != nil && addr != f.listen {
		srv, err = demoworld.Start(world, "127.0.0.1:0") // the remembered port is taken
	}
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer func() {
		if srv != nil {
			srv.Close()
		}
	}()
	wc := srv.WatchConfig()
	wc.File = "demo world " + srv.URL
	if f.writeConfig != "" {
		b, err := wc.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.writeConfig, b, 0o644); err != nil {
			return fmt.Errorf("--write-config: %w", err)
		}
	}
	out := cmd.OutOrStdout()
	if f.worldOnly {
		fmt.Fprintf(out, "Demo world serving on %s (sources: %s). Stop with Ctrl-C.\n", srv.URL, strings.Join(demoworld.Sources(), ", "))
		if f.writeConfig != "" {
			fmt.Fprintf(out, "Watch config written to %s: afterlife scan --config %s\n", f.writeConfig, f.writeConfig)
		}
		<-ctx.Done()
		return nil
	}
	// Refuse a data directory that holds real data before writing anything into it.
	if err := claimDemoDataDir(ctx, dataDir); err != nil {
		return err
	}
	_ = os.WriteFile(filepath.Join(dataDir, demoAddrFile), []byte(strings.TrimPrefix(srv.URL, "http://")+"\n"), 0o644)
	fmt.Fprintf(cmd.ErrOrStderr(), "Demo world on %s; scanning into %s\n", srv.URL, dataDir)
	epochStart = world.EpochStart()
	before := int64(0)
	for _, s := range append(demoworld.Sources(), "tracker") {
		before += world.Requests(s)
	}
	var truth *demoTruth
	f.scan.demoTruth = func(ctx context.Context, st *reports.SQLiteStore, runID string) (*demoTruth, error) {
		if truth != nil {
			return truth, nil
		}
		t, err := computeDemoTruth(ctx, st, reg, world, runID, before, prevEpoch)
		if err != nil {
			return nil, err
		}
		truth = t
		// The run is done and its truth taken: stop serving the world and let it go, so that
		// the collector can reclaim it (~150 MiB at --scale 100) before the reports are
		// rendered. Rendering reads only the store.
		srv.Close()
		srv, world = nil, nil
		return t, nil
	}
	if err := runScan(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), reg, wc, dataDir, &f.scan); err != nil {
		return err
	}
	_ = writeDemoEpoch(dataDir, f.epoch, f.scale, epochStart)
	if o, ok := out.(*os.File); !ok || !term.IsTerminal(int(o.Fd())) {
		// stdout got the JSON summary; say where to look on stderr, for people reading a log.
		if truth != nil {
			truth.print(cmd.ErrOrStderr())
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Demo reports are in %s (start with %s and %s)\n", f.scan.out,
			filepath.Join(f.scan.out, "index.html"), filepath.Join(f.scan.out, "report.json"))
	}
	return nil
}

// demoDataDir is the demo's data directory: --data when given on the command line, else
// OUT/data.
func demoDataDir(cmd *cobra.Command, out string) string {
	if fl := cmd.Flag("data"); fl != nil && fl.Changed {
		return g.dataDir
	}
	if out == "" {
		return ""
	}
	return filepath.Join(out, "data")
}

// claimDemoDataDir creates the demo's data directory and marks its store as demo data, or refuses
// a store that holds real data.
func claimDemoDataDir(ctx context.Context, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	st, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
	if err != nil {
		return err
	}
	defer st.Close()
	return claimDataKind(ctx, st, dataDir, true)
}

// rememberedDemoAddr returns the address an earlier demo in dataDir served on, if it was loopback.
func rememberedDemoAddr(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, demoAddrFile))
	if err != nil {
		return ""
	}
	a := strings.TrimSpace(string(b))
	host, _, err := net.SplitHostPort(a)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return ""
	}
	return a
}
