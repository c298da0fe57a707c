package demoworld_test

import (
	"strconv"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler/academictorrents"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// Issue 16: at scale no cap of the demo's watch config hides planted artifacts. Academic Torrents
// follows at most max_matches catalogue matches (500 by default); scale 100 serves about 600
// torrents, and epoch 2 missed its 32 new copies behind the cap. The config at scale follows at
// least as many matches as a scale-100 world plants (extrapolated from the torrents one more
// unit plants at a small scale).
func TestScaledWatchConfigFollowsEveryTorrentOfAScale100World(t *testing.T) {
	const scale = 3
	w, err := demoworld.New(demoworld.Options{Epoch: 2, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w2, err := demoworld.New(demoworld.Options{Epoch: 2, Scale: scale - 1})
	if err != nil {
		t.Fatal(err)
	}
	torrents := len(w.Planted("academictorrents"))
	perUnit := torrents - len(w2.Planted("academictorrents")) // one generated unit's torrents
	at100 := torrents + (100-scale)*perUnit
	cfg := srv.WatchConfig().Sources["academictorrents"]
	limit := academictorrents.MaxMatches
	if v, ok := cfg.Options["max_matches"]; ok {
		if limit, err = strconv.Atoi(v); err != nil {
			t.Fatalf("max_matches %q: %v", v, err)
		}
	}
	if perUnit <= 0 || limit < at100 {
		t.Errorf("academictorrents follows at most %d matches at scale; a scale-100 world plants about %d torrents (%d at scale %d, %d per unit)", limit, at100, torrents, scale, perUnit)
	}
	if _, err := academictorrents.New(cfg, func(string) string { return "" }); err != nil {
		t.Errorf("the scaled config does not build the source: %v", err)
	}
}
