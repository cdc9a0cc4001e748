package simulator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"
)

// Limits of the wire contract (PROTOCOL.md §1).
const (
	MaxTraineeRunes = 64
	MaxReplyIDRunes = 64
	MaxReplyRunes   = 2000
)

// maxCommitTries bounds retries when another writer appends to the same
// session first; each retry reloads the session.
const maxCommitTries = 5

// Deps are the collaborators of a Simulator.
type Deps struct {
	Library   Library
	Customers map[Engine]Customer
	Assessor  Assessor
	Store     Store
	Logger    *slog.Logger
	// Now and Random are injectable for deterministic tests.
	Now    func() time.Time
	Random func(b []byte)
}

// Simulator runs practice sessions: the turn loop over Customer, Assessor and
// Store. It is safe for concurrent use; per-session serialisation comes from
// the Store's optimistic check, not from locks here.
type Simulator struct {
	lib       Library
	customers map[Engine]Customer
	assessor  Assessor
	store     Store
	log       *slog.Logger
	now       func() time.Time
	random    func([]byte)
}

// New builds a Simulator.
func New(d Deps) *Simulator {
	s := &Simulator{
		lib: d.Library, customers: d.Customers, assessor: d.Assessor, store: d.Store,
		log: d.Logger, now: d.Now, random: d.Random,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = func(b []byte) { _, _ = rand.Read(b) }
	}
	return s
}

// StartRequest begins a session.
type StartRequest struct {
	Scenario string
	Trainee  string
	Mode     Mode   // empty: coach
	Engine   Engine // empty: scripted
	Lang     Lang   // empty: the scenario's
	Contest  string
	Team     string
	// Seed fixes the persona's choices (contests give everyone the same);
	// nil draws one at random.
	Seed *int64
	// Deadline ends the session by the clock; zero uses the scenario's time
	// limit, if any. Contests pass their own.
	Deadline time.Time
}

