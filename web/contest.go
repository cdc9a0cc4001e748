package web

// Timed contests (issue 8): creating one (POST /api/contests), its status
// and standings (GET /api/contests/{code}), the CSV export, joining through
// the WebSocket `start`, recording finished attempts, and the live
// `leaderboard` pushes. Storage and the cross-instance nudges are behind
// simulator.Contests; the rules are simulator's pure functions.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/web/protocol"
)

// Contest tuning.
const (
	// contestResync re-reads standings now and then even without a nudge,
	// in case a pub/sub message was lost while Redis reconnected.
	contestResync = 10 * time.Second
	// staleReservation is how long a claimed-but-unbound attempt guard may
	// stand before it is taken to be left by a crashed start.
	staleReservation = 2 * time.Minute
	maxContestBody   = 16 << 10
	rfc3339Millis    = "2006-01-02T15:04:05.000Z07:00"
)

// contestService ties contests to the turn loop and fans leaderboard
// updates out to this instance's subscribers: one Redis subscription per
// contest per instance, however many screens watch it.
type contestService struct {
	store  simulator.Contests
	sim    *simulator.Simulator
	lib    simulator.Library
	log    *slog.Logger
	now    func() time.Time
	random func([]byte)

	mu    sync.Mutex
	rooms map[string]*contestRoom
}

// contestSub is one subscriber. Its mailbox holds only the newest frame:
// the hub never waits for a slow screen, and a screen that falls behind
// skips straight to the latest standings.
type contestSub struct {
	mailbox chan any
}

// post replaces whatever frame is still waiting. Called with cs.mu held.
func (s *contestSub) post(f any) {
	select {
	case <-s.mailbox:
	default:
	}
	s.mailbox <- f
}

// contestRoom is one contest's local subscribers.
type contestRoom struct {
	contest *simulator.Contest
	cancel  context.CancelFunc
	subs    map[int]*contestSub
	next    int
	last    []byte // the standings last pushed, to skip identical pushes
	// kick asks the room's goroutine for a push to everyone now (a new
	// subscriber needs its first frame). All reads and posts happen in that
	// one goroutine, so a subscriber never gets older standings after newer.
	kick chan struct{}
}

func newContestService(store simulator.Contests, sim *simulator.Simulator, lib simulator.Library, log *slog.Logger) *contestService {
	if store == nil {
		return nil
	}
	return &contestService{
		store: store, sim: sim, lib: lib, log: log.With("component", "contests"),
		now:    time.Now,
		random: func(b []byte) { _, _ = rand.Read(b) },
		rooms:  map[string]*contestRoom{},
	}
}

var errContestsOff = simulator.Errorf(simulator.CodeUnavailable,
	"contest: contests are not available on this server",
	"contest:本服务器未启用比赛功能")

// load finds a contest by a join code as typed.
func (cs *contestService) load(ctx context.Context, code string) (*simulator.Contest, error) {
	if cs == nil {
		return nil, errContestsOff
	}
	code, ok := simulator.NormalizeContestCode(code)
	if !ok {
		return nil, simulator.ErrContestCode
	}
	c, err := cs.store.Contest(ctx, code)
	if errors.Is(err, simulator.ErrContestNotFound) {
		return nil, simulator.ErrContestCode
	}
	if err != nil {
		return nil, storageError(err)
	}
	return c, nil
}

func storageError(err error) error {
	if _, ok := errors.AsType[*simulator.Error](err); ok {
		return err
	}
	return simulator.Errorf(simulator.CodeUnavailable, "storage is unavailable; try again shortly", "存储暂不可用,请稍后重试").Wrap(err)
}

