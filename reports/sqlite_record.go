package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// Event kinds stored per run.
const (
	EventNew        = "new"
	EventGone       = "gone"
	EventReappeared = "reappeared"
)

// ModelKey normalises a model reference for lineage look-ups: "hf:model:Org/Name",
// "https://huggingface.co/Org/Name" and "org/name" all give "org/name".
func ModelKey(ref string) string {
	k := strings.TrimSpace(ref)
	for _, p := range []string{"https://huggingface.co/", "http://huggingface.co/", "huggingface.co/"} {
		if len(k) >= len(p) && strings.EqualFold(k[:len(p)], p) {
			k = k[len(p):]
		}
	}
	if i := strings.Index(k, ":model:"); i >= 0 {
		k = k[i+len(":model:"):]
	}
	return strings.ToLower(strings.Trim(k, "/"))
}

// recordStmts are the statements of the Record and RecordListing paths, prepared once per store:
// re-parsing their SQL on every call was a large share of a crawl's CPU (bench/results/crawl.md).
// Inside a write transaction they are used through tx.StmtContext, which reuses the statement
// already prepared on that connection.
type recordStmts struct {
	runExists, artSelect, artTouch, artUpsert                  *sql.Stmt
	sightInsert, sightSelect, sightTouch, sightUpdate, event   *sql.Stmt
	listingInsert, listingOrd, member, listingMax, listingGone *sql.Stmt
	listingAgain, listedScopes                                 *sql.Stmt
	artGone, sightGone, goneHow, stat                          *sql.Stmt
	taint                                                      *sql.Stmt // TaintOf: one lookup per lineage check
}

type recordStmtsEntry struct {
	mu sync.Mutex
	st *recordStmts
}

// recordStmtCache maps a store's *sql.DB to its prepared statements. The entry is dropped when the
// store is garbage collected (the statements close with the database).
var recordStmtCache sync.Map // *sql.DB -> *recordStmtsEntry

func (s *SQLiteStore) recordStmts(ctx context.Context) (*recordStmts, error) {
	v, loaded := recordStmtCache.LoadOrStore(s.db, &recordStmtsEntry{})
	if !loaded {
		runtime.AddCleanup(s, func(db *sql.DB) { recordStmtCache.Delete(db) }, s.db)
	}
	e := v.(*recordStmtsEntry)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st != nil {
		return e.st, nil
	}
	st := &recordStmts{}
	var prepared []*sql.Stmt
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.runExists, sqlRunExists}, {&st.artSelect, sqlArtSelect}, {&st.artTouch, sqlArtTouch},
		{&st.artUpsert, sqlArtUpsert}, {&st.sightInsert, sqlSightInsert}, {&st.sightSelect, sqlSightSelect},
		{&st.sightTouch, sqlSightTouch}, {&st.sightUpdate, sqlSightUpdate}, {&st.event, sqlEvent},
		{&st.listingInsert, sqlListingInsert}, {&st.listingOrd, sqlListingOrd}, {&st.member, sqlMember},
		{&st.listingMax, sqlListingMax}, {&st.listingGone, sqlListingGone}, {&st.listingAgain, sqlListingAgain},
		{&st.listedScopes, sqlListedScopes},
		{&st.artGone, sqlArtGone}, {&st.sightGone, sqlSightGone}, {&st.goneHow, sqlGoneHow}, {&st.stat, sqlStat},
		{&st.taint, sqlTaint},
	} {
		ps, err := s.db.PrepareContext(ctx, p.sql)
		if err != nil {
			for _, x := range prepared {
				x.Close()
			}
			return nil, fmt.Errorf("prepare: %w", err)
		}
		prepared = append(prepared, ps)
		*p.dst = ps
	}
	e.st = st
	return st, nil
}

