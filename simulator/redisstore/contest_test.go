package redisstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

func newContest(code string, teamMode bool, rule simulator.ScoreRule, attempts int, scenarios ...string) *simulator.Contest {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &simulator.Contest{
		Code: code, Title: "Friday drill", Scenarios: scenarios, Seed: 7,
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour),
		TeamMode: teamMode, TeamRule: rule, Attempts: attempts,
		Mode: simulator.ModeExam, Engine: simulator.EngineScripted, Created: now,
	}
}

func contests(t *testing.T, b redistest.Backend) *redisstore.Contests {
	return redisstore.NewContests(b.Client(t), b.Prefix, 0)
}

func mustReserve(t *testing.T, s *redisstore.Contests, c *simulator.Contest, name, team, scenario string) simulator.Reservation {
	t.Helper()
	r, err := s.Reserve(t.Context(), c, simulator.Entrant{Name: name, Team: team}, scenario)
	if err != nil {
		t.Fatalf("Reserve(%s, %s): %v", name, scenario, err)
	}
	return r
}

// play reserves, binds and records one finished attempt.
func play(t *testing.T, s *redisstore.Contests, c *simulator.Contest, name, team, scenario, session string, score int) {
	t.Helper()
	r := mustReserve(t, s, c, name, team, scenario)
	if err := s.Bind(t.Context(), r, session); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	ok, err := s.Record(t.Context(), c, r.Key, simulator.ContestResult{
		Session: session, Name: name, Team: team, Scenario: scenario, Score: score,
		Outcome: simulator.OutcomeResolved, Ended: time.Now().UTC(),
	})
	if err != nil || !ok {
		t.Fatalf("Record(%s) = %v, %v; want true, nil", session, ok, err)
	}
}

func TestContestCreateAndLoad(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := contests(t, b)
		c := newContest("K7MP3Q", true, simulator.RuleSum, 2, "p01", "p03")
		if err := s.CreateContest(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Contest(t.Context(), "K7MP3Q")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("loaded contest differs (-want +got):\n%s", diff)
		}
		if err := s.CreateContest(t.Context(), c); !errors.Is(err, simulator.ErrContestExists) {
			t.Errorf("second create: %v, want ErrContestExists", err)
		}
		for _, code := range []string{"ZZZZZZ", "bad{}", ""} {
			if _, err := s.Contest(t.Context(), code); !errors.Is(err, simulator.ErrContestNotFound) {
				t.Errorf("Contest(%q): %v, want ErrContestNotFound", code, err)
			}
		}
		// The clock lives in Redis: the hash holds the end in milliseconds.
		ends, err := b.Client(t).HGet(t.Context(), b.Prefix+"contest:{K7MP3Q}:meta", "ends_ms").Int64()
		if err != nil || ends != c.EndsAt.UnixMilli() {
			t.Errorf("ends_ms = %d, %v; want %d", ends, err, c.EndsAt.UnixMilli())
		}
		ttl := b.Client(t).TTL(t.Context(), b.Prefix+"contest:{K7MP3Q}:meta").Val()
		if ttl < 29*24*time.Hour {
			t.Errorf("contest TTL = %s, want about retention after the end", ttl)
		}
	})
}

