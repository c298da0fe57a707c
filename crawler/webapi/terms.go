package webapi

import (
	"regexp"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

var parenRE = regexp.MustCompile(`\s*\([^)]*\)`)

// Terms returns the names a dataset goes by, for search queries: its aliases, its name (without
// parenthetical remarks) and the names and aliases of its derivatives that carry its data,
// deduplicated case-insensitively, in registry order. Derivatives the registry marks
// carries_data: false (CIFAR-10/100 of Tiny Images, Re-LAION-5B, pile-uncopyrighted: not an
// afterlife) are left out: searching for them finds only what is not watched. Terms shorter than
// minLen are dropped (too generic to search for).
func Terms(d *configs.Dataset, minLen int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(parenRE.ReplaceAllString(s, ""))
		k := strings.ToLower(s)
		if len(s) < minLen || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, s)
	}
	for _, a := range d.Aliases {
		add(a)
	}
	add(d.Name)
	for _, dv := range d.Derivatives {
		if !dv.CarriesData {
			continue
		}
		for _, a := range dv.Aliases {
			add(a)
		}
		add(dv.Name)
	}
	return out
}

// FileNames returns the known file names of a dataset and of its derivatives that carry its data,
// and the files of its known models.
func FileNames(d *configs.Dataset) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" || seen[strings.ToLower(s)] {
			return
		}
		seen[strings.ToLower(s)] = true
		out = append(out, s)
	}
	for _, f := range d.KnownFiles {
		add(f.Name)
	}
	for _, dv := range d.Derivatives {
		if !dv.CarriesData {
			continue
		}
		for _, f := range dv.KnownFiles {
			add(f.Name)
		}
	}
	for _, m := range d.KnownModels {
		for _, f := range m.Files {
			add(f)
		}
	}
	return out
}

var (
	hubIDRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	hubTokenRE = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]`)
)

// HubModelIDs returns the known models' hub ids ("EleutherAI/gpt-j-6b"): the id field, and hub ids
// written inside names and aliases ("runwayml/stable-diffusion-v1-5 (mirrors: a/b, c/d)").
func HubModelIDs(d *configs.Dataset) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if hubIDRE.MatchString(s) && !seen[s] && !strings.Contains(s, "://") {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, m := range d.KnownModels {
		add(m.ID)
		for _, text := range append([]string{m.Name}, m.Aliases...) {
			if strings.Contains(text, "://") {
				continue
			}
			for _, tok := range hubTokenRE.FindAllString(text, -1) {
				add(tok)
			}
		}
	}
	return out
}

// IsHubID reports whether s looks like an "owner/name" hub id.
func IsHubID(s string) bool { return hubIDRE.MatchString(s) }

var (
	// datasetIDRE: a Hub repo name, optionally under an owner (owners have no dots).
	datasetIDRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]$`)
	// domainRE: a host name (msceleb.org, megaface.cs.washington.edu).
	domainRE = regexp.MustCompile(`(?i)^[a-z0-9-]+(\.[a-z0-9-]+)*\.(org|com|net|edu|gov|io|ai|info|biz|uk|de|cn|fr|jp|ru|ch|nl|ca|au|us|eu|it|es|kr|in|br|me|co)$`)
)

// DatasetIDCandidate reports whether term can be a Hugging Face dataset id, as used in a
// `dataset:<id>` tag ("the_pile_books3", "laion/laion2B-en", "MS-Celeb-1M"): the Hub's repo-name
// characters, an optional owner without dots, and neither a file name (books3.tar.gz,
// tiny_images.bin) nor a domain or URL path (msceleb.org, vision.cs.duke.edu/DukeMTMC).
func DatasetIDCandidate(term string) bool {
	if !datasetIDRE.MatchString(term) || strings.Contains(term, "..") || strings.Contains(term, "--") {
		return false
	}
	return !fileNameRE.MatchString(term) && !domainRE.MatchString(term)
}

var arxivRE = regexp.MustCompile(`^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$`)

// ArXivIDs returns the arXiv ids of the dataset's papers.
func ArXivIDs(d *configs.Dataset) []string {
	var out []string
	for _, p := range d.Papers {
		if arxivRE.MatchString(p.ArXiv) {
			out = append(out, p.ArXiv)
		}
	}
	return out
}

// Slug turns a term into a repo-id-like substring: spaces become hyphens ("Tiny Images" ->
// "Tiny-Images"), characters that cannot appear in an owner/name id are dropped.
func Slug(term string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(term), "-") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == '/':
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), "-./")
}

// Date returns the YYYY-MM-DD prefix of an RFC 3339 / ISO 8601 timestamp, or "" if it has none.
func Date(ts string) string {
	if len(ts) >= 10 && ts[4] == '-' && ts[7] == '-' {
		d := ts[:10]
		for i, c := range d {
			if i == 4 || i == 7 {
				continue
			}
			if c < '0' || c > '9' {
				return ""
			}
		}
		return d
	}
	return ""
}

// fileNameRE recognises archive and data file names among a dataset's names (books3.tar.gz):
// they never occur in titles or abstracts, so paper searches leave them out.
var fileNameRE = regexp.MustCompile(`(?i)\.(tar|gz|tgz|zip|bin|npy|pickle|pkl|pth|pt|avi|top|json|jsonl|zst|txt|bz2|xz|7z|rar|sqlite|tsv|csv|parquet|mat|m|h5|hdf5|lmdb|rec|idx|lst|safetensors|ckpt|onnx)$`)

// PhraseTerms returns Terms(d, minLen) fit for phrase search in paper text: each cleaned with
// clean (which strips the characters the source's query syntax reserves), without file names and
// path-like ids, and without terms that clean left empty.
func PhraseTerms(d *configs.Dataset, minLen int, clean *strings.Replacer) []string {
	var out []string
	for _, t := range Terms(d, minLen) {
		t = strings.TrimSpace(clean.Replace(t))
		if t == "" || fileNameRE.MatchString(t) || strings.Contains(t, "/") {
			continue
		}
		out = append(out, t)
	}
	return out
}
