package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/static"
	"github.com/sparring-gym/sparring/web/webtest"
)

const (
	contestToken    = "e2e-trainer"
	contestScenario = "p01-lost-manuscript-en"
)

// TestContestSpectatorLive: a trainee joins through the join page and plays
// in the browser (a paste and a lost focus are recorded); the big screen
// then shows the standings and updates live when another trainee, playing
// over a plain WebSocket, finishes; the results page and the CSV export
// show the same rows.
func TestContestSpectatorLive(t *testing.T) {
	b := newBrowser(t)
	in := webtest.Start(t, webtest.Options{
		Backend: redistest.Mini(t), Static: static.FS(),
		Web: web.Config{TrainerTokens: []string{contestToken}},
	})
	created := postContest(t, in.URL, map[string]any{
		"title": "Friday drill", "scenarios": []string{contestScenario}, "duration_s": 900, "team_mode": true,
	})
	code := created.Code

	// Join: name and team, then the trainee app starts the exam session.
	b.open(created.Links.Join)
	b.wait(`document.body.dataset.status === "running"`)
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="name"]`), "Ann Lee"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="team"]`), "Blue"),
		chromedp.Click(chromedp.CSS(`[data-testid="join"]`)),
	)
	b.waitAcrossNavigation(`location.pathname === "/" && document.body.dataset.ready === "1" && document.body.dataset.view === "chat"`)
	b.wait(`(() => { const c = document.querySelector('[data-testid="chat"]');
		return c.dataset.state === "active" && c.dataset.connected === "1" &&
			!!document.querySelector('[data-role="customer"][data-seq="1"]'); })()`)
	b.str(`(() => { const dt = new DataTransfer(); dt.setData("text/plain", "a pasted answer");
		document.querySelector("#reply").dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));
		window.dispatchEvent(new Event("blur")); return ""; })()`)
	b.reply("Hello, I'm Lin from support. I'm so sorry your manuscript went missing, I can see how upsetting this is.", 1)
	b.endSession()

	// The big screen.
	b.open(created.Links.Screen)
	b.wait(`document.body.dataset.live === "1" && document.body.dataset.status === "running"`)
	if cd := b.num(`Number(document.querySelector('[data-testid="countdown"]').dataset.remaining)`); cd < 800 || cd > 900 {
		t.Errorf("countdown shows %d s left, want about 900", cd)
	}
	if got := b.str(`document.querySelector('[data-testid="join-code"]').textContent`); got != code {
		t.Errorf("join code on screen = %q, want %q", got, code)
	}
	b.wait(`document.querySelectorAll('[data-testid="standings"] [data-testid="row"]').length === 1`)
	updates := b.num(`Number(document.body.dataset.updates)`)

	// Another trainee finishes on a plain WebSocket; the screen follows.
	c := webtest.Dial(t, in.WSURL, nil)
	c.Send(map[string]any{"type": "start", "contest": code, "trainee": "Bo Chen", "team": "Red"})
	c.Expect("session")
	c.Expect("customer")
	c.Reply("r1", "Calm down. It is not my problem.")
	c.Send(map[string]any{"type": "end"})
	c.Until("report")
	b.wait(`document.querySelectorAll('[data-testid="standings"] [data-testid="row"]').length === 2 &&
		[...document.querySelectorAll('[data-testid="standings"] [data-testid="row"]')].every((r) => r.dataset.sessions === "1")`)
	if n := b.num(`Number(document.body.dataset.updates)`); n <= updates {
		t.Errorf("data-updates %d → %d: no live push", updates, n)
	}
	b.wait(`document.querySelectorAll('[data-testid="teams"] [data-testid="row"]').length === 2`)
	screenRows := pageRows(t, b, "standings")
	b.screenshot("contest-screen", true)

	// The board matches the API, and the CSV matches the board.
	var view web.ContestView
	getContest(t, in.URL+"/api/contests/"+code, &view)
	var apiRows [][]string
	for _, e := range view.Board.Entries {
		apiRows = append(apiRows, []string{fmt.Sprint(e.Rank), e.Name, e.Team, fmt.Sprint(e.Score), fmt.Sprint(e.Sessions)})
	}
	if fmt.Sprint(screenRows) != fmt.Sprint(apiRows) {
		t.Errorf("screen rows %v\nAPI rows %v", screenRows, apiRows)
	}
	if csvRows := fetchCSV(t, view.Links.CSV); fmt.Sprint(csvRows[1:]) != fmt.Sprint(screenRows) || strings.Join(csvRows[0], ",") != "rank,name,team,score,sessions" {
		t.Errorf("CSV %v\nscreen %v", csvRows, screenRows)
	}

	// The results page shows the same standings and links the CSV.
	b.open(view.Links.Results)
	b.wait(`document.querySelectorAll('[data-testid="standings"] [data-testid="row"]').length === 2`)
	if got := pageRows(t, b, "standings"); fmt.Sprint(got) != fmt.Sprint(screenRows) {
		t.Errorf("results page rows %v, want %v", got, screenRows)
	}
	if href := b.str(`document.querySelector('[data-testid="csv"]').href`); href != view.Links.CSV {
		t.Errorf("CSV link %q, want %q", href, view.Links.CSV)
	}

	// The browser's paste and blur reached the trainer's view of the attempt.
	var trainerView web.ContestView
	getContestAs(t, in.URL+"/api/contests/"+code, contestToken, &trainerView)
	var ann *simulator.ContestResult
	for i, a := range trainerView.Trainer.Attempts {
		if a.Name == "Ann Lee" {
			ann = &trainerView.Trainer.Attempts[i]
		}
	}
	if ann == nil || ann.Pastes != 1 || ann.Blurs < 1 {
		t.Errorf("Ann's attempt = %+v, want 1 paste and a blur noted", ann)
	}
}