func TestContestAttemptGuardAndCap(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := contests(t, b)
		c := newContest("GRAD22", true, simulator.RuleMean, 2, "p01", "p03")
		if err := s.CreateContest(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		ann := simulator.Entrant{Name: "Ann Lee", Team: "Blue"}
		r := mustReserve(t, s, c, ann.Name, ann.Team, "p01")
		if err := s.Bind(ctx, r, "sess-1"); err != nil {
			t.Fatal(err)
		}

		// One active session per trainee per scenario, whatever the spelling of the name.
		_, err := s.Reserve(ctx, c, simulator.Entrant{Name: "  ann   LEE ", Team: "Blue"}, "p01")
		if holder, ok := simulator.ActiveHolder(err); !ok || holder != "sess-1" || simulator.ErrorCode(err) != simulator.CodeInvalid {
			t.Fatalf("second reserve at p01: %v (holder %q), want an invalid refusal naming sess-1", err, holder)
		}
		// Another scenario is fine at the same time.
		mustReserve(t, s, c, ann.Name, ann.Team, "p03")
		// The team is fixed at the first join.
		if _, err := s.Reserve(ctx, c, simulator.Entrant{Name: "Ann Lee", Team: "Red"}, "p01"); err == nil || simulator.ErrorCode(err) != simulator.CodeInvalid {
			t.Fatalf("team change: %v, want invalid", err)
		}

		// Recording frees the guard; the second attempt is allowed, a third is not.
		if ok, err := s.Record(ctx, c, r.Key, simulator.ContestResult{Session: "sess-1", Name: "Ann Lee", Team: "Blue", Scenario: "p01", Score: 40}); !ok || err != nil {
			t.Fatalf("Record: %v, %v", ok, err)
		}
		if ok, err := s.Record(ctx, c, r.Key, simulator.ContestResult{Session: "sess-1", Name: "Ann Lee", Team: "Blue", Scenario: "p01", Score: 99}); ok || err != nil {
			t.Fatalf("Record twice: %v, %v; want false, nil", ok, err)
		}
		r2 := mustReserve(t, s, c, ann.Name, ann.Team, "p01")
		if err := s.Cancel(ctx, r2); err != nil { // a start that failed gives the attempt back
			t.Fatal(err)
		}
		play(t, s, c, ann.Name, ann.Team, "p01", "sess-2", 70)
		_, err = s.Reserve(ctx, c, ann, "p01")
		if err == nil || simulator.ErrorCode(err) != simulator.CodeInvalid || errors.Is(err, simulator.ErrAttemptActive) {
			t.Fatalf("third attempt: %v, want the cap refusal", err)
		}
		entries, err := s.Entries(ctx, c, ann.Key())
		if err != nil {
			t.Fatal(err)
		}
		if e := entries["p01"]; e.Attempts != 2 || e.Holder != "" || !e.Registered || e.Team != "Blue" {
			t.Errorf("entry at p01 = %+v", e)
		}
		if e := entries["p03"]; e.Attempts != 1 || e.Holder == "" {
			t.Errorf("entry at p03 = %+v", e)
		}

		// A guard is released only by its holder.
		if err := s.Release(ctx, c, ann.Key(), "p03", "someone-else"); err != nil {
			t.Fatal(err)
		}
		act, err := s.Active(ctx, c)
		if err != nil || act[ann.Key()]["p03"] == "" {
			t.Fatalf("Active = %v, %v; want p03 still held", act, err)
		}
		if err := s.Release(ctx, c, ann.Key(), "p03", act[ann.Key()]["p03"]); err != nil {
			t.Fatal(err)
		}
		if act, _ := s.Active(ctx, c); len(act) != 0 {
			t.Errorf("Active after release = %v", act)
		}

		// Best attempt counts: 70, not 40; the results keep both.
		st, err := s.Standings(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Trainees) != 1 || st.Trainees[0].Score != 70 || st.Trainees[0].Sessions != 2 {
			t.Errorf("standings = %+v", st.Trainees)
		}
		res, err := s.Results(ctx, c)
		if err != nil || len(res) != 2 {
			t.Fatalf("Results = %v, %v", res, err)
		}
	})
}

