package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/cassette"
	"github.com/afterlife-watch/afterlife/monitor"
)

// A recording directory (scan --record DIR) holds, besides go-vcr's cassettes (one per host,
// crawler/cassette), what a replay needs to plan the same run: the watch plan and the registry the
// run used, and the names (never the values) of the tokens that were set.
const (
	tapeManifestFile = "afterlife-recording.json"
	tapeWatchFile    = "watch.yaml"
	tapeRegistryFile = "registry.yaml"
)

// tapeManifest is DIR/afterlife-recording.json.
type tapeManifest struct {
	Version    string    `json:"afterlife_version"`
	RecordedAt time.Time `json:"recorded_at"`
	// Tokens are the environment variables the adapters read that were set (names only): a
	// replay pretends they are set, so the adapters plan what they planned when recorded.
	Tokens   []string `json:"tokens"`
	Watch    string   `json:"watch"`
	Registry string   `json:"registry"`
	Note     string   `json:"note"`
}

// tape is the record or replay side of a scan: the fetcher's transport, the adapters' tokens,
// and, on Close, the cassettes written (record).
type tape struct {
	mode cassette.Mode
	tr   *cassette.Transport
	env  crawler.Env
}

// fetcherOptions puts the tape into the fetcher options.
func (t *tape) fetcherOptions(fo crawler.FetcherOptions) crawler.FetcherOptions {
	if t == nil {
		return fo
	}
	if t.mode == cassette.Record {
		fo.Record = t.tr.Wrap
	} else {
		fo.Replay = t.tr
	}
	return fo
}

// Close writes a recording's cassettes.
func (t *tape) Close() error {
	if t == nil {
		return nil
	}
	return t.tr.Close()
}

// openTape opens the tape of --record or --replay (nil: neither).
func openTape(f *scanFlags, w *configs.Watch) (*tape, error) {
	switch {
	case f.record != "":
		reg, err := registryBytes()
		if err != nil {
			return nil, err
		}
		return openRecording(f.record, reg, w)
	case f.replay != "":
		return openReplay(f.replay)
	}
	return nil, nil
}

// capturingEnv reads the environment and remembers every variable an adapter asked for that is
// set, with its value (the secrets a recording must redact).
type capturingEnv struct{ got map[string]string }

func (c *capturingEnv) get(key string) string {
	v := os.Getenv(key)
	if strings.TrimSpace(v) != "" {
		c.got[key] = strings.TrimSpace(v)
	}
	return v
}

// openRecording prepares scan --record DIR: the watch plan and registry the run uses are saved
// next to the cassettes, with the names of the tokens found; their values are redacted from every
// exchange.
func openRecording(dir string, reg []byte, w *configs.Watch) (*tape, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	// Build the sources once to learn which tokens they read (the run builds them again).
	env := &capturingEnv{got: map[string]string{}}
	monitor.BuildSources(w, env.get)
	var names, secrets []string
	for k, v := range env.got {
		names = append(names, k)
		secrets = append(secrets, v)
	}
	sort.Strings(names)
	tr, err := cassette.New(dir, cassette.Record, cassette.Options{Secrets: secrets})
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	wb, err := w.Marshal()
	if err != nil {
		return nil, fmt.Errorf("--record: watch plan: %w", err)
	}
	m := tapeManifest{Version: version, RecordedAt: time.Now().UTC(), Tokens: names, Watch: tapeWatchFile, Registry: tapeRegistryFile,
		Note: "Recorded by afterlife scan --record: one go-vcr cassette per host (secrets redacted). Replay with: afterlife scan --replay DIR --data NEW_DIR"}
	if m.Tokens == nil {
		m.Tokens = []string{}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{tapeWatchFile: wb, tapeRegistryFile: reg, tapeManifestFile: append(mb, '\n')} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("--record: %w", err)
		}
	}
	return &tape{mode: cassette.Record, tr: tr, env: os.Getenv}, nil
}

// openReplay prepares scan --replay DIR: nothing goes to the network; the adapters see the tokens
// that were set when recorded as set (their value is never sent anywhere).
func openReplay(dir string) (*tape, error) {
	m, err := readTapeManifest(dir)
	if err != nil {
		return nil, err
	}
	tr, err := cassette.New(dir, cassette.Replay, cassette.Options{})
	if err != nil {
		return nil, fmt.Errorf("--replay: %w", err)
	}
	set := map[string]bool{}
	for _, k := range m.Tokens {
		set[k] = true
	}
	env := func(key string) string {
		if set[key] {
			return crawler.Redacted
		}
		return ""
	}
	return &tape{mode: cassette.Replay, tr: tr, env: env}, nil
}

// readTapeManifest reads DIR/afterlife-recording.json; a directory of cassettes without one (made
// by hand, or by another tool) replays with no token set.
func readTapeManifest(dir string) (tapeManifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, tapeManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return tapeManifest{}, nil
	}
	if err != nil {
		return tapeManifest{}, fmt.Errorf("--replay: %w", err)
	}
	var m tapeManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return tapeManifest{}, fmt.Errorf("--replay: %s: %w", filepath.Join(dir, tapeManifestFile), err)
	}
	return m, nil
}

// replayPlan is the registry and watch plan of a replay: the ones saved in DIR, unless --registry
// or --config name others.
func replayPlan(dir string) (*configs.Registry, *configs.Watch, error) {
	regFile, watchFile := g.registryFile, g.configFile
	if regFile == "" {
		if p := filepath.Join(dir, tapeRegistryFile); fileExists(p) {
			regFile = p
		}
	}
	if watchFile == "" {
		if p := filepath.Join(dir, tapeWatchFile); fileExists(p) {
			watchFile = p
		}
	}
	reg, err := configs.LoadRegistry(regFile)
	if err != nil {
		return nil, nil, err
	}
	w, err := configs.LoadWatch(watchFile)
	if err != nil {
		return nil, nil, err
	}
	return reg, w, nil
}

// registryBytes is the registry the run uses, as a file: --registry's, else the embedded one.
func registryBytes() ([]byte, error) {
	if g.registryFile == "" {
		return configs.DefaultRegistryYAML(), nil
	}
	b, err := os.ReadFile(g.registryFile)
	if err != nil {
		return nil, fmt.Errorf("--registry: %w", err)
	}
	return b, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