// prepareStart turns a `start` that names a contest into the contest's
// start request and claims the attempt. The caller must pass the
// reservation to started once sim.Start has returned.
func (cs *contestService) prepareStart(ctx context.Context, req protocol.Request) (simulator.StartRequest, simulator.Reservation, error) {
	var none simulator.Reservation
	c, err := cs.load(ctx, req.Contest)
	if err != nil {
		return simulator.StartRequest{}, none, err
	}
	if err := c.CheckOpen(cs.now()); err != nil {
		return simulator.StartRequest{}, none, err
	}
	e := simulator.Entrant{Name: strings.TrimSpace(req.Trainee), Team: strings.TrimSpace(req.Team)}
	if err := e.Check(c); err != nil {
		return simulator.StartRequest{}, none, err
	}
	scenario := req.Scenario
	if scenario == "" {
		entries, err := cs.store.Entries(ctx, c, e.Key())
		if err != nil {
			return simulator.StartRequest{}, none, storageError(err)
		}
		scenario = simulator.NextScenario(c, entries)
	}
	if !c.Has(scenario) {
		return simulator.StartRequest{}, none, simulator.AdmitAttempt(c, e, scenario, simulator.Entry{})
	}
	sc, err := cs.lib.Scenario(ctx, scenario)
	if err != nil {
		return simulator.StartRequest{}, none, err
	}
	res, err := cs.reserve(ctx, c, e, scenario)
	if err != nil {
		return simulator.StartRequest{}, none, err
	}
	lang := simulator.Lang(req.Lang)
	if c.Lang != "" {
		lang = c.Lang
	}
	seed := c.Seed
	return simulator.StartRequest{
		Scenario: scenario, Trainee: e.Name, Mode: simulator.ModeExam, Engine: c.Engine, Lang: lang,
		Contest: c.Code, Team: e.Team, Seed: &seed, Deadline: c.Deadline(cs.now(), sc.TimeLimitS),
	}, res, nil
}

// reserve claims an attempt; a guard left by a session that has ended, or
// by a start that crashed, is cleared and the claim tried again.
func (cs *contestService) reserve(ctx context.Context, c *simulator.Contest, e simulator.Entrant, scenario string) (simulator.Reservation, error) {
	for try := 0; ; try++ {
		res, err := cs.store.Reserve(ctx, c, e, scenario)
		holder, active := simulator.ActiveHolder(err)
		if !active || try > 0 {
			if err != nil {
				return res, storageError(err)
			}
			return res, nil
		}
		if !cs.clearStale(ctx, c, e.Key(), scenario, holder) {
			return res, err
		}
	}
}

// clearStale frees a guard whose holder no longer plays, and says whether it did.
func (cs *contestService) clearStale(ctx context.Context, c *simulator.Contest, key, scenario, holder string) bool {
	if at, ok := strings.CutPrefix(holder, "reserved:"); ok {
		ms, _ := strconv.ParseInt(strings.SplitN(at, ":", 2)[0], 10, 64)
		if cs.now().Sub(time.UnixMilli(ms)) < staleReservation {
			return false
		}
		return cs.store.Release(ctx, c, key, scenario, holder) == nil
	}
	sess, err := cs.sim.Load(ctx, holder)
	switch {
	case errors.Is(err, simulator.ErrSessionNotFound):
		return cs.store.Release(ctx, c, key, scenario, holder) == nil
	case err != nil:
		return false
	case sess.State == simulator.StateEnded:
		cs.finished(ctx, sess) // its result was never recorded (a crash between end and record)
		return cs.store.Release(ctx, c, key, scenario, holder) == nil
	}
	return false
}

// started binds the reservation to the session, or gives it back when the
// start failed.
func (cs *contestService) started(ctx context.Context, res simulator.Reservation, sess *simulator.Session, startErr error) {
	if startErr != nil || sess == nil {
		if err := cs.store.Cancel(ctx, res); err != nil {
			cs.log.Warn("contest: give back an attempt", slog.String("contest", res.Code), slog.Any("error", err))
		}
		return
	}
	if err := cs.store.Bind(ctx, res, sess.ID); err != nil {
		cs.log.Warn("contest: bind attempt", slog.String("contest", res.Code), slog.String("session", sess.ID), slog.Any("error", err))
	}
}

