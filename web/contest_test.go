package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

const contestTrainerToken = "trainer-secret"

var contestPoorReplies = []string{
	"Calm down. It is not my problem, you should have made a backup.",
	"Whatever. There is nothing I can do.",
}

func newContestServer(t *testing.T, b redistest.Backend) *webtest.Instance {
	t.Helper()
	return webtest.Start(t, webtest.Options{Backend: b, Web: web.Config{TrainerTokens: []string{contestTrainerToken}}})
}

// contestDo sends a request and decodes a JSON answer into out (when not nil).
func contestDo(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %q", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func createContest(t *testing.T, in *webtest.Instance, spec map[string]any) web.ContestCreated {
	t.Helper()
	var out web.ContestCreated
	if code := contestDo(t, http.MethodPost, in.URL+"/api/contests", contestTrainerToken, spec, &out); code != http.StatusCreated {
		t.Fatalf("create contest: HTTP %d %+v", code, out)
	}
	return out
}

// boardFrame is a decoded `leaderboard` frame.
type boardFrame struct {
	Type     string       `json:"type"`
	Contest  string       `json:"contest"`
	EndsAt   string       `json:"ends_at"`
	Status   string       `json:"status"`
	Entries  []boardEntry `json:"entries"`
	Teams    []boardEntry `json:"teams"`
	TeamMode bool         `json:"team_mode"`
}

type boardEntry struct {
	Rank     int     `json:"rank"`
	Name     string  `json:"name"`
	Team     string  `json:"team"`
	Score    float64 `json:"score"`
	Sessions int     `json:"sessions"`
}

