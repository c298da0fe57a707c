package demoworld

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/afterlife-watch/afterlife/configs"
)

// Helpers shared by the paper-site and Academic Torrents handlers (arxiv.go, openalex.go,
// semanticscholar.go, academictorrents.go). Prefixed "pw" so they cannot collide with other
// sources' helpers in this package.

// pwServe writes body with a strong ETag (SHA-1 of the body) and answers If-None-Match with 304.
func pwServe(rw http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	sum := sha1.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	rw.Header().Set("Content-Type", contentType)
	if status == http.StatusOK {
		rw.Header().Set("ETag", etag)
		for _, v := range strings.Split(r.Header.Get("If-None-Match"), ",") {
			if v = strings.TrimSpace(v); v == etag || v == "W/"+etag || v == "*" {
				rw.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(body)
	}
}

// pwJSON serves v as JSON through pwServe.
func pwJSON(rw http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	pwServe(rw, r, status, "application/json", b)
}

// pwStrings reads a list of strings from a planted artifact's extra field.
func pwStrings(p Planted, key string) []string {
	switch v := p.Extra[key].(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

// pwString reads a string from a planted artifact's extra field.
func pwString(p Planted, key string) string {
	s, _ := p.Extra[key].(string)
	return s
}

// pwInt reads a number from a planted artifact's extra field.
func pwInt(p Planted, key string) int64 {
	if f, ok := p.Extra[key].(float64); ok {
		return int64(f)
	}
	return 0
}

var pwNonAlnum = regexp.MustCompile(`[^\p{L}\p{N}]+`)

// pwNorm lower-cases s and folds punctuation to spaces, padded, for word-bounded phrase search.
func pwNorm(s string) string {
	return " " + strings.TrimSpace(pwNonAlnum.ReplaceAllString(strings.ToLower(s), " ")) + " "
}

// pwHas reports whether the normalised phrase occurs in the normalised text.
func pwHas(text, phrase string) bool {
	n := pwNorm(phrase)
	return strings.TrimSpace(n) != "" && strings.Contains(pwNorm(text), n)
}

// pwPhrases splits a boolean query into its alternatives: quoted phrases, or else the whole
// query as one phrase. The demo search engines treat every alternative as OR (the adapters only
// send ORs).
var pwQuoteRE = regexp.MustCompile(`"([^"]+)"`)

func pwPhrases(q string) []string {
	var out []string
	for _, m := range pwQuoteRE.FindAllStringSubmatch(q, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 && strings.TrimSpace(q) != "" {
		out = append(out, q)
	}
	return out
}

// pwCursor encodes and decodes an offset as an opaque cursor.
func pwCursor(off int) string {
	return base64.StdEncoding.EncodeToString([]byte("off:" + strconv.Itoa(off)))
}

func pwUncursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "off:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(b), "off:") {
		return 0, false
	}
	return n, true
}

// pwAbs makes an absolute URL on this server for a path under the world's root.
func pwAbs(r *http.Request, path string) string { return "http://" + r.Host + path }

// pwYear returns the year of a YYYY-MM-DD date, or 0.
func pwYear(date string) int {
	if len(date) >= 4 {
		n, _ := strconv.Atoi(date[:4])
		return n
	}
	return 0
}

// pwPage slices [off, off+limit) out of n items.
func pwPage(n, off, limit int) (int, int) {
	if off > n {
		off = n
	}
	return off, min(off+limit, n)
}

// pwRegistryPaper is one paper of the embedded registry, with made-up but stable demo ids derived
// from its title (OpenAlex W99…, S2 corpus ids 99xxxxxxx when the registry has none), so that the
// demo OpenAlex and S2 know every dataset paper the adapters plan citations of, not only the ones
// planted artifacts cite.
type pwRegistryPaper struct {
	W, DOI, ArXiv, Title string
	Corpus               int64
	Year                 int
}

var pwRegistryPapers = sync.OnceValue(func() []pwRegistryPaper {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return nil
	}
	var out []pwRegistryPaper
	for _, d := range reg.Datasets {
		for _, p := range d.Papers {
			sum := sha1.Sum([]byte(strings.ToLower(p.Title)))
			n := int64(binary.BigEndian.Uint32(sum[:4]) % 10_000_000)
			rp := pwRegistryPaper{W: fmt.Sprintf("W99%08d", 10_000_000+n)[:11], DOI: strings.ToLower(p.DOI), ArXiv: p.ArXiv,
				Title: p.Title, Corpus: p.S2CorpusID, Year: p.Year}
			if rp.Corpus == 0 {
				rp.Corpus = 990_000_000 + n
			}
			if rp.DOI == "" && rp.ArXiv != "" {
				rp.DOI = "10.48550/arxiv." + strings.ToLower(rp.ArXiv)
			}
			out = append(out, rp)
		}
	}
	return out
})
