package redisq

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Lineage is extract.Lineage shared by workers: the trained-on findings workers publish are kept
// per model (a hash per normalised model id, dataset → shortest chain), so a worker matching a
// fine-tune sees the taint of a base model another worker found, as the embedded store gives it.
type Lineage struct {
	rdb redis.UniversalClient
	k   keys
	ttl time.Duration
}

var _ extract.Lineage = (*Lineage)(nil)

// NewLineage returns the shared lineage on rdb (entries kept 90 days after their last update).
func NewLineage(rdb redis.UniversalClient, cfg Config) *Lineage {
	return &Lineage{rdb: rdb, k: keys{cleanPrefix(cfg.Prefix)}, ttl: 90 * 24 * time.Hour}
}

func (l *Lineage) key(modelKey string) string { return l.k.prefix + ":taint:" + modelKey }

// taintScript: KEYS taint; ARGV ttlSeconds {dataset chainJSON chainLen}... Keeps the shortest chain.
var taintScript = redis.NewScript(`
for i = 2, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local n = tonumber(ARGV[i+2])
  if not cur or #cjson.decode(cur) > n then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`)

// Note stores the trained-on findings of a model artifact.
func (l *Lineage) Note(ctx context.Context, a artifact.Artifact, fs []extract.Finding) error {
	if a.Kind != artifact.KindModel {
		return nil
	}
	mk := reports.ModelKey(a.ID)
	if mk == "" {
		return nil
	}
	args := []any{int64(l.ttl / time.Second)}
	for _, f := range fs {
		if f.Relation != extract.TrainedOn {
			continue
		}
		c := f.Chain
		if len(c) == 0 {
			c = []string{modelName(a.ID)}
			if f.Via != "" && f.Via != f.Dataset {
				c = append(c, f.Via)
			}
			c = append(c, f.Dataset)
		}
		b, _ := json.Marshal(c)
		args = append(args, f.Dataset, string(b), len(c))
	}
	if len(args) == 1 {
		return nil
	}
	return taintScript.Run(ctx, l.rdb, []string{l.key(mk)}, args...).Err()
}

// TaintOf returns the datasets the model is known to be trained on, sorted by dataset.
func (l *Lineage) TaintOf(modelID string) []extract.Taint {
	mk := reports.ModelKey(modelID)
	if mk == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var h map[string]string
	err := retry(ctx, time.Minute, func() error {
		var err error
		h, err = l.rdb.HGetAll(ctx, l.key(mk)).Result()
		return err
	})
	if err != nil {
		slog.Warn("redisq: lineage lookup failed", "model", modelID, "err", err)
		return nil
	}
	out := make([]extract.Taint, 0, len(h))
	for ds, c := range h {
		var chain []string
		if json.Unmarshal([]byte(c), &chain) != nil {
			continue
		}
		out = append(out, extract.Taint{Dataset: ds, Chain: chain})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dataset < out[j].Dataset })
	return out
}

// modelName strips a "<source>:model:" prefix from an artifact id, keeping the case.
func modelName(id string) string {
	if i := strings.Index(id, ":model:"); i >= 0 {
		return id[i+len(":model:"):]
	}
	return id
}
