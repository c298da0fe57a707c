package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"time"
)

// FeedEntries bounds an Atom feed (newest sightings first).
const FeedEntries = 200

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string    `xml:"id"`
	Title     atomText  `xml:"title"`
	Updated   string    `xml:"updated"`
	Published string    `xml:"published"`
	Link      *atomLink `xml:"link,omitempty"`
	Summary   atomText  `xml:"summary"`
	Category  []struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
}

type atomFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   atomText `xml:"title"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

func sightingKey(datasetID string, x SightingView) string {
	h := sha256.Sum256([]byte(datasetID + "\x00" + string(x.Relation) + "\x00" + x.Artifact.ID))
	return hex.EncodeToString(h[:16])
}

// WriteAtom writes the Atom feed of a dataset's sightings, newest first: one entry per sighting
// when it was first seen, and one more, of its own, when a sighting that had gone came back in the
// report's run (a re-upload of a taken-down copy). Every string is text-typed and escaped by
// encoding/xml; links are only http(s).
func WriteAtom(w io.Writer, rep *Report, d *DatasetReport) error {
	type keyed struct {
		key  string
		at   time.Time
		back bool
		s    *SightingView
	}
	ks := make([]keyed, 0, len(d.Sightings))
	for i := range d.Sightings {
		x := &d.Sightings[i]
		key := sightingKey(d.ID, *x)
		ks = append(ks, keyed{key: key, at: x.FirstSeen, s: x})
		if x.Reappeared && x.ReappearedAt != nil {
			ks = append(ks, keyed{key: key + ":back:" + rep.Run.ID, at: *x.ReappearedAt, back: true, s: x})
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if !a.at.Equal(b.at) {
			return a.at.After(b.at)
		}
		return a.key < b.key
	})
	if len(ks) > FeedEntries {
		ks = ks[:FeedEntries]
	}
	f := atomFeed{ID: "urn:afterlife:dataset:" + fileID(d.ID), Title: atomText{"text", "Afterlife of " + d.Name + ": new sightings"}}
	f.Author.Name = "Afterlife"
	updated := rep.GeneratedAt
	if len(ks) > 0 {
		updated = ks[0].at
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	for _, k := range ks {
		x := *k.s
		e := atomEntry{ID: "urn:afterlife:sighting:" + k.key,
			Title:     atomText{"text", fmt.Sprintf("[%s] %s", x.Relation, oneLine(x.Artifact.Title))},
			Updated:   x.LastSeen.UTC().Format(time.RFC3339),
			Published: x.FirstSeen.UTC().Format(time.RFC3339),
			Summary: atomText{"text", fmt.Sprintf("%s %s on %s (%s), confidence %.2f. Evidence: %s", x.Artifact.Kind, oneLine(x.Artifact.ID),
				x.Artifact.Host, x.Artifact.Source, x.Confidence, oneLine(plainEvidenceText(x.Evidence)))},
		}
		if k.back {
			e.Title.Body = fmt.Sprintf("[back online] [%s] %s", x.Relation, oneLine(x.Artifact.Title))
			e.Published = k.at.UTC().Format(time.RFC3339)
			if e.Updated < e.Published {
				e.Updated = e.Published
			}
			gone := ""
			if x.WasGoneSince != nil {
				gone = " (gone since " + fmtDay(*x.WasGoneSince) + ")"
			}
			e.Summary.Body = "Back online" + gone + ", seen again " + fmtDay(k.at) + ": " + e.Summary.Body
		}
		if x.Gone && x.GoneSince != nil {
			e.Summary.Body += " Gone since " + fmtDay(*x.GoneSince)
			if x.GoneHow != "" {
				e.Summary.Body += ": " + x.GoneHow
			}
			e.Summary.Body += "."
		}
		if u := safeURL(x.Artifact.URL); u != "" {
			e.Link = &atomLink{Href: u, Rel: "alternate"}
		}
		e.Category = append(e.Category, struct {
			Term string `xml:"term,attr"`
		}{string(x.Relation)})
		if k.back {
			e.Category = append(e.Category, struct {
				Term string `xml:"term,attr"`
			}{"reappeared"})
		}
		f.Entries = append(f.Entries, e)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("atom %s: %w", d.ID, err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
