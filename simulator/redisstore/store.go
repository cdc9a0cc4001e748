// Package redisstore keeps practice sessions in Redis through go-redis's
// UniversalClient (single node, sentinel or cluster). One session is one hash
// tag, so every key of it lives in one cluster slot and a Lua script can
// touch them all atomically:
//
//	<prefix>sess:{<id>}:meta     hash: the session without its events, plus state and customer_state
//	<prefix>sess:{<id>}:log      list: event JSON; seq = 1-based position
//	<prefix>sess:{<id>}:replies  hash: reply id → seq of its ack
//
// Every write refreshes the TTL of all three keys (sliding expiry). Only
// commands Redis 7.0 has are used (no HEXPIRE, WAITAOF or FUNCTION).
package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
)

var _ simulator.Store = (*Store)(nil)

// Errors besides the simulator's. Each matches the simulator error the turn
// loop understands where one exists.
var (
	// ErrSessionMissing is returned by Append when the session's meta hash is
	// gone (expired or deleted) while a writer still holds it. It matches
	// simulator.ErrSessionNotFound.
	ErrSessionMissing = fmt.Errorf("redisstore: session missing on append: %w", simulator.ErrSessionNotFound)
	// ErrSessionExists is returned by Create when the id is taken.
	ErrSessionExists = errors.New("redisstore: session already exists")
	// ErrInvalidCommit guards against caller bugs (non-consecutive seqs, bad
	// ids); nothing is sent to Redis when it is returned.
	ErrInvalidCommit = errors.New("redisstore: invalid commit")
	// ErrCorrupt means stored data could not be read back (bad JSON, a seq
	// that does not match its position).
	ErrCorrupt = errors.New("redisstore: stored session is corrupt")
)

// Meta hash fields.
const (
	fieldSession       = "session" // JSON of the Session without Events, State and CustomerState
	fieldState         = "state"
	fieldCustomerState = "customer_state"
	fieldSchema        = "schema"
	schemaVersion      = "1"
)

// maxUnpack bounds how many values one Lua unpack() passes to a command;
// Lua's C stack holds about 8000.
const maxUnpack = 1000

// appendScript is the whole turn write: checks and writes in one round trip.
//
// KEYS: meta, log, replies
// ARGV: after, reply id ("" = none), reply seq, ttl ms (0 = none),
// set state ("1"/"0"), state, set customer state ("1"/"0"), customer state,
// then the events' JSON in seq order.
//
// Order matters: a missing session first; then a duplicate reply id, because
// a resent reply carries a stale After and must be answered from the log,
// not told to retry; only then the After check.
var appendScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing', 0}
end
if ARGV[2] ~= '' then
  local seq = redis.call('HGET', KEYS[3], ARGV[2])
  if seq then
    return {'duplicate', tonumber(seq)}
  end
end
local n = redis.call('LLEN', KEYS[2])
if n ~= tonumber(ARGV[1]) then
  return {'conflict', n}
end
local first = 9
local last = #ARGV
local i = first
while i <= last do
  local j = math.min(i + ` + strconv.Itoa(maxUnpack) + ` - 1, last)
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i, j))
  i = j + 1
end
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'state', ARGV[6])
end
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[1], 'customer_state', ARGV[8])
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
end
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  for k = 1, 3 do
    redis.call('PEXPIRE', KEYS[k], ttl)
  end
end
return {'ok', n + last - first + 1}
`)

// createScript stores a new session unless its id is taken.
//
// KEYS: meta, log, replies
// ARGV: ttl ms, session JSON, state, set customer state ("1"/"0"),
// customer state, number of reply pairs R, R × (reply id, seq), events' JSON.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'schema', '` + schemaVersion + `', 'session', ARGV[2], 'state', ARGV[3])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'customer_state', ARGV[5])
end
local r = tonumber(ARGV[6])
for k = 0, r - 1 do
  redis.call('HSET', KEYS[3], ARGV[7 + 2 * k], ARGV[8 + 2 * k])
end
local first = 7 + 2 * r
local last = #ARGV
local i = first
while i <= last do
  local j = math.min(i + ` + strconv.Itoa(maxUnpack) + ` - 1, last)
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i, j))
  i = j + 1
end
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  for k = 1, 3 do
    redis.call('PEXPIRE', KEYS[k], ttl)
  end
end
return 1
`)

// Store is the Redis implementation of simulator.Store. It is safe for
// concurrent use; all coordination between writers happens in Redis.
type Store struct {
	client redis.UniversalClient
	ttl    time.Duration
	prefix string
	// bufs holds the buffers Append encodes a commit's events into, so a
	// turn's event JSON is one reused buffer, not one allocation per event
	// (issue 9, CPU per turn).
	bufs sync.Pool
}

