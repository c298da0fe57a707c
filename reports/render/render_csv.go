package render

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteSightingsCSV writes one row per sighting of every dataset. Crawled cells are protected
// against formula injection.
func WriteSightingsCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"dataset", "relation", "artifact_id", "source", "kind", "host", "url", "title", "published",
		"confidence", "post_retraction", "first_seen", "last_seen", "first_run", "last_run", "gone", "gone_since", "new", "via", "evidence"})
	for _, d := range rep.Datasets {
		for _, x := range d.Sightings {
			gs := ""
			if x.GoneSince != nil {
				gs = csvTime(*x.GoneSince)
			}
			cw.Write([]string{d.ID, string(x.Relation), csvCell(x.Artifact.ID), csvCell(x.Artifact.Source), csvCell(x.Artifact.Kind),
				csvCell(x.Artifact.Host), csvCell(x.Artifact.URL), csvCell(oneLine(x.Artifact.Title)), csvCell(x.Artifact.Published),
				strconv.FormatFloat(x.Confidence, 'f', 3, 64), strconv.FormatBool(x.PostRetraction), csvTime(x.FirstSeen), csvTime(x.LastSeen),
				csvCell(x.FirstRun), csvCell(x.LastRun), strconv.FormatBool(x.Gone), gs, strconv.FormatBool(x.New), csvCell(x.Via),
				csvCell(oneLine(evidenceText(x.Evidence)))})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTimeSeriesCSV writes the sightings time series: one row per dataset and run, with live
// counts by scoring class and the run's new and gone sightings.
func WriteTimeSeriesCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"dataset", "run_id", "at", "live", "data", "model", "uses", "new", "gone"})
	for _, d := range rep.Datasets {
		for _, p := range d.Timeline {
			cw.Write([]string{d.ID, csvCell(p.RunID), csvTime(p.At), fmt.Sprint(p.Live), fmt.Sprint(p.Data), fmt.Sprint(p.Model),
				fmt.Sprint(p.Uses), fmt.Sprint(p.New), fmt.Sprint(p.Gone)})
		}
	}
	cw.Flush()
	return cw.Error()
}
