package simulator_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
)

var contestNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func contestLib() []*simulator.Scenario {
	mk := func(id string, langs ...simulator.Lang) *simulator.Scenario {
		return &simulator.Scenario{ID: id, Lang: langs[0], Langs: langs}
	}
	draft := mk("draft", simulator.LangEN)
	draft.Draft = true
	drill := mk("drill", simulator.LangEN)
	drill.Drill = true
	return []*simulator.Scenario{
		mk("a-en", simulator.LangEN), mk("b-zh", simulator.LangZH), mk("c-both", simulator.LangZH, simulator.LangEN),
		mk("d-en", simulator.LangEN), draft, drill,
	}
}

func TestNewContest(t *testing.T) {
	past := contestNow.Add(-time.Hour)
	later := contestNow.Add(time.Hour)
	seven := int64(7)
	tests := []struct {
		name    string
		spec    simulator.ContestSpec
		errPath []string // every path named in the rejection; nil = accepted
		check   func(t *testing.T, c *simulator.Contest)
	}{
		{
			name: "fixed list, defaults",
			spec: simulator.ContestSpec{Scenarios: []string{"a-en", "c-both"}, DurationS: 600},
			check: func(t *testing.T, c *simulator.Contest) {
				if c.Mode != simulator.ModeExam || c.Engine != simulator.EngineScripted || c.Attempts != 1 ||
					!c.StartsAt.Equal(contestNow) || !c.EndsAt.Equal(contestNow.Add(10*time.Minute)) || c.TeamRule != "" || c.Drawn {
					t.Errorf("contest = %+v", c)
				}
			},
		},
		{
			name: "team mode defaults to mean; later start",
			spec: simulator.ContestSpec{Scenarios: []string{"a-en"}, DurationS: 60, TeamMode: true, StartsAt: &later, Attempts: 3, Seed: &seven},
			check: func(t *testing.T, c *simulator.Contest) {
				if c.TeamRule != simulator.RuleMean || !c.StartsAt.Equal(later) || c.Attempts != 3 || c.Seed != 7 {
					t.Errorf("contest = %+v", c)
				}
			},
		},
		{
			name: "draw skips drafts, drills and other languages",
			spec: simulator.ContestSpec{Draw: &simulator.ContestDraw{Count: 3}, DurationS: 60, Lang: simulator.LangEN},
			check: func(t *testing.T, c *simulator.Contest) {
				got := slices.Sorted(slices.Values(c.Scenarios))
				if !c.Drawn || !slices.Equal(got, []string{"a-en", "c-both", "d-en"}) {
					t.Errorf("drawn %v", c.Scenarios)
				}
			},
		},
		{name: "no scenarios", spec: simulator.ContestSpec{DurationS: 60}, errPath: []string{"scenarios"}},
		{name: "both list and draw", spec: simulator.ContestSpec{Scenarios: []string{"a-en"}, Draw: &simulator.ContestDraw{Count: 1}, DurationS: 60}, errPath: []string{"draw"}},
		{name: "unknown and duplicate", spec: simulator.ContestSpec{Scenarios: []string{"a-en", "nope", "a-en"}, DurationS: 60}, errPath: []string{"scenarios[1]", "scenarios[2]"}},
		{name: "language unsupported", spec: simulator.ContestSpec{Scenarios: []string{"b-zh"}, DurationS: 60, Lang: simulator.LangEN}, errPath: []string{"scenarios[0]"}},
		{name: "draw too many", spec: simulator.ContestSpec{Draw: &simulator.ContestDraw{Count: 9}, DurationS: 60}, errPath: []string{"draw.count"}},
		{name: "coach mode refused", spec: simulator.ContestSpec{Scenarios: []string{"a-en"}, DurationS: 60, Mode: simulator.ModeCoach}, errPath: []string{"mode"}},
		{
			name:    "every bad field at once",
			spec:    simulator.ContestSpec{Scenarios: []string{"a-en"}, DurationS: 0, StartsAt: &past, Attempts: -1, Engine: "gpt", Lang: "fr", TeamRule: "max", Title: strings.Repeat("x", 200)},
			errPath: []string{"title", "engine", "lang", "attempts", "team_rule", "duration_s", "starts_at", "scenarios[0]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := simulator.NewContest(tt.spec, contestLib(), "K7MP3Q", 42, contestNow)
			if tt.errPath == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				tt.check(t, c)
				return
			}
			ferrs, ok := errors.AsType[simulator.ContestErrors](err)
			if !ok {
				t.Fatalf("err = %v, want ContestErrors", err)
			}
			var paths []string
			for _, f := range ferrs {
				paths = append(paths, f.Path)
				if f.Message == "" {
					t.Errorf("%s: empty message", f.Path)
				}
			}
			if !slices.Equal(paths, tt.errPath) {
				t.Errorf("paths = %v, want %v", paths, tt.errPath)
			}
		})
	}
}

