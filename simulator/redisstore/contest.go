package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
)

// Contests keeps contests in Redis. Every key of one contest carries the
// join code as a hash tag, so on a cluster they share a slot and one
// WATCH/MULTI transaction can read and write them together:
//
//	<prefix>contest:{<code>}:meta      hash: contest (JSON), starts_ms, ends_ms — the clock lives here
//	<prefix>contest:{<code>}:players   hash: trainee key → {name, team}
//	<prefix>contest:{<code>}:attempts  hash: trainee key \x1f scenario → sessions started
//	<prefix>contest:{<code>}:active    hash: trainee key \x1f scenario → session id (or a reservation)
//	<prefix>contest:{<code>}:best      hash: trainee key \x1f scenario → best score
//	<prefix>contest:{<code>}:sessions  hash: trainee key → sessions finished
//	<prefix>contest:{<code>}:results   hash: session id → result (JSON); recording is idempotent
//	<prefix>contest:{<code>}:lb        sorted set: trainee key by score
//	<prefix>contest:{<code>}:teams     sorted set: team by score
//
// Changes are announced with PUBLISH on <prefix>contest:{<code>}:changed;
// the message is only a nudge and every instance re-reads the sorted sets,
// so a late or reordered message can never show stale standings. Plain
// PUBLISH reaches subscribers on every node of a cluster.
type Contests struct {
	client    redis.UniversalClient
	prefix    string
	retention time.Duration
}

var _ simulator.Contests = (*Contests)(nil)

// DefaultContestRetention is how long a contest's data outlives its end.
const DefaultContestRetention = 30 * 24 * time.Hour

// watchConfirmTimeout bounds the wait for Redis to confirm a subscription.
const watchConfirmTimeout = 5 * time.Second

// maxTxTries bounds optimistic-transaction retries when many sessions of
// one contest finish at the same moment.
const maxTxTries = 64

// NewContests returns contest storage on client. retention is how long the
// data is kept after the contest ends (0: DefaultContestRetention).
func NewContests(client redis.UniversalClient, prefix string, retention time.Duration) *Contests {
	if retention <= 0 {
		retention = DefaultContestRetention
	}
	return &Contests{client: client, prefix: prefix, retention: retention}
}

type contestKeys struct {
	meta, players, attempts, active, best, sessions, results, lb, teams, channel string
}

func (s *Contests) keys(code string) contestKeys {
	b := s.prefix + "contest:{" + code + "}:"
	return contestKeys{
		meta: b + "meta", players: b + "players", attempts: b + "attempts", active: b + "active",
		best: b + "best", sessions: b + "sessions", results: b + "results", lb: b + "lb", teams: b + "teams",
		channel: b + "changed",
	}
}

func (k contestKeys) all() []string {
	return []string{k.meta, k.players, k.attempts, k.active, k.best, k.sessions, k.results, k.lb, k.teams}
}

// Channel returns the pub/sub channel of a contest (for tools and tests).
func (s *Contests) Channel(code string) string { return s.keys(code).channel }

func slot(key, scenario string) string { return key + "\x1f" + scenario }

func checkCode(code string) error {
	if _, ok := simulator.NormalizeContestCode(code); !ok {
		return fmt.Errorf("redisstore: contest code %q: %w", code, simulator.ErrContestNotFound)
	}
	return nil
}

// expireAt keeps every key of a contest until retention after its end; keys
// made later get the same deadline from the transaction that makes them.
func (s *Contests) expireAt(p redis.Pipeliner, ctx context.Context, c *simulator.Contest, keys ...string) {
	at := c.EndsAt.Add(s.retention)
	for _, k := range keys {
		p.ExpireAt(ctx, k, at)
	}
}

// CreateContest stores c unless its code is taken.
func (s *Contests) CreateContest(ctx context.Context, c *simulator.Contest) error {
	if err := checkCode(c.Code); err != nil {
		return err
	}
	blob, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode contest %s: %w", c.Code, err)
	}
	k := s.keys(c.Code)
	ok, err := s.client.HSetNX(ctx, k.meta, "contest", blob).Result()
	if err != nil {
		return fmt.Errorf("redisstore: create contest %s: %w", c.Code, err)
	}
	if !ok {
		return fmt.Errorf("create contest %s: %w", c.Code, simulator.ErrContestExists)
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.meta, "starts_ms", c.StartsAt.UnixMilli(), "ends_ms", c.EndsAt.UnixMilli())
		s.expireAt(p, ctx, c, k.meta)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: create contest %s: %w", c.Code, err)
	}
	return nil
}

