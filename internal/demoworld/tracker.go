package demoworld

import (
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// The demo world's BitTorrent tracker: the HTTP tracker protocol (BEP 3 announce, BEP 48 scrape
// with any number of info_hash parameters), bencoded, under /tracker/announce and /tracker/scrape.
// It tracks the planted Academic Torrents torrents of the current epoch (their .torrent files
// announce here) and the registry's known info-hashes, with made-up counts that change between
// epochs (demoSwarms): a swarm alive in epoch 1 is dead in epoch 2, another grows. It never
// hands out peers: there is no content anywhere.

// TrackerAnnouncePath is the announce URL path of the demo tracker (scrape: /tracker/scrape).
const TrackerAnnouncePath = "/tracker/announce"

// demoSwarms are made-up counts {seeders, leechers, completed} per epoch (index epoch-1; the last
// entry holds for later epochs). Planted torrents not listed take seeders and leechers from their
// extra fields.
var demoSwarms = map[string][][3]int{
	// planted: MS-Celeb-1M aligned face crops — alive in epoch 1, dead in epoch 2
	"e0f896a6cd1a99881ccde415d92e768ce1b6a9a7": {{7, 2, 120}, {0, 0, 121}},
	// planted: CASIA-WebFace aligned — growing
	"63ef079ab84e5bcaf48ceb0b2d60a9763679fba7": {{15, 1, 300}, {18, 4, 340}},
	// planted in epoch 2 only: pretraining-text-shards-2023
	"7ac5dcce58633f1312ccebe21ff0e9b40ab26d4d": {{3, 11, 25}},
	// registry: the known MS-Celeb-1M copy — alive in epoch 1, dead in epoch 2
	"9e67eb7cc23c9417f39778a8e06cca5e26196a97": {{2, 1, 58}, {0, 0, 58}},
	// registry: ImageNet fall11 — alive, growing
	"564a77c1e1119da199ff32622a1609431b9f1c47": {{4, 1, 900}, {6, 0, 912}},
}

// demoRegistryOnly are the demoSwarms hashes tracked in every epoch though no torrent is planted.
var demoRegistryOnly = map[string]bool{
	"9e67eb7cc23c9417f39778a8e06cca5e26196a97": true,
	"564a77c1e1119da199ff32622a1609431b9f1c47": true,
}

type trackerHandler struct{ w *World }

// SwarmCounts returns the demo tracker's counts for an info-hash (40 hex) in the current epoch, and
// whether the tracker tracks it.
func (w *World) SwarmCounts(ih string) (seeders, leechers, completed int, ok bool) {
	ih = strings.ToLower(ih)
	e := w.Epoch()
	pick := func(tab [][3]int) (int, int, int, bool) {
		c := tab[min(e, len(tab))-1]
		return c[0], c[1], c[2], true
	}
	if p, found := w.Find(atSource, "at:"+ih); found {
		if tab, ok := demoSwarms[ih]; ok {
			return pick(tab)
		}
		s, l := int(pwInt(p, "seeders")), int(pwInt(p, "leechers"))
		return s, l, 10 * s, true
	}
	if demoRegistryOnly[ih] {
		return pick(demoSwarms[ih])
	}
	return 0, 0, 0, false
}

func (h *trackerHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/announce":
		h.announce(rw, r)
	case "/scrape":
		h.scrape(rw, r)
	default:
		http.NotFound(rw, r)
	}
}

func trackerReply(rw http.ResponseWriter, v any) {
	b, err := bencode.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/plain")
	_, _ = rw.Write(b)
}

func trackerFailure(rw http.ResponseWriter, reason string) {
	trackerReply(rw, map[string]any{"failure reason": reason})
}

func (h *trackerHandler) announce(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := q.Get("info_hash")
	if len(raw) != 20 {
		trackerFailure(rw, "info_hash must be 20 bytes")
		return
	}
	if q.Get("port") == "" || len(q.Get("peer_id")) != 20 {
		trackerFailure(rw, "port and a 20-byte peer_id are required")
		return
	}
	s, l, _, ok := h.w.SwarmCounts(hex.EncodeToString([]byte(raw)))
	if !ok {
		trackerFailure(rw, "torrent not tracked in the demo world")
		return
	}
	peers := any("")
	if q.Get("compact") == "0" {
		peers = []any{}
	}
	trackerReply(rw, map[string]any{"interval": 1800, "min interval": 60, "complete": s, "incomplete": l, "peers": peers})
}

type scrapeFile struct {
	Complete   int `bencode:"complete"`
	Downloaded int `bencode:"downloaded"`
	Incomplete int `bencode:"incomplete"`
}

func (h *trackerHandler) scrape(rw http.ResponseWriter, r *http.Request) {
	hashes := r.URL.Query()["info_hash"]
	if len(hashes) == 0 {
		// A full scrape: every swarm the tracker knows in this epoch.
		for ih := range demoSwarms {
			hashes = append(hashes, string(mustHex(ih)))
		}
		for _, p := range h.w.Planted(atSource) {
			hashes = append(hashes, string(mustHex(strings.TrimPrefix(p.ID, "at:"))))
		}
	}
	files := map[string]scrapeFile{}
	for _, raw := range hashes {
		if len(raw) != 20 {
			trackerFailure(rw, "info_hash must be 20 bytes")
			return
		}
		if s, l, c, ok := h.w.SwarmCounts(hex.EncodeToString([]byte(raw))); ok {
			files[raw] = scrapeFile{Complete: s, Downloaded: c, Incomplete: l}
		}
	}
	trackerReply(rw, map[string]any{"files": files})
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 20 {
		return make([]byte, 20)
	}
	return b
}