// New returns a Store on client. ttl is the sliding expiry of a session
// (refreshed by every write; 0 or less keeps sessions forever). prefix is
// put in front of every key; it must not contain '{' or '}', which would
// move the hash tag out of the session id.
//
// The scripts are not loaded here: the first call of each runs EVALSHA,
// gets NOSCRIPT and falls back to EVAL, which caches the script in Redis,
// so from then on every call is one EVALSHA. Call Preload at start-up to
// make even the first call one round trip.
func New(client redis.UniversalClient, ttl time.Duration, prefix string) *Store {
	return &Store{client: client, ttl: ttl, prefix: prefix}
}

// Preload loads the Lua scripts into Redis (SCRIPT LOAD; on a cluster every
// master), so the first Create and Append are one round trip too.
func (s *Store) Preload(ctx context.Context) error {
	for _, sc := range []*redis.Script{appendScript, createScript} {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("redisstore: load script: %w", err)
		}
	}
	return nil
}

// keys returns the meta, log and replies keys of session id.
func (s *Store) keys(id string) []string {
	base := s.prefix + "sess:{" + id + "}:"
	return []string{base + "meta", base + "log", base + "replies"}
}

// Keys returns the Redis keys of session id (meta, log, replies), for tools
// and tests that inspect storage.
func (s *Store) Keys(id string) (meta, log, replies string) {
	k := s.keys(id)
	return k[0], k[1], k[2]
}

func (s *Store) ttlMillis() int64 {
	if s.ttl <= 0 {
		return 0
	}
	return max(1, s.ttl.Milliseconds())
}

func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty session id", ErrInvalidCommit)
	}
	// A brace would end the hash tag early or start another; ids are
	// generated by the server, so this only catches bugs.
	if strings.ContainsAny(id, "{}") {
		return fmt.Errorf("%w: session id %q contains a brace", ErrInvalidCommit, id)
	}
	return nil
}

// checkSeqs makes sure events carry seqs after+1, after+2, … in order.
func checkSeqs(events []simulator.Event, after int) error {
	for i, e := range events {
		if want := after + 1 + i; e.Seq != want {
			return fmt.Errorf("%w: event %d (%s) has seq %d, want %d", ErrInvalidCommit, i, e.Type, e.Seq, want)
		}
	}
	return nil
}

func encodeEvents(args []any, events []simulator.Event) ([]any, error) {
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encode event %d: %w", e.Seq, err)
		}
		args = append(args, b)
	}
	return args, nil
}

// maxPooledBuffer keeps a commit with a huge report from pinning its
// buffer in the pool.
const maxPooledBuffer = 64 << 10

// appendEvents is encodeEvents into one buffer: the events' JSON (exactly
// json.Marshal's bytes) end to end in buf, each arg a slice of it. The
// slices are valid until buf is reused, i.e. for the script call.
func appendEvents(args []any, buf *bytes.Buffer, events []simulator.Event) ([]any, error) {
	buf.Reset()
	enc := json.NewEncoder(buf)
	ends := make([]int, 0, 8)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return nil, fmt.Errorf("redisstore: encode event %d: %w", e.Seq, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline; Marshal has none
		ends = append(ends, buf.Len())
	}
	b, start := buf.Bytes(), 0
	for _, end := range ends {
		args = append(args, b[start:end:end])
		start = end
	}
	return args, nil
}