// Contest loads a contest. The start and end are read from their own
// fields: they are the authority on the clock.
func (s *Contests) Contest(ctx context.Context, code string) (*simulator.Contest, error) {
	if err := checkCode(code); err != nil {
		return nil, err
	}
	m, err := s.client.HGetAll(ctx, s.keys(code).meta).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: load contest %s: %w", code, err)
	}
	blob, ok := m["contest"]
	if !ok {
		return nil, fmt.Errorf("load contest %s: %w", code, simulator.ErrContestNotFound)
	}
	c := new(simulator.Contest)
	if err := json.Unmarshal([]byte(blob), c); err != nil {
		return nil, fmt.Errorf("%w: contest %s: %w", ErrCorrupt, code, err)
	}
	for field, t := range map[string]*time.Time{"starts_ms": &c.StartsAt, "ends_ms": &c.EndsAt} {
		ms, err := strconv.ParseInt(m[field], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: contest %s: %s = %q", ErrCorrupt, code, field, m[field])
		}
		*t = time.UnixMilli(ms).UTC()
	}
	return c, nil
}

// Entries returns what is known of one trainee at each scenario.
func (s *Contests) Entries(ctx context.Context, c *simulator.Contest, key string) (map[string]simulator.Entry, error) {
	return s.entries(ctx, s.client, c, key)
}

func (s *Contests) entries(ctx context.Context, r redis.Cmdable, c *simulator.Contest, key string) (map[string]simulator.Entry, error) {
	k := s.keys(c.Code)
	fields := make([]string, len(c.Scenarios))
	for i, sc := range c.Scenarios {
		fields[i] = slot(key, sc)
	}
	var player *redis.StringCmd
	var attempts, active *redis.SliceCmd
	_, err := r.Pipelined(ctx, func(p redis.Pipeliner) error {
		player = p.HGet(ctx, k.players, key)
		attempts = p.HMGet(ctx, k.attempts, fields...)
		active = p.HMGet(ctx, k.active, fields...)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: contest %s entries: %w", c.Code, err)
	}
	var pl simulator.Player
	registered := false
	if blob, err := player.Result(); err == nil {
		if err := json.Unmarshal([]byte(blob), &pl); err != nil {
			return nil, fmt.Errorf("%w: contest %s player %q: %w", ErrCorrupt, c.Code, key, err)
		}
		registered = true
	}
	out := make(map[string]simulator.Entry, len(c.Scenarios))
	for i, sc := range c.Scenarios {
		e := simulator.Entry{Registered: registered, Team: pl.Team}
		if v, ok := attempts.Val()[i].(string); ok {
			e.Attempts, _ = strconv.Atoi(v)
		}
		if v, ok := active.Val()[i].(string); ok {
			e.Holder = v
		}
		out[sc] = e
	}
	return out, nil
}

// Reserve claims an attempt in one optimistic transaction.
func (s *Contests) Reserve(ctx context.Context, c *simulator.Contest, e simulator.Entrant, scenario string) (simulator.Reservation, error) {
	k := s.keys(c.Code)
	key := e.Key()
	res := simulator.Reservation{Code: c.Code, Key: key, Scenario: scenario, Holder: "reserved:" + strconv.FormatInt(time.Now().UnixMilli(), 10) + ":" + strconv.FormatUint(rand.Uint64(), 36)}
	var refusal error
	err := s.transact(ctx, func(tx *redis.Tx) error {
		entries, err := s.entries(ctx, tx, c, key)
		if err != nil {
			return err
		}
		cur := entries[scenario]
		if refusal = simulator.AdmitAttempt(c, e, scenario, cur); refusal != nil {
			return nil
		}
		var st *rawStandings
		if !cur.Registered {
			if st, err = s.readRaw(ctx, tx, c); err != nil {
				return err
			}
			st.players[key] = simulator.Player{Name: strings.TrimSpace(e.Name), Team: strings.TrimSpace(e.Team)}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HIncrBy(ctx, k.attempts, slot(key, scenario), 1)
			p.HSet(ctx, k.active, slot(key, scenario), res.Holder)
			if st != nil {
				blob, _ := json.Marshal(st.players[key])
				p.HSet(ctx, k.players, key, blob)
				s.writeStandings(ctx, p, c, st)
			}
			s.expireAt(p, ctx, c, k.attempts, k.active)
			return nil
		})
		return err
	}, k.players, k.attempts, k.active, k.best, k.sessions)
	if err != nil {
		return simulator.Reservation{}, fmt.Errorf("redisstore: contest %s reserve: %w", c.Code, err)
	}
	if refusal != nil {
		return simulator.Reservation{}, refusal
	}
	s.publish(ctx, c.Code)
	return res, nil
}

