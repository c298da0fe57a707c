// Package torrent watches BitTorrent swarms without ever downloading their content: it parses
// .torrent files and magnet links into artifacts, counts peers by tracker scrape, announce and DHT
// get_peers, and fetches only the info dictionary (BEP 9) for a bare info-hash.
package torrent

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// Limits on what ParseMetainfo and MetaFromInfo accept.
const (
	// MaxMetainfoSize bounds a whole .torrent file.
	MaxMetainfoSize = 32 << 20
	// MaxInfoSize bounds the info dictionary (also what a peer may send us by BEP 9).
	MaxInfoSize = 16 << 20
	// MaxFiles bounds the number of files listed in one torrent.
	MaxFiles = 200_000
	// MaxTrackers bounds the trackers kept from one torrent (announce list, magnet tr= and
	// --tracker together): the first ones in tier order. Real torrents name a handful; the public
	// "best trackers" lists about a hundred. A hostile .torrent naming 600,000 is cut here.
	MaxTrackers = 100
)

// ErrTooLarge is returned (wrapped) for input over the size limits.
var ErrTooLarge = errors.New("too large")

// MetaFile is one file of a torrent.
type MetaFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Meta is what Afterlife keeps of a v1 torrent's metainfo.
type Meta struct {
	// InfoHash is the v1 info-hash: 40 lower-case hex digits (SHA-1 of the bencoded info dict).
	InfoHash    string     `json:"infohash"`
	Name        string     `json:"name"`
	Files       []MetaFile `json:"files"`
	TotalSize   int64      `json:"total_size"`
	PieceLength int64      `json:"piece_length"`
	NumPieces   int        `json:"num_pieces"`
	Private     bool       `json:"private,omitempty"`
	// Trackers is the announce list flattened in tier order, without duplicates.
	Trackers []string `json:"trackers,omitempty"`
	// Tiers is the BEP 12 announce list as given (or the single announce URL as one tier), cut
	// after the first MaxTrackers distinct URLs.
	Tiers [][]string `json:"tiers,omitempty"`
	// TrackersDropped counts the announce-list entries beyond the first MaxTrackers distinct ones.
	TrackersDropped int       `json:"trackers_dropped,omitempty"`
	CreationDate    time.Time `json:"creation_date,omitzero"`
	Comment         string    `json:"comment,omitempty"`
	CreatedBy       string    `json:"created_by,omitempty"`
	WebSeeds        []string  `json:"web_seeds,omitempty"`
	// InfoBytes is the raw bencoded info dictionary.
	InfoBytes []byte `json:"-"`
}

// ParseMetainfo parses a v1 (or hybrid v1/v2) .torrent file. It rejects input over
// MaxMetainfoSize, trailing garbage, a missing or malformed info dict and v2-only torrents.
func ParseMetainfo(b []byte) (*Meta, error) {
	if len(b) == 0 {
		return nil, errors.New("parse torrent: empty input")
	}
	if len(b) > MaxMetainfoSize {
		return nil, fmt.Errorf("parse torrent: %d bytes: %w (limit %d)", len(b), ErrTooLarge, MaxMetainfoSize)
	}
	if b[0] != 'd' {
		return nil, errors.New("parse torrent: not a bencoded dictionary (a .torrent file starts with 'd')")
	}
	if err := checkBencodeDepth(b); err != nil {
		return nil, fmt.Errorf("parse torrent: %w", err)
	}
	dec := bencode.NewDecoder(bytes.NewReader(b))
	dec.MaxStrLen = int64(len(b))
	var mi metainfo.MetaInfo
	if err := decodeSafely(func() error { return dec.Decode(&mi) }); err != nil {
		return nil, fmt.Errorf("parse torrent: bencode: %w", err)
	}
	if err := dec.ReadEOF(); err != nil {
		return nil, fmt.Errorf("parse torrent: trailing data after the dictionary: %w", err)
	}
	if len(mi.InfoBytes) == 0 {
		return nil, errors.New("parse torrent: no info dictionary")
	}
	m, err := MetaFromInfo(mi.InfoBytes)
	if err != nil {
		return nil, fmt.Errorf("parse torrent: %w", err)
	}
	m.Tiers, m.Trackers, m.TrackersDropped = announceTiers(&mi, MaxTrackers)
	if mi.CreationDate > 0 && mi.CreationDate < 1<<40 {
		m.CreationDate = time.Unix(mi.CreationDate, 0).UTC()
	}
	m.Comment = cleanText(mi.Comment)
	m.CreatedBy = cleanText(mi.CreatedBy)
	for _, u := range mi.UrlList {
		if u = strings.TrimSpace(u); u != "" {
			m.WebSeeds = append(m.WebSeeds, u)
		}
	}
	return m, nil
}

