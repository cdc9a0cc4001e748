package simulator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A contest is a timed practice round: everyone plays the same scenarios
// with the same seed, in exam mode, under one clock, and the standings move
// as sessions finish. This file holds the settings and the rules (who may
// start an attempt, how best attempts add up) as pure functions; storage
// and the live fan-out live behind the Contests port.

// ScoreRule says how a team's members' scores add up into the team's score.
type ScoreRule string

const (
	RuleMean ScoreRule = "mean"
	RuleSum  ScoreRule = "sum"
)

// ContestStatus is where a contest stands against the clock.
type ContestStatus string

const (
	ContestScheduled ContestStatus = "scheduled"
	ContestRunning   ContestStatus = "running"
	ContestFinished  ContestStatus = "finished"
)

// Contest limits.
const (
	MinContestDuration  = time.Second
	MaxContestDuration  = 7 * 24 * time.Hour
	MaxContestAttempts  = 20
	MaxContestScenarios = 20
	MaxContestTitle     = 120
	// ContestCodeLen is the length of a join code. 30 symbols, 6 places:
	// about 7.3e8 codes, plenty for contests that live a few days.
	ContestCodeLen = 6
)

// ContestCodeAlphabet has no 0/O, 1/I/L or U/V look-alikes, so a code read
// off a projector is typed right the first time.
const ContestCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// Contest is a contest's settings, fixed at creation.
type Contest struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	// Scenarios are the scenario ids everyone plays, in order. A random draw
	// is made once, at creation, so it is the same for everyone.
	Scenarios []string `json:"scenarios"`
	// Drawn is true when Scenarios were drawn at random from a pool.
	Drawn bool `json:"drawn"`
	// Seed fixes every persona's choices; every attempt uses it.
	Seed     int64     `json:"seed"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// TeamMode requires a team to join and keeps team standings, scored by
	// TeamRule over the members' scores.
	TeamMode bool      `json:"team_mode"`
	TeamRule ScoreRule `json:"team_rule,omitempty"`
	// Attempts is how many sessions a trainee may start per scenario.
	Attempts int    `json:"attempts"`
	Mode     Mode   `json:"mode"`   // always exam
	Engine   Engine `json:"engine"` // the same customer engine for everyone
	// Lang, when set, is the language every attempt is played in.
	Lang    Lang      `json:"lang,omitempty"`
	Created time.Time `json:"created"`
}

// Status returns where the contest stands at now.
func (c *Contest) Status(now time.Time) ContestStatus {
	switch {
	case now.Before(c.StartsAt):
		return ContestScheduled
	case now.Before(c.EndsAt):
		return ContestRunning
	default:
		return ContestFinished
	}
}

// Has reports whether scenario is one of the contest's.
func (c *Contest) Has(scenario string) bool { return slices.Contains(c.Scenarios, scenario) }

// CheckOpen refuses a join outside the contest's window, in both languages.
func (c *Contest) CheckOpen(now time.Time) error {
	switch c.Status(now) {
	case ContestScheduled:
		at := c.StartsAt.UTC().Format(time.RFC3339)
		wait := c.StartsAt.Sub(now).Round(time.Second)
		return Errorf(CodeInvalid,
			fmt.Sprintf("contest: %s has not started yet; it starts at %s (in %s)", c.Code, at, wait),
			fmt.Sprintf("contest:比赛 %s 尚未开始,将于 %s 开始(还有 %s)", c.Code, at, wait))
	case ContestFinished:
		at := c.EndsAt.UTC().Format(time.RFC3339)
		return Errorf(CodeInvalid,
			fmt.Sprintf("contest: %s is over; it ended at %s and no new sessions can start", c.Code, at),
			fmt.Sprintf("contest:比赛 %s 已于 %s 结束,不能再开始新的会话", c.Code, at))
	}
	return nil
}

// Deadline is when an attempt started at now must end: the contest's end,
// or the scenario's own time limit if that comes first.
func (c *Contest) Deadline(now time.Time, timeLimitS int) time.Time {
	d := c.EndsAt
	if timeLimitS > 0 {
		if own := now.Add(time.Duration(timeLimitS) * time.Second); own.Before(d) {
			d = own
		}
	}
	return d.UTC()
}

// ContestSpec is what a trainer asks for (POST /api/contests).
type ContestSpec struct {
	Title string `json:"title"`
	// Scenarios is a fixed list; or leave it empty and give Draw.
	Scenarios []string     `json:"scenarios"`
	Draw      *ContestDraw `json:"draw"`
	// DurationS is the contest's length in seconds.
	DurationS int `json:"duration_s"`
	// StartsAt is when it opens; absent means now.
	StartsAt *time.Time `json:"starts_at"`
	TeamMode bool       `json:"team_mode"`
	// TeamRule is mean (the default) or sum.
	TeamRule ScoreRule `json:"team_rule"`
	// Attempts per trainee per scenario; 0 means 1.
	Attempts int    `json:"attempts"`
	Engine   Engine `json:"engine"`
	Lang     Lang   `json:"lang"`
	// Seed fixes the personas' choices; absent draws one.
	Seed *int64 `json:"seed"`
	// Mode may be given but must be exam: contests are always exams.
	Mode Mode `json:"mode"`
}

// ContestDraw asks for Count scenarios drawn at random from From (default:
// every published scenario, drills left out, that can be played in the
// contest's language).
type ContestDraw struct {
	Count int      `json:"count"`
	From  []string `json:"from"`
}

// FieldError is one problem in a request: the JSON path and how to fix it.
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ContestErrors is a rejected ContestSpec.
type ContestErrors []FieldError

func (e ContestErrors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Path + ": " + f.Message
	}
	return "invalid contest: " + strings.Join(parts, "; ")
}

// NewContest checks spec against the scenario library and builds the
// contest. seed is used when the spec gives none; it also drives the draw.
// The result is a ContestErrors listing every problem, or the contest.
func NewContest(spec ContestSpec, lib []*Scenario, code string, seed int64, now time.Time) (*Contest, error) {
	var errs ContestErrors
	bad := func(path, format string, a ...any) { errs = append(errs, FieldError{path, fmt.Sprintf(format, a...)}) }
	now = now.UTC()
	c := &Contest{
		Code: code, Title: strings.TrimSpace(spec.Title), Seed: seed, TeamMode: spec.TeamMode,
		Attempts: spec.Attempts, Mode: ModeExam, Engine: spec.Engine, Lang: spec.Lang, Created: now,
	}
	if spec.Seed != nil {
		c.Seed = *spec.Seed
	}
	if utf8.RuneCountInString(c.Title) > MaxContestTitle || !utf8.ValidString(c.Title) {
		bad("title", "at most %d characters", MaxContestTitle)
	}
	if spec.Mode != "" && spec.Mode != ModeExam {
		bad("mode", `contests are always played in exam mode: leave mode out or give "exam"`)
	}
	switch c.Engine {
	case "":
		c.Engine = EngineScripted
	case EngineScripted, EngineLLM:
	default:
		bad("engine", `use "scripted" or "llm"`)
	}
	if c.Lang != "" && !c.Lang.Valid() {
		bad("lang", `use "zh" or "en", or leave it out to play each scenario in its own language`)
	}
	switch {
	case c.Attempts == 0:
		c.Attempts = 1
	case c.Attempts < 0 || c.Attempts > MaxContestAttempts:
		bad("attempts", "give 1 to %d attempts per trainee per scenario", MaxContestAttempts)
	}
	if spec.TeamMode {
		switch spec.TeamRule {
		case "":
			c.TeamRule = RuleMean
		case RuleMean, RuleSum:
			c.TeamRule = spec.TeamRule
		default:
			bad("team_rule", `use "mean" or "sum"`)
		}
	} else if spec.TeamRule != "" {
		bad("team_rule", "only with team_mode: true")
	}
	d := time.Duration(spec.DurationS) * time.Second
	if d < MinContestDuration || d > MaxContestDuration {
		bad("duration_s", "give the contest's length in seconds, %d to %d", int(MinContestDuration.Seconds()), int(MaxContestDuration.Seconds()))
	}
	c.StartsAt = now
	if spec.StartsAt != nil {
		c.StartsAt = spec.StartsAt.UTC()
		if c.StartsAt.Before(now.Add(-time.Minute)) {
			bad("starts_at", "is in the past; leave it out to start now")
		}
		if c.StartsAt.After(now.Add(MaxContestDuration)) {
			bad("starts_at", "is more than %d days ahead", int(MaxContestDuration.Hours()/24))
		}
	}
	c.EndsAt = c.StartsAt.Add(d)

	byID := map[string]*Scenario{}
	for _, sc := range lib {
		byID[sc.ID] = sc
	}
	playable := func(path, id string) bool {
		sc, ok := byID[id]
		if !ok {
			bad(path, "no scenario %q in the library", id)
			return false
		}
		if c.Lang != "" && !sc.Supports(c.Lang) {
			bad(path, "scenario %q cannot be played in %q", id, c.Lang)
			return false
		}
		return true
	}
	switch {
	case len(spec.Scenarios) > 0 && spec.Draw != nil:
		bad("draw", "give either scenarios (a fixed list) or draw, not both")
	case len(spec.Scenarios) > 0:
		if len(spec.Scenarios) > MaxContestScenarios {
			bad("scenarios", "at most %d scenarios", MaxContestScenarios)
		}
		seen := map[string]bool{}
		for i, id := range spec.Scenarios {
			path := fmt.Sprintf("scenarios[%d]", i)
			if seen[id] {
				bad(path, "%q is listed twice", id)
				continue
			}
			seen[id] = true
			playable(path, id)
		}
		c.Scenarios = slices.Clone(spec.Scenarios)
	case spec.Draw != nil:
		var pool []string
		if len(spec.Draw.From) > 0 {
			for i, id := range spec.Draw.From {
				if playable(fmt.Sprintf("draw.from[%d]", i), id) && !slices.Contains(pool, id) {
					pool = append(pool, id)
				}
			}
		} else {
			for _, sc := range lib {
				// Drills are short single-skill exercises, not contest material.
				if !sc.Draft && !sc.Drill && (c.Lang == "" || sc.Supports(c.Lang)) {
					pool = append(pool, sc.ID)
				}
			}
		}
		if spec.Draw.Count < 1 || spec.Draw.Count > min(len(pool), MaxContestScenarios) {
			bad("draw.count", "draw 1 to %d scenarios (the pool has %d)", min(len(pool), MaxContestScenarios), len(pool))
		} else {
			c.Scenarios = DrawScenarios(pool, spec.Draw.Count, c.Seed)
			c.Drawn = true
		}
	default:
		bad("scenarios", "list the scenario ids to play, or ask for a random draw with draw: {count: N}")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// DrawScenarios picks n ids from pool at random, deterministically for a
// given seed and pool (the pool is sorted first, so its order does not matter).
func DrawScenarios(pool []string, n int, seed int64) []string {
	ids := slices.Clone(pool)
	slices.Sort(ids)
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0de))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids[:min(n, len(ids))]
}

// NewContestCode draws a join code from random bytes (crypto/rand in
// production), without modulo bias.
func NewContestCode(random func([]byte)) string {
	const n = len(ContestCodeAlphabet)
	limit := byte(256 - 256%n)
	out := make([]byte, 0, ContestCodeLen)
	var buf [16]byte
	for len(out) < ContestCodeLen {
		random(buf[:])
		for _, b := range buf {
			if b < limit && len(out) < ContestCodeLen {
				out = append(out, ContestCodeAlphabet[int(b)%n])
			}
		}
	}
	return string(out)
}

// NormalizeContestCode accepts a code as people type it (lower case,
// spaces or dashes) and returns it canonical, or false if it cannot be one.
func NormalizeContestCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(s) != ContestCodeLen {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(ContestCodeAlphabet, r) {
			return "", false
		}
	}
	return s, true
}

// ErrContestCode is the answer for a malformed or unknown join code.
var ErrContestCode = Errorf(CodeInvalid,
	"contest: no contest with that join code; check the code and try again",
	"contest:没有该参赛码对应的比赛,请核对后重试")

// Entrant is a trainee joining a contest.
type Entrant struct {
	Name string
	Team string
}

// Key identifies the entrant within a contest: the name with case and
// spacing folded, so "Li Lei" and "li  lei" are one person.
func (e Entrant) Key() string { return strings.ToLower(normalizeSpace(e.Name)) }

// Check validates the entrant against the contest.
func (e Entrant) Check(c *Contest) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(e.Name)); n < 1 || n > MaxTraineeRunes {
		return Errorf(CodeInvalid, "trainee: give a display name of 1–64 characters", "trainee:请填写 1–64 个字符的姓名")
	}
	// Control characters never belong in a name, and \x1f separates fields
	// in storage keys.
	if strings.ContainsFunc(e.Name+e.Team, unicode.IsControl) {
		return Errorf(CodeInvalid, "trainee, team: no control characters", "trainee、team:不能包含控制字符")
	}
	team := strings.TrimSpace(e.Team)
	if c.TeamMode && team == "" {
		return Errorf(CodeInvalid, "team: this is a team contest; give your team's name", "team:这是团体赛,请填写队名")
	}
	if utf8.RuneCountInString(team) > MaxTraineeRunes {
		return Errorf(CodeInvalid, "team: at most 64 characters", "team:最多 64 个字符")
	}
	return nil
}

// Entry is what storage knows about an entrant when they ask for another
// attempt at one scenario.
type Entry struct {
	Registered bool   // they joined before
	Team       string // the team they joined with
	Attempts   int    // sessions started at this scenario
	Holder     string // the active session at this scenario, if any
}

// ErrAttemptActive is wrapped by AdmitAttempt's refusal when the entrant
// already has a session running at the scenario; ActiveHolder says which.
var ErrAttemptActive = errors.New("contest: an attempt is already active")

// activeError carries the holder of the guard.
type activeError struct {
	err    *Error
	holder string
}

func (e *activeError) Error() string   { return e.err.Error() }
func (e *activeError) Unwrap() []error { return []error{e.err, ErrAttemptActive} }

// ActiveHolder returns the holder named by an ErrAttemptActive refusal.
func ActiveHolder(err error) (string, bool) {
	if e, ok := errors.AsType[*activeError](err); ok {
		return e.holder, true
	}
	return "", false
}

// AdmitAttempt decides whether the entrant may start one more attempt at
// scenario: one active session per trainee per scenario, attempts capped,
// and the team fixed at the first join (so a trainee cannot dodge the cap
// by changing team).
func AdmitAttempt(c *Contest, e Entrant, scenario string, cur Entry) error {
	if !c.Has(scenario) {
		return Errorf(CodeInvalid,
			fmt.Sprintf("scenario: %q is not part of contest %s; play one of %s", scenario, c.Code, strings.Join(c.Scenarios, ", ")),
			fmt.Sprintf("scenario:%q 不在比赛 %s 中,可选:%s", scenario, c.Code, strings.Join(c.Scenarios, "、")))
	}
	team := strings.TrimSpace(e.Team)
	if cur.Registered && cur.Team != team {
		return Errorf(CodeInvalid,
			fmt.Sprintf("team: %q already joined this contest with team %q; join again with that team", e.Name, cur.Team),
			fmt.Sprintf("team:%q 已以队伍 %q 参赛,请使用同一队名", e.Name, cur.Team))
	}
	if cur.Holder != "" {
		return &activeError{holder: cur.Holder, err: Errorf(CodeInvalid,
			fmt.Sprintf("contest: %q already has a session running at %q; finish it (or resume it) first", e.Name, scenario),
			fmt.Sprintf("contest:%q 在场景 %q 已有进行中的会话,请先完成(或恢复)它", e.Name, scenario))}
	}
	if cur.Attempts >= c.Attempts {
		return Errorf(CodeInvalid,
			fmt.Sprintf("contest: %q has used all %d attempt(s) at %q", e.Name, c.Attempts, scenario),
			fmt.Sprintf("contest:%q 在场景 %q 的 %d 次机会已用完", e.Name, scenario, c.Attempts))
	}
	return nil
}

// NextScenario picks the scenario for a start that names none: the first
// of the contest's scenarios the entrant still has attempts at and no
// session running.
func NextScenario(c *Contest, entries map[string]Entry) string {
	for _, id := range c.Scenarios {
		if e := entries[id]; e.Holder == "" && e.Attempts < c.Attempts {
			return id
		}
	}
	return c.Scenarios[0] // AdmitAttempt explains why it cannot be played
}

// ContestResult is one finished attempt.
type ContestResult struct {
	Session  string    `json:"session"`
	Name     string    `json:"name"`
	Team     string    `json:"team"`
	Scenario string    `json:"scenario"`
	Score    int       `json:"score"` // the report's total, 0–100
	Outcome  Outcome   `json:"outcome"`
	Turns    int       `json:"turns"`
	Pastes   int       `json:"pastes"` // note events: pasted replies
	Blurs    int       `json:"blurs"`  // note events: the tab lost focus
	Ended    time.Time `json:"ended"`
}

// ResultOf reads a finished contest session's result off its log; ok is
// false while it has no report.
func ResultOf(sess *Session) (ContestResult, bool) {
	r := ContestResult{Session: sess.ID, Name: sess.Trainee, Team: sess.Team, Scenario: sess.ScenarioID}
	var rep *Report
	for _, e := range sess.Events {
		switch e.Type {
		case EventEnd:
			r.Outcome, r.Ended = e.Outcome, e.At
		case EventReport:
			rep = e.Report
		case EventNote:
			switch e.Kind {
			case "paste":
				r.Pastes++
			case "blur":
				r.Blurs++
			}
		}
	}
	if sess.State != StateEnded || rep == nil {
		return ContestResult{}, false
	}
	r.Score, r.Turns = rep.Total, rep.Turns
	return r, true
}

// Standing is one line of a leaderboard: a trainee, or a team (Name and
// Team both the team's name).
type Standing struct {
	Key      string  `json:"-"`
	Rank     int     `json:"rank"`
	Name     string  `json:"name"`
	Team     string  `json:"team"`
	Score    float64 `json:"score"`
	Sessions int     `json:"sessions"`
}

// Player is a registered entrant.
type Player struct {
	Name string `json:"name"`
	Team string `json:"team"`
}

// TraineeScore is a trainee's contest score: the sum over the contest's
// scenarios of their best attempt at each (a scenario not yet finished
// counts 0). With one scenario it is simply the best attempt.
func TraineeScore(c *Contest, best map[string]int) float64 {
	total := 0
	for _, id := range c.Scenarios {
		total += best[id]
	}
	return float64(total)
}

// TeamScore combines the members' scores by rule. Every member who joined
// counts, finished or not, so a team cannot raise its mean by letting only
// its best player finish.
func TeamScore(rule ScoreRule, members []float64) float64 {
	if len(members) == 0 {
		return 0
	}
	sum := 0.0
	for _, m := range members {
		sum += m
	}
	if rule == RuleSum {
		return round1(sum)
	}
	return round1(sum / float64(len(members)))
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// ComputeStandings turns raw contest data into both leaderboards, ranked.
// best maps trainee key → scenario → best score; sessions maps trainee key
// → finished sessions.
func ComputeStandings(c *Contest, players map[string]Player, best map[string]map[string]int, sessions map[string]int) (trainees, teams []Standing) {
	members := map[string][]float64{}
	teamSessions := map[string]int{}
	for key, p := range players {
		score := TraineeScore(c, best[key])
		trainees = append(trainees, Standing{Key: key, Name: p.Name, Team: p.Team, Score: score, Sessions: sessions[key]})
		if c.TeamMode {
			members[p.Team] = append(members[p.Team], score)
			teamSessions[p.Team] += sessions[key]
		}
	}
	for team, scores := range members {
		teams = append(teams, Standing{Key: team, Name: team, Team: team, Score: TeamScore(c.TeamRule, scores), Sessions: teamSessions[team]})
	}
	return Rank(trainees), Rank(teams)
}

// Rank orders standings best first and numbers them; equal scores share a
// rank (1, 2, 2, 4). Ties are listed by fewer sessions, then by name.
func Rank(s []Standing) []Standing {
	slices.SortStableFunc(s, func(a, b Standing) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case a.Sessions != b.Sessions:
			return a.Sessions - b.Sessions
		default:
			return strings.Compare(a.Name, b.Name)
		}
	})
	for i := range s {
		s[i].Rank = i + 1
		if i > 0 && s[i].Score == s[i-1].Score {
			s[i].Rank = s[i-1].Rank
		}
	}
	return s
}

// Standings is a contest's leaderboards at one moment.
type Standings struct {
	Trainees []Standing
	Teams    []Standing
}

// Reservation is an attempt claimed but not yet bound to its session.
type Reservation struct {
	Code     string
	Key      string // the entrant's key
	Scenario string
	Holder   string // the guard's value until Bind replaces it with the session id
}

// Contest storage errors.
var (
	ErrContestNotFound = errors.New("contest not found")
	ErrContestExists   = errors.New("contest code already taken")
)

// Contests stores contests, their entrants, attempts and standings, and
// tells every server instance when standings change.
type Contests interface {
	// CreateContest stores c; ErrContestExists when its code is taken.
	CreateContest(ctx context.Context, c *Contest) error
	// Contest loads one; ErrContestNotFound when absent.
	Contest(ctx context.Context, code string) (*Contest, error)
	// Entries returns what is known of the entrant at each scenario.
	Entries(ctx context.Context, c *Contest, key string) (map[string]Entry, error)
	// Reserve registers the entrant (first time) and claims an attempt at
	// scenario, atomically, if AdmitAttempt allows it; its refusal is
	// returned as is.
	Reserve(ctx context.Context, c *Contest, e Entrant, scenario string) (Reservation, error)
	// Bind points the reservation's guard at the session that was started.
	Bind(ctx context.Context, r Reservation, session string) error
	// Cancel gives back a reservation whose session could not start.
	Cancel(ctx context.Context, r Reservation) error
	// Release clears the guard of key at scenario if it still names holder
	// (a session that has ended, or a reservation left by a crash).
	Release(ctx context.Context, c *Contest, key, scenario, holder string) error
	// Record stores a finished attempt once (false if it was already
	// recorded), frees the guard, updates both leaderboards and notifies.
	Record(ctx context.Context, c *Contest, key string, r ContestResult) (bool, error)
	// Standings reads both leaderboards.
	Standings(ctx context.Context, c *Contest) (Standings, error)
	// Results lists every recorded attempt, oldest first.
	Results(ctx context.Context, c *Contest) ([]ContestResult, error)
	// Active lists the guards still held: trainee key → scenario → holder.
	Active(ctx context.Context, c *Contest) (map[string]map[string]string, error)
	// Watch reports (coalesced) every change of the contest's standings made
	// by any server instance, until ctx is done. The subscription is live
	// when Watch returns.
	Watch(ctx context.Context, code string) (<-chan struct{}, error)
}
