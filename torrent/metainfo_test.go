package torrent

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"

	"github.com/afterlife-watch/afterlife/artifact"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A real .torrent as served by academictorrents.com/download/<infohash>: single file, announce
// list with an empty entry, a web seed.
func TestParseMetainfoAcademicTorrents(t *testing.T) {
	m, err := ParseMetainfo(readTestdata(t, "at_55a8925a.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != "55a8925a8d546b9ca47d309ab438b91f7959e77f" {
		t.Errorf("infohash %s", m.InfoHash)
	}
	if m.Name != "vangogh.tar.gz" || len(m.Files) != 1 || m.Files[0].Path != "vangogh.tar.gz" || m.Files[0].Size != 47622171 {
		t.Errorf("name/files: %q %+v", m.Name, m.Files)
	}
	if m.TotalSize != 47622171 || m.PieceLength != 32<<10 || m.NumPieces != 1454 {
		t.Errorf("sizes: total %d piece %d n %d", m.TotalSize, m.PieceLength, m.NumPieces)
	}
	wantTr := []string{"http://academictorrents.com/announce.php", "udp://tracker.opentrackr.org:1337/announce", "udp://tracker.openbittorrent.com:80/announce"}
	if strings.Join(m.Trackers, " ") != strings.Join(wantTr, " ") {
		t.Errorf("trackers %q", m.Trackers)
	}
	if got := m.CreationDate.Format("2006-01-02T15:04:05"); got != "2014-09-22T22:02:57" {
		t.Errorf("creation date %s", got)
	}
	if !strings.HasPrefix(m.CreatedBy, "Transmission/2.84") {
		t.Errorf("created by %q", m.CreatedBy)
	}
	if len(m.WebSeeds) != 1 || !strings.Contains(m.WebSeeds[0], "vangogh.tar.gz") {
		t.Errorf("web seeds %q", m.WebSeeds)
	}

	a := m.Artifact(artifact.SourceAcademicTorrents, "https://academictorrents.com/details/"+m.InfoHash)
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.ID != "at:55a8925a8d546b9ca47d309ab438b91f7959e77f" || a.Kind != artifact.KindTorrent || a.Title != "vangogh.tar.gz" ||
		a.InfoHash != m.InfoHash || a.Published != "2014-09-22" {
		t.Errorf("artifact %+v", a)
	}
	if len(a.Files) != 1 || *a.Files[0].Size != 47622171 {
		t.Errorf("artifact files %+v", a.Files)
	}
	for _, want := range []string{"name: vangogh.tar.gz", "vangogh.tar.gz (47622171 bytes)", "tracker: http://academictorrents.com/announce.php"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, a.Text)
		}
	}
}