// Create stores a new session with its first events. It fails with
// ErrSessionExists when the id is taken. Ack events among them have their
// reply ids recorded, as Append would.
func (s *Store) Create(ctx context.Context, sess *simulator.Session) error {
	if sess == nil {
		return fmt.Errorf("%w: nil session", ErrInvalidCommit)
	}
	if err := checkID(sess.ID); err != nil {
		return err
	}
	if err := checkSeqs(sess.Events, 0); err != nil {
		return err
	}
	meta := *sess
	meta.Events, meta.CustomerState, meta.State = nil, nil, ""
	blob, err := json.Marshal(&meta)
	if err != nil {
		return fmt.Errorf("redisstore: encode session %s: %w", sess.ID, err)
	}
	state := sess.State
	if state == "" {
		state = simulator.StateActive
	}
	setCS := "0"
	if sess.CustomerState != nil {
		setCS = "1"
	}
	var replies []any
	for _, e := range sess.Events {
		if e.Type == simulator.EventAck && e.ReplyID != "" {
			replies = append(replies, e.ReplyID, e.Seq)
		}
	}
	args := make([]any, 0, 6+len(replies)+len(sess.Events))
	args = append(args, s.ttlMillis(), blob, string(state), setCS, sess.CustomerState, len(replies)/2)
	args = append(args, replies...)
	if args, err = encodeEvents(args, sess.Events); err != nil {
		return err
	}
	n, err := createScript.Run(ctx, s.client, s.keys(sess.ID), args...).Int()
	if err != nil {
		return fmt.Errorf("redisstore: create session %s: %w", sess.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("create session %s: %w", sess.ID, ErrSessionExists)
	}
	// The trainers' recent-session index is kept by Authoring.Indexed, which
	// wraps this store; Create itself stays one round trip.
	return nil
}

// Load returns the session with its whole event log in one round trip
// (MULTI/EXEC, so meta and log are read at the same instant), or
// simulator.ErrSessionNotFound.
func (s *Store) Load(ctx context.Context, id string) (*simulator.Session, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("load session: %w: %w", simulator.ErrSessionNotFound, err)
	}
	k := s.keys(id)
	var metaCmd *redis.MapStringStringCmd
	var logCmd *redis.StringSliceCmd
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		metaCmd = p.HGetAll(ctx, k[0])
		logCmd = p.LRange(ctx, k[1], 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: load session %s: %w", id, err)
	}
	meta := metaCmd.Val()
	if len(meta) == 0 {
		return nil, fmt.Errorf("load session %s: %w", id, simulator.ErrSessionNotFound)
	}
	blob, ok := meta[fieldSession]
	if !ok {
		return nil, fmt.Errorf("%w: session %s: meta has no %q field", ErrCorrupt, id, fieldSession)
	}
	sess := new(simulator.Session)
	if err := json.Unmarshal([]byte(blob), sess); err != nil {
		return nil, fmt.Errorf("%w: session %s: meta: %w", ErrCorrupt, id, err)
	}
	sess.State = simulator.SessionState(meta[fieldState])
	if cs, ok := meta[fieldCustomerState]; ok {
		sess.CustomerState = []byte(cs)
	}
	raw := logCmd.Val()
	sess.Events = make([]simulator.Event, len(raw))
	for i, r := range raw {
		e := &sess.Events[i]
		if err := json.Unmarshal([]byte(r), e); err != nil {
			return nil, fmt.Errorf("%w: session %s: event at position %d: %w", ErrCorrupt, id, i+1, err)
		}
		if e.Seq != i+1 {
			return nil, fmt.Errorf("%w: session %s: event at position %d has seq %d", ErrCorrupt, id, i+1, e.Seq)
		}
	}
	return sess, nil
}

// Append stores c in one round trip, all of it or nothing. It fails with
// simulator.ErrDuplicateReply when c.ReplyID was stored before (checked
// first, so a resend is recognised whatever its After), with
// simulator.ErrConflict when the log no longer ends at c.After, and with
// ErrSessionMissing (a simulator.ErrSessionNotFound) when the session has
// expired. An empty c.State or a nil c.CustomerState leaves the stored value
// unchanged.
func (s *Store) Append(ctx context.Context, id string, c simulator.Commit) error {
	if err := checkID(id); err != nil {
		return err
	}
	if c.After < 0 {
		return fmt.Errorf("%w: negative after %d", ErrInvalidCommit, c.After)
	}
	if err := checkSeqs(c.Events, c.After); err != nil {
		return err
	}
	// The reply id maps to its ack's seq, so a resend can find the events it
	// produced; a commit without that ack points at its first event.
	replySeq := c.After + 1
	for _, e := range c.Events {
		if e.Type == simulator.EventAck && e.ReplyID == c.ReplyID {
			replySeq = e.Seq
			break
		}
	}
	setState, setCS := "0", "0"
	if c.State != "" {
		setState = "1"
	}
	if c.CustomerState != nil {
		setCS = "1"
	}
	args := make([]any, 0, 8+len(c.Events))
	args = append(args, c.After, c.ReplyID, replySeq, s.ttlMillis(), setState, string(c.State), setCS, c.CustomerState)
	buf, _ := s.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			s.bufs.Put(buf)
		}
	}()
	args, err := appendEvents(args, buf, c.Events)
	if err != nil {
		return err
	}
	res, err := appendScript.Run(ctx, s.client, s.keys(id), args...).Slice()
	if err != nil {
		return fmt.Errorf("redisstore: append to session %s: %w", id, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redisstore: append to session %s: unexpected script reply %v", id, res)
	}
	status, _ := res[0].(string)
	n, _ := res[1].(int64)
	switch status {
	case "ok":
		return nil
	case "duplicate":
		return fmt.Errorf("append to session %s: reply %q stored at seq %d: %w", id, c.ReplyID, n, simulator.ErrDuplicateReply)
	case "conflict":
		return fmt.Errorf("append to session %s: log ends at %d, not %d: %w", id, n, c.After, simulator.ErrConflict)
	case "missing":
		return fmt.Errorf("append to session %s: %w", id, ErrSessionMissing)
	default:
		return fmt.Errorf("redisstore: append to session %s: unexpected script reply %v", id, res)
	}
}