func asBoard(t *testing.T, f webtest.Frame) boardFrame {
	t.Helper()
	raw, _ := json.Marshal(f)
	var b boardFrame
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// play starts a contest session for name and plays replies, then ends it;
// it returns the session frame and the final report frame.
func playContest(t *testing.T, in *webtest.Instance, code, name, team string, replies []string) (session, report webtest.Frame) {
	t.Helper()
	c := webtest.Dial(t, in.WSURL, nil)
	c.Send(map[string]any{"type": "start", "contest": code, "trainee": name, "team": team})
	session = c.Expect("session")
	c.Expect("customer")
	for i, r := range replies {
		frames := c.Reply(fmt.Sprint("r", i), r)
		last := frames[len(frames)-1]
		if last.Type() == "error" {
			t.Fatalf("%s reply %d: %v", name, i, last)
		}
		for _, f := range frames {
			if f.Type() == "feedback" {
				t.Fatalf("exam mode sent feedback: %v", f)
			}
		}
		stored, err := in.Sim.Load(t.Context(), session.Str("session"))
		if err != nil {
			t.Fatal(err)
		}
		if stored.State == simulator.StateEnded { // the customer ended it on this turn
			frames := c.Until("report")
			return session, frames[len(frames)-1]
		}
	}
	c.Send(map[string]any{"type": "end"})
	frames := c.Until("report")
	return session, frames[len(frames)-1]
}

func TestContestTwoInstancesLiveLeaderboard(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		a := newContestServer(t, b)
		bi := newContestServer(t, b)
		created := createContest(t, a, map[string]any{
			"title": "Friday drill", "scenarios": []string{scenarioEN}, "duration_s": 600,
			"team_mode": true, "team_rule": "mean", "attempts": 1,
		})
		code := created.Code
		if _, ok := simulator.NormalizeContestCode(code); !ok || !strings.Contains(created.Link, "code="+code) {
			t.Fatalf("created = %+v", created)
		}

		sub := webtest.Dial(t, a.WSURL, nil)
		sub.Send(map[string]any{"type": "subscribe", "contest": strings.ToLower(code)})
		if first := asBoard(t, sub.Expect("leaderboard")); first.Contest != code || len(first.Entries) != 0 || first.Status != "running" {
			t.Fatalf("first leaderboard = %+v", first)
		}
		frames := make(chan contestTimedFrame, 64)
		go func() {
			for {
				f, err := sub.TryNext()
				if err != nil {
					close(frames)
					return
				}
				frames <- contestTimedFrame{f, time.Now()}
			}
		}()

		sessA, repA := playContest(t, a, code, "Ann Lee", "Blue", goodReplies)
		sessB, repB := playContest(t, bi, code, "Bo Chen", "Red", contestPoorReplies)
		secondDone := time.Now()
		for _, s := range []webtest.Frame{sessA, sessB} {
			if s.Str("mode") != "exam" || s.Str("contest") != code || s.Obj("scenario").Str("id") != scenarioEN || s.Str("deadline") == "" {
				t.Errorf("session frame = %v", s)
			}
		}
		// The same customer for everyone: one seed, stored on both sessions.
		sa, err := a.Sim.Load(t.Context(), sessA.Str("session"))
		if err != nil {
			t.Fatal(err)
		}
		sb, err := bi.Sim.Load(t.Context(), sessB.Str("session"))
		if err != nil {
			t.Fatal(err)
		}
		if sa.Seed != sb.Seed || sa.Events[0].Text != sb.Events[0].Text {
			t.Errorf("seeds %d vs %d, openings %q vs %q", sa.Seed, sb.Seed, sa.Events[0].Text, sb.Events[0].Text)
		}
		scoreA, scoreB := float64(repA.Obj("report").Int("total")), float64(repB.Obj("report").Int("total"))
		if scoreA <= scoreB {
			t.Fatalf("test setup: good replies scored %v, poor %v", scoreA, scoreB)
		}

		// The subscriber on A sees both finished sessions, in score order,
		// within a second of the second finish (recorded on B).
		var got boardFrame
		var at time.Time
		timeout := time.After(3 * time.Second)
	wait:
		for {
			select {
			case tf, ok := <-frames:
				if !ok {
					t.Fatal("subscriber connection closed")
				}
				if tf.f.Type() != "leaderboard" {
					continue
				}
				got, at = asBoard(t, tf.f), tf.at
				if len(got.Entries) == 2 && got.Entries[0].Sessions == 1 && got.Entries[1].Sessions == 1 {
					break wait
				}
			case <-timeout:
				t.Fatalf("no leaderboard with both finished sessions; last: %+v", got)
			}
		}
		lag := at.Sub(secondDone)
		t.Logf("leaderboard with both finishes reached the subscriber on A %s after the second finish on B", lag)
		if lag > time.Second {
			t.Errorf("leaderboard arrived %s after the second finish, want ≤ 1 s", lag)
		}
		want := []boardEntry{
			{Rank: 1, Name: "Ann Lee", Team: "Blue", Score: scoreA, Sessions: 1},
			{Rank: 2, Name: "Bo Chen", Team: "Red", Score: scoreB, Sessions: 1},
		}
		if fmt.Sprint(got.Entries) != fmt.Sprint(want) {
			t.Errorf("entries = %+v, want %+v", got.Entries, want)
		}
		if len(got.Teams) != 2 || got.Teams[0].Name != "Blue" || got.Teams[0].Score != scoreA || got.Teams[1].Score != scoreB {
			t.Errorf("teams = %+v", got.Teams)
		}
		if _, err := time.Parse(time.RFC3339, got.EndsAt); err != nil {
			t.Errorf("ends_at %q is not RFC 3339: %v", got.EndsAt, err)
		}

		// Instance B answers the same standings over HTTP, and the CSV
		// export matches the leaderboard row for row.
		var view web.ContestView
		if code := contestDo(t, http.MethodGet, bi.URL+"/api/contests/"+code, "", nil, &view); code != http.StatusOK {
			t.Fatalf("GET contest: %d", code)
		}
		if len(view.Board.Entries) != 2 || view.Board.Entries[0].Name != "Ann Lee" || view.Trainer != nil {
			t.Errorf("public view = %+v", view)
		}
		rows := getContestCSV(t, a.URL+"/api/contests/"+code+"/results.csv")
		wantRows := [][]string{{"rank", "name", "team", "score", "sessions"}}
		for _, e := range got.Entries {
			wantRows = append(wantRows, []string{strconv.Itoa(e.Rank), e.Name, e.Team, strconv.FormatFloat(e.Score, 'f', -1, 64), strconv.Itoa(e.Sessions)})
		}
		if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
			t.Errorf("CSV = %v\nwant %v", rows, wantRows)
		}
		teamRows := getContestCSV(t, a.URL+"/api/contests/"+code+"/results.csv?board=teams")
		if len(teamRows) != 3 || teamRows[1][1] != "Blue" {
			t.Errorf("teams CSV = %v", teamRows)
		}
	})
}

