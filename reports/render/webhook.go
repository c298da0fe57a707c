package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/reports"
)

// Webhook is one delivery target for new sightings.
type Webhook struct {
	URL string
	// Slack posts a Slack-compatible {"text": ...} message instead of the JSON payload.
	Slack bool
	// Header is added to every request (e.g. an Authorization taken from the environment).
	Header http.Header
}

// WebhookPayload is the JSON POSTed to a (non-Slack) webhook.
type WebhookPayload struct {
	Event    string           `json:"event"` // EventNewSightings or EventReappeared
	RunID    string           `json:"run_id"`
	At       time.Time        `json:"at"`
	Datasets []WebhookDataset `json:"datasets"`
}

// WebhookDataset lists one dataset's new sightings.
type WebhookDataset struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Sightings []SightingView `json:"sightings"`
}

// Webhook events.
const (
	EventNewSightings = "new_sightings"
	// EventReappeared: sightings that had gone (taken down, removed) are live again.
	EventReappeared = "reappeared"
)

// NewSightingsPayload collects the report's new sightings (nil when there are none).
func NewSightingsPayload(rep *Report) *WebhookPayload {
	return payload(rep, EventNewSightings, func(x SightingView) bool { return x.New })
}

// ReappearedPayload collects the report's sightings that came back (nil when there are none).
func ReappearedPayload(rep *Report) *WebhookPayload {
	return payload(rep, EventReappeared, func(x SightingView) bool { return x.Reappeared })
}

// Payloads are the report's webhook payloads: reappeared sightings first (the most important
// news), then new ones; none when the run changed nothing of either kind.
func Payloads(rep *Report) []*WebhookPayload {
	var out []*WebhookPayload
	for _, p := range []*WebhookPayload{ReappearedPayload(rep), NewSightingsPayload(rep)} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func payload(rep *Report, event string, keep func(SightingView) bool) *WebhookPayload {
	p := &WebhookPayload{Event: event, RunID: rep.Run.ID, At: rep.GeneratedAt}
	for _, d := range rep.Datasets {
		var ss []SightingView
		for _, x := range d.Sightings {
			if keep(x) && x.Relation.Scored() != "" {
				ss = append(ss, x)
			}
		}
		if len(ss) > 0 {
			p.Datasets = append(p.Datasets, WebhookDataset{ID: d.ID, Name: d.Name, Sightings: ss})
		}
	}
	if len(p.Datasets) == 0 {
		return nil
	}
	return p
}

// slackText renders the payload as Slack mrkdwn; crawled strings have Slack's control
// characters (&, <, >) escaped so they cannot form links or mentions.
func slackText(p *WebhookPayload) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	what, n := "new sightings", "new"
	if p.Event == EventReappeared {
		what, n = "back online (had gone, live again)", "back online"
	}
	fmt.Fprintf(&b, "Afterlife run %s: %s\n", esc.Replace(p.RunID), what)
	for _, d := range p.Datasets {
		fmt.Fprintf(&b, "*%s* (%d %s)\n", esc.Replace(oneLine(d.Name)), len(d.Sightings), n)
		for i, x := range d.Sightings {
			if i == 20 {
				fmt.Fprintf(&b, "• … and %d more\n", len(d.Sightings)-20)
				break
			}
			title := esc.Replace(truncate(oneLine(x.Artifact.Title), 120))
			if u := safeURL(x.Artifact.URL); u != "" {
				title = "<" + esc.Replace(u) + "|" + strings.ReplaceAll(title, "|", "¦") + ">"
			}
			fmt.Fprintf(&b, "• %s: %s (%s)\n", x.Relation, title, esc.Replace(x.Artifact.Host))
		}
	}
	return b.String()
}

// Notifier delivers payloads to webhooks in the background: Notify never blocks a run; failed
// deliveries are retried with exponential backoff (honouring Retry-After) up to MaxAttempts.
type Notifier struct {
	Hooks       []Webhook
	Client      *http.Client
	MaxAttempts int
	Backoff     time.Duration // first retry delay, doubled each time (capped at 5 minutes)
	Log         *slog.Logger

	queue chan *WebhookPayload
	once  sync.Once
	wg    sync.WaitGroup
	mu    sync.Mutex
	stats DeliveryStats
}

// DeliveryStats counts what the notifier did.
type DeliveryStats struct {
	Delivered, Failed, Dropped, Attempts int
}

func (n *Notifier) start() {
	n.once.Do(func() {
		if n.Client == nil {
			n.Client = &http.Client{Timeout: 30 * time.Second}
		}
		if n.MaxAttempts <= 0 {
			n.MaxAttempts = 5
		}
		if n.Backoff <= 0 {
			n.Backoff = 2 * time.Second
		}
		if n.Log == nil {
			n.Log = slog.Default()
		}
		n.queue = make(chan *WebhookPayload, 64)
	})
}