// casScript sets (or, with an empty new value, deletes) a hash field only
// if it still holds the expected value.
//
// KEYS: hash; ARGV: field, expected, new
var casScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
`)

// ErrGuardLost is returned by Bind when the reservation's guard was taken
// over (it looked abandoned) before the session was bound to it.
var ErrGuardLost = errors.New("redisstore: contest attempt guard was taken over")

// Bind replaces the reservation with the session id.
func (s *Contests) Bind(ctx context.Context, r simulator.Reservation, session string) error {
	n, err := casScript.Run(ctx, s.client, []string{s.keys(r.Code).active}, slot(r.Key, r.Scenario), r.Holder, session).Int()
	if err != nil {
		return fmt.Errorf("redisstore: contest %s bind: %w", r.Code, err)
	}
	if n == 0 {
		return fmt.Errorf("contest %s bind %s: %w", r.Code, session, ErrGuardLost)
	}
	return nil
}

// Cancel frees the guard and gives the attempt back.
func (s *Contests) Cancel(ctx context.Context, r simulator.Reservation) error {
	k := s.keys(r.Code)
	n, err := casScript.Run(ctx, s.client, []string{k.active}, slot(r.Key, r.Scenario), r.Holder, "").Int()
	if err != nil {
		return fmt.Errorf("redisstore: contest %s cancel: %w", r.Code, err)
	}
	if n == 1 {
		if err := s.client.HIncrBy(ctx, k.attempts, slot(r.Key, r.Scenario), -1).Err(); err != nil {
			return fmt.Errorf("redisstore: contest %s cancel: %w", r.Code, err)
		}
	}
	return nil
}

// Release clears a guard that still names holder.
func (s *Contests) Release(ctx context.Context, c *simulator.Contest, key, scenario, holder string) error {
	if err := casScript.Run(ctx, s.client, []string{s.keys(c.Code).active}, slot(key, scenario), holder, "").Err(); err != nil {
		return fmt.Errorf("redisstore: contest %s release: %w", c.Code, err)
	}
	return nil
}

// Record stores a finished attempt and moves the standings, once per session.
func (s *Contests) Record(ctx context.Context, c *simulator.Contest, key string, r simulator.ContestResult) (bool, error) {
	k := s.keys(c.Code)
	blob, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("redisstore: encode contest result: %w", err)
	}
	recorded := false
	err = s.transact(ctx, func(tx *redis.Tx) error {
		recorded = false
		seen, err := tx.HExists(ctx, k.results, r.Session).Result()
		if err != nil {
			return err
		}
		if seen {
			return nil
		}
		st, err := s.readRaw(ctx, tx, c)
		if err != nil {
			return err
		}
		holder, err := tx.HGet(ctx, k.active, slot(key, r.Scenario)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if _, ok := st.players[key]; !ok { // registration expired or was lost: keep the result anyway
			st.players[key] = simulator.Player{Name: r.Name, Team: r.Team}
		}
		if st.best[key] == nil {
			st.best[key] = map[string]int{}
		}
		improved := false
		if old, ok := st.best[key][r.Scenario]; !ok || r.Score > old {
			st.best[key][r.Scenario] = r.Score
			improved = true
		}
		st.sessions[key]++
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, k.results, r.Session, blob)
			p.HIncrBy(ctx, k.sessions, key, 1)
			if improved {
				p.HSet(ctx, k.best, slot(key, r.Scenario), r.Score)
			}
			if holder == r.Session {
				p.HDel(ctx, k.active, slot(key, r.Scenario))
			}
			pb, _ := json.Marshal(st.players[key])
			p.HSet(ctx, k.players, key, pb)
			s.writeStandings(ctx, p, c, st)
			s.expireAt(p, ctx, c, k.results, k.sessions, k.best, k.players)
			return nil
		})
		recorded = err == nil
		return err
	}, k.results, k.players, k.best, k.sessions, k.active)
	if err != nil {
		return false, fmt.Errorf("redisstore: contest %s record %s: %w", c.Code, r.Session, err)
	}
	if recorded {
		s.publish(ctx, c.Code)
	}
	return recorded, nil
}

// rawStandings is what the leaderboards are computed from.
type rawStandings struct {
	players  map[string]simulator.Player
	best     map[string]map[string]int
	sessions map[string]int
}

func (s *Contests) readRaw(ctx context.Context, r redis.Cmdable, c *simulator.Contest) (*rawStandings, error) {
	k := s.keys(c.Code)
	var players, best, sessions *redis.MapStringStringCmd
	_, err := r.Pipelined(ctx, func(p redis.Pipeliner) error {
		players = p.HGetAll(ctx, k.players)
		best = p.HGetAll(ctx, k.best)
		sessions = p.HGetAll(ctx, k.sessions)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st := &rawStandings{players: map[string]simulator.Player{}, best: map[string]map[string]int{}, sessions: map[string]int{}}
	for key, blob := range players.Val() {
		var p simulator.Player
		if err := json.Unmarshal([]byte(blob), &p); err != nil {
			return nil, fmt.Errorf("%w: contest %s player %q: %w", ErrCorrupt, c.Code, key, err)
		}
		st.players[key] = p
	}
	for field, v := range best.Val() {
		key, sc, ok := strings.Cut(field, "\x1f")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%w: contest %s best %q = %q", ErrCorrupt, c.Code, field, v)
		}
		if st.best[key] == nil {
			st.best[key] = map[string]int{}
		}
		st.best[key][sc] = n
	}
	for key, v := range sessions.Val() {
		st.sessions[key], _ = strconv.Atoi(v)
	}
	return st, nil
}

// writeStandings queues the sorted sets' new scores, computed by the
// domain's rules. Members only ever get added (a player never leaves).
func (s *Contests) writeStandings(ctx context.Context, p redis.Pipeliner, c *simulator.Contest, st *rawStandings) {
	k := s.keys(c.Code)
	trainees, teams := simulator.ComputeStandings(c, st.players, st.best, st.sessions)
	if len(trainees) > 0 {
		zs := make([]redis.Z, len(trainees))
		for i, t := range trainees {
			zs[i] = redis.Z{Score: t.Score, Member: t.Key}
		}
		p.ZAdd(ctx, k.lb, zs...)
	}
	if len(teams) > 0 {
		zs := make([]redis.Z, len(teams))
		for i, t := range teams {
			zs[i] = redis.Z{Score: t.Score, Member: t.Key}
		}
		p.ZAdd(ctx, k.teams, zs...)
	}
	s.expireAt(p, ctx, c, k.lb, k.teams)
}

// Standings reads both leaderboards from their sorted sets at one instant.
func (s *Contests) Standings(ctx context.Context, c *simulator.Contest) (simulator.Standings, error) {
	k := s.keys(c.Code)
	var lb, teams *redis.ZSliceCmd
	var players, sessions *redis.MapStringStringCmd
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		lb = p.ZRevRangeWithScores(ctx, k.lb, 0, -1)
		teams = p.ZRevRangeWithScores(ctx, k.teams, 0, -1)
		players = p.HGetAll(ctx, k.players)
		sessions = p.HGetAll(ctx, k.sessions)
		return nil
	})
	if err != nil {
		return simulator.Standings{}, fmt.Errorf("redisstore: contest %s standings: %w", c.Code, err)
	}
	out := simulator.Standings{Trainees: []simulator.Standing{}, Teams: []simulator.Standing{}}
	teamSessions := map[string]int{}
	pl := map[string]simulator.Player{}
	for key, blob := range players.Val() {
		var p simulator.Player
		if err := json.Unmarshal([]byte(blob), &p); err != nil {
			return simulator.Standings{}, fmt.Errorf("%w: contest %s player %q: %w", ErrCorrupt, c.Code, key, err)
		}
		pl[key] = p
		n, _ := strconv.Atoi(sessions.Val()[key])
		teamSessions[p.Team] += n
	}
	for _, z := range lb.Val() {
		key, _ := z.Member.(string)
		p, ok := pl[key]
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(sessions.Val()[key])
		out.Trainees = append(out.Trainees, simulator.Standing{Key: key, Name: p.Name, Team: p.Team, Score: z.Score, Sessions: n})
	}
	if c.TeamMode {
		for _, z := range teams.Val() {
			team, _ := z.Member.(string)
			out.Teams = append(out.Teams, simulator.Standing{Key: team, Name: team, Team: team, Score: z.Score, Sessions: teamSessions[team]})
		}
	}
	simulator.Rank(out.Trainees)
	simulator.Rank(out.Teams)
	return out, nil
}

// Results lists every recorded attempt, oldest first.
func (s *Contests) Results(ctx context.Context, c *simulator.Contest) ([]simulator.ContestResult, error) {
	m, err := s.client.HGetAll(ctx, s.keys(c.Code).results).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: contest %s results: %w", c.Code, err)
	}
	out := make([]simulator.ContestResult, 0, len(m))
	for id, blob := range m {
		var r simulator.ContestResult
		if err := json.Unmarshal([]byte(blob), &r); err != nil {
			return nil, fmt.Errorf("%w: contest %s result %s: %w", ErrCorrupt, c.Code, id, err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b simulator.ContestResult) int {
		if c := a.Ended.Compare(b.Ended); c != 0 {
			return c
		}
		return strings.Compare(a.Session, b.Session)
	})
	return out, nil
}

// Active lists the guards still held.
func (s *Contests) Active(ctx context.Context, c *simulator.Contest) (map[string]map[string]string, error) {
	m, err := s.client.HGetAll(ctx, s.keys(c.Code).active).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: contest %s active: %w", c.Code, err)
	}
	out := map[string]map[string]string{}
	for field, holder := range m {
		key, sc, ok := strings.Cut(field, "\x1f")
		if !ok {
			continue
		}
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		out[key][sc] = holder
	}
	return out, nil
}

// publish nudges every instance. A failed PUBLISH is not an error of the
// write that caused it: the standings are stored, and watchers also
// re-read on a timer.
func (s *Contests) publish(ctx context.Context, code string) {
	_ = s.client.Publish(ctx, s.keys(code).channel, "1").Err()
}

// Watch subscribes to a contest's change channel. Receive is called once so
// the subscription is confirmed before Watch returns: a change published
// after that is never missed. Nudges are coalesced into a channel of one.
func (s *Contests) Watch(ctx context.Context, code string) (<-chan struct{}, error) {
	if err := checkCode(code); err != nil {
		return nil, err
	}
	ps := s.client.Subscribe(ctx, s.keys(code).channel)
	confirm, cancel := context.WithTimeout(ctx, watchConfirmTimeout)
	defer cancel()
	if _, err := ps.Receive(confirm); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("redisstore: subscribe to contest %s: %w", code, err)
	}
	out := make(chan struct{}, 1)
	msgs := ps.Channel()
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default: // one pending nudge is as good as many
				}
			}
		}
	}()
	return out, nil
}

// transact runs fn in a WATCH transaction on keys, retrying with a little
// jitter while other writers of the same contest get there first.
func (s *Contests) transact(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for try := 0; try < maxTxTries; try++ {
		err := s.client.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		d := time.Duration(1+rand.IntN(1+min(try, 10)*2)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return fmt.Errorf("too much contention after %d tries: %w", maxTxTries, redis.TxFailedErr)
}
