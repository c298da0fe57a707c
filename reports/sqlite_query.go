package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

const sightingCols = `s.artifact_id, s.dataset, s.relation, s.confidence, s.evidence, s.via, s.chain, s.post_retraction,
	s.first_seen, s.last_seen, s.first_run, s.last_run, s.gone, s.gone_since, a.doc`

// goneHowCol and goneHowJoin add how a sighting went (stores without the table: nothing).
const goneHowJoin = ` LEFT JOIN gone_reasons g ON g.artifact_id=s.artifact_id`

// Sightings returns the sightings matching q ordered by dataset, artifact id and relation.
func (s *SQLiteStore) Sightings(ctx context.Context, q SightingQuery) ([]Sighting, error) {
	var out []Sighting
	// Every sighting is kept: an artifact found for several datasets is decoded once and shared.
	cache := &docCache{all: map[string]artifact.Artifact{}}
	err := s.eachSighting(ctx, q, cache, func(sg *Sighting) error {
		out = append(out, *sg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SightingStreamer is implemented by stores that can hand out sightings one at a time
// (SQLiteStore), so that a reader of a large store holds one row rather than all of them.
type SightingStreamer interface {
	EachSighting(ctx context.Context, q SightingQuery, fn func(*Sighting) error) error
}

// EachSighting calls fn with each sighting matching q, in the order of Sightings, reading the
// rows as fn consumes them: memory is bounded by one row, whatever the store holds. The
// *Sighting is fn's to keep (it is not reused). An error from fn stops the scan and is returned.
func (s *SQLiteStore) EachSighting(ctx context.Context, q SightingQuery, fn func(*Sighting) error) error {
	// Rows come by artifact within a dataset: an artifact with several findings in a dataset is
	// decoded once (the last one decoded is kept, not every one: that would hold the store).
	return s.eachSighting(ctx, q, &docCache{}, fn)
}

func (s *SQLiteStore) eachSighting(ctx context.Context, q SightingQuery, cache *docCache, fn func(*Sighting) error) error {
	var where []string
	var args []any
	if q.Dataset != "" {
		where, args = append(where, "s.dataset=?"), append(args, q.Dataset)
	}
	if q.Relation != "" {
		where, args = append(where, "s.relation=?"), append(args, string(q.Relation))
	}
	if q.Source != "" {
		where, args = append(where, "a.source=?"), append(args, q.Source)
	}
	if q.Text != "" {
		t := strings.ToLower(q.Text)
		where = append(where, "(instr(lower(a.title), ?)>0 OR instr(lower(a.id), ?)>0 OR instr(lower(a.url), ?)>0)")
		args = append(args, t, t, t)
	}
	if q.Gone != nil {
		where, args = append(where, "s.gone=?"), append(args, b2i(*q.Gone))
	}
	if q.MinConfidence > 0 {
		where, args = append(where, "s.confidence>=?"), append(args, q.MinConfidence)
	}
	query := `SELECT ` + sightingCols + `, ''` + ` FROM sightings s JOIN artifacts a ON a.id=s.artifact_id`
	if s.goneHow {
		query = `SELECT ` + sightingCols + `, COALESCE(g.how, '') FROM sightings s JOIN artifacts a ON a.id=s.artifact_id` + goneHowJoin
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY s.dataset, s.artifact_id, s.relation"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sightings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sg, err := scanSighting(rows, cache)
		if err != nil {
			return err
		}
		if err := fn(&sg); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sightings: %w", err)
	}
	return nil
}

// docCache is the last artifact decoded while scanning sightings, or with all set every one.
type docCache struct {
	id  string
	a   artifact.Artifact
	ok  bool
	all map[string]artifact.Artifact
}

func scanSighting(rows *sql.Rows, cache *docCache) (Sighting, error) {
	var sg Sighting
	var id, rel, ev, chain string
	var post, gone int
	var first, last, goneSince int64
	var doc []byte
	var how string
	if err := rows.Scan(&id, &sg.Dataset, &rel, &sg.Confidence, &ev, &sg.Via, &chain, &post,
		&first, &last, &sg.FirstRun, &sg.LastRun, &gone, &goneSince, &doc, &how); err != nil {
		return sg, fmt.Errorf("sightings: %w", err)
	}
	sg.Relation = extract.Relation(rel)
	sg.PostRetraction, sg.Gone = post == 1, gone == 1
	sg.FirstSeen, sg.LastSeen, sg.GoneSince = fromNanos(first), fromNanos(last), fromNanos(goneSince)
	if sg.Gone {
		sg.GoneHow = how
	}
	if err := json.Unmarshal([]byte(ev), &sg.Evidence); err != nil {
		return sg, fmt.Errorf("sighting %s evidence: %w", id, err)
	}
	if chain != "" {
		if err := json.Unmarshal([]byte(chain), &sg.Chain); err != nil {
			return sg, fmt.Errorf("sighting %s chain: %w", id, err)
		}
	}
	if a, ok := cache.all[id]; ok {
		sg.Artifact = a
		return sg, nil
	}
	if !cache.ok || cache.id != id {
		var a artifact.Artifact
		if err := json.Unmarshal(doc, &a); err != nil {
			return sg, fmt.Errorf("sighting %s artifact: %w", id, err)
		}
		cache.id, cache.a, cache.ok = id, a, true
		if cache.all != nil {
			cache.all[id] = a
		}
	}
	sg.Artifact = cache.a
	return sg, nil
}

// Artifact returns the stored artifact with the given id.
func (s *SQLiteStore) Artifact(ctx context.Context, id string) (artifact.Artifact, bool, error) {
	var doc []byte
	err := s.db.QueryRowContext(ctx, `SELECT doc FROM artifacts WHERE id=?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return artifact.Artifact{}, false, nil
	}
	if err != nil {
		return artifact.Artifact{}, false, fmt.Errorf("artifact %s: %w", id, err)
	}
	var a artifact.Artifact
	if err := json.Unmarshal(doc, &a); err != nil {
		return artifact.Artifact{}, false, fmt.Errorf("artifact %s: %w", id, err)
	}
	return a, true, nil
}

// TaintOf returns the datasets stored trained-on findings say the model is trained on, with the
// chain from the model to the dataset. It implements extract.Lineage so that the matcher sees
// models found by earlier runs. Errors are logged and give no taint.
//
// Answers are memoized per model key (taintCache): a key's answer changes only when a record of
// an artifact with that key commits, and every record goes through this store (the data
// directory's lock keeps other processes out of a running scan's store).
func (s *SQLiteStore) TaintOf(modelID string) []extract.Taint {
	key := ModelKey(modelID)
	if key == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.heldBack(key) {
		// Records of this model held back for the next Sync (RecordBatchLater) go in first: it
		// is seen here as if its record had returned after the commit. A failure stays the next
		// Sync's to report. Other models' held-back records cannot change this answer.
		_ = s.group.Sync(ctx)
	}
	if t, ok := s.taints.get(key); ok {
		return t
	}
	t, ok := s.taintQuery(ctx, key, modelID)
	s.taints.done(key, t, ok)
	return slices.Clone(t)
}

// taintQuery reads the trained-on findings of the artifacts with model key key; ok is false on an
// error (logged; no taint).
func (s *SQLiteStore) taintQuery(ctx context.Context, key, modelID string) (_ []extract.Taint, ok bool) {
	st, err := s.recordStmts(ctx)
	if err != nil {
		slog.Warn("lineage lookup failed", "model", modelID, "err", err)
		return nil, false
	}
	rows, err := st.taint.QueryContext(ctx, key, string(extract.TrainedOn))
	if err != nil {
		slog.Warn("lineage lookup failed", "model", modelID, "err", err)
		return nil, false
	}
	defer rows.Close()
	seen := map[string]int{}
	var out []extract.Taint
	for rows.Next() {
		var id, ds, via, chain string
		if err := rows.Scan(&id, &ds, &via, &chain); err != nil {
			slog.Warn("lineage lookup failed", "model", modelID, "err", err)
			return nil, false
		}
		var c []string
		if chain != "" {
			if err := json.Unmarshal([]byte(chain), &c); err != nil {
				c = nil
			}
		}
		if len(c) == 0 {
			c = []string{modelName(id)}
			if via != "" && via != ds {
				c = append(c, via)
			}
			c = append(c, ds)
		}
		if i, ok := seen[ds]; ok {
			if len(c) < len(out[i].Chain) {
				out[i].Chain = c
			}
			continue
		}
		seen[ds] = len(out)
		out = append(out, extract.Taint{Dataset: ds, Chain: c})
	}
	if err := rows.Err(); err != nil {
		slog.Warn("lineage lookup failed", "model", modelID, "err", err)
		return nil, false
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dataset < out[j].Dataset })
	return out, true
}

// modelName strips a "<source>:model:" prefix from an artifact id, keeping the case.
func modelName(id string) string {
	if i := strings.Index(id, ":model:"); i >= 0 {
		return id[i+len(":model:"):]
	}
	return id
}

// Event is one change recorded in a run.
type Event struct {
	RunID      string           `json:"run_id"`
	ArtifactID string           `json:"artifact_id"`
	Dataset    string           `json:"dataset"`
	Relation   extract.Relation `json:"relation"`
	Kind       string           `json:"kind"` // new, gone, reappeared
	At         time.Time        `json:"at"`
}

// EventQuery filters events. Zero values mean "any".
type EventQuery struct {
	RunID   string
	Dataset string
	Kind    string
	Limit   int
}

// Events returns recorded changes, newest first (ties by artifact, dataset, relation, kind).
func (s *SQLiteStore) Events(ctx context.Context, q EventQuery) ([]Event, error) {
	var where []string
	var args []any
	if q.RunID != "" {
		where, args = append(where, "run_id=?"), append(args, q.RunID)
	}
	if q.Dataset != "" {
		where, args = append(where, "dataset=?"), append(args, q.Dataset)
	}
	if q.Kind != "" {
		where, args = append(where, "kind=?"), append(args, q.Kind)
	}
	query := `SELECT run_id, artifact_id, dataset, relation, kind, at FROM events`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY at DESC, artifact_id, dataset, relation, kind"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var rel string
		var at int64
		if err := rows.Scan(&e.RunID, &e.ArtifactID, &e.Dataset, &rel, &e.Kind, &at); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		e.Relation, e.At = extract.Relation(rel), fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SightingCounter is implemented by stores that count sightings per dataset without reading
// them (SQLiteStore): a reader can size its buffers once.
type SightingCounter interface {
	SightingCounts(ctx context.Context) (map[string]int, error)
}

// SightingCounts returns how many sightings each dataset has (gone ones included).
func (s *SQLiteStore) SightingCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT dataset, COUNT(*) FROM sightings GROUP BY dataset`)
	if err != nil {
		return nil, fmt.Errorf("sighting counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ds string
		var n int
		if err := rows.Scan(&ds, &n); err != nil {
			return nil, fmt.Errorf("sighting counts: %w", err)
		}
		out[ds] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sighting counts: %w", err)
	}
	return out, nil
}

// TextReader is implemented by stores that read artifacts' texts by id (SQLiteStore), so that a
// report keeps no text and reads the excerpts of the rows it is writing.
type TextReader interface {
	ArtifactTexts(ctx context.Context, ids []string) (map[string]string, error)
}

// ArtifactTexts returns the text of each stored artifact of ids (those without text, or not
// stored, are missing from the map).
func (s *SQLiteStore) ArtifactTexts(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	const chunk = 500
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		q := `SELECT id, doc FROM artifacts WHERE id IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("artifact texts: %w", err)
		}
		for rows.Next() {
			var id string
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return nil, fmt.Errorf("artifact texts: %w", err)
			}
			var a struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(doc, &a); err != nil {
				rows.Close()
				return nil, fmt.Errorf("artifact %s: %w", id, err)
			}
			if a.Text != "" {
				out[id] = a.Text
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("artifact texts: %w", err)
		}
	}
	return out, nil
}
