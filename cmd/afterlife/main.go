// Command afterlife watches where retracted machine-learning datasets live on.
//
// Each subcommand lives in its own file (scan.go, demo.go, match.go, ...) and adds itself to the
// root command from init. This package is flag parsing and wiring only.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globals are the flags every subcommand shares.
type globals struct {
	dataDir      string
	registryFile string
	configFile   string
	logFormat    string
	logLevel     string
}

var g globals

var rootCmd = &cobra.Command{
	Use:   "afterlife",
	Short: "Watch where retracted machine-learning datasets live on",
	Long: `Afterlife watches code and data repositories, model hubs, paper sites and BitTorrent swarms for
the afterlife of retracted machine-learning datasets (copies, derivatives, models trained on them,
papers using them) and builds afterlife reports for stewards and researchers.`,
	SilenceUsage:  true,
	SilenceErrors: true,
	PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
		return setupLogging(cmd.ErrOrStderr())
	},
}

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&g.dataDir, "data", defaultDataDir(), "data directory for the embedded queue and store (env AFTERLIFE_DATA)")
	pf.StringVar(&g.registryFile, "registry", "", "registry YAML file (default: the embedded registry)")
	pf.StringVar(&g.configFile, "config", "", "watch config YAML file (default: the embedded watch plan)")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "afterlife %s\n", version)
			return err
		},
	})
	rootCmd.Version = version // afterlife --version
	rootCmd.SetVersionTemplate("afterlife {{.Version}}\n")
	rootCmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage", err, cmd.CommandPath())
	})
}

// defaultDataDir is $AFTERLIFE_DATA, else $XDG_DATA_HOME/afterlife, else ~/.local/share/afterlife.
func defaultDataDir() string {
	if d := os.Getenv("AFTERLIFE_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "afterlife")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "afterlife")
	}
	return ".afterlife"
}

func setupLogging(w io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %q is not debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		slog.SetDefault(slog.New(slog.NewTextHandler(w, opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(w, opts)))
	default:
		return fmt.Errorf("--log-format: %q is not text or json", g.logFormat)
	}
	return nil
}

// loadRegistry loads the registry named by --registry (or the embedded one).
func loadRegistry() (*configs.Registry, error) { return configs.LoadRegistry(g.registryFile) }

// loadWatch loads the watch config named by --config (or the embedded one) and refuses source
// names this build has no adapter for. It runs before anything is created on disk.
func loadWatch() (*configs.Watch, error) {
	w, err := configs.LoadWatch(g.configFile)
	if err != nil {
		return nil, err
	}
	if err := w.CheckSources(crawler.Registered()); err != nil {
		return nil, err
	}
	return w, nil
}

// exitError carries a specific exit code (e.g. `afterlife check` gating a pipeline).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	applyMemoryLimit(os.Getenv)
	stopProfile := startMemProfile(ctx)
	err := rootCmd.ExecuteContext(ctx)
	stopProfile()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "afterlife:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "afterlife:", err)
	os.Exit(1)
}