const (
	// sqlTaint is TaintOf's lookup. Prepared once: at hub scale the matcher asks it for every
	// model card that names a base model, and preparing it each time was ~55% of the lookup (a
	// --scale 10 crawl profile, bench/results/crawl.md "Stop 26").
	sqlTaint = `SELECT a.id, s.dataset, s.via, s.chain FROM sightings s
		JOIN artifacts a ON a.id=s.artifact_id
		WHERE a.model_key=? AND s.relation=? ORDER BY s.dataset, a.id`
	sqlArtGone   = `UPDATE artifacts SET gone=1, gone_since=? WHERE id=? AND gone=0`
	sqlSightGone = `UPDATE sightings SET gone=1, gone_since=? WHERE artifact_id=? AND gone=0
		RETURNING dataset, relation`
	sqlRunExists = `SELECT 1 FROM runs WHERE id=?`
	sqlArtSelect = `SELECT last_run, doc FROM artifacts WHERE id=?`
	sqlArtTouch  = `UPDATE artifacts SET last_seen=MAX(last_seen, ?), gone=0, gone_since=0 WHERE id=?`
	sqlArtUpsert = `INSERT INTO artifacts(id, source, kind, url, title, host, model_key, published, doc,
			first_seen, last_seen, first_run, last_run)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET source=excluded.source, kind=excluded.kind, url=excluded.url,
			title=excluded.title, host=excluded.host, model_key=excluded.model_key, published=excluded.published,
			doc=excluded.doc, last_seen=MAX(last_seen, excluded.last_seen), last_run=excluded.last_run,
			gone=0, gone_since=0`
	sqlSightInsert = `INSERT INTO sightings(artifact_id, dataset, relation, confidence, evidence, via, chain,
				post_retraction, first_seen, last_seen, first_run, last_run)
			VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(artifact_id, dataset, relation) DO NOTHING`
	sqlSightSelect = `SELECT gone, last_run, confidence, evidence FROM sightings WHERE artifact_id=? AND dataset=? AND relation=?`
	sqlSightTouch  = `UPDATE sightings SET last_seen=MAX(last_seen, ?), gone=0, gone_since=0
				WHERE artifact_id=? AND dataset=? AND relation=?`
	sqlSightUpdate = `UPDATE sightings SET confidence=?, evidence=?, via=?, chain=?, post_retraction=?,
				last_seen=MAX(last_seen, ?), last_run=?, gone=0, gone_since=0
			WHERE artifact_id=? AND dataset=? AND relation=?`
	sqlEvent = `INSERT INTO events(run_id, artifact_id, dataset, relation, kind, at)
		VALUES(?,?,?,?,?,?) ON CONFLICT DO NOTHING`
	sqlListingInsert = `INSERT INTO listings(scope, run_id, ord, at)
			VALUES(?, ?, (SELECT COALESCE(MAX(ord),0)+1 FROM listings WHERE scope=?), ?) ON CONFLICT DO NOTHING RETURNING ord`
	// An empty listing is recorded only for a scope listed before (see RecordListing).
	sqlListingAgain = `INSERT INTO listings(scope, run_id, ord, at)
			SELECT ?1, ?2, MAX(ord)+1, ?3 FROM listings WHERE scope=?1 HAVING COUNT(*)>0
			ON CONFLICT DO NOTHING RETURNING ord`
	sqlListedScopes = `SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM listings WHERE scope=value)`
	sqlListingOrd   = `SELECT ord FROM listings WHERE scope=? AND run_id=?`
	// Every id of a listing in one statement (a JSON array): one statement per id was most of a
	// large listing's cost.
	sqlMember = `INSERT INTO listing_members(scope, artifact_id, last_ord) SELECT ?, value, ? FROM json_each(?) WHERE true
			ON CONFLICT(scope, artifact_id) DO UPDATE SET last_ord=MAX(last_ord, excluded.last_ord)`
	sqlListingMax  = `SELECT MAX(ord) FROM listings WHERE scope=?`
	sqlListingGone = `SELECT m.artifact_id FROM listing_members m
			JOIN artifacts a ON a.id=m.artifact_id
			WHERE m.scope=? AND ?-m.last_ord >= ? AND a.gone=0 AND a.kind<>'paper' ORDER BY m.artifact_id`
)

// runKnown checks that runID exists, inside a record transaction: from memory when a committed
// transaction (or a read) already saw it — runs are never deleted, and a statement per record
// and listing was ~2% of a crawl's CPU — else through the prepared statement.
func (s *SQLiteStore) runKnown(ctx context.Context, tx *sql.Tx, st *recordStmts, runID string) error {
	if _, ok := s.runsSeen.Load(runID); ok {
		return nil
	}
	return runExistsStmt(ctx, tx, st, runID)
}