// TestContestJoinRefusedAfterEnd: the join page says clearly that a
// finished contest cannot be joined.
func TestContestJoinRefusedAfterEnd(t *testing.T) {
	b := newBrowser(t)
	in := webtest.Start(t, webtest.Options{
		Backend: redistest.Mini(t), Static: static.FS(),
		Web: web.Config{TrainerTokens: []string{contestToken}},
	})
	created := postContest(t, in.URL, map[string]any{"scenarios": []string{contestScenario}, "duration_s": 1})
	b.open(created.Links.Join)
	b.wait(`document.body.dataset.status === "finished"`)
	if msg := b.str(`document.querySelector('[data-testid="join-error"]').textContent`); !strings.Contains(msg, "over") {
		t.Errorf("join page after the end says %q", msg)
	}
	if !b.bool(`document.querySelector('[data-testid="join"]').disabled`) {
		t.Error("the join button is still enabled after the end")
	}
}

// waitAcrossNavigation is wait for a condition on a page the current one
// navigates to by itself: a poll whose page goes away is started again on
// the new one.
func (b *browser) waitAcrossNavigation(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "context") || time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %v", cond, err)
		}
	}
}

func (b *browser) bool(expr string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pageRows reads a leaderboard table's rows from their data-* hooks.
func pageRows(t *testing.T, b *browser, testid string) [][]string {
	t.Helper()
	raw := b.str(`JSON.stringify([...document.querySelectorAll('[data-testid="` + testid + `"] [data-testid="row"]')].map((r) =>
		[r.dataset.rank, r.dataset.name, r.dataset.team, r.dataset.score, r.dataset.sessions]))`)
	var rows [][]string
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func postContest(t *testing.T, base string, spec map[string]any) web.ContestCreated {
	t.Helper()
	body, _ := json.Marshal(spec)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/api/contests", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+contestToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out web.ContestCreated
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create contest: HTTP %d, %v", resp.StatusCode, err)
	}
	return out
}

func getContest(t *testing.T, url string, v any) { t.Helper(); getContestAs(t, url, "", v) }

func getContestAs(t *testing.T, url, token string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func fetchCSV(t *testing.T, url string) [][]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v (%q)", err, raw)
	}
	return rows
}
