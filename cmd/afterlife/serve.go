package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

type serveFlags struct {
	listen      string
	tokenEnv    string
	maxRequests int
}

func init() {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a read-only web UI over the sightings store (127.0.0.1 by default)",
		Long: `Serve the store under --data as a small read-only web site: the overview, one page per dataset,
sightings with search and filters, the propagation graph, and every export (report.json, CSV,
GraphML, DOT, Markdown, Atom) under /files/.

Pages carry no script and are served with a Content Security Policy that forbids script. Set an
access token in the environment variable named by --token-env (default AFTERLIFE_SERVE_TOKEN) to
require it on every request (Authorization: Bearer TOKEN, or ?token=TOKEN once in a browser).
Listening on anything but loopback requires a token.`,
		Args:    cobra.NoArgs,
		Example: `  afterlife serve --data ~/.local/share/afterlife --listen 127.0.0.1:8080`,
		RunE: func(cmd *cobra.Command, args []string) error {
			token := os.Getenv(f.tokenEnv)
			if err := checkServeToken(token, f.tokenEnv); err != nil {
				return err
			}
			if !render.IsLoopback(f.listen) && token == "" {
				return fmt.Errorf("--listen %s is not loopback: set a token in $%s first", f.listen, f.tokenEnv)
			}
			path := filepath.Join(g.dataDir, reports.StoreFile)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no store at %s (run `afterlife scan` or `afterlife demo` first): %w", path, err)
			}
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			st, err := reports.OpenStoreReadOnly(path)
			if err != nil {
				return err
			}
			defer st.Close()
			srv := render.NewServerLimit(st, reg, token, slog.Default(), f.maxRequests)
			defer srv.Close()
			return srv.ListenAndServe(cmd.Context(), f.listen, func(addr string) {
				fmt.Fprintf(cmd.OutOrStdout(), "Serving %s on http://%s/ (Ctrl-C to stop)\n", path, addr)
			})
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().IntVar(&f.maxRequests, "max-requests", render.MaxConcurrent, "requests handled at once; more get 503 with Retry-After (bounds memory)")
	cmd.Flags().StringVar(&f.tokenEnv, "token-env", "AFTERLIFE_SERVE_TOKEN", "environment variable holding the access token (empty variable: no token)")
	rootCmd.AddCommand(cmd)
}

// checkServeToken refuses a token that is only whitespace (a single space passed for a token)
// or has whitespace around it (HTTP drops it from header values, so such a token could only
// travel in URLs). An empty variable means no token.
func checkServeToken(token, env string) error {
	switch {
	case token == "":
		return nil
	case strings.TrimSpace(token) == "":
		return fmt.Errorf("$%s is blank (only whitespace): set a real token, or unset it for no token (loopback only)", env)
	case strings.TrimSpace(token) != token:
		return fmt.Errorf("$%s has whitespace around it: remove it (an HTTP header cannot carry it)", env)
	}
	return nil
}
