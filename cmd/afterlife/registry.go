package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
)

func init() {
	var format string
	reg := &cobra.Command{
		Use:   "registry",
		Short: "List, show and validate the registry of retracted datasets",
		Long: `The registry (configs/registry.yaml, embedded; --registry FILE overrides it) lists retracted
datasets with their aliases, derivatives, known files, models, papers, info-hashes and sources,
and the context entries (re-releases, look-alike versions, active datasets with a warning).`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the registry entries (table or --format json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadRegistry()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				return writeJSON(out, r.Datasets)
			case "table":
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tRETRACTED\tKIND\tALIASES\tDERIVATIVES\tMODELS\tNAME")
				for i := range r.Datasets {
					d := &r.Datasets[i]
					kind := "retracted"
					if !d.IsRetraction() {
						kind = "context"
						if d.Of != "" {
							kind = "context of " + d.Of
						}
					}
					date := d.RetractedOn
					if date == "" {
						date = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", d.ID, d.Status, date, kind,
						len(d.Aliases)+len(d.AliasRules), len(d.Derivatives), len(d.KnownModels), d.Name)
				}
				return tw.Flush()
			}
			return fmt.Errorf("--format: %q is not table or json", format)
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one registry entry (YAML-like text or --format json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadRegistry()
			if err != nil {
				return err
			}
			d, ok := r.Get(args[0])
			if !ok {
				return fmt.Errorf("registry: no dataset %q (try 'afterlife registry list')", args[0])
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					*configs.Dataset
					Contacts []configs.Contact `json:"contacts,omitempty"`
				}{d, r.ContactsFor(d.ID)})
			}
			if format != "table" {
				return fmt.Errorf("--format: %q is not table or json", format)
			}
			return showDataset(cmd.OutOrStdout(), r, d)
		},
	}
	validate := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Validate a registry file (default: --registry or the embedded registry)",
		Long: `Validate a registry file. Every problem is reported as FILE:LINE: field PATH: message, and the
exit status is non-zero if there is any.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := g.registryFile
			if len(args) == 1 {
				path = args[0]
			}
			r, err := configs.LoadRegistry(path)
			if err != nil {
				var ve configs.ValidationErrors
				if errors.As(err, &ve) {
					for _, e := range ve {
						fmt.Fprintln(cmd.ErrOrStderr(), e)
					}
					return &exitError{code: 1, err: fmt.Errorf("registry: %d problem(s)", len(ve))}
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d datasets (%d retracted, %d context entries)\n",
				r.File, len(r.Datasets), len(r.Retracted()), len(r.Datasets)-len(r.Retracted()))
			return nil
		},
	}
	aliases := &cobra.Command{
		Use:   "aliases",
		Short: "Print every alias of the retracted datasets, one per line (for grep -F -f)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadRegistry()
			if err != nil {
				return err
			}
			for _, a := range extract.Aliases(r) {
				if _, err := fmt.Fprintln(cmd.OutOrStdout(), a); err != nil {
					return err
				}
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{list, show} {
		c.Flags().StringVar(&format, "format", "table", "output format: table or json")
	}
	reg.AddCommand(list, show, validate, aliases)
	rootCmd.AddCommand(reg)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func showDataset(w io.Writer, r *configs.Registry, d *configs.Dataset) error {
	var b strings.Builder
	p := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-17s %s\n", k+":", v)
		}
	}
	p("id", d.ID)
	p("name", d.Name)
	p("status", d.Status)
	p("retracted_on", d.RetractedOn)
	p("of", d.Of)
	p("reason", d.Reason)
	p("announcement", d.AnnouncementURL)
	p("aliases", strings.Join(d.Aliases, ", "))
	for _, ar := range d.AliasRules {
		extra := []string{}
		if ar.CaseSensitive {
			extra = append(extra, "case-sensitive")
		}
		if len(ar.Requires) > 0 {
			extra = append(extra, "requires "+strings.Join(ar.Requires, "|"))
		}
		if ar.Before != "" {
			extra = append(extra, "or published before "+ar.Before)
		}
		p("weak alias", ar.Alias+" ("+strings.Join(extra, "; ")+")")
	}
	p("hosts", strings.Join(d.OriginalHosts, ", "))
	for _, dv := range d.Derivatives {
		carries := "does not carry the data"
		if dv.CarriesData {
			carries = "carries the data"
		}
		if dv.Uncertain {
			carries += ", uncertain"
		}
		p("derivative", fmt.Sprintf("%s (%s; %s) %s", dv.ID, carries, dv.Relation, strings.Join(dv.Aliases, ", ")))
	}
	for _, f := range d.KnownFiles {
		s := f.Name
		if f.Size > 0 {
			s += fmt.Sprintf(" (%d bytes)", f.Size)
		}
		p("known file", s)
	}
	for _, h := range d.InfoHashes {
		p("infohash", h)
	}
	for _, m := range d.KnownModels {
		s := m.ID
		if s == "" {
			s = m.Name
		}
		if m.Via != "" {
			s += " via " + m.Via
		}
		if m.Uncertain {
			s += " (uncertain)"
		}
		p("known model", s)
	}
	for _, pp := range d.Papers {
		ids := []string{}
		if pp.ArXiv != "" {
			ids = append(ids, "arXiv:"+pp.ArXiv)
		}
		if pp.S2CorpusID != 0 {
			ids = append(ids, fmt.Sprintf("S2:%d", pp.S2CorpusID))
		}
		if pp.DOI != "" {
			ids = append(ids, "doi:"+pp.DOI)
		}
		p("paper", fmt.Sprintf("%s [%s]", pp.Title, strings.Join(ids, " ")))
	}
	for _, c := range r.ContactsFor(d.ID) {
		p("report on "+c.Host, c.How+" "+c.URL)
	}
	p("notes", d.Notes)
	for _, u := range d.Uncertain {
		p("uncertain", u)
	}
	for _, s := range d.Sources {
		p("source", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
