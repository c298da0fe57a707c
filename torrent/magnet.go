package torrent

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// MaxMagnetLen bounds a magnet URI.
const MaxMagnetLen = 64 << 10

// Magnet is a parsed magnet link (BEP 9).
type Magnet struct {
	InfoHash string   `json:"infohash"` // 40 lower-case hex digits
	Name     string   `json:"name,omitempty"`
	Trackers []string `json:"trackers,omitempty"` // tr=
	// Peers are x.pe= addresses (host:port), kept only when they parse.
	Peers []string `json:"peers,omitempty"`
}

// ParseMagnet parses a magnet URI with a v1 (btih) info-hash, hex or base32.
func ParseMagnet(uri string) (*Magnet, error) {
	uri = strings.TrimSpace(uri)
	if len(uri) > MaxMagnetLen {
		return nil, fmt.Errorf("parse magnet: %d bytes: %w (limit %d)", len(uri), ErrTooLarge, MaxMagnetLen)
	}
	if !strings.HasPrefix(strings.ToLower(uri), "magnet:") {
		return nil, errors.New("parse magnet: not a magnet: URI")
	}
	mm, err := metainfo.ParseMagnetUri(uri)
	if err != nil {
		return nil, fmt.Errorf("parse magnet: %w", err)
	}
	m := &Magnet{InfoHash: mm.InfoHash.HexString(), Name: cleanText(mm.DisplayName)}
	seen := map[string]bool{}
	for _, tr := range mm.Trackers {
		tr = strings.TrimSpace(tr)
		if tr == "" || seen[tr] {
			continue
		}
		seen[tr] = true
		m.Trackers = append(m.Trackers, tr)
	}
	for _, pe := range mm.Params["x.pe"] {
		if hp, ok := normalizePeer(pe); ok {
			m.Peers = append(m.Peers, hp)
		}
	}
	return m, nil
}

// String renders the magnet back as a URI.
func (m *Magnet) String() string {
	var h metainfo.Hash
	_ = h.FromHexString(m.InfoHash)
	mm := metainfo.Magnet{InfoHash: h, Trackers: m.Trackers, DisplayName: m.Name}
	if len(m.Peers) > 0 {
		mm.Params = url.Values{"x.pe": m.Peers}
	}
	return mm.String()
}

// normalizePeer accepts host:port with a numeric port 1..65535.
func normalizePeer(s string) (string, bool) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil || host == "" {
		return "", false
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", false
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), true
}

// ParseInfoHash accepts 40 hex digits or 32 base32 characters and returns 40 lower-case hex digits.
func ParseInfoHash(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 40:
		var h metainfo.Hash
		if err := h.FromHexString(s); err != nil {
			return "", fmt.Errorf("info-hash %q: %w", s, err)
		}
		return h.HexString(), nil
	case 32:
		m, err := metainfo.ParseMagnetUri("magnet:?xt=urn:btih:" + strings.ToUpper(s))
		if err != nil {
			return "", fmt.Errorf("info-hash %q: %w", s, err)
		}
		return m.InfoHash.HexString(), nil
	}
	return "", fmt.Errorf("info-hash %q: want 40 hex digits or 32 base32 characters", s)
}
