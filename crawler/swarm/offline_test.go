package swarm

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no HTTP request expected")
}

// In a replay (the fetcher answers from cassettes, and the run loop wraps it with the job's
// logger) a UDP tracker is never contacted: the job fails with crawler.ErrOffline, permanently,
// and no packet leaves.
func TestReplayNeverContactsAUDPTracker(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var packets atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			packets.Add(1)
		}
	}()
	tracker := "udp://" + pc.LocalAddr().String() + "/announce"
	src, err := New(configs.SourceConfig{Options: map[string]string{"trackers": tracker, "timeout": "1s"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := crawler.NewFetcher(&configs.Watch{Contact: "test", AllowLoopback: true}, crawler.FetcherOptions{Replay: noNetwork{}})
	if err != nil {
		t.Fatal(err)
	}
	job := crawler.Job{Source: Name, Kind: KindScrape, URL: tracker,
		Meta: map[string]string{metaHashes: "55a8925a8d546b9ca47d309ab438b91f7959e77f", metaTrusted: "1"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = src.Handle(ctx, job, crawler.WithLog(f, nil))
	if !errors.Is(err, crawler.ErrOffline) || !crawler.Permanent(err) {
		t.Fatalf("err = %v, want a permanent crawler.ErrOffline", err)
	}
	// A marker packet sent now arrives after anything the job sent: count up to it.
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("marker")); err != nil {
		t.Fatal(err)
	}
	for packets.Load() == 0 && ctx.Err() == nil {
		runtime.Gosched()
	}
	if n := packets.Load(); n != 1 {
		t.Fatalf("the UDP tracker got %d packets besides the marker during a replay", n-1)
	}
}
