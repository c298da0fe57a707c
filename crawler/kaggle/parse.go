package kaggle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

func basic(user, key string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + key))
}

// Tag is an ApiDataset tag.
type Tag struct {
	Ref  string `json:"ref"`
	Name string `json:"name"`
}

// File is an ApiDatasetFile.
type File struct {
	Ref          string `json:"ref"`
	Name         string `json:"name"`
	TotalBytes   *int64 `json:"totalBytes"`
	CreationDate string `json:"creationDate"`
}

// Version is an ApiDatasetVersion.
type Version struct {
	VersionNumber int    `json:"versionNumber"`
	CreationDate  string `json:"creationDate"`
}

// Dataset is Kaggle's ApiDataset (list items and /datasets/view).
type Dataset struct {
	ID           int64     `json:"id"`
	Ref          string    `json:"ref"`
	Title        string    `json:"title"`
	Subtitle     string    `json:"subtitle"`
	Description  string    `json:"description"`
	URL          string    `json:"url"`
	OwnerRef     string    `json:"ownerRef"`
	OwnerName    string    `json:"ownerName"`
	CreatorName  string    `json:"creatorName"`
	TotalBytes   *int64    `json:"totalBytes"`
	LastUpdated  string    `json:"lastUpdated"`
	LicenseName  string    `json:"licenseName"`
	IsPrivate    bool      `json:"isPrivate"`
	Tags         []Tag     `json:"tags"`
	Files        []File    `json:"files"`
	Versions     []Version `json:"versions"`
	CurrentVer   int       `json:"currentVersionNumber"`
	DownloadCnt  int64     `json:"downloadCount"`
	VoteCount    int64     `json:"voteCount"`
	UsabilityRat float64   `json:"usabilityRating"`
}

// FileList is the /datasets/list/{owner}/{slug} answer.
type FileList struct {
	DatasetFiles  []File  `json:"datasetFiles"`
	ErrorMessage  *string `json:"errorMessage"`
	NextPageToken string  `json:"nextPageToken"`
}

var refRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ListResponse is ApiListDatasetsResponse (kagglesdk datasets/types/dataset_api_service.py).
type ListResponse struct {
	Datasets      []Dataset `json:"datasets"`
	NextPageToken string    `json:"nextPageToken"`
}

// ParseList decodes a ListDatasets answer ({"datasets": [ApiDataset…], "nextPageToken"}); the
// legacy REST list (a bare JSON array of the same objects) is read too. Items without a valid ref
// are skipped. An empty object is an empty page: the client's serializer leaves out empty lists.
func ParseList(body []byte) ([]Dataset, error) {
	b := bytes.TrimSpace(body)
	var raw []Dataset
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("decode datasets list: %w", err)
		}
	case len(b) > 0 && b[0] == '{':
		var lr ListResponse
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(b, &probe); err != nil {
			return nil, fmt.Errorf("decode datasets list: %w", err)
		}
		for k := range probe {
			if k != "datasets" && k != "nextPageToken" {
				return nil, fmt.Errorf("not a ListDatasets answer (field %q)", k)
			}
		}
		if err := json.Unmarshal(b, &lr); err != nil {
			return nil, fmt.Errorf("decode datasets list: %w", err)
		}
		raw = lr.Datasets
	default:
		return nil, fmt.Errorf("datasets list is not JSON")
	}
	out := raw[:0]
	for _, d := range raw {
		if refRE.MatchString(d.Ref) {
			out = append(out, d)
		}
	}
	return out, nil
}

// errNoRef: a dataset object without a ref (the caller may know it from its request).
var errNoRef = errors.New("dataset without a ref")

// ParseDataset decodes one ApiDataset (GetDataset). A missing ref gives the dataset and errNoRef.
func ParseDataset(body []byte) (*Dataset, error) {
	var d Dataset
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("decode dataset: %w", err)
	}
	if d.Ref == "" {
		if d.Title == "" && d.OwnerName == "" {
			return nil, fmt.Errorf("not a dataset (no ref, title or ownerName)")
		}
		return &d, errNoRef
	}
	if !refRE.MatchString(d.Ref) {
		return nil, fmt.Errorf("dataset ref %q is not owner/slug", d.Ref)
	}
	return &d, nil
}

// ParseFiles decodes a dataset's file list.
func ParseFiles(body []byte) (*FileList, error) {
	var fl FileList
	if err := json.Unmarshal(body, &fl); err != nil {
		return nil, fmt.Errorf("decode file list: %w", err)
	}
	if fl.DatasetFiles == nil && fl.ErrorMessage == nil {
		return nil, fmt.Errorf("not a file list (no datasetFiles)")
	}
	if fl.ErrorMessage != nil && *fl.ErrorMessage != "" {
		return &fl, fmt.Errorf("kaggle: %s", webapi.ErrorMessage([]byte(*fl.ErrorMessage)))
	}
	return &fl, nil
}

// Artifact turns a dataset into an artifact.
func (s *Source) Artifact(d *Dataset) artifact.Artifact {
	a := artifact.Artifact{ID: "kaggle:dataset:" + d.Ref, Source: Name, Kind: artifact.KindDataset, Title: d.Title,
		URL: s.web + "/datasets/" + d.Ref}
	if strings.HasPrefix(d.URL, "https://") || strings.HasPrefix(d.URL, "http://") {
		a.URL = d.URL
	}
	if a.Title == "" {
		a.Title = d.Ref
	}
	var parts []string
	for _, p := range []string{d.Subtitle, d.Description} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	a.Text = clip(strings.Join(parts, "\n\n"))
	for _, t := range d.Tags {
		if t.Name != "" {
			a.Tags = append(a.Tags, t.Name)
		}
	}
	if d.LicenseName != "" {
		a.Tags = append(a.Tags, "license:"+d.LicenseName)
	}
	// The first version's creation date is when the data appeared; lastUpdated otherwise.
	vs := append([]Version(nil), d.Versions...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].VersionNumber < vs[j].VersionNumber })
	for _, v := range vs {
		if a.Published = webapi.Date(v.CreationDate); a.Published != "" {
			break
		}
	}
	if a.Published == "" {
		a.Published = webapi.Date(d.LastUpdated)
	}
	a.Files = files(d.Files)
	return a
}

func files(fs []File) []artifact.File {
	var out []artifact.File
	for _, f := range fs {
		if f.Name == "" {
			continue
		}
		af := artifact.File{Path: f.Name}
		if f.TotalBytes != nil && *f.TotalBytes >= 0 {
			af.Size = artifact.Size(*f.TotalBytes)
		}
		out = append(out, af)
	}
	return out
}

func clip(s string) string {
	if len(s) <= MaxTextBytes {
		return s
	}
	s = s[:MaxTextBytes]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
