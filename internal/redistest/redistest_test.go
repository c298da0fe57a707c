package redistest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// With AOF on, data written before a clean stop or a kill -9 is there after Restart, on the same
// port; the password is enforced.
func TestRestartKeepsAOFData(t *testing.T) {
	s := Start(t, Options{AOF: true, Password: "pw with space"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("still running after Stop")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("after clean restart: %q, %v", v, err)
	}
	if err := c.Set(ctx, "k", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill() // appendfsync always: nothing acknowledged is lost
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v2" {
		t.Fatalf("after kill -9 and restart: %q, %v", v, err)
	}
	if !strings.HasPrefix(s.URL, "redis://:pw%20with%20space@127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL)
	}
}