// finished records a contest session that has ended. Safe to call more
// than once and from any instance: the store records each session once.
func (cs *contestService) finished(ctx context.Context, sess *simulator.Session) {
	if cs == nil || sess == nil || sess.Contest == "" {
		return
	}
	r, ok := simulator.ResultOf(sess)
	if !ok {
		return
	}
	c, err := cs.load(ctx, sess.Contest)
	if err != nil {
		cs.log.Warn("contest: record result", slog.String("contest", sess.Contest), slog.String("session", sess.ID), slog.Any("error", err))
		return
	}
	key := simulator.Entrant{Name: sess.Trainee}.Key()
	if _, err := cs.store.Record(ctx, c, key, r); err != nil {
		cs.log.Error("contest: record result", slog.String("contest", c.Code), slog.String("session", sess.ID), slog.Any("error", err))
	}
}

// finalize ends, by the clock, every session of a finished contest that is
// still open, and records it: the standings are complete once the contest
// is over even if some trainees never sent another reply. Any instance may
// run it; ending and recording are both safe to race.
func (cs *contestService) finalize(ctx context.Context, c *simulator.Contest) {
	if c.Status(cs.now()) != simulator.ContestFinished {
		return
	}
	active, err := cs.store.Active(ctx, c)
	if err != nil {
		cs.log.Warn("contest: finalize", slog.String("contest", c.Code), slog.Any("error", err))
		return
	}
	for key, byScenario := range active {
		for scenario, holder := range byScenario {
			if strings.HasPrefix(holder, "reserved:") {
				cs.clearStale(ctx, c, key, scenario, holder)
				continue
			}
			sess, err := cs.sim.Load(ctx, holder)
			if errors.Is(err, simulator.ErrSessionNotFound) {
				_ = cs.store.Release(ctx, c, key, scenario, holder)
				continue
			}
			if err != nil {
				continue
			}
			if sess.State == simulator.StateActive {
				// After the deadline End closes it with outcome timeout; if
				// another instance got there first End fails and the
				// reload below sees the ending it stored.
				if _, err := cs.sim.End(ctx, sess); err != nil {
					if sess, err = cs.sim.Load(ctx, holder); err != nil {
						continue
					}
				}
			}
			cs.finished(ctx, sess)
		}
	}
}

// leaderboardFrame is the `leaderboard` frame with this server's extensions.
type leaderboardFrame struct {
	protocol.Leaderboard
	Title     string   `json:"title"`
	Status    string   `json:"status"`
	StartsAt  string   `json:"starts_at"`
	Now       string   `json:"now"`
	TeamMode  bool     `json:"team_mode"`
	TeamRule  string   `json:"team_rule,omitempty"`
	Scenarios []string `json:"scenarios"`
}

func entries(s []simulator.Standing) []protocol.LeaderboardEntry {
	out := make([]protocol.LeaderboardEntry, len(s))
	for i, e := range s {
		out[i] = protocol.LeaderboardEntry{Rank: e.Rank, Name: e.Name, Team: e.Team, Score: e.Score, Sessions: e.Sessions}
	}
	return out
}

// board reads the standings as a frame.
func (cs *contestService) board(ctx context.Context, c *simulator.Contest) (leaderboardFrame, error) {
	st, err := cs.store.Standings(ctx, c)
	if err != nil {
		return leaderboardFrame{}, storageError(err)
	}
	now := cs.now()
	f := leaderboardFrame{
		Leaderboard: protocol.Leaderboard{
			Type: protocol.TypeLeaderboard, Contest: c.Code, EndsAt: c.EndsAt.UTC().Format(rfc3339Millis),
			Entries: entries(st.Trainees),
		},
		Title: c.Title, Status: string(c.Status(now)), StartsAt: c.StartsAt.UTC().Format(rfc3339Millis),
		Now: now.UTC().Format(rfc3339Millis), TeamMode: c.TeamMode, TeamRule: string(c.TeamRule), Scenarios: c.Scenarios,
	}
	if c.TeamMode {
		f.Teams = entries(st.Teams)
	}
	return f, nil
}

