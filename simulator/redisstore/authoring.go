package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// Authoring keeps the trainer tools' records in the same Redis as the
// sessions:
//
//	<prefix>src:{<kind>:<id>}     hash: latest → N, v<N> → JSON of trainer.Source
//	<prefix>src:<kind>:ids        set: every authored id of the kind
//	<prefix>sess:{<id>}:review    list: JSON review entries, in the session's slot,
//	                              expiring with the session
//	<prefix>sessions:created      sorted set: session id by creation time (ms)
//
// Sources never expire: a session report must always find the version it
// used.
type Authoring struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ trainer.Store = (*Authoring)(nil)

// NewAuthoring returns the trainer store on client, with the key prefix the
// session Store uses (so the session index and the reviews line up).
func NewAuthoring(client redis.UniversalClient, prefix string) *Authoring {
	return &Authoring{client: client, prefix: prefix, now: time.Now}
}

func (a *Authoring) srcKey(kind trainer.Kind, id string) string {
	return a.prefix + "src:{" + string(kind) + ":" + id + "}"
}

func (a *Authoring) idsKey(kind trainer.Kind) string {
	return a.prefix + "src:" + string(kind) + ":ids"
}

func indexKey(prefix string) string { return prefix + "sessions:created" }

// saveScript stores version ARGV[1] if the latest is ARGV[1]-1.
//
// KEYS: source hash. ARGV: version, JSON.
var saveScript = redis.NewScript(`
local latest = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0')
local v = tonumber(ARGV[1])
if v ~= latest + 1 then
  return latest
end
redis.call('HSET', KEYS[1], 'latest', v, 'v' .. v, ARGV[2])
return -1
`)

// latestScript returns the newest version's JSON, or false.
var latestScript = redis.NewScript(`
local n = redis.call('HGET', KEYS[1], 'latest')
if not n then
  return false
end
return redis.call('HGET', KEYS[1], 'v' .. n)
`)

// Save implements trainer.Sources.
func (a *Authoring) Save(ctx context.Context, s trainer.Source) error {
	if err := checkSourceID(s.ID); err != nil {
		return err
	}
	if s.Version < 1 {
		return fmt.Errorf("redisstore: save %s %s: version %d: %w", s.Kind, s.ID, s.Version, ErrInvalidCommit)
	}
	blob, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("redisstore: encode %s %s: %w", s.Kind, s.ID, err)
	}
	latest, err := saveScript.Run(ctx, a.client, []string{a.srcKey(s.Kind, s.ID)}, s.Version, blob).Int()
	if err != nil {
		return fmt.Errorf("redisstore: save %s %s: %w", s.Kind, s.ID, err)
	}
	if latest >= 0 {
		return fmt.Errorf("save %s %s v%d: latest is v%d: %w", s.Kind, s.ID, s.Version, latest, trainer.ErrVersionConflict)
	}
	// A separate command: the id set lives in another cluster slot. SADD is
	// idempotent, so a retry after a failure here repairs it.
	if err := a.client.SAdd(ctx, a.idsKey(s.Kind), s.ID).Err(); err != nil {
		return fmt.Errorf("redisstore: index %s %s: %w", s.Kind, s.ID, err)
	}
	return nil
}

func checkSourceID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidCommit)
	}
	for _, c := range id {
		if c == '{' || c == '}' {
			return fmt.Errorf("%w: id %q contains a brace", ErrInvalidCommit, id)
		}
	}
	return nil
}

func decodeSource(kind trainer.Kind, id, blob string) (trainer.Source, error) {
	var s trainer.Source
	if err := json.Unmarshal([]byte(blob), &s); err != nil {
		return trainer.Source{}, fmt.Errorf("%w: %s %s: %w", ErrCorrupt, kind, id, err)
	}
	return s, nil
}

// Latest implements trainer.Sources.
func (a *Authoring) Latest(ctx context.Context, kind trainer.Kind, id string) (trainer.Source, error) {
	if checkSourceID(id) != nil {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", kind, id, trainer.ErrNotFound)
	}
	blob, err := latestScript.Run(ctx, a.client, []string{a.srcKey(kind, id)}).Text()
	if errors.Is(err, redis.Nil) {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", kind, id, trainer.ErrNotFound)
	}
	if err != nil {
		return trainer.Source{}, fmt.Errorf("redisstore: load %s %s: %w", kind, id, err)
	}
	return decodeSource(kind, id, blob)
}

// Version implements trainer.Sources.
func (a *Authoring) Version(ctx context.Context, kind trainer.Kind, id string, version int) (trainer.Source, error) {
	if checkSourceID(id) != nil {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", kind, id, trainer.ErrNotFound)
	}
	blob, err := a.client.HGet(ctx, a.srcKey(kind, id), "v"+strconv.Itoa(version)).Result()
	if errors.Is(err, redis.Nil) {
		return trainer.Source{}, fmt.Errorf("%s %q version %d: %w", kind, id, version, trainer.ErrNotFound)
	}
	if err != nil {
		return trainer.Source{}, fmt.Errorf("redisstore: load %s %s v%d: %w", kind, id, version, err)
	}
	return decodeSource(kind, id, blob)
}