type contestTimedFrame struct {
	f  webtest.Frame
	at time.Time
}

func getContestCSV(t *testing.T, url string) [][]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(resp.Body)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestContestClock: a three-second contest (short, so the test waits
// little, yet long enough for one reply in time on a loaded machine). A
// reply after the end is refused and the session ends with outcome
// timeout; joining after the end (or before the start) is refused clearly,
// in the trainee's language.
func TestContestClock(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := newContestServer(t, b)
		created := createContest(t, in, map[string]any{"scenarios": []string{scenarioEN}, "duration_s": 3})
		code := created.Code
		ends, err := time.Parse(time.RFC3339, created.EndsAt)
		if err != nil {
			t.Fatal(err)
		}

		c := webtest.Dial(t, in.WSURL, nil)
		c.Send(map[string]any{"type": "start", "contest": code, "trainee": "Ann"})
		sess := c.Expect("session")
		c.Expect("customer")
		if dl, err := time.Parse(time.RFC3339, sess.Str("deadline")); err != nil || dl.After(ends) {
			t.Fatalf("session deadline %q, contest ends %s", sess.Str("deadline"), ends)
		}
		if frames := c.Reply("r0", goodReplies[0]); frames[0].Type() != "ack" {
			t.Fatalf("reply in time: %v", frames)
		}

		time.Sleep(time.Until(ends) + 50*time.Millisecond) // the contest is three seconds long

		c.Send(map[string]any{"type": "reply", "id": "late", "text": goodReplies[1]})
		end := c.Expect("end")
		if end.Str("outcome") != "timeout" {
			t.Fatalf("late reply: end = %v, want outcome timeout", end)
		}
		c.Expect("report")
		if e := c.Expect("error"); e.Str("code") != "session_ended" || e.Str("ref") != "late" {
			t.Fatalf("late reply: %v, want session_ended", e)
		}
		stored, err := in.Sim.Load(t.Context(), sess.Str("session"))
		if err != nil {
			t.Fatal(err)
		}
		if stored.Turns() != 1 {
			t.Errorf("the late reply was stored: %d turns", stored.Turns())
		}

		for _, tt := range []struct{ lang, want string }{{"en", "is over"}, {"zh", "已于"}} {
			late := webtest.Dial(t, in.WSURL, nil)
			late.Send(map[string]any{"type": "start", "contest": code, "trainee": "Late " + tt.lang, "lang": tt.lang})
			f := late.Expect("error")
			if f.Str("code") != "invalid" || !strings.Contains(f.Str("message"), tt.want) {
				t.Errorf("join after the end (%s): %v, want invalid with %q", tt.lang, f, tt.want)
			}
		}

		// The timed-out session is on the final boardFrame.
		var view web.ContestView
		contestDo(t, http.MethodGet, in.URL+"/api/contests/"+code, contestTrainerToken, nil, &view)
		if view.Status != "finished" || len(view.Board.Entries) != 1 || view.Board.Entries[0].Sessions != 1 {
			t.Errorf("final view = %+v", view.Board)
		}
		if view.Trainer == nil || len(view.Trainer.Attempts) != 1 || view.Trainer.Attempts[0].Outcome != simulator.OutcomeTimeout {
			t.Errorf("trainer view attempts = %+v", view.Trainer)
		}

		// Before the start.
		soon := createContest(t, in, map[string]any{"scenarios": []string{scenarioEN}, "duration_s": 60,
			"starts_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		early := webtest.Dial(t, in.WSURL, nil)
		early.Send(map[string]any{"type": "start", "contest": soon.Code, "trainee": "Eager"})
		if f := early.Expect("error"); f.Str("code") != "invalid" || !strings.Contains(f.Str("message"), "has not started") {
			t.Errorf("join before the start: %v", f)
		}
	})
}

// TestContestFinalizeClosesOpenSessions: a session left open past the end
// is closed by the clock and counted, without the trainee doing anything.
func TestContestFinalizeClosesOpenSessions(t *testing.T) {
	in := newContestServer(t, redistest.Mini(t))
	created := createContest(t, in, map[string]any{"scenarios": []string{scenarioEN}, "duration_s": 1})
	sub := webtest.Dial(t, in.WSURL, nil)
	sub.Send(map[string]any{"type": "subscribe", "contest": created.Code})
	sub.Expect("leaderboard")
	c := webtest.Dial(t, in.WSURL, nil)
	c.Send(map[string]any{"type": "start", "contest": created.Code, "trainee": "Idle"})
	sess := c.Expect("session")
	c.Expect("customer")
	for {
		b := asBoard(t, sub.Expect("leaderboard"))
		if b.Status == "finished" && len(b.Entries) == 1 && b.Entries[0].Sessions == 1 {
			break
		}
	}
	stored, err := in.Sim.Load(t.Context(), sess.Str("session"))
	if err != nil {
		t.Fatal(err)
	}
	if stored.State != simulator.StateEnded {
		t.Fatalf("open session not closed at the end: %s", stored.State)
	}
}

func TestContestIntegrity(t *testing.T) {
	in := newContestServer(t, redistest.Mini(t))
	created := createContest(t, in, map[string]any{"scenarios": []string{scenarioEN, scenarioZH}, "duration_s": 600, "team_mode": true, "attempts": 1})
	code := created.Code

	c1 := webtest.Dial(t, in.WSURL, nil)
	c1.Send(map[string]any{"type": "start", "contest": code, "trainee": "Ann", "team": "Blue", "scenario": scenarioEN})
	s1 := c1.Expect("session")
	c1.Expect("customer")

	expectRefusal := func(req map[string]any, want string) {
		t.Helper()
		c := webtest.Dial(t, in.WSURL, nil)
		c.Send(req)
		f := c.Expect("error")
		if f.Str("code") != "invalid" || !strings.Contains(f.Str("message"), want) {
			t.Errorf("%v: got %v, want invalid containing %q", req, f, want)
		}
	}
	start := func(extra map[string]any) map[string]any {
		m := map[string]any{"type": "start", "contest": code, "trainee": "Ann", "team": "Blue", "scenario": scenarioEN}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// One active session per trainee per scenario (the name is matched loosely).
	expectRefusal(start(map[string]any{"trainee": " ann "}), "already has a session running")
	expectRefusal(start(map[string]any{"team": "Red", "scenario": scenarioZH}), `team "Blue"`)
	expectRefusal(start(map[string]any{"team": ""}), "team contest")
	expectRefusal(start(map[string]any{"scenario": "p05-not-in-contest"}), "not part of contest")
	expectRefusal(start(map[string]any{"contest": "ZZZZZZ"}), "no contest with that join code")

	// Pasting and losing focus are recorded, not blocking.
	c1.Send(map[string]any{"type": "note", "kind": "paste", "text": "pasted 120 characters"})
	c1.Expect("note")
	c1.Send(map[string]any{"type": "note", "kind": "blur", "text": "tab hidden"})
	c1.Expect("note")
	c1.Reply("r0", goodReplies[0])
	c1.Send(map[string]any{"type": "end"})
	c1.Until("report")

	// Attempts are counted and capped.
	expectRefusal(start(nil), "used all 1 attempt")
	// Without a scenario the next one not yet played is chosen.
	c2 := webtest.Dial(t, in.WSURL, nil)
	c2.Send(map[string]any{"type": "start", "contest": code, "trainee": "Ann", "team": "Blue"})
	if s2 := c2.Expect("session"); s2.Obj("scenario").Str("id") != scenarioZH {
		t.Errorf("next scenario = %v, want %s", s2.Obj("scenario"), scenarioZH)
	}

	var view web.ContestView
	contestDo(t, http.MethodGet, in.URL+"/api/contests/"+code, contestTrainerToken, nil, &view)
	if view.Trainer == nil || len(view.Trainer.Attempts) != 1 {
		t.Fatalf("trainer view = %+v", view.Trainer)
	}
	if at := view.Trainer.Attempts[0]; at.Session != s1.Str("session") || at.Pastes != 1 || at.Blurs != 1 {
		t.Errorf("attempt = %+v, want 1 paste and 1 blur", at)
	}
}

func TestContestAPI(t *testing.T) {
	in := newContestServer(t, redistest.Mini(t))
	url := in.URL + "/api/contests"
	spec := map[string]any{"scenarios": []string{scenarioEN}, "duration_s": 60}
	if code := contestDo(t, http.MethodPost, url, "", spec, nil); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code := contestDo(t, http.MethodPost, url, "wrong", spec, nil); code != http.StatusForbidden {
		t.Errorf("wrong token: %d, want 403", code)
	}
	var bad struct {
		Errors []simulator.FieldError `json:"errors"`
	}
	if code := contestDo(t, http.MethodPost, url, contestTrainerToken, map[string]any{"scenarios": []string{"nope"}, "duration_s": 0, "mode": "coach"}, &bad); code != http.StatusUnprocessableEntity || len(bad.Errors) != 3 {
		t.Errorf("invalid spec: %d %+v, want 422 with 3 errors", code, bad)
	}
	if code := contestDo(t, http.MethodPost, url, contestTrainerToken, map[string]any{"scenarios": []string{scenarioEN}, "duration_s": 60, "colour": "red"}, &bad); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown field: %d, want 422", code)
	}

	drawn := createContest(t, in, map[string]any{"draw": map[string]any{"count": 2}, "duration_s": 60, "seed": 12345})
	if !drawn.Drawn || len(drawn.Scenarios) != 2 || drawn.Trainer == nil || drawn.Trainer.Seed != 12345 || drawn.Mode != simulator.ModeExam {
		t.Fatalf("drawn contest = %+v", drawn)
	}
	again := createContest(t, in, map[string]any{"draw": map[string]any{"count": 2}, "duration_s": 60, "seed": 12345})
	if again.Code == drawn.Code || again.Scenarios[0].ID != drawn.Scenarios[0].ID || again.Scenarios[1].ID != drawn.Scenarios[1].ID {
		t.Errorf("same seed drew %v then %v (codes %s, %s)", drawn.Scenarios, again.Scenarios, drawn.Code, again.Code)
	}
	for _, l := range []string{drawn.Links.Join, drawn.Links.Screen, drawn.Links.Results, drawn.Links.CSV} {
		if !strings.HasPrefix(l, in.URL) || !strings.Contains(l, drawn.Code) {
			t.Errorf("link %q", l)
		}
	}
	if code := contestDo(t, http.MethodGet, url+"/ZZZZZZ", "", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown code: %d, want 404", code)
	}
	if code := contestDo(t, http.MethodGet, url+"/"+drawn.Code, "wrong", nil, nil); code != http.StatusForbidden {
		t.Errorf("wrong trainer token on GET: %d, want 403", code)
	}
	var pub map[string]any
	contestDo(t, http.MethodGet, url+"/"+drawn.Code, "", nil, &pub)
	if _, leaks := pub["trainer"]; leaks {
		t.Errorf("public view shows the trainer part: %v", pub)
	}
	sub := webtest.Dial(t, in.WSURL, nil)
	sub.Send(map[string]any{"type": "subscribe", "contest": "nope"})
	if f := sub.Expect("error"); f.Str("code") != "invalid" {
		t.Errorf("subscribe to an unknown contest: %v", f)
	}
}
