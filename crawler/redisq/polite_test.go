package redisq

import (
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/internal/redistest"
)

// A claimed job whose host has no slot within MaxWait goes back (no attempt counted) until its
// slot; jobs for free hosts are handed out.
func TestPoliteClaimDefersBusyHost(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rdb := srv.Client(t)
	prefix := freshPrefix()
	watch := &configs.Watch{Sources: map[string]configs.SourceConfig{
		"slow": {Enabled: true, BaseURL: "http://127.0.0.1:1/slow", Rate: 0.5, Burst: 1},
		"fast": {Enabled: true, BaseURL: "http://127.0.0.2:1/fast", Rate: 100, Burst: 1},
	}}
	lim := NewLimiter(rdb, LimiterConfig{Prefix: prefix})
	limits := NewRates(lim, watch)
	f := NewFrontier(rdb, Config{Prefix: prefix})
	defer f.Close()
	p := &Polite{Frontier: f, Limits: limits, MaxWait: 200 * time.Millisecond}
	mk := func(src, host string, i int) crawler.Job {
		u := "http://" + host + ":1/" + src + "/" + string(rune('a'+i))
		return crawler.Job{ID: crawler.Key(src, "x", u), RunID: "r", Source: src, Kind: "x", URL: u}
	}
	if _, err := f.Enqueue(ctx, mk("slow", "127.0.0.1", 0), mk("slow", "127.0.0.1", 1), mk("fast", "127.0.0.2", 0)); err != nil {
		t.Fatal(err)
	}
	first, err := p.Claim(ctx, "r", "w", 1)
	if err != nil || len(first) != 1 || first[0].Job.Source != "slow" {
		t.Fatalf("first claim = %v, %v", first, err)
	}
	// The worker books the slow host's slot (as Fetch does).
	if err := lim.Wait(ctx, "host:127.0.0.1:1", 0.5, 1); err != nil {
		t.Fatal(err)
	}
	if err := lim.Wait(ctx, "src:slow", 0.5, 1); err != nil {
		t.Fatal(err)
	}
	second, err := p.Claim(ctx, "r", "w", 1)
	if err != nil || len(second) != 1 || second[0].Job.Source != "fast" {
		t.Fatalf("second claim = %+v, %v; want the fast host's job (the slow one deferred)", second, err)
	}
	st, _ := f.Stats(ctx, "r")
	if st.Pending != 1 || st.InFlight != 2 {
		t.Fatalf("stats = %+v, want the deferred job pending", st)
	}
	next, err := f.NextReady(ctx, "r")
	if err != nil || time.Until(next) < time.Second || time.Until(next) > 3*time.Second {
		t.Fatalf("deferred job ready at %v (in %v), want ≈2s (0.5 req/s)", next, time.Until(next))
	}
	// When its slot comes, it is handed out with its attempt untouched.
	var got []crawler.Lease
	deadline := time.Now().Add(30 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if got, err = p.Claim(ctx, "r", "w", 1); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Job.Attempt != 1 {
		t.Fatalf("deferred job claim = %+v, want it with attempt 1", got)
	}
}

// With Choose candidates, a claim hands out the job whose host is free now, not the FIFO head
// whose host is busy (within MaxWait, so nothing is deferred), and puts the other back untouched.
func TestPoliteClaimPrefersFreeHost(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rdb := srv.Client(t)
	prefix := freshPrefix()
	watch := &configs.Watch{Sources: map[string]configs.SourceConfig{
		"slow": {Enabled: true, BaseURL: "http://127.0.0.1:1/slow", Rate: 0.5, Burst: 1},
		"fast": {Enabled: true, BaseURL: "http://127.0.0.2:1/fast", Rate: 100, Burst: 1},
	}}
	lim := NewLimiter(rdb, LimiterConfig{Prefix: prefix})
	f := NewFrontier(rdb, Config{Prefix: prefix})
	defer f.Close()
	p := &Polite{Frontier: f, Limits: NewRates(lim, watch), MaxWait: time.Minute, Choose: 2}
	mk := func(src, host string) crawler.Job {
		u := "http://" + host + ":1/" + src + "/x"
		return crawler.Job{ID: crawler.Key(src, "x", u), RunID: "r", Source: src, Kind: "x", URL: u}
	}
	// The slow source's slot is booked for the next 2 s.
	if _, err := lim.Acquire(ctx, crawler.Slot{Key: "src:slow", PerSecond: 0.5, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Enqueue(ctx, mk("slow", "127.0.0.1"), mk("fast", "127.0.0.2")); err != nil {
		t.Fatal(err)
	}
	got, err := p.Claim(ctx, "r", "w", 1)
	if err != nil || len(got) != 1 || got[0].Job.Source != "fast" {
		t.Fatalf("claim = %+v, %v; want the free host's job", got, err)
	}
	st, _ := f.Stats(ctx, "r")
	if st.Pending != 1 || st.InFlight != 1 {
		t.Fatalf("stats = %+v, want the busy host's job back in the queue", st)
	}
	if next, _ := f.NextReady(ctx, "r"); !next.IsZero() {
		t.Fatalf("busy host's job was deferred to %v; within MaxWait it goes straight back", next)
	}
	again, err := p.Claim(ctx, "r", "w", 1)
	if err != nil || len(again) != 1 || again[0].Job.Source != "slow" || again[0].Job.Attempt != 1 {
		t.Fatalf("next claim = %+v, %v; want the slow job with its attempt untouched", again, err)
	}
}
