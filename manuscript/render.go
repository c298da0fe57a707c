package manuscript

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

// WriteJSON writes reports as one JSON document: {"manuscripts": [...], "uses": bool}.
func WriteJSON(w io.Writer, reps []*Report) error {
	out := struct {
		Uses        bool      `json:"uses"`
		Manuscripts []*Report `json:"manuscripts"`
	}{Manuscripts: reps}
	for _, r := range reps {
		if r.Uses() {
			out.Uses = true
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes a summary a reviewer reads on a terminal.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", r.Manuscript)
	if r.Format != "" {
		fmt.Fprintf(&b, " (%s", r.Format)
		if r.Pages > 0 {
			fmt.Fprintf(&b, ", %d pages", r.Pages)
		}
		b.WriteString(")")
	}
	b.WriteString("\n")
	if r.Title != "" {
		fmt.Fprintf(&b, "  title: %s\n", oneLine(r.Title))
	}
	if r.Error != nil {
		fmt.Fprintf(&b, "  ERROR (%s): %s\n", r.Error.Kind, r.Error.Message)
		_, err := io.WriteString(w, b.String())
		return err
	}
	switch r.Verdict {
	case Uses:
		b.WriteString("  VERDICT: USES RETRACTED DATA\n")
	case Studies:
		b.WriteString("  verdict: studies retracted data (an audit or critique: allowed)\n")
	case Mentions:
		b.WriteString("  verdict: mentions retracted data only\n")
	default:
		b.WriteString("  verdict: clean (no retracted dataset found)\n")
	}
	for _, dv := range r.Datasets {
		fmt.Fprintf(&b, "\n  %-8s %s — %s, %s %s (confidence %.2f)\n", strings.ToUpper(string(dv.Verdict)), dv.Dataset, oneLine(dv.Name), dv.Status, dv.RetractedOn, dv.Confidence)
		for _, ch := range dv.Chains {
			fmt.Fprintf(&b, "           via %s\n", strings.Join(ch, " → "))
		}
		for _, ev := range dv.Evidence {
			fmt.Fprintf(&b, "    - %s, %s [%s]: %s\n", where(ev.Location), oneLine(ev.Section), ev.Verdict, ev.Reason)
			fmt.Fprintf(&b, "      %q\n", oneLine(clip(ev.Sentence, 300)))
		}
		if more := dv.Total - len(dv.Evidence); more > 0 {
			fmt.Fprintf(&b, "    … and %d more\n", more)
		}
		for _, ref := range dv.References {
			k := ref.Key
			if k == "" {
				k = "reference"
			}
			fmt.Fprintf(&b, "    cites the dataset's paper: %s (%s) %s\n", k, where(ref.Loc), oneLine(clip(ref.Text, 200)))
		}
	}
	for _, wr := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", oneLine(wr))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func where(l Location) string {
	var parts []string
	if l.File != "" {
		parts = append(parts, l.File)
	}
	if l.Page > 0 {
		parts = append(parts, "p. "+strconv.Itoa(l.Page))
	}
	if l.Line > 0 {
		parts = append(parts, "line "+strconv.Itoa(l.Line))
	}
	if len(parts) == 0 {
		return "?"
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// CSVHeader is the header of the batch CSV.
var CSVHeader = []string{"manuscript", "format", "pages", "dataset", "dataset_name", "verdict", "confidence",
	"chain", "location", "section", "sentence", "reference", "error_kind", "error"}

// CSVWriter writes one row per manuscript and retracted dataset (verdict "none" where nothing was
// found), or one error row for a manuscript that could not be read. Cells that a spreadsheet would
// run as a formula are defused.
type CSVWriter struct {
	w   *csv.Writer
	reg *configs.Registry
}

// NewCSVWriter writes the header and returns the writer.
func NewCSVWriter(w io.Writer, reg *configs.Registry) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w), reg: reg}
	return cw, cw.w.Write(CSVHeader)
}

// Write writes the rows of one report.
func (cw *CSVWriter) Write(r *Report) error {
	pages := ""
	if r.Pages > 0 {
		pages = strconv.Itoa(r.Pages)
	}
	if r.Error != nil {
		return cw.row(r.Manuscript, r.Format, pages, "", "", "error", "", "", "", "", "", "", string(r.Error.Kind), r.Error.Message)
	}
	found := map[string]*DatasetVerdict{}
	for i := range r.Datasets {
		found[r.Datasets[i].Dataset] = &r.Datasets[i]
	}
	for _, d := range cw.reg.Retracted() {
		dv, ok := found[d.ID]
		if !ok {
			if err := cw.row(r.Manuscript, r.Format, pages, d.ID, d.Name, string(None), "0", "", "", "", "", "", "", ""); err != nil {
				return err
			}
			continue
		}
		var chain, loc, section, sentence, ref string
		if len(dv.Chains) > 0 {
			chain = strings.Join(dv.Chains[0], " → ")
		}
		if len(dv.Evidence) > 0 {
			ev := dv.Evidence[0]
			loc, section, sentence = where(ev.Location), oneLine(ev.Section), oneLine(ev.Sentence)
		}
		if len(dv.References) > 0 {
			ref = oneLine(dv.References[0].Text)
		}
		if err := cw.row(r.Manuscript, r.Format, pages, d.ID, d.Name, string(dv.Verdict),
			strconv.FormatFloat(dv.Confidence, 'f', 2, 64), chain, loc, section, sentence, ref, "", ""); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes the CSV and returns any write error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}

func (cw *CSVWriter) row(cells ...string) error {
	for i, c := range cells {
		cells[i] = DefuseCell(c)
	}
	return cw.w.Write(cells)
}

// DefuseCell prefixes a cell that a spreadsheet would evaluate (=, +, -, @, tab, CR) with a quote.
func DefuseCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '|':
		return "'" + s
	}
	return s
}