func TestContestStandings(t *testing.T) {
	ignoreKey := cmpopts.IgnoreFields(simulator.Standing{}, "Key")
	for _, rule := range []simulator.ScoreRule{simulator.RuleMean, simulator.RuleSum} {
		t.Run(string(rule), func(t *testing.T) {
			redistest.Run(t, func(t *testing.T, b redistest.Backend) {
				s := contests(t, b)
				c := newContest("STAND5", true, rule, 3, "p01", "p03")
				if err := s.CreateContest(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				play(t, s, c, "Ann", "Blue", "p01", "a1", 60)
				play(t, s, c, "Ann", "Blue", "p03", "a2", 30)
				play(t, s, c, "Bo", "Blue", "p01", "b1", 50)
				play(t, s, c, "Cy", "Red", "p01", "c1", 80)
				play(t, s, c, "Cy", "Red", "p01", "c2", 70) // not better: best stays 80
				mustReserve(t, s, c, "Di", "Red", "p03")    // joined, nothing finished yet

				st, err := s.Standings(t.Context(), c)
				if err != nil {
					t.Fatal(err)
				}
				wantTrainees := []simulator.Standing{
					{Rank: 1, Name: "Ann", Team: "Blue", Score: 90, Sessions: 2},
					{Rank: 2, Name: "Cy", Team: "Red", Score: 80, Sessions: 2},
					{Rank: 3, Name: "Bo", Team: "Blue", Score: 50, Sessions: 1},
					{Rank: 4, Name: "Di", Team: "Red", Score: 0, Sessions: 0},
				}
				if diff := cmp.Diff(wantTrainees, st.Trainees, ignoreKey); diff != "" {
					t.Errorf("trainees (-want +got):\n%s", diff)
				}
				blue, red := 70.0, 40.0 // mean of (90, 50) and of (80, 0)
				if rule == simulator.RuleSum {
					blue, red = 140, 80
				}
				wantTeams := []simulator.Standing{
					{Rank: 1, Name: "Blue", Team: "Blue", Score: blue, Sessions: 3},
					{Rank: 2, Name: "Red", Team: "Red", Score: red, Sessions: 2},
				}
				if diff := cmp.Diff(wantTeams, st.Teams, ignoreKey); diff != "" {
					t.Errorf("teams (-want +got):\n%s", diff)
				}
				// The sorted sets themselves hold the scores.
				z := b.Client(t).ZRevRangeWithScores(t.Context(), b.Prefix+"contest:{STAND5}:teams", 0, -1).Val()
				if len(z) != 2 || z[0].Member != "Blue" || z[0].Score != blue {
					t.Errorf("teams zset = %v", z)
				}
			})
		})
	}
}

// TestContestConcurrentRecords finishes many sessions of one contest at
// once from separate clients: every one is counted exactly once.
func TestContestConcurrentRecords(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		c := newContest("RSH222", true, simulator.RuleSum, 1, "p01")
		if err := contests(t, b).CreateContest(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				s := contests(t, b)
				name := fmt.Sprintf("trainee-%02d", i)
				r, err := s.Reserve(t.Context(), c, simulator.Entrant{Name: name, Team: fmt.Sprint("team-", i%3)}, "p01")
				if err != nil {
					errs <- err
					return
				}
				if err := s.Bind(t.Context(), r, "s-"+name); err != nil {
					errs <- err
					return
				}
				_, err = s.Record(t.Context(), c, r.Key, simulator.ContestResult{Session: "s-" + name, Name: name, Team: fmt.Sprint("team-", i%3), Scenario: "p01", Score: i})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		st, err := contests(t, b).Standings(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Trainees) != n || st.Trainees[0].Score != n-1 || st.Trainees[n-1].Score != 0 {
			t.Fatalf("trainees = %+v", st.Trainees)
		}
		total := 0.0
		for _, tm := range st.Teams {
			total += tm.Score
		}
		if total != n*(n-1)/2 {
			t.Errorf("team sums add up to %v, want %d", total, n*(n-1)/2)
		}
	})
}

// TestContestWatch: a change made through one client reaches a watcher on
// another (as it would on another server instance).
func TestContestWatch(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		c := newContest("WATCH3", false, "", 1, "p01")
		writer, watcher := contests(t, b), contests(t, b)
		if err := writer.CreateContest(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		nudges, err := watcher.Watch(t.Context(), c.Code)
		if err != nil {
			t.Fatal(err)
		}
		play(t, writer, c, "Ann", "", "p01", "w1", 55)
		select {
		case <-nudges:
		case <-time.After(2 * time.Second):
			t.Fatal("no nudge within 2 s of a recorded result")
		}
		if _, err := watcher.Watch(t.Context(), "bad"); !errors.Is(err, simulator.ErrContestNotFound) {
			t.Errorf("Watch(bad code): %v", err)
		}
	})
}