// Run delivers queued payloads until ctx ends and the queue is closed by Close.
func (n *Notifier) Run(ctx context.Context) {
	n.start()
	for p := range n.queue {
		for _, h := range n.Hooks {
			n.deliver(ctx, h, p)
		}
		n.wg.Done()
	}
}

// Notify queues a payload and returns at once. When the queue is full the payload is dropped
// and logged: a run never waits for a webhook.
func (n *Notifier) Notify(p *WebhookPayload) bool {
	n.start()
	if p == nil || len(n.Hooks) == 0 {
		return false
	}
	n.wg.Add(1)
	select {
	case n.queue <- p:
		return true
	default:
		n.wg.Done()
		n.mu.Lock()
		n.stats.Dropped++
		n.mu.Unlock()
		n.Log.Warn("webhook queue full, dropping notification", "run", p.RunID)
		return false
	}
}

// Wait blocks until every queued payload has been delivered or given up on, or ctx ends.
func (n *Notifier) Wait(ctx context.Context) error {
	n.start()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns delivery counts so far.
func (n *Notifier) Stats() DeliveryStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

func (n *Notifier) deliver(ctx context.Context, h Webhook, p *WebhookPayload) {
	var body []byte
	var err error
	if h.Slack {
		body, err = json.Marshal(map[string]string{"text": slackText(p)})
	} else {
		body, err = json.Marshal(p)
	}
	if err != nil {
		n.Log.Error("webhook payload", "err", err)
		return
	}
	delay := n.Backoff
	for attempt := 1; attempt <= n.MaxAttempts; attempt++ {
		n.mu.Lock()
		n.stats.Attempts++
		n.mu.Unlock()
		retryAfter, err := n.post(ctx, h, body)
		if err == nil {
			n.mu.Lock()
			n.stats.Delivered++
			n.mu.Unlock()
			return
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt == n.MaxAttempts {
			n.Log.Warn("webhook delivery failed", "host", hostOf(h.URL), "attempts", attempt, "err", err)
			break
		}
		wait := delay
		if retryAfter > wait {
			wait = retryAfter
		}
		n.Log.Info("webhook delivery will be retried", "host", hostOf(h.URL), "attempt", attempt, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			n.mu.Lock()
			n.stats.Failed++
			n.mu.Unlock()
			return
		case <-t.C:
		}
		if delay *= 2; delay > 5*time.Minute {
			delay = 5 * time.Minute
		}
	}
	n.mu.Lock()
	n.stats.Failed++
	n.mu.Unlock()
}

type permanentError struct{ error }

// hostOf keeps webhook URLs (which often embed secrets) out of logs.
func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

func (n *Notifier) post(ctx context.Context, h Webhook, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, permanentError{fmt.Errorf("webhook request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Afterlife-webhook/1")
	for k, vs := range h.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook post: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		var ra time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			ra = time.Duration(s) * time.Second
		}
		return ra, fmt.Errorf("webhook: HTTP %d", resp.StatusCode)
	default:
		return 0, permanentError{fmt.Errorf("webhook: HTTP %d", resp.StatusCode)}
	}
}

// Close stops accepting payloads; Run returns once the queue drains.
func (n *Notifier) Close() {
	n.start()
	close(n.queue)
}

// Environment variables that configure webhooks (webhook URLs often carry secrets, so they come
// from the environment and never from a config file or a log).
const (
	EnvWebhooks      = "AFTERLIFE_WEBHOOKS"       // comma-separated URLs receiving the JSON payload
	EnvSlackWebhooks = "AFTERLIFE_SLACK_WEBHOOKS" // comma-separated Slack incoming-webhook URLs
)

// WebhooksFromEnv reads EnvWebhooks and EnvSlackWebhooks with getenv (os.Getenv in production).
func WebhooksFromEnv(getenv func(string) string) ([]Webhook, error) {
	var out []Webhook
	for _, v := range []struct {
		env   string
		slack bool
	}{{EnvWebhooks, false}, {EnvSlackWebhooks, true}} {
		for _, u := range strings.Split(getenv(v.env), ",") {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			if safeURL(u) == "" {
				return nil, fmt.Errorf("$%s: an entry is not an http(s) URL", v.env)
			}
			out = append(out, Webhook{URL: u, Slack: v.slack})
		}
	}
	return out, nil
}

// NotifyRun queues the reappeared and the new sightings of runID for delivery, one payload each
// (nothing when there are none). It builds the report from the store and returns at once; the
// Notifier delivers in the background.
func NotifyRun(ctx context.Context, st reports.Store, reg *configs.Registry, runID string, n *Notifier) (bool, error) {
	if n == nil || len(n.Hooks) == 0 {
		return false, nil
	}
	rep, err := Build(ctx, st, reg, runID, Options{})
	if err != nil {
		return false, err
	}
	queued := false
	for _, p := range Payloads(rep) {
		queued = n.Notify(p) || queued
	}
	return queued, nil
}