// subscribe attaches push to the contest's live leaderboard; the current
// standings follow at once. The returned func detaches it.
func (cs *contestService) subscribe(ctx context.Context, code string, push func(any)) (func(), error) {
	c, err := cs.load(ctx, code)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	room := cs.rooms[c.Code]
	if room == nil {
		rctx, cancel := context.WithCancel(context.Background())
		// The subscription is confirmed before anyone reads the standings,
		// so no change can fall between the first read and the first nudge.
		nudges, err := cs.store.Watch(rctx, c.Code)
		if err != nil {
			cancel()
			cs.mu.Unlock()
			return nil, storageError(err)
		}
		room = &contestRoom{contest: c, cancel: cancel, subs: map[int]*contestSub{}, kick: make(chan struct{}, 1)}
		cs.rooms[c.Code] = room
		go cs.run(rctx, room, nudges)
	}
	id := room.next
	room.next++
	sub := &contestSub{mailbox: make(chan any, 1)}
	room.subs[id] = sub
	room.last = nil // the next refresh pushes to everyone, the newcomer included
	select {
	case room.kick <- struct{}{}:
	default:
	}
	cs.mu.Unlock()
	go func() {
		for f := range sub.mailbox {
			push(f)
		}
	}()

	unsub := func() {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if _, ok := room.subs[id]; !ok {
			return
		}
		delete(room.subs, id)
		close(sub.mailbox)
		if len(room.subs) == 0 && cs.rooms[c.Code] == room {
			delete(cs.rooms, c.Code)
			room.cancel()
		}
	}
	return unsub, nil
}

// run refreshes a room on every nudge, on a slow timer, and once when the
// contest ends (after closing the sessions the clock has ended).
func (cs *contestService) run(ctx context.Context, room *contestRoom, nudges <-chan struct{}) {
	resync := time.NewTicker(contestResync)
	defer resync.Stop()
	var atEnd <-chan time.Time
	if d := room.contest.EndsAt.Sub(cs.now()); d > -time.Minute {
		t := time.NewTimer(max(0, d) + 50*time.Millisecond)
		defer t.Stop()
		atEnd = t.C
	}
	var atStart <-chan time.Time
	if d := room.contest.StartsAt.Sub(cs.now()); d > 0 {
		t := time.NewTimer(d + 50*time.Millisecond)
		defer t.Stop()
		atStart = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-nudges:
			if !ok {
				nudges = cs.rewatch(ctx, room)
			}
		case <-resync.C:
			if nudges == nil {
				nudges = cs.rewatch(ctx, room)
			}
		case <-room.kick:
		case <-atStart:
			atStart = nil
		case <-atEnd:
			atEnd = nil
			cs.finalize(ctx, room.contest)
		}
		cs.refresh(ctx, room)
	}
}

func (cs *contestService) rewatch(ctx context.Context, room *contestRoom) <-chan struct{} {
	if ctx.Err() != nil {
		return nil
	}
	n, err := cs.store.Watch(ctx, room.contest.Code)
	if err != nil {
		cs.log.Warn("contest: resubscribe", slog.String("contest", room.contest.Code), slog.Any("error", err))
		return nil
	}
	return n
}

// refresh pushes the standings to every subscriber when they changed (or
// the contest's status did).
func (cs *contestService) refresh(ctx context.Context, room *contestRoom) {
	f, err := cs.board(ctx, room.contest)
	if err != nil {
		if ctx.Err() == nil {
			cs.log.Warn("contest: read standings", slog.String("contest", room.contest.Code), slog.Any("error", err))
		}
		return
	}
	stamp := f.Now
	f.Now = ""
	key, _ := json.Marshal(f)
	f.Now = stamp
	cs.mu.Lock()
	if bytes.Equal(key, room.last) {
		cs.mu.Unlock()
		return
	}
	room.last = key
	for _, sub := range room.subs {
		sub.post(f)
	}
	cs.mu.Unlock()
}