// Start creates a session and stores the customer's opening line. It returns
// the session (with its events) and the resume token, shown once.
func (s *Simulator) Start(ctx context.Context, req StartRequest) (*Session, string, error) {
	if err := validateStart(&req); err != nil {
		return nil, "", err
	}
	sc, err := s.lib.Scenario(ctx, req.Scenario)
	if err != nil {
		return nil, "", err
	}
	if req.Lang == "" {
		req.Lang = sc.Lang
	}
	if !sc.Supports(req.Lang) {
		return nil, "", Errorf(CodeInvalid,
			fmt.Sprintf("lang: scenario %q cannot be played in %q", sc.ID, req.Lang),
			fmt.Sprintf("lang:场景 %q 不支持语言 %q", sc.ID, req.Lang))
	}
	cust, err := s.customer(req.Engine)
	if err != nil {
		return nil, "", err
	}
	var seed int64
	if req.Seed != nil {
		seed = *req.Seed
	} else {
		var b [8]byte
		s.random(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	now := s.now().UTC()
	deadline := req.Deadline
	if deadline.IsZero() && sc.TimeLimitS > 0 {
		deadline = now.Add(time.Duration(sc.TimeLimitS) * time.Second)
	}
	open, err := cust.Open(ctx, OpenRequest{Scenario: sc, Lang: req.Lang, Seed: seed})
	if err != nil {
		return nil, "", fmt.Errorf("open scenario %s: %w", sc.ID, err)
	}
	token := s.randomText()
	sess := &Session{
		ID:              s.randomText(),
		TokenHash:       hashToken(token),
		ScenarioID:      sc.ID,
		ScenarioVersion: sc.Version,
		PersonaID:       sc.PersonaID,
		Trainee:         req.Trainee,
		Mode:            req.Mode,
		Engine:          req.Engine,
		Lang:            req.Lang,
		Seed:            seed,
		Contest:         req.Contest,
		Team:            req.Team,
		Created:         now,
		Deadline:        deadline.UTC(),
		State:           StateActive,
		CustomerState:   open.State,
	}
	if deadline.IsZero() {
		sess.Deadline = time.Time{}
	}
	sess.Events = []Event{customerEvent(1, 0, now, open)}
	if err := s.store.Create(ctx, sess); err != nil {
		return nil, "", storeError(err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "session started",
		slog.String("session", sess.ID), slog.String("scenario", sc.ID),
		slog.String("mode", string(sess.Mode)), slog.String("engine", string(sess.Engine)))
	return sess, token, nil
}

func validateStart(req *StartRequest) error {
	n := utf8.RuneCountInString(req.Trainee)
	if n < 1 || n > MaxTraineeRunes || !utf8.ValidString(req.Trainee) {
		return Errorf(CodeInvalid, "trainee: give a display name of 1–64 characters", "trainee:请填写 1–64 个字符的姓名")
	}
	if req.Scenario == "" {
		return Errorf(CodeInvalid, "scenario: give a scenario id", "scenario:请指定场景 id")
	}
	switch req.Mode {
	case "":
		req.Mode = ModeCoach
	case ModeCoach, ModeExam:
	default:
		return Errorf(CodeInvalid, `mode: use "coach" or "exam"`, `mode:请使用 "coach" 或 "exam"`)
	}
	switch req.Engine {
	case "":
		req.Engine = EngineScripted
	case EngineScripted, EngineLLM:
	default:
		return Errorf(CodeInvalid, `engine: use "scripted" or "llm"`, `engine:请使用 "scripted" 或 "llm"`)
	}
	if req.Lang != "" && !req.Lang.Valid() {
		return Errorf(CodeInvalid, `lang: use "zh" or "en"`, `lang:请使用 "zh" 或 "en"`)
	}
	if utf8.RuneCountInString(req.Team) > MaxTraineeRunes {
		return Errorf(CodeInvalid, "team: at most 64 characters", "team:最多 64 个字符")
	}
	return nil
}

func (s *Simulator) customer(e Engine) (Customer, error) {
	c, ok := s.customers[e]
	if !ok || c == nil {
		if e == EngineLLM {
			return nil, Errorf(CodeUnavailable,
				"engine: no language model is configured; set llm.base_url and llm.model (SPARRING_LLM_BASE_URL, SPARRING_LLM_MODEL) or play with the scripted engine",
				"engine:未配置语言模型;请设置 llm.base_url 与 llm.model(SPARRING_LLM_BASE_URL、SPARRING_LLM_MODEL),或使用 scripted 引擎")
		}
		return nil, Errorf(CodeUnavailable, fmt.Sprintf("engine: %q is not available", e), fmt.Sprintf("engine:%q 不可用", e))
	}
	return c, nil
}

// Resume loads a session for a client holding its token.
func (s *Simulator) Resume(ctx context.Context, id, token string) (*Session, error) {
	if id == "" || token == "" {
		return nil, Errorf(CodeInvalid, "session and token: both are required to resume", "session 与 token:恢复会话时两者都必须提供")
	}
	sess, err := s.store.Load(ctx, id)
	if errors.Is(err, ErrSessionNotFound) {
		// Same answer as a wrong token, so ids cannot be probed.
		return nil, errBadToken
	}
	if err != nil {
		return nil, storeError(err)
	}
	if !s.TokenMatches(sess, token) {
		return nil, errBadToken
	}
	return sess, nil
}

var errBadToken = Errorf(CodeBadToken, "token: the session does not exist or the token does not match", "token:会话不存在或令牌不匹配")

// TokenMatches compares a presented token with the session's in constant time.
func (s *Simulator) TokenMatches(sess *Session, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(sess.TokenHash)) == 1
}

// Load returns a stored session without a token check (trainer views).
func (s *Simulator) Load(ctx context.Context, id string) (*Session, error) {
	sess, err := s.store.Load(ctx, id)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, storeError(err)
	}
	return sess, err
}

// Reply processes one trainee reply. sess is the caller's copy and is brought
// up to date in place. The returned events are every event the caller has
// not seen yet, in order: normally ack, feedback (coach mode), customer and,
// when the conversation is over, end and report. A reply id already stored is
// answered with the events it produced, never processed twice.
func (s *Simulator) Reply(ctx context.Context, sess *Session, id, text string, delta func(string)) ([]Event, error) {
	if n := utf8.RuneCountInString(id); n < 1 || n > MaxReplyIDRunes {
		return nil, Errorf(CodeInvalid, "id: give a reply id of 1–64 characters", "id:请提供 1–64 个字符的回复 id")
	}
	if n := utf8.RuneCountInString(text); n < 1 || n > MaxReplyRunes || !utf8.ValidString(text) {
		return nil, Errorf(CodeInvalid, "text: a reply must be 1–2000 characters", "text:回复须为 1–2000 个字符")
	}
	seen := sess.LastSeq()
	var answered []Event
	refused := false
	evs, err := s.commit(ctx, sess, func() (Commit, error) {
		if evs, ok := sess.ReplyEvents(id); ok {
			answered = unseen(sess, seen, evs)
			return Commit{}, errAnswered
		}
		if sess.State == StateEnded {
			return Commit{}, Errorf(CodeSessionEnded, "the session has ended; start a new one", "会话已结束,请开始新的会话")
		}
		c, err := s.replyCommit(ctx, sess, id, text, delta)
		delta = nil // a retry after a concurrent write never streams a second rendition
		refused = c.ReplyID == ""
		return c, err
	})
	switch {
	case errors.Is(err, errAnswered):
		return answered, nil
	case err == nil && refused: // the clock ran out: the session ended instead
		return evs, Errorf(CodeSessionEnded, "time is up: the session ended before this reply", "时间到:会话已在此回复前结束")
	}
	return evs, err
}

// errAnswered stops a commit whose reply is already stored.
var errAnswered = errors.New("reply already answered")

var errBusy = Errorf(CodeUnavailable, "the session is busy; try again", "会话繁忙,请重试")

// commit stores what build makes, rebuilding it on the session's fresh
// state when another writer got there first. It returns the events the
// caller has not seen yet, in order.
func (s *Simulator) commit(ctx context.Context, sess *Session, build func() (Commit, error)) ([]Event, error) {
	seen := sess.LastSeq()
	for range maxCommitTries {
		c, err := build()
		if err != nil {
			return sess.After(seen), err
		}
		err = s.store.Append(ctx, sess.ID, c)
		switch {
		case err == nil:
			s.apply(sess, c)
			return sess.After(seen), nil
		case errors.Is(err, ErrConflict), errors.Is(err, ErrDuplicateReply):
			if err := s.reload(ctx, sess); err != nil {
				return nil, err
			}
		default:
			return nil, storeError(err)
		}
	}
	return nil, errBusy
}

// unseen returns the events after seen, or the reply's own events when the
// caller had already seen them (a resend after a reconnect).
func unseen(sess *Session, seen int, reply []Event) []Event {
	if reply[0].Seq > seen {
		return sess.After(seen)
	}
	return reply
}

func (s *Simulator) reload(ctx context.Context, sess *Session) error {
	fresh, err := s.store.Load(ctx, sess.ID)
	if err != nil {
		return storeError(err)
	}
	*sess = *fresh
	return nil
}

// replyCommit does the work of a turn without storing anything.
func (s *Simulator) replyCommit(ctx context.Context, sess *Session, id, text string, delta func(string)) (Commit, error) {
	sc, err := s.ScenarioOf(ctx, sess)
	if err != nil {
		return Commit{}, err
	}
	now := s.now().UTC()
	seq := sess.LastSeq()
	if !sess.Deadline.IsZero() && !now.Before(sess.Deadline) {
		// The reply came after the clock: it is refused and the session ends.
		evs, err := s.closing(ctx, sess, sc, seq, now, OutcomeTimeout, "time limit reached")
		if err != nil {
			return Commit{}, err
		}
		return Commit{After: seq, Events: evs, State: StateEnded, CustomerState: sess.CustomerState}, nil
	}
	cust, err := s.customer(sess.Engine)
	if err != nil {
		return Commit{}, err
	}
	turn := sess.Turns() + 1
	transcript := sess.Transcript()
	last, _ := sess.LastCustomer()
	delay := now.Sub(last.At)
	a, err := s.assessor.Assess(ctx, AssessRequest{
		Reply: text, Lang: sess.Lang, Customer: last.Text, Transcript: transcript,
		Previous: sess.Assessments(), Scenario: sc, Turn: turn, Delay: delay,
	})
	if err != nil {
		return Commit{}, fmt.Errorf("assess turn %d: %w", turn, err)
	}
	ct, err := cust.Respond(ctx, RespondRequest{
		Scenario: sc, Lang: sess.Lang, Seed: sess.Seed, Turn: turn, State: sess.CustomerState,
		Reply: text, Assessment: a, Transcript: transcript, Delta: delta,
	})
	if err != nil {
		return Commit{}, fmt.Errorf("customer turn %d: %w", turn, err)
	}
	evs := []Event{{Seq: seq + 1, Type: EventAck, Turn: turn, At: now, ReplyID: id, Text: text, Assessment: &a, DelayMS: delay.Milliseconds()}}
	if sess.Mode == ModeCoach {
		fb := a
		evs = append(evs, Event{Seq: seq + len(evs) + 1, Type: EventFeedback, Turn: turn, At: now, Feedback: &fb})
	}
	evs = append(evs, customerEvent(seq+len(evs)+1, turn, now, ct))
	c := Commit{After: seq, ReplyID: id, Events: evs, State: StateActive, CustomerState: ct.State}

	outcome, reason := ct.Outcome, ct.Reason
	if outcome == "" && sc.MaxTurns > 0 && turn >= sc.MaxTurns {
		outcome, reason, err = cust.Conclude(ctx, ConcludeRequest{Scenario: sc, Lang: sess.Lang, State: ct.State, Transcript: append(transcript, lineOf(evs[0]), lineOf(evs[len(evs)-1]))})
		if err != nil {
			return Commit{}, fmt.Errorf("conclude: %w", err)
		}
		if reason == "" {
			reason = "turn limit reached"
		}
	}
	if outcome != "" {
		next := *sess
		next.Events = append(append(make([]Event, 0, len(sess.Events)+len(evs)), sess.Events...), evs...)
		next.CustomerState = ct.State
		closing, err := s.closing(ctx, &next, sc, seq+len(evs), now, outcome, reason)
		if err != nil {
			return Commit{}, err
		}
		c.Events = append(c.Events, closing...)
		c.State = StateEnded
	}
	return c, nil
}

// End closes the conversation at the trainee's request. The customer engine
// decides the outcome from its state.
func (s *Simulator) End(ctx context.Context, sess *Session) ([]Event, error) {
	return s.commit(ctx, sess, func() (Commit, error) {
		if sess.State == StateEnded {
			return Commit{}, Errorf(CodeSessionEnded, "the session has already ended", "会话已经结束")
		}
		sc, err := s.ScenarioOf(ctx, sess)
		if err != nil {
			return Commit{}, err
		}
		now := s.now().UTC()
		outcome, reason := OutcomeTimeout, "time limit reached"
		if sess.Deadline.IsZero() || now.Before(sess.Deadline) {
			cust, err := s.customer(sess.Engine)
			if err != nil {
				return Commit{}, err
			}
			outcome, reason, err = cust.Conclude(ctx, ConcludeRequest{Scenario: sc, Lang: sess.Lang, State: sess.CustomerState, Transcript: sess.Transcript()})
			if err != nil {
				return Commit{}, fmt.Errorf("conclude: %w", err)
			}
		}
		return s.closingCommit(ctx, sess, sc, now, outcome, reason)
	})
}

// Abandon ends a session its trainee left (a contest closing over it).
func (s *Simulator) Abandon(ctx context.Context, sess *Session, reason string) ([]Event, error) {
	return s.commit(ctx, sess, func() (Commit, error) {
		if sess.State == StateEnded {
			return Commit{}, Errorf(CodeSessionEnded, "the session has already ended", "会话已经结束")
		}
		sc, err := s.ScenarioOf(ctx, sess)
		if err != nil {
			return Commit{}, err
		}
		return s.closingCommit(ctx, sess, sc, s.now().UTC(), OutcomeAbandoned, reason)
	})
}

// closingCommit ends the session after its last stored event.
func (s *Simulator) closingCommit(ctx context.Context, sess *Session, sc *Scenario, now time.Time, outcome Outcome, reason string) (Commit, error) {
	evs, err := s.closing(ctx, sess, sc, sess.LastSeq(), now, outcome, reason)
	if err != nil {
		return Commit{}, err
	}
	return Commit{After: sess.LastSeq(), Events: evs, State: StateEnded, CustomerState: sess.CustomerState}, nil
}

// closing builds the end and report events that follow seq.
func (s *Simulator) closing(ctx context.Context, sess *Session, sc *Scenario, seq int, now time.Time, outcome Outcome, reason string) ([]Event, error) {
	rep, err := s.assessor.Report(ctx, ReportRequest{
		Scenario: sc, Lang: sess.Lang, Mode: sess.Mode, Turns: turnRecords(sess),
		Outcome: outcome, Mood: sess.Mood(), Duration: now.Sub(sess.Created),
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return []Event{
		{Seq: seq + 1, Type: EventEnd, At: now, Outcome: outcome, Reason: reason},
		{Seq: seq + 2, Type: EventReport, At: now, Report: &rep},
	}, nil
}

// Note records a trainer-visible observation (a pasted reply, a lost tab
// focus) without changing the conversation.
func (s *Simulator) Note(ctx context.Context, sess *Session, kind, text string) ([]Event, error) {
	return s.commit(ctx, sess, func() (Commit, error) {
		e := Event{Seq: sess.LastSeq() + 1, Type: EventNote, Turn: sess.Turns(), At: s.now().UTC(), Kind: kind, Text: text}
		return Commit{After: sess.LastSeq(), Events: []Event{e}, State: sess.State, CustomerState: sess.CustomerState}, nil
	})
}

// scenarioOf returns the scenario version the session started with.
func (s *Simulator) ScenarioOf(ctx context.Context, sess *Session) (*Scenario, error) {
	if v, ok := s.lib.(VersionedLibrary); ok && sess.ScenarioVersion > 0 {
		return v.ScenarioVersion(ctx, sess.ScenarioID, sess.ScenarioVersion)
	}
	return s.lib.Scenario(ctx, sess.ScenarioID)
}

func (s *Simulator) apply(sess *Session, c Commit) {
	sess.Events = append(sess.Events, c.Events...)
	sess.State = c.State
	sess.CustomerState = c.CustomerState
}

func turnRecords(sess *Session) []TurnRecord {
	var out []TurnRecord
	if n := sess.Turns(); n > 0 {
		out = make([]TurnRecord, 0, n)
	}
	var lastCustomer string
	for _, e := range sess.Events {
		switch e.Type {
		case EventCustomer:
			lastCustomer = e.Text
		case EventAck:
			r := TurnRecord{Turn: e.Turn, Customer: lastCustomer, Reply: e.Text, Delay: time.Duration(e.DelayMS) * time.Millisecond}
			if e.Assessment != nil {
				r.Assessment = *e.Assessment
			}
			out = append(out, r)
		}
	}
	return out
}

func customerEvent(seq, turn int, at time.Time, ct CustomerTurn) Event {
	m := ct.Mood.Clamp()
	return Event{Seq: seq, Type: EventCustomer, Turn: turn, At: at, Text: ct.Text, Mood: &m, Moves: ct.Moves, Fallback: ct.Fallback}
}

func lineOf(e Event) Line {
	sp := SpeakerCustomer
	if e.Type == EventAck {
		sp = SpeakerTrainee
	}
	return Line{Turn: e.Turn, Speaker: sp, Text: e.Text, At: e.At}
}

// storeError maps a storage failure to `unavailable`, keeping domain errors.
func storeError(err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	if errors.Is(err, ErrSessionNotFound) {
		return errBadToken.Wrap(err)
	}
	return Errorf(CodeUnavailable, "storage is unavailable; try again shortly", "存储暂不可用,请稍后重试").Wrap(err)
}

// randomText returns 128 random bits as base32 text, for ids and tokens.
func (s *Simulator) randomText() string {
	var b [16]byte
	s.random(b[:])
	return idEncoding.EncodeToString(b[:])
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
