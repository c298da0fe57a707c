package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
)

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// evidenceText is a one-line, unescaped summary of a finding's evidence.
func evidenceText(ev []extract.Evidence) string {
	parts := make([]string, 0, len(ev))
	for _, e := range ev {
		p := e.Rule + " @ " + e.Field
		if e.Snippet != "" {
			p += ": “" + e.Snippet + "”"
		}
		if e.Detail != "" {
			p += " (" + e.Detail + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

var relTitle = map[extract.Relation]string{
	extract.Copy:       "Copies",
	extract.Derivative: "Derivatives",
	extract.TrainedOn:  "Models trained on it",
	extract.Uses:       "Papers and code using it",
	extract.Studies:    "Studies and audits (allowed uses)",
	extract.Mention:    "Mentions",
}

// WriteDatasetMarkdown renders one dataset's report as Markdown.
func WriteDatasetMarkdown(w io.Writer, rep *Report, d *DatasetReport) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Afterlife of %s\n\n", mdText(d.Name))
	p("Dataset `%s` · status **%s**", strings.ReplaceAll(d.ID, "`", ""), mdText(d.Status))
	if d.RetractedOn != "" {
		p(" since %s", mdText(d.RetractedOn))
	}
	p(" · run %s · generated %s\n\n", mdText(rep.Run.ID), fmtTime(rep.GeneratedAt))
	writeCoverageMarkdown(b, rep.Run.Coverage)
	if d.Reason != "" {
		p("%s\n\n", mdText(d.Reason))
	}
	if d.AnnouncementURL != "" {
		p("Announcement: %s\n\n", mdLink(d.AnnouncementURL, d.AnnouncementURL))
	}
	var back []SightingView
	for _, x := range d.Sightings {
		if x.Reappeared {
			back = append(back, x)
		}
	}
	if len(back) > 0 {
		p("## Back online since the last run (%d)\n\nThese had gone (taken down, or removed) and are live again: a re-upload of a taken-down copy is the first thing to act on.\n\n", len(back))
		for _, x := range back {
			p("- %s\n", mdBackItem(x))
		}
		p("\n")
	}
	s := d.Summary
	p("## Summary\n\n| live copies | derivatives | trained-on models | papers since retraction | swarms alive | new since last run | gone since last run | back online since last run |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	p("| %d | %d | %d | %d | %d / %d | %d | %d | %d |\n\n", s.LiveCopies, s.Derivatives, s.TrainedOnModels, s.PapersSinceRetraction,
		s.SwarmsAlive, s.Torrents, s.NewSinceLastRun, s.GoneSinceLastRun, s.ReappearedSinceLastRun)
	p("%d sightings in all: %d live, %d gone; %d studies and %d mentions are listed but not counted as afterlife.\n\n", s.Total, s.Live, s.Gone, s.Studies, s.Mentions)

	var news, gones []SightingView
	for _, x := range d.Sightings {
		if x.New {
			news = append(news, x)
		}
		if x.GoneNow {
			gones = append(gones, x)
		}
	}
	p("## New since the last run\n\n")
	if len(news) == 0 {
		p("Nothing new.\n\n")
	}
	for _, x := range news {
		p("- %s: %s (%s)\n", mdText(string(x.Relation)), mdLink(x.Artifact.Title, x.Artifact.URL), mdText(x.Artifact.ID))
	}
	if len(news) > 0 {
		p("\n")
	}
	p("## Gone since the last run\n\n")
	if len(gones) == 0 {
		p("Nothing went.\n\n")
	}
	for _, x := range gones {
		p("- %s: %s (%s)", mdText(string(x.Relation)), mdLink(x.Artifact.Title, x.Artifact.URL), mdText(x.Artifact.ID))
		if x.GoneHow != "" {
			p(" — %s", mdText(x.GoneHow))
		}
		p("\n")
	}
	if len(gones) > 0 {
		p("\n")
	}

	p("## Actions by host\n\n")
	if len(d.Actions) == 0 {
		p("No live copy, derivative or model to report.\n\n")
	}
	for _, h := range d.Actions {
		p("### %s (%d)", mdText(h.Host), len(h.Items))
		if h.ServedAt != "" {
			p(" · found at %s", mdText(h.ServedAt))
		}
		p("\n\n%s", mdText(h.How))
		if h.URL != "" {
			p(" %s", mdLink(h.URL, h.URL))
		}
		if h.Uncertain {
			p(" (route not verified)")
		}
		p("\n\n")
		for _, it := range h.Items {
			p("- %s %s\n", mdText(string(it.Relation)), mdLink(it.Title, it.URL))
		}
		p("\n")
	}

	if len(d.Sightings) > 0 {
		p("Confidence: **strong** (0.90 and over) — a file, a torrent or a declared training set of the original release; **likely** (0.60 to 0.89) — named in the title or description with signs of use; **weak** (under 0.60) — a bare or ambiguous mention: check it by hand. A weak sign on its own lowers it; a matching file, hash or declared training set raises it.\n\n")
	}
	for _, rel := range extract.Relations {
		var rows []SightingView
		for _, x := range d.Sightings {
			if x.Relation == rel {
				rows = append(rows, x)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p("## %s (%d)\n\n| artifact | source | host | confidence | first seen | last seen | state | evidence |\n|---|---|---|---:|---|---|---|---|\n", relTitle[rel], len(rows))
		total := len(rows)
		if len(rows) > MaxHTMLRows {
			rows = rows[:MaxHTMLRows]
		}
		for _, x := range rows {
			state := "live"
			if x.Gone {
				state = "gone since " + fmtDay(*x.GoneSince)
				if x.GoneHow != "" {
					state += " (" + mdText(x.GoneHow) + ")"
				}
			}
			if x.New {
				state += ", new"
			}
			if x.Reappeared {
				state += ", back online"
			}
			p("| %s<br>%s | %s | %s | %.2f %s | %s | %s | %s | %s |\n", mdLink(x.Artifact.Title, x.Artifact.URL), mdText(x.Artifact.ID),
				mdText(x.Artifact.Source), mdText(x.Artifact.Host), x.Confidence, ConfidenceWord(x.Confidence), fmtDay(x.FirstSeen), fmtDay(x.LastSeen), state,
				mdText(plainEvidenceText(x.Evidence)))
		}
		if total > len(rows) {
			p("\n%d of %d shown; every sighting is in sightings.csv and report.json.\n", len(rows), total)
		}
		p("\n")
	}

	hosts := byHost(d.Sightings)
	p("## By host\n\n| host | live | gone | copies | derivatives | models | uses |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, h := range hosts {
		p("| %s | %d | %d | %d | %d | %d | %d |\n", mdText(h.Host), h.Live, h.Gone, h.Rel[extract.Copy], h.Rel[extract.Derivative], h.Rel[extract.TrainedOn], h.Rel[extract.Uses])
	}
	p("\n")
	if len(d.Swarms) > 0 {
		p("## Swarm health\n\n| info-hash | swarm | seeders | leechers | completed | trend | probed |\n|---|---|---:|---:|---:|---|---|\n")
		for _, sw := range d.Swarms {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", mdText(sw.InfoHash), swarmState(sw), count(sw.Seeders), count(sw.Leechers), count(sw.Completed), sw.Trend, fmtTime(sw.At))
		}
		p("\n")
	}
	if len(d.Timeline) > 0 {
		p("## Timeline\n\n| run | at | live | data | models | uses | new | gone |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range d.Timeline {
			p("| %s | %s | %d | %d | %d | %d | %d | %d |\n", mdText(t.RunID), fmtTime(t.At), t.Live, t.Data, t.Model, t.Uses, t.New, t.Gone)
		}
		p("\n")
	}
	return b.Flush()
}

func count(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// HostStat counts one host's sightings.
type HostStat struct {
	Host       string
	Live, Gone int
	Rel        map[extract.Relation]int
}

func byHost(ss []SightingView) []HostStat {
	m := map[string]*HostStat{}
	var order []string
	for _, x := range ss {
		h := m[x.Artifact.Host]
		if h == nil {
			h = &HostStat{Host: x.Artifact.Host, Rel: map[extract.Relation]int{}}
			m[x.Artifact.Host] = h
			order = append(order, x.Artifact.Host)
		}
		if x.Gone {
			h.Gone++
		} else {
			h.Live++
			h.Rel[x.Relation]++
		}
	}
	out := make([]HostStat, 0, len(order))
	for _, k := range order {
		out = append(out, *m[k])
	}
	sortHosts(out)
	return out
}

// WriteIndexMarkdown renders the overview across datasets.
func WriteIndexMarkdown(w io.Writer, rep *Report) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Afterlife report\n\nRun %s · started %s", mdText(rep.Run.ID), fmtTime(rep.Run.Started))
	if rep.Run.Finished != nil {
		p(" · finished %s", fmtTime(*rep.Run.Finished))
	} else {
		p(" · not finished")
	}
	p(" · %d new, %d gone, %d back online\n\n", rep.Run.New, rep.Run.Gone, rep.Run.Reappeared)
	writeCoverageMarkdown(b, rep.Run.Coverage)
	if back := backOnline(rep); len(back) > 0 {
		p("## Back online since the last run (%d)\n\nThese had gone (taken down, or removed) and are live again: a re-upload of a taken-down copy is the first thing to act on.\n\n", len(back))
		for _, x := range back {
			p("- [%s](%s.md) · %s\n", mdText(x.DatasetName), fileID(x.DatasetID), mdBackItem(x.S))
		}
		p("\n")
	}
	nothingChecked := rep.Run.Coverage != nil && rep.Run.Coverage.State == CoverageNone
	for _, retracted := range []bool{true, false} {
		var ds []DatasetReport
		for _, d := range rep.Datasets {
			if d.Retracted == retracted {
				ds = append(ds, d)
			}
		}
		if retracted {
			p("## Retracted datasets\n\n")
		} else if len(ds) > 0 {
			p("## Context entries\n\nNot retractions (re-releases, look-alikes, datasets with a warning): listed so matches can be checked, never counted as afterlife.\n\n")
		}
		if len(ds) == 0 {
			if retracted && nothingChecked {
				p("Nothing was checked in this run, so it cannot say whether retracted datasets live on.\n\n")
			} else if retracted {
				p("No sighting of a retracted dataset.\n\n")
			}
			continue
		}
		p("| dataset | status | live copies | derivatives | trained-on models | papers since retraction | swarms alive | new | gone | back |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, d := range ds {
			s := d.Summary
			p("| [%s](%s.md) | %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", mdText(d.Name), fileID(d.ID), mdText(d.Status), s.LiveCopies, s.Derivatives,
				s.TrainedOnModels, s.PapersSinceRetraction, s.SwarmsAlive, s.NewSinceLastRun, s.GoneSinceLastRun, s.ReappearedSinceLastRun)
		}
		p("\n")
	}
	if len(rep.NothingFound) > 0 {
		names := make([]string, len(rep.NothingFound))
		for i, d := range rep.NothingFound {
			names[i] = mdText(d.Name)
		}
		p("**Nothing found** ")
		if nothingChecked {
			p("(nothing could be checked in this run) ")
		}
		p("for these retracted datasets of the registry: %s.\n\n", strings.Join(names, ", "))
	}
	p("## Sources\n\n| source | status | requests | bytes | errors | message |\n|---|---|---:|---:|---:|---|\n")
	for _, st := range rep.Run.Sources {
		p("| %s | %s | %d | %d | %d | %s |\n", mdText(st.Name), mdText(st.Status), st.Requests, st.Bytes, st.Errors, mdText(st.Message))
	}
	if len(rep.Run.FailureGroups) > 0 {
		p("\n## Failures by source and cause\n\n| source | cause | URLs | given up | for example |\n|---|---|---:|---:|---|\n")
		for _, f := range rep.Run.FailureGroups {
			ex := make([]string, len(f.Examples))
			for i, u := range f.Examples {
				ex[i] = mdText(u)
			}
			p("| %s | %s | %d | %d | %s |\n", mdText(f.Source), mdText(f.Cause), f.Count, f.GivenUp, strings.Join(ex, "<br>"))
		}
		p("\nEvery failed URL is in report.json (`run.failures`).\n")
	}
	return b.Flush()
}

// writeCoverageMarkdown puts what the run could not check first (nothing for a run that checked
// everything).
func writeCoverageMarkdown(b *bufio.Writer, c *Coverage) {
	if c == nil || c.State == CoverageAll {
		return
	}
	fmt.Fprintf(b, "> **%s**\n>\n", mdText(c.Headline))
	for _, g := range c.Gaps {
		fmt.Fprintf(b, "> - **%s** (%s", mdText(g.Source), mdText(g.Status))
		if g.Reason != "" {
			fmt.Fprintf(b, ": %s", mdText(g.Reason))
		}
		fmt.Fprintf(b, "): not known — %s.\n", mdText(g.Unknown))
	}
	b.WriteString("\n")
}

// mdBackItem is one reappeared sighting: what, where, when it had gone and when it came back.
func mdBackItem(x SightingView) string {
	t := fmt.Sprintf("%s: %s (%s) on %s —", mdText(string(x.Relation)), mdLink(x.Artifact.Title, x.Artifact.URL), mdText(x.Artifact.ID), mdText(x.Artifact.Host))
	if x.WasGoneSince != nil {
		t += " gone since " + fmtDay(*x.WasGoneSince) + ","
	}
	t += " live again"
	if x.ReappearedAt != nil {
		t += " " + fmtDay(*x.ReappearedAt)
	}
	return t
}