// ContestView is a contest as GET /api/contests/{code} shows it.
type ContestView struct {
	Code      string              `json:"code"`
	Title     string              `json:"title"`
	Status    string              `json:"status"`
	Scenarios []ContestScenario   `json:"scenarios"`
	Drawn     bool                `json:"drawn"`
	StartsAt  string              `json:"starts_at"`
	EndsAt    string              `json:"ends_at"`
	Now       string              `json:"now"`
	DurationS int                 `json:"duration_s"`
	TeamMode  bool                `json:"team_mode"`
	TeamRule  string              `json:"team_rule,omitempty"`
	Attempts  int                 `json:"attempts"`
	Mode      simulator.Mode      `json:"mode"`
	Engine    simulator.Engine    `json:"engine"`
	Lang      simulator.Lang      `json:"lang,omitempty"`
	Links     ContestLinks        `json:"links"`
	Board     leaderboardFrame    `json:"leaderboard"`
	Trainer   *ContestTrainerView `json:"trainer,omitempty"`
}

// ContestScenario names one of a contest's scenarios.
type ContestScenario struct {
	ID    string         `json:"id"`
	Title string         `json:"title"`
	Lang  simulator.Lang `json:"lang"`
}

// ContestLinks are the pages and exports of a contest, absolute.
type ContestLinks struct {
	Join    string `json:"join"`
	Screen  string `json:"screen"`
	Results string `json:"results"`
	CSV     string `json:"csv"`
}

// ContestTrainerView is what only a trainer sees: the seed and every
// attempt with its integrity notes.
type ContestTrainerView struct {
	Seed     int64                     `json:"seed"`
	Attempts []simulator.ContestResult `json:"attempts"`
}

// ContestCreated answers POST /api/contests.
type ContestCreated struct {
	Code string `json:"code"`
	// Link is the shareable join link.
	Link string `json:"link"`
	ContestView
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func contestLinks(r *http.Request, code string) ContestLinks {
	base, q := baseURL(r), "?code="+url.QueryEscape(code)
	return ContestLinks{
		Join:    base + "/contest/join.html" + q,
		Screen:  base + "/contest/" + q,
		Results: base + "/contest/results.html" + q,
		CSV:     base + "/api/contests/" + url.PathEscape(code) + "/results.csv",
	}
}

func (s *Server) contestView(r *http.Request, c *simulator.Contest, trainer bool) (ContestView, error) {
	ctx := r.Context()
	cs := s.contests
	if c.Status(cs.now()) == simulator.ContestFinished {
		cs.finalize(ctx, c)
	}
	f, err := cs.board(ctx, c)
	if err != nil {
		return ContestView{}, err
	}
	lang := simulator.Lang(r.URL.Query().Get("lang"))
	v := ContestView{
		Code: c.Code, Title: c.Title, Status: f.Status, Drawn: c.Drawn,
		StartsAt: f.StartsAt, EndsAt: f.EndsAt, Now: f.Now, DurationS: int(c.EndsAt.Sub(c.StartsAt).Seconds()),
		TeamMode: c.TeamMode, TeamRule: string(c.TeamRule), Attempts: c.Attempts, Mode: c.Mode, Engine: c.Engine,
		Lang: c.Lang, Links: contestLinks(r, c.Code), Board: f, Scenarios: []ContestScenario{},
	}
	for _, id := range c.Scenarios {
		cv := ContestScenario{ID: id, Title: id}
		if sc, err := s.lib.Scenario(ctx, id); err == nil {
			l := c.Lang
			if l == "" {
				l = sc.Lang
				if lang.Valid() && sc.Supports(lang) {
					l = lang
				}
			}
			cv.Title, cv.Lang = sc.Title.In(l), l
		}
		v.Scenarios = append(v.Scenarios, cv)
	}
	if trainer {
		res, err := cs.store.Results(ctx, c)
		if err != nil {
			return ContestView{}, storageError(err)
		}
		v.Trainer = &ContestTrainerView{Seed: c.Seed, Attempts: res}
	}
	return v, nil
}

// trainerAuth answers 401 without a bearer token and 403 with a wrong one.
func (s *Server) trainerAuth(w http.ResponseWriter, r *http.Request) bool {
	token, ok := bearer(r)
	if !ok {
		writeAPIError(w, http.StatusUnauthorized, "unauthorized", "send a trainer token as Authorization: Bearer <token>")
		return false
	}
	if !s.isTrainer(token) {
		writeAPIError(w, http.StatusForbidden, "forbidden", "this token is not a trainer token")
		return false
	}
	return true
}

func (s *Server) handleCreateContest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.trainerAuth(w, r) {
			return
		}
		cs := s.contests
		if cs == nil {
			s.apiError(w, r, errContestsOff)
			return
		}
		var spec simulator.ContestSpec
		dec := json.NewDecoder(io.LimitReader(r.Body, maxContestBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": []simulator.FieldError{{Path: "", Message: "the body must be one JSON object of contest settings: " + err.Error()}}})
			return
		}
		lib, err := s.lib.Scenarios(r.Context())
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		var seedBytes [8]byte
		cs.random(seedBytes[:])
		seed := int64(binary.LittleEndian.Uint64(seedBytes[:]) >> 1)
		var c *simulator.Contest
		for try := 0; ; try++ {
			c, err = simulator.NewContest(spec, lib, simulator.NewContestCode(cs.random), seed, cs.now())
			if ferrs, ok := errors.AsType[simulator.ContestErrors](err); ok {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": ferrs})
				return
			}
			if err == nil {
				err = cs.store.CreateContest(r.Context(), c)
			}
			if !errors.Is(err, simulator.ErrContestExists) || try >= 5 {
				break
			}
		}
		if err != nil {
			s.apiError(w, r, storageError(err))
			return
		}
		s.log.Info("contest created", slog.String("contest", c.Code), slog.Any("scenarios", c.Scenarios),
			slog.Time("starts_at", c.StartsAt), slog.Time("ends_at", c.EndsAt))
		v, err := s.contestView(r, c, true)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/contests/"+c.Code)
		writeJSON(w, http.StatusCreated, ContestCreated{Code: c.Code, Link: v.Links.Join, ContestView: v})
	})
}

