package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/arxiv"
	"github.com/afterlife-watch/afterlife/manuscript"
)

var arxivIDRE = regexp.MustCompile(`^(?:[0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?$`)

// arxivLookup looks papers up through the arXiv source adapter (its id_list recheck), with the
// watch plan's base URL and one fetcher for the whole command, so arXiv's rate limit (one request
// every three seconds) holds across several --arxiv ids.
type arxivLookup struct {
	src crawler.Source
	rc  interface {
		Recheck(string) (crawler.Job, bool)
	}
	f   *crawler.HTTPFetcher
	err error
}

func newArxivLookup() *arxivLookup {
	l := &arxivLookup{}
	w, err := loadWatch()
	if err != nil {
		l.err = err
		return l
	}
	src, err := arxiv.New(w.Sources[arxiv.Name], os.Getenv)
	if err != nil {
		l.err = err
		return l
	}
	rc, ok := src.(interface {
		Recheck(string) (crawler.Job, bool)
	})
	if !ok {
		l.err = errors.New("the arXiv adapter has no paper look-up")
		return l
	}
	f, err := crawler.NewFetcher(w, crawler.FetcherOptions{Version: version, MaxAttempts: 2, Timeout: 30 * time.Second})
	if err != nil {
		l.err = err
		return l
	}
	for key, r := range crawler.RatesOf(src) {
		f.SetRate(key, r.PerSecond, r.Burst)
	}
	l.src, l.rc, l.f = src, rc, f
	return l
}

// fetch returns a paper's title and abstract as a document. The arXiv API serves metadata, so the
// check sees the abstract only.
func (l *arxivLookup) fetch(ctx context.Context, id string) (*manuscript.Document, error) {
	id = strings.TrimPrefix(strings.TrimSpace(id), "arXiv:")
	name := "arxiv:" + id
	if !arxivIDRE.MatchString(id) {
		return nil, &manuscript.Error{Name: name, Kind: manuscript.ErrFormat, Err: fmt.Errorf("%q is not an arXiv id (2101.00001 or hep-th/9901001)", id)}
	}
	if l.err != nil {
		return nil, &manuscript.Error{Name: name, Kind: manuscript.ErrOffline, Err: l.err}
	}
	job, ok := l.rc.Recheck(name)
	if !ok {
		return nil, &manuscript.Error{Name: name, Kind: manuscript.ErrFormat, Err: fmt.Errorf("the arXiv adapter does not take id %q", id)}
	}
	res, err := l.src.Handle(ctx, job, l.f)
	if err != nil {
		return nil, &manuscript.Error{Name: name, Kind: manuscript.ErrOffline, Err: fmt.Errorf("offline / not available: %w", err)}
	}
	if len(res.Artifacts) == 0 {
		return nil, &manuscript.Error{Name: name, Kind: manuscript.ErrNotFound, Err: errors.New("arXiv has no paper with this id")}
	}
	doc := manuscript.FromArtifact(res.Artifacts[0])
	doc.Name = name
	return doc, nil
}