// MetaFromInfo builds a Meta from a raw bencoded info dictionary alone (as fetched from peers by
// BEP 9): no trackers, date or comment, which live outside the info dict.
func MetaFromInfo(infoBytes []byte) (*Meta, error) {
	if len(infoBytes) > MaxInfoSize {
		return nil, fmt.Errorf("info dict of %d bytes: %w (limit %d)", len(infoBytes), ErrTooLarge, MaxInfoSize)
	}
	if len(infoBytes) == 0 || infoBytes[0] != 'd' {
		return nil, errors.New("info is not a bencoded dictionary")
	}
	dec := bencode.NewDecoder(bytes.NewReader(infoBytes))
	dec.MaxStrLen = int64(len(infoBytes))
	var info metainfo.Info
	if err := decodeSafely(func() error { return dec.Decode(&info) }); err != nil {
		return nil, fmt.Errorf("info dict: %w", err)
	}
	if err := dec.ReadEOF(); err != nil {
		return nil, fmt.Errorf("info dict: trailing data: %w", err)
	}
	if info.MetaVersion == 2 && len(info.Pieces) == 0 {
		return nil, errors.New("info dict: v2-only torrent (no v1 pieces); only v1 and hybrid torrents are supported")
	}
	if info.MetaVersion != 0 && info.MetaVersion != 1 && info.MetaVersion != 2 {
		return nil, fmt.Errorf("info dict: unknown meta version %d", info.MetaVersion)
	}
	name := cleanText(info.BestName())
	if name == "" {
		return nil, errors.New("info dict: field name: missing")
	}
	if info.PieceLength <= 0 {
		return nil, fmt.Errorf("info dict: field piece length: %d is not positive", info.PieceLength)
	}
	if len(info.Pieces)%20 != 0 {
		return nil, fmt.Errorf("info dict: field pieces: length %d is not a multiple of 20", len(info.Pieces))
	}
	if len(info.Files) > MaxFiles {
		return nil, fmt.Errorf("info dict: %d files: %w (limit %d)", len(info.Files), ErrTooLarge, MaxFiles)
	}
	m := &Meta{
		InfoHash:    metainfo.HashBytes(infoBytes).HexString(),
		Name:        name,
		PieceLength: info.PieceLength,
		NumPieces:   len(info.Pieces) / 20,
		Private:     info.Private != nil && *info.Private,
		InfoBytes:   bytes.Clone(infoBytes),
	}
	if len(info.Files) == 0 {
		if info.Length < 0 {
			return nil, fmt.Errorf("info dict: field length: %d is negative", info.Length)
		}
		m.Files = []MetaFile{{Path: name, Size: info.Length}}
		m.TotalSize = info.Length
	} else {
		for i, f := range info.Files {
			if f.Length < 0 {
				return nil, fmt.Errorf("info dict: files[%d].length: %d is negative", i, f.Length)
			}
			if strings.Contains(f.Attr, "p") {
				continue // BEP 47 padding file: not content
			}
			p, err := filePath(f.BestPath())
			if err != nil {
				return nil, fmt.Errorf("info dict: files[%d].path: %w", i, err)
			}
			m.Files = append(m.Files, MetaFile{Path: p, Size: f.Length})
			if m.TotalSize += f.Length; m.TotalSize < 0 {
				return nil, errors.New("info dict: total length overflows")
			}
		}
	}
	// Padding files take pieces too, so only a torrent with fewer pieces than its content needs is
	// certainly broken.
	want := m.TotalSize / info.PieceLength
	if m.TotalSize%info.PieceLength != 0 {
		want++
	}
	if int64(m.NumPieces) < want {
		return nil, fmt.Errorf("info dict: %d pieces of %d bytes cannot hold %d bytes", m.NumPieces, info.PieceLength, m.TotalSize)
	}
	return m, nil
}

func filePath(parts []string) (string, error) {
	if len(parts) == 0 {
		return "", errors.New("empty")
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = cleanText(p)
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\\") {
			return "", fmt.Errorf("bad component %q", p)
		}
		out = append(out, p)
	}
	return strings.Join(out, "/"), nil
}

// cleanText makes a crawled string valid UTF-8 without control characters and trims it.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// announceTiers returns the announce list's tiers and their URLs flattened in tier order, each
// URL once, keeping the first limit distinct URLs and counting the entries after them as dropped.
func announceTiers(mi *metainfo.MetaInfo, limit int) (tiers [][]string, flat []string, dropped int) {
	seen := map[string]bool{}
	for _, tier := range mi.AnnounceList {
		var t []string
		for _, u := range tier {
			if u = strings.TrimSpace(u); u == "" || !utf8.ValidString(u) {
				continue
			}
			switch {
			case len(flat) >= limit:
				dropped++
			case !seen[u]:
				seen[u] = true
				flat = append(flat, u)
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			tiers = append(tiers, t)
		}
	}
	if len(tiers) == 0 && dropped == 0 {
		if u := strings.TrimSpace(mi.Announce); u != "" && utf8.ValidString(u) {
			tiers, flat = [][]string{{u}}, []string{u}
		}
	}
	return tiers, flat, dropped
}