// sawRun notes that a committed transaction found runID (after the commit: a run written in a
// transaction that rolled back is not known).
func (s *SQLiteStore) sawRun(runID string, err error) {
	if err == nil {
		s.runsSeen.Store(runID, true)
	}
}

// runExistsStmt is runExists through the prepared statement.
func runExistsStmt(ctx context.Context, tx *sql.Tx, st *recordStmts, runID string) error {
	var one int
	err := tx.StmtContext(ctx, st.runExists).QueryRowContext(ctx, runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	return err
}

// Record stores the artifact and its findings as seen at seenAt in runID. It is idempotent within a
// run: a second call (or a call after a crash and resume) adds no sighting and no event. A gone
// sighting that is recorded again reappears.
func (s *SQLiteStore) Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (RecordResult, error) {
	res, err := s.RecordBatch(ctx, runID, seenAt, []Observation{{Artifact: a, Findings: fs}})
	if err != nil {
		return RecordResult{}, err
	}
	return res[0], nil
}

// Observation is one artifact and its findings, for RecordBatch.
type Observation struct {
	Artifact artifact.Artifact
	Findings []extract.Finding
}

// RecordBatch records several artifacts in one transaction (much faster than one Record each;
// see bench/results/reports.md). Either all are recorded or, on error, none. Concurrent calls (and
// RecordListing calls) share transactions (group commit); each returns once its own is committed.
func (s *SQLiteStore) RecordBatch(ctx context.Context, runID string, seenAt time.Time, obs []Observation) ([]RecordResult, error) {
	write, out, err := s.recordBatchTx(ctx, runID, seenAt, obs)
	if err != nil {
		return nil, err
	}
	err = s.group.Do(ctx, write)
	s.taints.forget(modelKeys(obs))
	if err != nil {
		return nil, err
	}
	s.sawRun(runID, nil)
	return out, nil
}

// modelKeys are the model keys of obs's artifacts, of every kind (an artifact that stops being a
// model changes its key's lineage answer too).
func modelKeys(obs []Observation) []string {
	keys := make([]string, 0, len(obs))
	for _, o := range obs {
		if k := ModelKey(o.Artifact.ID); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// RecordBatchLater is RecordBatch for a caller that syncs the store before anything depends on
// what it recorded (ctx marked with DeferUntilSync; the run loop syncs before it acks): it
// returns at once and the write goes with the next store transaction — the worker does not wait
// for a commit, and the run loop's Sync, behind the workers, commits several jobs' records at
// once. done gets the results once they are committed; a write that fails is not done's to hear
// of but the next Sync's (its error), and the caller hands those jobs back. Lineage reads
// (TaintOf) commit such writes first, so a model recorded this way is seen as it was before.
func (s *SQLiteStore) RecordBatchLater(ctx context.Context, runID string, seenAt time.Time, obs []Observation, done func([]RecordResult)) error {
	write, out, err := s.recordBatchTx(ctx, runID, seenAt, obs)
	if err != nil {
		return err
	}
	var keys []string
	for _, o := range obs {
		if o.Artifact.Kind == artifact.KindModel {
			if k := ModelKey(o.Artifact.ID); k != "" {
				keys = append(keys, k)
			}
		}
	}
	written := modelKeys(obs) // now: the caller may reuse obs once this returns
	s.holdKeys(keys, 1)
	s.group.Defer(ctx, write, func(err error) {
		s.taints.forget(written) // before the keys stop being held back: see TaintOf
		s.holdKeys(keys, -1)
		s.sawRun(runID, err)
		if err != nil {
			s.deferDone(err)
			return
		}
		if done != nil {
			done(out)
		}
	})
	return nil
}

// holdKeys counts the model keys of a held-back write in (+1) or out (-1).
func (s *SQLiteStore) holdKeys(keys []string, d int) {
	if len(keys) == 0 {
		return
	}
	s.laterMu.Lock()
	defer s.laterMu.Unlock()
	if s.laterKeys == nil {
		s.laterKeys = map[string]int{}
	}
	for _, k := range keys {
		if s.laterKeys[k] += d; s.laterKeys[k] <= 0 {
			delete(s.laterKeys, k)
		}
	}
}

// heldBack reports whether a held-back write records a model with key k.
func (s *SQLiteStore) heldBack(k string) bool {
	s.laterMu.Lock()
	defer s.laterMu.Unlock()
	return s.laterKeys[k] > 0
}

// DeferringUntilSync reports whether ctx is marked with DeferUntilSync.
func DeferringUntilSync(ctx context.Context) bool { return deferred(ctx) }

// recordBatchTx checks and encodes obs outside any transaction and returns the transaction work
// that records them (re-runnable: it fills out afresh) and the results it fills.
func (s *SQLiteStore) recordBatchTx(ctx context.Context, runID string, seenAt time.Time, obs []Observation) (func(context.Context, *sql.Tx) error, []RecordResult, error) {
	if seenAt.IsZero() {
		seenAt = time.Now().UTC()
	}
	type prepared struct {
		a   artifact.Artifact
		fs  []extract.Finding
		doc []byte
		mk  string
	}
	ps := make([]prepared, len(obs))
	for i, o := range obs {
		a := o.Artifact
		if strings.TrimSpace(a.ID) == "" {
			return nil, nil, errors.New("record: artifact without id")
		}
		fs, err := dedupeFindings(a.ID, o.Findings)
		if err != nil {
			return nil, nil, err
		}
		doc, err := json.Marshal(a)
		if err != nil {
			return nil, nil, fmt.Errorf("record %s: %w", a.ID, err)
		}
		ps[i] = prepared{a: a, fs: fs, doc: doc}
		if a.Kind == artifact.KindModel {
			ps[i].mk = ModelKey(a.ID)
		}
	}
	at := nanos(seenAt)
	out := make([]RecordResult, len(obs))
	st, err := s.recordStmts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("record: %w", err)
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := s.runKnown(ctx, tx, st, runID); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		for i, p := range ps {
			r, err := recordTx(ctx, tx, st, runID, at, p.a, p.fs, p.doc, p.mk)
			if err != nil {
				return err
			}
			out[i] = r
		}
		return nil
	}, out, nil
}

func recordTx(ctx context.Context, tx *sql.Tx, st *recordStmts, runID string, at int64, a artifact.Artifact, fs []extract.Finding, doc []byte, mk string) (RecordResult, error) {
	var res RecordResult
	// Within a run, two versions of one artifact (a search hit, and a citation listing's copy with
	// the citation contexts) keep the larger doc, then the greater: the same whichever job
	// recorded last. A later run replaces it.
	var lastRun string
	var oldDoc []byte
	err := tx.StmtContext(ctx, st.artSelect).QueryRowContext(ctx, a.ID).Scan(&lastRun, &oldDoc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("record artifact %s: %w", a.ID, err)
	}
	if err == nil && lastRun == runID && (len(oldDoc) > len(doc) || (len(oldDoc) == len(doc) && string(oldDoc) >= string(doc))) {
		_, err = tx.StmtContext(ctx, st.artTouch).ExecContext(ctx, at, a.ID)
	} else {
		_, err = tx.StmtContext(ctx, st.artUpsert).ExecContext(ctx, a.ID, a.Source, a.Kind, a.URL, a.Title, a.Host(), mk, a.Published, doc, at, at, runID, runID)
	}
	if err != nil {
		return res, fmt.Errorf("record artifact %s: %w", a.ID, err)
	}
	for _, f := range fs {
		ev, err := json.Marshal(nonNilEvidence(f.Evidence))
		if err != nil {
			return res, fmt.Errorf("record %s evidence: %w", a.ID, err)
		}
		chain := ""
		if len(f.Chain) > 0 {
			b, _ := json.Marshal(f.Chain)
			chain = string(b)
		}
		r, err := tx.StmtContext(ctx, st.sightInsert).ExecContext(ctx, a.ID, f.Dataset, string(f.Relation), f.Confidence, string(ev), f.Via, chain, b2i(f.PostRetraction), at, at, runID, runID)
		if err != nil {
			return res, fmt.Errorf("record sighting %s/%s/%s: %w", a.ID, f.Dataset, f.Relation, err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			if err := addEventStmt(ctx, tx, st, runID, a.ID, f.Dataset, string(f.Relation), EventNew, at); err != nil {
				return res, err
			}
			res.NewSightings++
			continue
		}
		var wasGone int
		var lastRun, oldEv string
		var oldConf float64
		if err := tx.StmtContext(ctx, st.sightSelect).QueryRowContext(ctx, a.ID, f.Dataset, string(f.Relation)).Scan(&wasGone, &lastRun, &oldConf, &oldEv); err != nil {
			return res, fmt.Errorf("record sighting %s: %w", a.ID, err)
		}
		// Within a run the strongest version of a sighting stays (higher confidence, then the
		// greater evidence): the same whichever job recorded last. A later run replaces it.
		if lastRun == runID && (oldConf > f.Confidence || (oldConf == f.Confidence && oldEv >= string(ev))) {
			if _, err := tx.StmtContext(ctx, st.sightTouch).ExecContext(ctx, at, a.ID, f.Dataset, string(f.Relation)); err != nil {
				return res, fmt.Errorf("record sighting %s: %w", a.ID, err)
			}
		} else if _, err := tx.StmtContext(ctx, st.sightUpdate).ExecContext(ctx, f.Confidence, string(ev), f.Via, chain, b2i(f.PostRetraction), at, runID, a.ID, f.Dataset, string(f.Relation)); err != nil {
			return res, fmt.Errorf("record sighting %s: %w", a.ID, err)
		}
		if wasGone == 1 {
			if err := addEventStmt(ctx, tx, st, runID, a.ID, f.Dataset, string(f.Relation), EventReappeared, at); err != nil {
				return res, err
			}
			res.Reappeared++
		}
	}
	return res, nil
}

func nonNilEvidence(e []extract.Evidence) []extract.Evidence {
	if e == nil {
		return []extract.Evidence{}
	}
	return e
}

// dedupeFindings keeps one finding per (dataset, relation), the most confident, and rejects
// findings that cannot be stored.
func dedupeFindings(id string, fs []extract.Finding) ([]extract.Finding, error) {
	type key struct{ d, r string }
	best := map[key]int{}
	var out []extract.Finding
	for _, f := range fs {
		if f.Dataset == "" {
			return nil, fmt.Errorf("record %s: finding without dataset", id)
		}
		if !f.Relation.Valid() {
			return nil, fmt.Errorf("record %s: finding for %s has unknown relation %q", id, f.Dataset, f.Relation)
		}
		k := key{f.Dataset, string(f.Relation)}
		if i, ok := best[k]; ok {
			if f.Confidence > out[i].Confidence {
				out[i] = f
			}
			continue
		}
		best[k] = len(out)
		out = append(out, f)
	}
	return out, nil
}

func addEventStmt(ctx context.Context, tx *sql.Tx, st *recordStmts, runID, artifactID, dataset, relation, kind string, at int64) error {
	if _, err := tx.StmtContext(ctx, st.event).ExecContext(ctx, runID, artifactID, dataset, relation, kind, at); err != nil {
		return fmt.Errorf("event %s %s: %w", kind, artifactID, err)
	}
	return nil
}

// MarkGone marks artifacts (and their sightings) gone as of at, e.g. after a 404 or 410. With ctx
// marked DeferUntilSync (a worker of the run loop, which syncs before it acks) it returns at once
// and the write goes with the next store transaction, in order with the held-back records queued
// before and after it; a failure is the next Sync's error (the run loop then hands the job back).
// A worker used to wait here for a commit of its own on every 404.
func (s *SQLiteStore) MarkGone(ctx context.Context, runID string, artifactIDs []string, at time.Time) error {
	if at.IsZero() {
		at = time.Now().UTC()
	}
	ids := slices.Clone(artifactIDs)
	st, err := s.recordStmts(ctx)
	if err != nil {
		return fmt.Errorf("mark gone: %w", err)
	}
	fn := func(ctx context.Context, tx *sql.Tx) error {
		if err := s.runKnown(ctx, tx, st, runID); err != nil {
			return fmt.Errorf("mark gone: %w", err)
		}
		for _, id := range ids {
			if err := markGone(ctx, tx, st, runID, id, nanos(at), GoneHTTP); err != nil {
				return err
			}
		}
		return nil
	}
	if deferred(ctx) {
		s.group.Defer(ctx, fn, func(err error) { s.sawRun(runID, err); s.deferDone(err) })
		return nil
	}
	err = s.group.Do(ctx, fn)
	s.sawRun(runID, err)
	return err
}

// markGone marks one artifact and its sightings gone (prepared statements: a crawl's 404s mark
// artifacts gone one job at a time).
func markGone(ctx context.Context, tx *sql.Tx, st *recordStmts, runID, id string, at int64, how string) error {
	if _, err := tx.StmtContext(ctx, st.artGone).ExecContext(ctx, at, id); err != nil {
		return fmt.Errorf("mark gone %s: %w", id, err)
	}
	rows, err := tx.StmtContext(ctx, st.sightGone).QueryContext(ctx, at, id)
	if err != nil {
		return fmt.Errorf("mark gone %s: %w", id, err)
	}
	type dr struct{ d, r string }
	var changed []dr
	for rows.Next() {
		var x dr
		if err := rows.Scan(&x.d, &x.r); err != nil {
			rows.Close()
			return fmt.Errorf("mark gone %s: %w", id, err)
		}
		changed = append(changed, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mark gone %s: %w", id, err)
	}
	if len(changed) > 0 {
		if _, err := tx.StmtContext(ctx, st.goneHow).ExecContext(ctx, id, how, at); err != nil {
			return fmt.Errorf("gone how %s: %w", id, err)
		}
	}
	for _, x := range changed {
		if err := addEventStmt(ctx, tx, st, runID, id, x.d, x.r, EventGone, at); err != nil {
			return err
		}
	}
	return nil
}

// RecordListing notes a complete listing of scope in runID (one listing per scope and run:
// recording it again in the same run adds the ids to it and counts no extra miss). An artifact
// listed in an earlier complete listing of the scope and missing from the last missAfter listings
// is marked gone; its id is returned (each id once). Papers never go this way (a listing page that
// moved says nothing about a paper; a re-check's 404 does). Listing an artifact does not revive
// it: the adapter's Record does. An empty listing of a scope never listed with a member is not
// recorded: nothing can be missing from it, and the listings that follow count their misses
// from the scope's first listing with a member all the same.
func (s *SQLiteStore) RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) ([]string, error) {
	if scope == "" {
		return nil, errors.New("record listing: empty scope")
	}
	if missAfter < 1 {
		missAfter = 1
	}
	if at.IsZero() {
		at = time.Now().UTC()
	}
	var gone []string
	st, err := s.recordStmts(ctx)
	if err != nil {
		return nil, fmt.Errorf("record listing %s: %w", scope, err)
	}
	if deferred(ctx) {
		first, err := s.firstListing(ctx, st, runID, scope, len(ids) > 0)
		if err != nil {
			return nil, fmt.Errorf("record listing %s: %w", scope, err)
		}
		if first && len(ids) == 0 {
			s.deferEmptyListing(ctx, st, emptyListing{runID: runID, scope: scope, at: at, missAfter: missAfter})
			return nil, nil
		}
		if first {
			// Nothing can be gone from a scope's first listing: the caller need not wait for
			// the write, which goes with the next store transaction (or Sync).
			ids := slices.Clone(ids)
			s.group.Defer(ctx, func(ctx context.Context, tx *sql.Tx) error {
				_, err := s.recordListingTx(ctx, tx, st, runID, scope, ids, at, missAfter)
				return err
			}, func(err error) { s.sawRun(runID, err); s.deferDone(err) })
			return nil, nil
		}
	}
	err = s.group.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		gone, err = s.recordListingTx(ctx, tx, st, runID, scope, ids, at, missAfter)
		return err
	})
	if err == nil {
		s.sawRun(runID, nil)
		s.scopesMu.Lock()
		if s.scopes != nil && len(ids) > 0 {
			s.scopes[scope] = true
		}
		s.scopesMu.Unlock()
	}
	sort.Strings(gone)
	return gone, err
}

// recordListingTx is RecordListing's transaction work.
func (s *SQLiteStore) recordListingTx(ctx context.Context, tx *sql.Tx, st *recordStmts, runID, scope string, ids []string, at time.Time, missAfter int) ([]string, error) {
	var gone []string
	err := func() error {
		if err := s.runKnown(ctx, tx, st, runID); err != nil {
			return fmt.Errorf("record listing %s: %w", scope, err)
		}
		// A new listing returns its ord; a listing of the scope already recorded in this run
		// (ON CONFLICT DO NOTHING) returns no row and is looked up.
		var ord int64
		fresh := true
		var err error
		if len(ids) == 0 {
			// An empty listing of a scope never listed says nothing (no member can be missing
			// from it), so it is not recorded: the scope's first listing is its first with a
			// member. Most listings of a crawl are searches that find nothing, and a row each
			// was most of the store's writes (bench/results/crawl.md, stop 24).
			err = tx.StmtContext(ctx, st.listingAgain).QueryRowContext(ctx, scope, runID, nanos(at)).Scan(&ord)
		} else {
			err = tx.StmtContext(ctx, st.listingInsert).QueryRowContext(ctx, scope, runID, scope, nanos(at)).Scan(&ord)
		}
		if errors.Is(err, sql.ErrNoRows) {
			fresh = false
			err = tx.StmtContext(ctx, st.listingOrd).QueryRowContext(ctx, scope, runID).Scan(&ord)
			if errors.Is(err, sql.ErrNoRows) && len(ids) == 0 {
				return nil // the scope was never listed: nothing recorded, nothing gone
			}
		}
		if err != nil {
			return fmt.Errorf("record listing %s: %w", scope, err)
		}
		if len(ids) > 0 {
			js, err := json.Marshal(ids)
			if err != nil {
				return fmt.Errorf("record listing %s: %w", scope, err)
			}
			if _, err := tx.StmtContext(ctx, st.member).ExecContext(ctx, scope, ord, string(js)); err != nil {
				return fmt.Errorf("record listing %s: %w", scope, err)
			}
		}
		if fresh && ord == 1 {
			// The scope's first complete listing: every member was just listed, none can be gone.
			return nil
		}
		var maxOrd int64
		if err := tx.StmtContext(ctx, st.listingMax).QueryRowContext(ctx, scope).Scan(&maxOrd); err != nil {
			return fmt.Errorf("record listing %s: %w", scope, err)
		}
		rows, err := tx.StmtContext(ctx, st.listingGone).QueryContext(ctx, scope, maxOrd, missAfter)
		if err != nil {
			return fmt.Errorf("record listing %s: %w", scope, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("record listing %s: %w", scope, err)
			}
			gone = append(gone, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("record listing %s: %w", scope, err)
		}
		for _, id := range gone {
			if err := markGone(ctx, tx, st, runID, id, nanos(at), fmt.Sprintf(goneListing, missAfter)); err != nil {
				return err
			}
		}
		return nil
	}()
	return gone, err
}

// emptyListing is an empty listing of a scope this store has not seen listed, held back (see
// deferEmptyListing).
type emptyListing struct {
	runID, scope string
	at           time.Time
	missAfter    int
}

// deferEmptyListing holds back an empty listing of a scope not known to be listed (RecordListing
// with DeferUntilSync): it is recorded only if the scope turns out to be listed in the file
// after all (by another process), so all such listings waiting for the next store transaction
// are checked there with one statement — two statements each were most of the store's CPU in a
// crawl once empty listings of unlisted scopes were no longer written (bench/results/crawl.md,
// stop 24). The listings go with the next store transaction in one deferred write, queued by
// the first of them.
func (s *SQLiteStore) deferEmptyListing(ctx context.Context, st *recordStmts, l emptyListing) {
	s.emptyMu.Lock()
	defer s.emptyMu.Unlock()
	s.empty = append(s.empty, l)
	if len(s.empty) > 1 {
		return // a write already queued takes it
	}
	// Queued under emptyMu: a Sync that follows any listing of the batch is queued after it.
	var batch []emptyListing
	taken := false
	s.group.Defer(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if !taken { // a re-run (its batch failed) records the same listings
			s.emptyMu.Lock()
			batch, s.empty, taken = s.empty, nil, true
			s.emptyMu.Unlock()
		}
		return s.recordEmptyListingsTx(ctx, tx, st, batch)
	}, func(err error) {
		for _, l := range batch {
			s.sawRun(l.runID, err)
		}
		s.deferDone(err)
	})
}

// recordEmptyListingsTx records the empty listings of ls whose scope is listed in the file (one
// statement finds them); the others are not recorded (see RecordListing).
func (s *SQLiteStore) recordEmptyListingsTx(ctx context.Context, tx *sql.Tx, st *recordStmts, ls []emptyListing) error {
	if len(ls) == 0 {
		return nil
	}
	scopes := make([]string, len(ls))
	for i, l := range ls {
		if err := s.runKnown(ctx, tx, st, l.runID); err != nil {
			return fmt.Errorf("record listing %s: %w", l.scope, err)
		}
		scopes[i] = l.scope
	}
	js, err := json.Marshal(scopes)
	if err != nil {
		return fmt.Errorf("record empty listings: %w", err)
	}
	rows, err := tx.StmtContext(ctx, st.listedScopes).QueryContext(ctx, string(js))
	if err != nil {
		return fmt.Errorf("record empty listings: %w", err)
	}
	listed := map[string]bool{}
	for rows.Next() {
		var sc string
		if err := rows.Scan(&sc); err != nil {
			rows.Close()
			return fmt.Errorf("record empty listings: %w", err)
		}
		listed[sc] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("record empty listings: %w", err)
	}
	for _, l := range ls {
		if listed[l.scope] {
			if _, err := s.recordListingTx(ctx, tx, st, l.runID, l.scope, nil, l.at, l.missAfter); err != nil {
				return err
			}
		}
	}
	return nil
}

type deferKey struct{}

// DeferUntilSync marks ctx as coming from a caller that calls Sync before anything depends on
// what it recorded being in the file (the run loop syncs the store before it acks a job). With
// it, RecordListing of a scope's first listing — which cannot make anything gone — returns at
// once and its write goes with the next store transaction: one commit for several jobs'
// listings instead of one each (most jobs of a crawl end a listing, most of them new).
func DeferUntilSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferKey{}, true)
}

