package torrent

import (
	"fmt"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// maxTextFiles bounds how many files the artifact's readable text lists (Files lists them all).
const maxTextFiles = 2000

// IDPrefix is the artifact id prefix for a source: "at" for Academic Torrents, "dht" for torrents
// found by DHT, else the source name.
func IDPrefix(source string) string {
	if source == artifact.SourceAcademicTorrents {
		return "at"
	}
	return source
}

// Artifact turns the metainfo into the interchange format: id "<prefix>:<infohash>", kind torrent,
// title = name, text = a readable dump (name, comment, creator, trackers, files), the files with
// sizes, the creation date as published, and InfoHash set.
func (m *Meta) Artifact(source, url string) artifact.Artifact {
	a := artifact.Artifact{
		ID:       IDPrefix(source) + ":" + m.InfoHash,
		Source:   source,
		Kind:     artifact.KindTorrent,
		URL:      url,
		Title:    m.Name,
		Text:     m.Text(),
		InfoHash: m.InfoHash,
	}
	if url == "" {
		a.URL = (&Magnet{InfoHash: m.InfoHash, Name: m.Name}).String()
	}
	if !m.CreationDate.IsZero() {
		a.Published = m.CreationDate.Format("2006-01-02")
	}
	a.Files = make([]artifact.File, 0, len(m.Files))
	for _, f := range m.Files {
		a.Files = append(a.Files, artifact.File{Path: f.Path, Size: artifact.Size(f.Size)})
	}
	return a
}

// Text is a readable dump of the metadata for matching and for people.
func (m *Meta) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", m.Name)
	fmt.Fprintf(&b, "infohash: %s\n", m.InfoHash)
	if m.Comment != "" {
		fmt.Fprintf(&b, "comment: %s\n", m.Comment)
	}
	if m.CreatedBy != "" {
		fmt.Fprintf(&b, "created by: %s\n", m.CreatedBy)
	}
	if !m.CreationDate.IsZero() {
		fmt.Fprintf(&b, "creation date: %s\n", m.CreationDate.Format("2006-01-02T15:04:05Z"))
	}
	if m.Private {
		b.WriteString("private: yes\n")
	}
	for _, tr := range m.Trackers {
		fmt.Fprintf(&b, "tracker: %s\n", tr)
	}
	fmt.Fprintf(&b, "files: %d, %d bytes in all\n", len(m.Files), m.TotalSize)
	for i, f := range m.Files {
		if i == maxTextFiles {
			fmt.Fprintf(&b, "  ... and %d more files\n", len(m.Files)-i)
			break
		}
		fmt.Fprintf(&b, "  %s (%d bytes)\n", f.Path, f.Size)
	}
	return b.String()
}