func TestDrawScenariosIsDeterministic(t *testing.T) {
	pool := []string{"a", "b", "c", "d", "e", "f", "g"}
	first := simulator.DrawScenarios(pool, 3, 99)
	shuffled := []string{"g", "f", "e", "d", "c", "b", "a"}
	if again := simulator.DrawScenarios(shuffled, 3, 99); !slices.Equal(first, again) {
		t.Errorf("same seed, same pool: %v then %v", first, again)
	}
	differs := false
	for seed := int64(0); seed < 20; seed++ {
		if !slices.Equal(simulator.DrawScenarios(pool, 3, seed), first) {
			differs = true
		}
	}
	if !differs {
		t.Error("the draw never depends on the seed")
	}
	if len(first) != 3 || len(slices.Compact(slices.Sorted(slices.Values(first)))) != 3 {
		t.Errorf("draw %v: want 3 distinct ids", first)
	}
}

func TestContestCode(t *testing.T) {
	src := rand.NewChaCha8([32]byte{1})
	counter := func(p []byte) { _, _ = src.Read(p) }
	seen := map[string]bool{}
	for range 200 {
		code := simulator.NewContestCode(counter)
		if len(code) != simulator.ContestCodeLen {
			t.Fatalf("code %q has length %d", code, len(code))
		}
		if got, ok := simulator.NormalizeContestCode(code); !ok || got != code {
			t.Fatalf("NormalizeContestCode(%q) = %q, %v", code, got, ok)
		}
		seen[code] = true
	}
	if len(seen) != 200 {
		t.Errorf("only %d distinct codes in 200", len(seen))
	}
	for in, want := range map[string]string{"k7mp-3q": "K7MP3Q", " K7 MP3Q ": "K7MP3Q", "K7MP3O": "", "K7MP3": "", "K1MP3Q": ""} {
		got, ok := simulator.NormalizeContestCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeContestCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCheckOpen(t *testing.T) {
	c := &simulator.Contest{Code: "K7MP3Q", StartsAt: contestNow, EndsAt: contestNow.Add(2 * time.Second)}
	tests := []struct {
		at      time.Time
		status  simulator.ContestStatus
		en, zh  string
		refused bool
	}{
		{contestNow.Add(-time.Minute), simulator.ContestScheduled, "has not started yet", "尚未开始", true},
		{contestNow, simulator.ContestRunning, "", "", false},
		{contestNow.Add(1999 * time.Millisecond), simulator.ContestRunning, "", "", false},
		{contestNow.Add(2 * time.Second), simulator.ContestFinished, "is over", "已于", true},
	}
	for _, tt := range tests {
		if got := c.Status(tt.at); got != tt.status {
			t.Errorf("Status(%s) = %s, want %s", tt.at, got, tt.status)
		}
		err := c.CheckOpen(tt.at)
		if (err != nil) != tt.refused {
			t.Fatalf("CheckOpen(%s) = %v", tt.at, err)
		}
		if err == nil {
			continue
		}
		if simulator.ErrorCode(err) != simulator.CodeInvalid ||
			!strings.Contains(simulator.ErrorMessage(err, simulator.LangEN), tt.en) ||
			!strings.Contains(simulator.ErrorMessage(err, simulator.LangZH), tt.zh) {
			t.Errorf("CheckOpen(%s): %q / %q", tt.at, simulator.ErrorMessage(err, simulator.LangEN), simulator.ErrorMessage(err, simulator.LangZH))
		}
	}
	if d := c.Deadline(contestNow, 600); !d.Equal(c.EndsAt) {
		t.Errorf("Deadline with a long time limit = %s, want the contest's end", d)
	}
	if d := c.Deadline(contestNow, 1); !d.Equal(contestNow.Add(time.Second)) {
		t.Errorf("Deadline with a 1 s time limit = %s", d)
	}
}

func TestAdmitAttempt(t *testing.T) {
	c := &simulator.Contest{Code: "K7MP3Q", Scenarios: []string{"a", "b"}, Attempts: 2, TeamMode: true}
	ann := simulator.Entrant{Name: "Ann", Team: "Blue"}
	tests := []struct {
		name     string
		scenario string
		entry    simulator.Entry
		want     string // part of the English refusal; "" = admitted
		active   bool
	}{
		{"first join", "a", simulator.Entry{}, "", false},
		{"second attempt", "a", simulator.Entry{Registered: true, Team: "Blue", Attempts: 1}, "", false},
		{"not in contest", "z", simulator.Entry{}, "not part of contest", false},
		{"team changed", "a", simulator.Entry{Registered: true, Team: "Red"}, `team "Red"`, false},
		{"still playing", "a", simulator.Entry{Registered: true, Team: "Blue", Attempts: 1, Holder: "s1"}, "already has a session", true},
		{"cap reached", "a", simulator.Entry{Registered: true, Team: "Blue", Attempts: 2}, "all 2 attempt", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := simulator.AdmitAttempt(c, ann, tt.scenario, tt.entry)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(simulator.ErrorMessage(err, simulator.LangEN), tt.want) || simulator.ErrorCode(err) != simulator.CodeInvalid {
				t.Fatalf("err = %v, want an invalid refusal containing %q", err, tt.want)
			}
			if simulator.ErrorMessage(err, simulator.LangZH) == simulator.ErrorMessage(err, simulator.LangEN) {
				t.Errorf("no Chinese message: %v", err)
			}
			holder, ok := simulator.ActiveHolder(err)
			if ok != tt.active || errors.Is(err, simulator.ErrAttemptActive) != tt.active || (ok && holder != "s1") {
				t.Errorf("ActiveHolder = %q, %v; errors.Is = %v", holder, ok, errors.Is(err, simulator.ErrAttemptActive))
			}
		})
	}
	for _, e := range []simulator.Entrant{{Name: "Ann"}, {Name: "", Team: "Blue"}, {Name: "Ann\x1fB", Team: "Blue"}, {Name: "Ann", Team: "Bl\nue"}} {
		if err := e.Check(c); err == nil || simulator.ErrorCode(err) != simulator.CodeInvalid {
			t.Errorf("Check(%q) = %v, want invalid", e, err)
		}
	}
	if err := ann.Check(c); err != nil {
		t.Errorf("Check(%q) = %v", ann, err)
	}
	if got := simulator.NextScenario(c, map[string]simulator.Entry{"a": {Attempts: 2}}); got != "b" {
		t.Errorf("NextScenario = %q, want b", got)
	}
}

func TestRankAndTeamScore(t *testing.T) {
	got := simulator.Rank([]simulator.Standing{
		{Name: "Cy", Score: 50, Sessions: 1}, {Name: "Ann", Score: 80, Sessions: 2},
		{Name: "Bo", Score: 50, Sessions: 1}, {Name: "Di", Score: 50, Sessions: 3}, {Name: "Ed", Score: 10},
	})
	var names []string
	var ranks []int
	for _, s := range got {
		names, ranks = append(names, s.Name), append(ranks, s.Rank)
	}
	if !slices.Equal(names, []string{"Ann", "Bo", "Cy", "Di", "Ed"}) || !slices.Equal(ranks, []int{1, 2, 2, 2, 5}) {
		t.Errorf("ranked %v %v", names, ranks)
	}
	for _, tt := range []struct {
		rule    simulator.ScoreRule
		members []float64
		want    float64
	}{
		{simulator.RuleMean, []float64{90, 50, 0}, 46.7},
		{simulator.RuleSum, []float64{90, 50, 0}, 140},
		{simulator.RuleMean, nil, 0},
	} {
		if got := simulator.TeamScore(tt.rule, tt.members); got != tt.want {
			t.Errorf("TeamScore(%s, %v) = %v, want %v", tt.rule, tt.members, got, tt.want)
		}
	}
}

func TestResultOf(t *testing.T) {
	sess := &simulator.Session{ID: "s1", Trainee: "Ann", Team: "Blue", ScenarioID: "a", State: simulator.StateActive, Events: []simulator.Event{
		{Seq: 1, Type: simulator.EventCustomer},
		{Seq: 2, Type: simulator.EventNote, Kind: "paste"},
		{Seq: 3, Type: simulator.EventNote, Kind: "blur"},
		{Seq: 4, Type: simulator.EventNote, Kind: "blur"},
	}}
	if _, ok := simulator.ResultOf(sess); ok {
		t.Fatal("an active session has a result")
	}
	sess.State = simulator.StateEnded
	sess.Events = append(sess.Events,
		simulator.Event{Seq: 5, Type: simulator.EventEnd, Outcome: simulator.OutcomeTimeout, At: contestNow},
		simulator.Event{Seq: 6, Type: simulator.EventReport, Report: &simulator.Report{Total: 64, Turns: 3}})
	r, ok := simulator.ResultOf(sess)
	want := simulator.ContestResult{Session: "s1", Name: "Ann", Team: "Blue", Scenario: "a", Score: 64, Outcome: simulator.OutcomeTimeout, Turns: 3, Pastes: 1, Blurs: 2, Ended: contestNow}
	if !ok || r != want {
		t.Errorf("ResultOf = %+v, %v; want %+v", r, ok, want)
	}
}