func (s *Server) contestAPIError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, simulator.ErrContestCode) {
		writeAPIError(w, http.StatusNotFound, "not_found", simulator.ErrorMessage(err, simulator.LangEN))
		return
	}
	s.apiError(w, r, err)
}

func (s *Server) handleGetContest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.contests.load(r.Context(), r.PathValue("code"))
		if err != nil {
			s.contestAPIError(w, r, err)
			return
		}
		token, has := bearer(r)
		if has && !s.isTrainer(token) {
			writeAPIError(w, http.StatusForbidden, "forbidden", "this token is not a trainer token; leave Authorization out to see the public view")
			return
		}
		v, err := s.contestView(r, c, has)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// handleContestCSV exports a leaderboard (?board=teams for the teams) as
// CSV, row for row the same as the `leaderboard` frame.
func (s *Server) handleContestCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, err := s.contests.load(ctx, r.PathValue("code"))
		if err != nil {
			s.contestAPIError(w, r, err)
			return
		}
		if c.Status(s.contests.now()) == simulator.ContestFinished {
			s.contests.finalize(ctx, c)
		}
		f, err := s.contests.board(ctx, c)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		rows, name := f.Entries, "results"
		if r.URL.Query().Get("board") == "teams" {
			rows, name = f.Teams, "teams"
		}
		var buf bytes.Buffer
		buf.WriteString("\ufeff") // so spreadsheet programs read the UTF-8 names right
		cw := csv.NewWriter(&buf)
		_ = cw.Write([]string{"rank", "name", "team", "score", "sessions"})
		for _, e := range rows {
			_ = cw.Write([]string{strconv.Itoa(e.Rank), csvSafe(e.Name), csvSafe(e.Team),
				strconv.FormatFloat(e.Score, 'f', -1, 64), strconv.Itoa(e.Sessions)})
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contest-%s-%s.csv"`, c.Code, name))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	})
}

// csvSafe keeps a name from being read as a formula by a spreadsheet
// (OWASP "CSV injection"): a leading = + - @ tab or CR gets a quote mark.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