func deferred(ctx context.Context) bool { v, _ := ctx.Value(deferKey{}).(bool); return v }

// firstListing reports whether scope has no listing yet (and runID exists), from memory: the
// runs seen to exist and the scopes with a listing (read from the file once, then kept up to
// date by this store's RecordListing calls) — a read per listing cost as much as the write it
// spared; note marks the scope listed (a listing with members). It only decides whether
// RecordListing may defer the write and answer "nothing gone":
// the write itself computes the listing's order and marks what is gone in its transaction, so a
// scope listed meanwhile by another process costs at most the returned ids, never the state.
func (s *SQLiteStore) firstListing(ctx context.Context, st *recordStmts, runID, scope string, note bool) (bool, error) {
	if _, ok := s.runsSeen.Load(runID); !ok {
		var one int
		err := st.runExists.QueryRowContext(ctx, runID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("run %q: %w", runID, ErrNotFound)
		}
		if err != nil {
			return false, err
		}
		s.runsSeen.Store(runID, true)
	}
	s.scopesMu.Lock()
	defer s.scopesMu.Unlock()
	if s.scopes == nil {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT scope FROM listings`)
		if err != nil {
			return false, err
		}
		scopes := map[string]bool{}
		for rows.Next() {
			var sc string
			if err := rows.Scan(&sc); err != nil {
				rows.Close()
				return false, err
			}
			scopes[sc] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		s.scopes = scopes
	}
	if s.scopes[scope] {
		return false, nil
	}
	if note { // an empty listing of a scope never listed records nothing (recordListingTx)
		s.scopes[scope] = true
	}
	return true, nil
}

// deferDone keeps the first error of deferred writes for Sync.
func (s *SQLiteStore) deferDone(err error) {
	if err == nil {
		return
	}
	slog.Warn("store: a deferred write failed", "err", err)
	s.deferMu.Lock()
	if s.deferErr == nil {
		s.deferErr = err
	}
	s.deferMu.Unlock()
}

// Sync returns once every deferred write (see DeferUntilSync) is in the file, with the first
// error of those written since the last Sync.
func (s *SQLiteStore) Sync(ctx context.Context) error {
	err := s.group.Sync(ctx)
	s.deferMu.Lock()
	derr := s.deferErr
	s.deferErr = nil
	s.deferMu.Unlock()
	return errors.Join(err, derr)
}
