package redisq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Event kinds on a run's findings stream.
const (
	EventRecord  = "record"  // an artifact and its findings
	EventListing = "listing" // a complete listing of a scope (gone detection)
	EventGone    = "gone"    // artifacts the source answered 404/410 for
	EventStat    = "stat"    // deltas of a source's counters
	EventProbe   = "probe"   // a swarm health probe (probe.go)
	EventFailure = "failure" // a failed job's URL and error
)

// Event is one entry of a run's findings stream. Workers publish; the report builder applies them
// to the reports.Store in stream order.
type Event struct {
	Kind     string             `json:"kind"`
	At       time.Time          `json:"at"`
	Artifact *artifact.Artifact `json:"artifact,omitempty"`
	Findings []extract.Finding  `json:"findings,omitempty"`
	Scope    string             `json:"scope,omitempty"`
	IDs      []string           `json:"ids,omitempty"`
	// MissAfter is RecordListing's missAfter.
	MissAfter int                 `json:"miss_after,omitempty"`
	Stat      *reports.SourceStat `json:"stat,omitempty"`
	Probe     *reports.SwarmProbe `json:"probe,omitempty"`
	Failure   *reports.JobFailure `json:"failure,omitempty"`
}

// publishScript: KEYS events art; ARGV digest payload ttl. Publishes the payload unless its digest
// was published before in the run (dedup of artifacts across workers and of retried calls).
var publishScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl); redis.call('EXPIRE', KEYS[2], ttl) end
return 1
`)

// Publisher pushes a worker's results to the run's findings stream. Its methods mirror the
// recording half of reports.Store, so a worker records through it exactly as the embedded mode
// records into the store.
type Publisher struct {
	rdb     redis.UniversalClient
	k       keys
	cfg     Config
	lineage *Lineage
}

// NewPublisher returns a publisher on rdb. Trained-on findings of models also go to the shared
// Lineage, so every worker's matcher sees them.
func NewPublisher(rdb redis.UniversalClient, cfg Config) *Publisher {
	cfg = cfg.withDefaults()
	return &Publisher{rdb: rdb, k: keys{cfg.Prefix}, cfg: cfg, lineage: NewLineage(rdb, cfg)}
}

// Publish appends e to the run's stream. Events with the same dedupKey are published once per run
// (empty: no dedup). It reports whether the event was new.
func (p *Publisher) Publish(ctx context.Context, runID, dedupKey string, e Event) (bool, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return false, fmt.Errorf("redisq: encode %s event: %w", e.Kind, err)
	}
	var n int64
	err = retry(ctx, p.cfg.Patience, func() error {
		var err error
		n, err = publishScript.Run(ctx, p.rdb, []string{p.k.events(runID), p.k.artifacts(runID)},
			dedupKey, b, int64(p.cfg.RunTTL/time.Second)).Int64()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("redisq: publish %s event to run %s: %w", e.Kind, runID, err)
	}
	return n == 1, nil
}

// digest identifies an event's content: the same artifact seen by two workers (or twice by one)
// with the same findings is published once; a changed artifact is published again.
func digest(kind string, parts ...any) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		b, _ := json.Marshal(p)
		h.Write([]byte{0})
		h.Write(b)
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Record publishes an artifact and its findings (once per run for identical content). The
// RecordResult is zero: the builder learns what changed when it applies the event.
func (p *Publisher) Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (reports.RecordResult, error) {
	if err := retry(ctx, p.cfg.Patience, func() error { return p.lineage.Note(ctx, a, fs) }); err != nil {
		return reports.RecordResult{}, fmt.Errorf("redisq: lineage of %s: %w", a.ID, err)
	}
	_, err := p.Publish(ctx, runID, digest(EventRecord, a, fs), Event{Kind: EventRecord, At: seenAt, Artifact: &a, Findings: fs})
	return reports.RecordResult{}, err
}

// RecordListing publishes a complete listing; gone detection happens in the builder (the returned
// list is empty).
func (p *Publisher) RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) ([]string, error) {
	_, err := p.Publish(ctx, runID, digest(EventListing, scope, ids), Event{Kind: EventListing, At: at, Scope: scope, IDs: ids, MissAfter: missAfter})
	return nil, err
}

// MarkGone publishes artifacts answered 404/410.
func (p *Publisher) MarkGone(ctx context.Context, runID string, ids []string, at time.Time) error {
	_, err := p.Publish(ctx, runID, digest(EventGone, ids), Event{Kind: EventGone, At: at, IDs: ids})
	return err
}

// AddSourceStat publishes counter deltas of a source (never deduplicated: two equal deltas are
// two deltas).
func (p *Publisher) AddSourceStat(ctx context.Context, runID string, delta reports.SourceStat) error {
	_, err := p.Publish(ctx, runID, "", Event{Kind: EventStat, At: time.Now().UTC(), Stat: &delta})
	return err
}

// RecordBatch publishes each artifact of a batch (Record, one event each).
func (p *Publisher) RecordBatch(ctx context.Context, runID string, seenAt time.Time, obs []reports.Observation) ([]reports.RecordResult, error) {
	out := make([]reports.RecordResult, len(obs))
	for i, o := range obs {
		r, err := p.Record(ctx, runID, seenAt, o.Artifact, o.Findings)
		if err != nil {
			return out, err
		}
		out[i] = r
	}
	return out, nil
}

// RecordFailure publishes a failed job's URL and error (the builder keeps the latest per URL).
func (p *Publisher) RecordFailure(ctx context.Context, runID string, f reports.JobFailure) error {
	_, err := p.Publish(ctx, runID, "", Event{Kind: EventFailure, At: f.At, Failure: &f})
	return err
}

// Applier is the part of the sightings store (reports.SQLiteStore) the builder writes to.
type Applier interface {
	Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (reports.RecordResult, error)
	RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) (gone []string, err error)
	MarkGone(ctx context.Context, runID string, artifactIDs []string, at time.Time) error
	AddSourceStat(ctx context.Context, runID string, delta reports.SourceStat) error
	RecordProbe(ctx context.Context, p reports.SwarmProbe) error
	RecordFailure(ctx context.Context, runID string, f reports.JobFailure) error
}

// BuildStats counts what a builder applied.
type BuildStats struct {
	Events, Records, NewSightings, Reappeared, Listings, Gone, Stats int
}

// Builder consumes a run's findings stream into a store (consumer group "builder"). Entries are
// acked only after the store took them, so a builder that dies leaves them pending and the next
// one (or the same one restarted) applies them again; the store's Record is idempotent.
type Builder struct {
	rdb  redis.UniversalClient
	k    keys
	cfg  Config
	runs *Runs
}

// NewBuilder returns a builder on rdb.
func NewBuilder(rdb redis.UniversalClient, cfg Config) *Builder {
	cfg = cfg.withDefaults()
	return &Builder{rdb: rdb, k: keys{cfg.Prefix}, cfg: cfg, runs: NewRuns(rdb, cfg)}
}

// Build applies the run's events to store until the run is drained and every event is applied
// (or ctx ends). Call it while workers run; it returns once nothing more can arrive.
func (b *Builder) Build(ctx context.Context, runID string, store Applier) (BuildStats, error) {
	var st BuildStats
	stream := b.k.events(runID)
	if err := retry(ctx, b.cfg.Patience, func() error {
		err := b.rdb.XGroupCreateMkStream(ctx, stream, groupBuilder, "0").Err()
		if err != nil && strings.Contains(err.Error(), "BUSYGROUP") {
			return nil
		}
		return err
	}); err != nil {
		return st, fmt.Errorf("redisq: builder group on run %s: %w", runID, err)
	}
	consumer := "builder"
	// First what this builder had claimed before a crash, then new entries.
	cursor := "0"
	for {
		var res []redis.XStream
		err := retry(ctx, b.cfg.Patience, func() error {
			var err error
			block := 500 * time.Millisecond
			if cursor == "0" {
				block = -1
			}
			res, err = b.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: groupBuilder, Consumer: consumer,
				Streams: []string{stream, cursor}, Count: 256, Block: block}).Result()
			if errors.Is(err, redis.Nil) {
				res, err = nil, nil
			}
			if err != nil && strings.Contains(err.Error(), "NOGROUP") {
				// The stream was lost (a Redis restart without persistence): recreate and go on.
				_ = b.rdb.XGroupCreateMkStream(ctx, stream, groupBuilder, "0").Err()
			}
			return err
		})
		if err != nil {
			return st, fmt.Errorf("redisq: read findings of run %s: %w", runID, err)
		}
		n := 0
		for _, s := range res {
			for _, m := range s.Messages {
				n++
				if err := b.apply(ctx, runID, m, store, &st); err != nil {
					return st, err
				}
				if err := retry(ctx, b.cfg.Patience, func() error { return b.rdb.XAck(ctx, stream, groupBuilder, m.ID).Err() }); err != nil {
					return st, fmt.Errorf("redisq: ack finding %s: %w", m.ID, err)
				}
			}
		}
		if cursor == "0" {
			if n == 0 {
				cursor = ">"
			}
			continue
		}
		if n > 0 {
			continue
		}
		// Nothing new: done if the run is drained (workers publish before they ack their job, so
		// once drained every event is in the stream) and a final read finds nothing.
		drained, err := b.runs.FinishIfDrained(ctx, runID)
		if err != nil {
			return st, err
		}
		if drained {
			left, err := b.unread(ctx, stream)
			if err != nil {
				return st, err
			}
			if !left {
				return st, nil
			}
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
	}
}

// unread reports whether the builder group has entries not yet delivered or not yet acked.
func (b *Builder) unread(ctx context.Context, stream string) (bool, error) {
	var left bool
	err := retry(ctx, b.cfg.Patience, func() error {
		groups, err := b.rdb.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Name != groupBuilder {
				continue
			}
			if g.Pending > 0 {
				left = true
				return nil
			}
			last, err := b.rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
			if err != nil {
				return err
			}
			left = len(last) > 0 && last[0].ID != g.LastDeliveredID
			return nil
		}
		return nil
	})
	return left, err
}

func (b *Builder) apply(ctx context.Context, runID string, m redis.XMessage, store Applier, st *BuildStats) error {
	raw, _ := m.Values["e"].(string)
	var e Event
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		slog.Error("redisq: undecodable finding event skipped", "run", runID, "entry", m.ID, "err", err)
		return nil
	}
	st.Events++
	switch e.Kind {
	case EventRecord:
		if e.Artifact == nil {
			return nil
		}
		r, err := store.Record(ctx, runID, e.At, *e.Artifact, e.Findings)
		if err != nil {
			return fmt.Errorf("redisq: record %s: %w", e.Artifact.ID, err)
		}
		st.Records++
		st.NewSightings += r.NewSightings
		st.Reappeared += r.Reappeared
	case EventListing:
		gone, err := store.RecordListing(ctx, runID, e.Scope, e.IDs, e.At, e.MissAfter)
		if err != nil {
			return fmt.Errorf("redisq: listing %s: %w", e.Scope, err)
		}
		st.Listings++
		st.Gone += len(gone)
	case EventGone:
		if err := store.MarkGone(ctx, runID, e.IDs, e.At); err != nil {
			return fmt.Errorf("redisq: mark gone: %w", err)
		}
		st.Gone += len(e.IDs)
	case EventStat:
		if e.Stat == nil {
			return nil
		}
		if err := store.AddSourceStat(ctx, runID, *e.Stat); err != nil {
			return fmt.Errorf("redisq: source stat %s: %w", e.Stat.Name, err)
		}
		st.Stats++
	case EventProbe:
		return applyProbe(ctx, runID, e, store)
	case EventFailure:
		if e.Failure == nil {
			return nil
		}
		if err := store.RecordFailure(ctx, runID, *e.Failure); err != nil {
			return fmt.Errorf("redisq: failure of %s: %w", e.Failure.URL, err)
		}
	default:
		slog.Warn("redisq: unknown finding event kind skipped", "run", runID, "kind", e.Kind)
	}
	return nil
}
