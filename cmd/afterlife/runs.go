package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

type runsFlags struct {
	format  string
	limit   int
	changes bool
}

func newRunsCmd() *cobra.Command {
	f := &runsFlags{}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "Show the run history: when, how long, what it cost per source, what was new and gone",
		Long: `Runs lists the monitoring runs recorded in --data, newest first: when each started, how long it
took, its requests, bytes on the wire, 304 answers and errors per source, and how many sightings
were new and gone. --changes also lists the new and gone sightings of each run.

On a terminal the output is a table; --format json (the default when stdout is not a terminal)
prints one JSON array.`,
		Example: `  afterlife runs --data /var/lib/afterlife
  afterlife runs --data D --limit 5 --changes
  afterlife runs --data D --format json | jq '.[0].sources'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRuns(cmd, f) },
	}
	cmd.Flags().StringVar(&f.format, "format", "auto", "output: table, json, or auto (table on a terminal)")
	cmd.Flags().IntVar(&f.limit, "limit", 0, "show only the most recent N runs (0: all)")
	cmd.Flags().BoolVar(&f.changes, "changes", false, "list each run's new and gone sightings")
	return cmd
}

func init() { rootCmd.AddCommand(newRunsCmd()) }

// runView is one run in `afterlife runs` output.
type runView struct {
	ID       string               `json:"id"`
	Started  time.Time            `json:"started"`
	Finished *time.Time           `json:"finished"`
	Duration float64              `json:"duration_seconds"`
	Mode     string               `json:"mode,omitempty"`
	Complete bool                 `json:"complete"`
	New      int                  `json:"new"`
	Gone     int                  `json:"gone"`
	Requests int64                `json:"requests"`
	Bytes    int64                `json:"bytes"`
	Cached   int64                `json:"cached"`
	Errors   int64                `json:"errors"`
	Sources  []reports.SourceStat `json:"sources"`
	Changes  *runChanges          `json:"changes,omitempty"`
}

type runChanges struct {
	New        []reports.Event `json:"new"`
	Gone       []reports.Event `json:"gone"`
	Reappeared []reports.Event `json:"reappeared"`
}

func runRuns(cmd *cobra.Command, f *runsFlags) error {
	if f.limit < 0 {
		return fmt.Errorf("--limit: %d is negative", f.limit)
	}
	format := f.format
	switch format {
	case "table", "json":
	case "auto", "":
		format = "json"
		if o, ok := cmd.OutOrStdout().(*os.File); ok && term.IsTerminal(int(o.Fd())) {
			format = "table"
		}
	default:
		return fmt.Errorf("--format: %q is not table, json or auto", f.format)
	}
	path := filepath.Join(g.dataDir, reports.StoreFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--data %s: no store (%s); run 'afterlife scan' or 'afterlife demo' first", g.dataDir, reports.StoreFile)
		}
		return fmt.Errorf("--data: %w", err)
	}
	store, err := reports.OpenStoreReadOnly(path)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := cmd.Context()
	runs, err := store.Runs(ctx, f.limit)
	if err != nil {
		return err
	}
	views := make([]runView, 0, len(runs))
	for _, r := range runs {
		v := runView{ID: r.ID, Started: r.Started, Mode: r.Mode, Complete: r.Complete, New: r.New, Gone: r.Gone, Sources: r.Sources}
		if v.Sources == nil {
			v.Sources = []reports.SourceStat{}
		}
		if !r.Finished.IsZero() {
			fin := r.Finished
			v.Finished = &fin
			v.Duration = r.Finished.Sub(r.Started).Seconds()
		}
		for _, s := range r.Sources {
			v.Requests += s.Requests
			v.Bytes += s.Bytes
			v.Cached += s.Cached
			v.Errors += s.Errors
		}
		if f.changes {
			evs, err := store.Events(ctx, reports.EventQuery{RunID: r.ID})
			if err != nil {
				return err
			}
			c := &runChanges{New: []reports.Event{}, Gone: []reports.Event{}, Reappeared: []reports.Event{}}
			sort.Slice(evs, func(i, j int) bool { return evs[i].ArtifactID+evs[i].Dataset < evs[j].ArtifactID+evs[j].Dataset })
			for _, e := range evs {
				switch e.Kind {
				case reports.EventNew:
					c.New = append(c.New, e)
				case reports.EventGone:
					c.Gone = append(c.Gone, e)
				case reports.EventReappeared:
					c.Reappeared = append(c.Reappeared, e)
				}
			}
			v.Changes = c
		}
		views = append(views, v)
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	return printRunsTable(out, views)
}

func printRunsTable(out io.Writer, views []runView) error {
	if len(views) == 0 {
		_, err := fmt.Fprintln(out, "No runs recorded yet.")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED (UTC)\tDURATION\tREQUESTS\tBYTES\t304\tERRORS\tNEW\tGONE\t")
	for _, v := range views {
		dur := "running"
		if v.Finished != nil {
			dur = (time.Duration(v.Duration * float64(time.Second))).Round(time.Millisecond).String()
			if !v.Complete {
				dur += " (interrupted)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t\n", v.ID, v.Started.UTC().Format("2006-01-02 15:04:05"), dur,
			v.Requests, monitor.HumanBytes(v.Bytes), v.Cached, v.Errors, v.New, v.Gone)
		for _, s := range v.Sources {
			name := "  " + monitor.Printable(s.Name, 20)
			if s.Status != "" && s.Status != monitor.StatusOK {
				name += " (" + s.Status + ")"
			}
			fmt.Fprintf(tw, "%s\t\t\t%d\t%s\t%d\t%d\t\t\t\n", name, s.Requests, monitor.HumanBytes(s.Bytes), s.Cached, s.Errors)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, v := range views {
		if v.Changes == nil || len(v.Changes.New)+len(v.Changes.Gone)+len(v.Changes.Reappeared) == 0 {
			continue
		}
		fmt.Fprintf(out, "\nRun %s:\n", v.ID)
		for _, group := range []struct {
			label string
			evs   []reports.Event
		}{{"new", v.Changes.New}, {"gone", v.Changes.Gone}, {"reappeared", v.Changes.Reappeared}} {
			for _, e := range group.evs {
				fmt.Fprintf(out, "  %-10s %s  %s (%s)\n", group.label, monitor.Printable(e.ArtifactID, 90), e.Dataset, e.Relation)
			}
		}
	}
	return nil
}