// A multi-file torrent made by mktorrent (two tiers, comment, nested path).
func TestParseMetainfoMultiFile(t *testing.T) {
	m, err := ParseMetainfo(readTestdata(t, "multi.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != "82db0f7cad1b79ae72a74e59122f79913abc2f63" || m.Name != "MS-Celeb-1M-mirror" {
		t.Errorf("%s %q", m.InfoHash, m.Name)
	}
	got := map[string]int64{}
	for _, f := range m.Files {
		got[f.Path] = f.Size
	}
	if len(got) != 2 || got["README.txt"] != 6 || got["data/tiny_images.bin"] != 70000 {
		t.Errorf("files %+v", m.Files)
	}
	if m.Comment != "mirror of a retracted dataset" || len(m.Tiers) != 2 || len(m.Trackers) != 2 {
		t.Errorf("comment %q tiers %q", m.Comment, m.Tiers)
	}
	a := m.Artifact(artifact.SourceDHT, "")
	if a.ID != "dht:"+m.InfoHash || !strings.HasPrefix(a.URL, "magnet:?xt=urn:btih:"+m.InfoHash) {
		t.Errorf("dht artifact id %q url %q", a.ID, a.URL)
	}
	if !strings.Contains(a.Text, "comment: mirror of a retracted dataset") || !strings.Contains(a.Text, "data/tiny_images.bin (70000 bytes)") {
		t.Errorf("text:\n%s", a.Text)
	}
}

func TestMetaFromInfoMatchesFile(t *testing.T) {
	full, err := ParseMetainfo(readTestdata(t, "multi.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := MetaFromInfo(full.InfoBytes)
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != full.InfoHash || len(m.Files) != len(full.Files) || m.Comment != "" || len(m.Trackers) != 0 {
		t.Errorf("from info: %+v", m)
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := bencode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMetainfoBadInput(t *testing.T) {
	good := readTestdata(t, "multi.torrent")
	info := map[string]any{"name": "x", "piece length": 16384, "pieces": string(make([]byte, 20)), "length": 10}
	withInfo := func(mod func(map[string]any)) []byte {
		i := map[string]any{}
		for k, v := range info {
			i[k] = v
		}
		mod(i)
		return encode(t, map[string]any{"announce": "http://t/announce", "info": i})
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"not a dict", []byte("i42e"), "not a bencoded dictionary"},
		{"html", []byte("<html>404</html>"), "not a bencoded dictionary"},
		{"truncated", good[:len(good)/2], "bencode"},
		{"trailing", append(bytes.Clone(good), "xyz"...), "trailing data"},
		{"no info", encode(t, map[string]any{"announce": "http://t/announce"}), "no info dictionary"},
		{"no name", withInfo(func(i map[string]any) { delete(i, "name") }), "field name: missing"},
		{"zero piece length", withInfo(func(i map[string]any) { i["piece length"] = 0 }), "piece length"},
		{"ragged pieces", withInfo(func(i map[string]any) { i["pieces"] = "abc" }), "multiple of 20"},
		{"too few pieces", withInfo(func(i map[string]any) { i["length"] = 16385 }), "cannot hold"},
		{"negative length", withInfo(func(i map[string]any) { i["length"] = -1 }), "negative"},
		{"dotdot path", withInfo(func(i map[string]any) {
			delete(i, "length")
			i["files"] = []any{map[string]any{"length": 1, "path": []string{"..", "etc"}}}
		}), "bad component"},
		{"v2 only", withInfo(func(i map[string]any) { delete(i, "pieces"); delete(i, "length"); i["meta version"] = 2 }), "v2-only"},
		{"huge string length", []byte("d4:info999999999:"), "bencode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMetainfo(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %+v, %v; want error containing %q", m, err, c.want)
			}
		})
	}
	big := make([]byte, MaxMetainfoSize+1)
	big[0] = 'd'
	if _, err := ParseMetainfo(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

func TestParseMagnet(t *testing.T) {
	m, err := ParseMagnet("magnet:?xt=urn:btih:55A8925A8D546B9CA47D309AB438B91F7959E77F&dn=vangogh.tar.gz" +
		"&tr=http%3A%2F%2Facademictorrents.com%2Fannounce.php&tr=udp%3A%2F%2Ft.example%3A1337%2Fannounce&tr=" +
		"&x.pe=127.0.0.1:6881&x.pe=[::1]:7000&x.pe=bogus&x.pe=h:99999")
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != "55a8925a8d546b9ca47d309ab438b91f7959e77f" || m.Name != "vangogh.tar.gz" {
		t.Errorf("%+v", m)
	}
	if len(m.Trackers) != 2 || m.Trackers[1] != "udp://t.example:1337/announce" {
		t.Errorf("trackers %q", m.Trackers)
	}
	if strings.Join(m.Peers, ",") != "127.0.0.1:6881,[::1]:7000" {
		t.Errorf("peers %q", m.Peers)
	}
	back, err := ParseMagnet(m.String())
	if err != nil || back.InfoHash != m.InfoHash || len(back.Trackers) != 2 || len(back.Peers) != 2 {
		t.Errorf("round trip %+v %v", back, err)
	}
	// base32
	b32, err := ParseMagnet("magnet:?xt=urn:btih:KWUJEWUNKRVZZJD5GCNLIOFZD54VTZ37")
	if err != nil || b32.InfoHash != "55a8925a8d546b9ca47d309ab438b91f7959e77f" {
		t.Errorf("base32: %+v %v", b32, err)
	}
	for in, want := range map[string]string{
		"":                             "not a magnet",
		"http://example.com/x.torrent": "not a magnet",
		"magnet:?dn=nohash":            "missing v1 infohash",
		"magnet:?xt=urn:btih:123":      "encoding",
		"magnet:?xt=urn:btih:" + strings.Repeat("zz", 20): "decoding",
		"magnet:?xt=urn:btmh:1220abcd":                    "missing v1 infohash",
		"magnet:" + strings.Repeat("a", MaxMagnetLen):     "too large",
	} {
		if m, err := ParseMagnet(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMagnet(%.40q) = %+v, %v; want %q", in, m, err, want)
		}
	}
}

func TestParseInfoHash(t *testing.T) {
	for in, want := range map[string]string{
		"55A8925A8D546B9CA47D309AB438B91F7959E77F": "55a8925a8d546b9ca47d309ab438b91f7959e77f",
		"KWUJEWUNKRVZZJD5GCNLIOFZD54VTZ37":         "55a8925a8d546b9ca47d309ab438b91f7959e77f",
	} {
		if got, err := ParseInfoHash(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 40), strings.Repeat("1", 32)} {
		if _, err := ParseInfoHash(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseMetainfo(f *testing.F) {
	f.Add(readTestdata(f, "multi.torrent"))
	f.Add([]byte("d4:infod4:name1:x12:piece lengthi1e6:pieces0:ee"))
	f.Add([]byte("d4:infoi1ee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetainfo(b)
		if err != nil {
			return
		}
		if len(m.InfoHash) != 40 || m.Name == "" || m.PieceLength <= 0 || m.TotalSize < 0 {
			t.Fatalf("accepted but invalid: %+v", m)
		}
		for _, f := range m.Files {
			if f.Size < 0 || f.Path == "" {
				t.Fatalf("bad file %+v", f)
			}
		}
		a := m.Artifact(artifact.SourceDHT, "")
		if err := a.Validate(); err != nil {
			t.Fatalf("artifact invalid: %v", err)
		}
		// The info-hash is the hash of the info bytes: reparsing them gives the same.
		m2, err := MetaFromInfo(m.InfoBytes)
		if err != nil || m2.InfoHash != m.InfoHash {
			t.Fatalf("info reparse: %v", err)
		}
	})
}

func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:55A8925A8D546B9CA47D309AB438B91F7959E77F&dn=x&tr=udp%3A%2F%2Fa%3A1&x.pe=127.0.0.1:1")
	f.Add("magnet:?xt=urn:btih:KWUJEWUNKRVZZJD5GCNLIOFZD54VTZ37")
	f.Add("magnet:?xt=urn:btmh:1220")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMagnet(s)
		if err != nil {
			return
		}
		if _, err := ParseInfoHash(m.InfoHash); err != nil {
			t.Fatalf("bad infohash %q", m.InfoHash)
		}
		back, err := ParseMagnet(m.String())
		if err != nil || back.InfoHash != m.InfoHash {
			t.Fatalf("round trip of %q: %+v %v", m.String(), back, err)
		}
	})
}
