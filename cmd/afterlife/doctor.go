package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/monitor"
)

func newDoctorCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check every enabled source: reachable, token accepted, budget left",
		Long: `Doctor probes every enabled source of the watch plan (--config, default the embedded plan) with
the first request a run would send, through the same polite fetcher, dial guard and adapter, and
answers in one line per source: is it reachable, is the token found in the environment accepted
(or is it anonymous), and what budget the service's own rate-limit headers say is left.

Status words: ok; warn (works, but rate-limited or out of budget now); skip (sends nothing in this
configuration, e.g. Kaggle without credentials); fail (cannot work: unreachable, token rejected,
misconfigured). The exit status is 1 when an enabled source fails.`,
		Example: `  afterlife doctor
  GITHUB_TOKEN=... afterlife doctor --config watch.yaml --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			w, err := loadWatch()
			if err != nil {
				return err
			}
			ds, err := monitor.Diagnose(cmd.Context(), monitor.DoctorConfig{Watch: w, Registry: reg})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, d := range ds {
				if d.Status == monitor.DiagFail {
					failed++
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(ds); err != nil {
					return err
				}
			} else {
				for _, d := range ds {
					fmt.Fprintf(out, "%-17s %-4s  %s\n", d.Source, d.Status, monitor.Printable(d.Detail, 400))
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("doctor: %d of %d enabled sources cannot work", failed, len(ds))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of one line per source")
	return cmd
}

func init() { rootCmd.AddCommand(newDoctorCmd()) }