// List implements trainer.Sources: one SMEMBERS, then one pipelined script
// call per id.
func (a *Authoring) List(ctx context.Context, kind trainer.Kind) ([]trainer.Source, error) {
	ids, err := a.client.SMembers(ctx, a.idsKey(kind)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list %s ids: %w", kind, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// Make sure the script is cached so the pipelined EVALSHAs succeed.
	if err := latestScript.Load(ctx, a.client).Err(); err != nil {
		return nil, fmt.Errorf("redisstore: load script: %w", err)
	}
	cmds := make([]*redis.Cmd, len(ids))
	_, err = a.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = latestScript.EvalSha(ctx, p, []string{a.srcKey(kind, id)})
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: list %s: %w", kind, err)
	}
	out := make([]trainer.Source, 0, len(ids))
	for i, c := range cmds {
		blob, err := c.Text()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: list %s %s: %w", kind, ids[i], err)
		}
		s, err := decodeSource(kind, ids[i], blob)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// reviewScript appends one review entry if the session exists, giving the
// list the session's remaining lifetime.
//
// KEYS: session meta, review list. ARGV: entry JSON.
var reviewScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`)

type reviewEntry struct {
	Comment  *trainer.Comment  `json:"comment,omitempty"`
	Override *trainer.Override `json:"override,omitempty"`
}

func (a *Authoring) reviewKeys(session string) []string {
	base := a.prefix + "sess:{" + session + "}:"
	return []string{base + "meta", base + "review"}
}

func (a *Authoring) addReview(ctx context.Context, session string, e reviewEntry) error {
	if err := checkID(session); err != nil {
		return fmt.Errorf("review %q: %w", session, trainer.ErrNotFound)
	}
	blob, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redisstore: encode review: %w", err)
	}
	n, err := reviewScript.Run(ctx, a.client, a.reviewKeys(session), blob).Int()
	if err != nil {
		return fmt.Errorf("redisstore: review session %s: %w", session, err)
	}
	if n == 0 {
		return fmt.Errorf("review session %s: %w", session, trainer.ErrNotFound)
	}
	return nil
}

// AddComment implements trainer.Reviews.
func (a *Authoring) AddComment(ctx context.Context, session string, c trainer.Comment) error {
	return a.addReview(ctx, session, reviewEntry{Comment: &c})
}

// AddOverride implements trainer.Reviews.
func (a *Authoring) AddOverride(ctx context.Context, session string, o trainer.Override) error {
	return a.addReview(ctx, session, reviewEntry{Override: &o})
}

// Review implements trainer.Reviews.
func (a *Authoring) Review(ctx context.Context, session string) (trainer.Review, error) {
	r := trainer.Review{Comments: []trainer.Comment{}, Overrides: []trainer.Override{}}
	if checkID(session) != nil {
		return r, nil
	}
	raw, err := a.client.LRange(ctx, a.reviewKeys(session)[1], 0, -1).Result()
	if err != nil {
		return r, fmt.Errorf("redisstore: load review %s: %w", session, err)
	}
	for i, s := range raw {
		var e reviewEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return r, fmt.Errorf("%w: review %s entry %d: %w", ErrCorrupt, session, i, err)
		}
		if e.Comment != nil {
			r.Comments = append(r.Comments, *e.Comment)
		}
		if e.Override != nil {
			r.Overrides = append(r.Overrides, *e.Override)
		}
	}
	return r, nil
}

// Recent implements trainer.SessionIndex.
func (a *Authoring) Recent(ctx context.Context, from, to time.Time, limit int) ([]string, error) {
	minS, maxS := "-inf", "+inf"
	if !from.IsZero() {
		minS = strconv.FormatInt(from.UnixMilli(), 10)
	}
	if !to.IsZero() {
		maxS = strconv.FormatInt(to.UnixMilli(), 10)
	}
	ids, err := a.client.ZRevRangeByScore(ctx, indexKey(a.prefix), &redis.ZRangeBy{Min: minS, Max: maxS, Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: recent sessions: %w", err)
	}
	return ids, nil
}

// Forget implements trainer.SessionIndex.
func (a *Authoring) Forget(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	if err := a.client.ZRem(ctx, indexKey(a.prefix), members...).Err(); err != nil {
		return fmt.Errorf("redisstore: forget sessions: %w", err)
	}
	return nil
}

// Indexed wraps a session store so that every created session is also
// added to the trainers' index of recent sessions (Recent). The index
// lives in another cluster slot, so it is a separate command after the
// create; Create is not the turn path, and Append and Load pass straight
// through. Indexing is best effort: the session is stored either way and
// stays reachable by id, so a failure here must not fail the start.
func (a *Authoring) Indexed(s simulator.Store) simulator.Store { return &indexedStore{Store: s, a: a} }

type indexedStore struct {
	simulator.Store
	a *Authoring
}

func (s *indexedStore) Create(ctx context.Context, sess *simulator.Session) error {
	if err := s.Store.Create(ctx, sess); err != nil {
		return err
	}
	created := sess.Created
	if created.IsZero() {
		created = s.a.now()
	}
	_ = s.a.client.ZAdd(ctx, indexKey(s.a.prefix), redis.Z{Score: float64(created.UnixMilli()), Member: sess.ID}).Err()
	return nil
}
