package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestPlayFullSession picks a scenario, plays it by typing, watches the
// customer answer and the meter move, ends it and reads the scorecard.
func TestPlayFullSession(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())

	if n := b.num(`document.querySelectorAll('[data-testid="scenario-card"]').length`); n != 2 {
		t.Fatalf("scenario cards = %d, want 2", n)
	}
	// Filters: only one scenario can be played in Chinese.
	setSelect := func(id, v string) int {
		return b.num(`(() => { const s = document.querySelector("#` + id + `"); s.value = "` + v + `";
			s.dispatchEvent(new Event("change")); return document.querySelectorAll('[data-testid="scenario-card"]').length; })()`)
	}
	if n := setSelect("f-lang", "zh"); n != 1 {
		t.Errorf("cards with lang=zh: %d, want 1", n)
	}
	if n := setSelect("f-lang", ""); n != 2 {
		t.Errorf("cards with no filter: %d, want 2", n)
	}
	if n := setSelect("f-diff", "3"); n != 1 {
		t.Errorf("cards with difficulty 3: %d, want 1", n)
	}
	setSelect("f-diff", "")
	if n := setSelect("f-persona", "vague"); n != 1 {
		t.Errorf("cards with persona vague: %d, want 1", n)
	}
	setSelect("f-persona", "")

	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="late-parcel"]`)))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded"`)
	if brief := b.str(`document.querySelector('[data-testid="brief-details"]').innerText`); !strings.Contains(brief, "Order #4471") || !strings.Contains(brief, "10% voucher") {
		t.Errorf("brief does not show the order and policy: %q", brief)
	}

	b.startSession("late-parcel", "Alex", "coach")
	if got := b.str(`document.querySelector('[data-role="customer"][data-seq="1"] .bubble').textContent`); !strings.Contains(got, "three days late") {
		t.Errorf("opening line = %q", got)
	}
	if cd := b.str(`document.querySelector('[data-testid="countdown"]').textContent`); !strings.HasPrefix(cd, "10:") && !strings.HasPrefix(cd, "9:") {
		t.Errorf("countdown = %q, want about 10:00", cd)
	}
	anger0 := atoi(t, b.str(`document.querySelector('[data-testid="meter-anger"]').dataset.value`))
	trust0 := atoi(t, b.str(`document.querySelector('[data-testid="meter-trust"]').dataset.value`))

	b.reply("Hello Dana, I'm so sorry your grinder is late.", 1)
	if v := b.str(`document.querySelector("#reply").value`); v != "" {
		t.Errorf("composer not cleared after Enter: %q", v)
	}
	anger1 := atoi(t, b.str(`document.querySelector('[data-testid="meter-anger"]').dataset.value`))
	trust1 := atoi(t, b.str(`document.querySelector('[data-testid="meter-trust"]').dataset.value`))
	if anger1 >= anger0 || trust1 <= trust0 {
		t.Errorf("meter did not move: anger %d→%d, trust %d→%d", anger0, anger1, trust0, trust1)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="move"]').length`); n != 2 {
		t.Errorf("moves shown = %d, want 2 (greet, apologize)", n)
	}
	if got := b.str(`document.querySelector('[data-testid="feedback"][data-turn="1"]').innerText`); !strings.Contains(got, "Receive") || !strings.Contains(got, "Apologise") {
		t.Errorf("coach feedback under the reply = %q", got)
	}
	if got := b.str(`document.querySelector('[data-testid="hint"]').innerText`); !strings.Contains(got, "next step") {
		t.Errorf("coach hint = %q", got)
	}

	// Shift+Enter makes a new line; Enter alone sends.
	b.do(
		chromedp.Focus(chromedp.CSS(`#reply`)),
		chromedp.KeyEvent("I will call the courier now."),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.KeyEvent("Does that work for you?"+kb.Enter),
	)
	b.waitTurn(2)
	if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="2"] .bubble').textContent`); got != "I will call the courier now.\nDoes that work for you?" {
		t.Errorf("two-line reply = %q", got)
	}

	// A move explains itself: which reply, which signal.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="move"][data-signal="apologize"]`)))
	b.wait(`document.querySelector('[data-testid="move-detail"]').dataset.turn === "1"`)
	if got := b.str(`document.querySelector('[data-testid="move-detail"]').innerText`); !strings.Contains(got, "I'm so sorry") || !strings.Contains(got, "Apologise") {
		t.Errorf("move detail = %q", got)
	}
	if got := b.str(`document.querySelector("#reply") === document.activeElement ? "reply" : document.activeElement.dataset.testid || ""`); got != "move" {
		t.Errorf("focus after clicking a move is on %q, want the move", got)
	}
	if st := b.str(`[...document.querySelectorAll('[data-testid="steps-track"] li[data-done="1"]')].map(li => li.dataset.step).join(",")`); st != "receive,understand,help,agree" {
		t.Errorf("steps shown = %q", st)
	}
	b.screenshot("chat-desktop", false)

	b.reply("Is there anything else I can do? Goodbye for now.", 3)
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.state === "ended"`)
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.report === "1"`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="to-report"]`)))
	b.wait(`!!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)

	checkScorecard(t, b, 3, "resolved")
	b.screenshot("scorecard-desktop", true)

	// The print stylesheet leaves the report and nothing else.
	b.media("print")
	if got := b.str(`[".topbar", ".sc-actions", "#view-chat", "#view-picker"].map(s => getComputedStyle(document.querySelector(s)).display).join(",")`); got != "none,none,none,none" {
		t.Errorf("print media: chrome still displayed: %s", got)
	}
	b.screenshot("scorecard-print", true)
	b.media("")
}

func checkScorecard(t *testing.T, b *browser, turns int, outcome string) {
	t.Helper()
	total := atoi(t, b.str(`document.querySelector('[data-testid="total"]').textContent`))
	if total <= 0 || total > 100 {
		t.Errorf("total = %d", total)
	}
	if got := b.str(`document.querySelector('[data-testid="report-outcome"]').dataset.outcome`); got != outcome {
		t.Errorf("outcome = %q, want %q", got, outcome)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="step-chart"] rect.bar').length`); n != 5 {
		t.Errorf("step chart bars = %d, want 5", n)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="dimensions"] li').length`); n != 5 {
		t.Errorf("dimensions = %d, want 5", n)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="step-card"]').length`); n != 5 {
		t.Errorf("step cards = %d, want 5", n)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="report-turn"]').length`); n != turns {
		t.Errorf("annotated turns = %d, want %d", n, turns)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="report-turn"] .signals li').length`); n == 0 {
		t.Error("the transcript carries no signal annotations")
	}
}

// TestResumeAfterRestart takes the server away mid-session, sends a reply
// while it is gone, brings it back and checks nothing was lost or doubled;
// then reloads the page and checks the transcript is rebuilt the same.
func TestResumeAfterRestart(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	b.startSession("late-parcel", "Robin", "exam")
	b.reply("Hello, I'm sorry about this.", 1)
	if n := b.num(`document.querySelectorAll('[data-testid="feedback"]').length`); n != 0 {
		t.Errorf("exam mode shows %d feedback lines during the session", n)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="move"], [data-testid="hint"]').length`); n != 0 {
		t.Errorf("exam mode explains %d mood moves or hints during the session", n)
	}

	ts.stop()
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.connected === "0"`)
	b.do(chromedp.SendKeys(chromedp.CSS(`#reply`), "I will chase the courier myself."+kb.Enter))
	b.wait(`!!document.querySelector('[data-role="trainee"][data-pending="1"]')`)
	ts.start()

	b.waitTurn(2)
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.connected === "1"`)
	check := func(when string) {
		t.Helper()
		seqs := b.str(`[...document.querySelectorAll('[data-testid="msg"]')].map(m => m.dataset.seq || "pending").join(",")`)
		// start: customer 1; turn 1: ack, customer; turn 2: ack, customer (exam: no feedback events)
		if seqs != "1,2,3,4,5" {
			t.Errorf("%s: message seqs = %s, want 1,2,3,4,5", when, seqs)
		}
		if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="2"] .bubble').textContent`); got != "I will chase the courier myself." {
			t.Errorf("%s: reply sent while offline = %q", when, got)
		}
	}
	check("after the restart")
	if acks := storedAcks(t, ts); acks != 2 {
		t.Errorf("stored replies = %d, want 2", acks)
	}

	b.do(chromedp.Reload())
	b.wait(`document.body.dataset.view === "chat" && document.querySelector('[data-testid="chat"]').dataset.connected === "1" && document.querySelector('[data-testid="chat"]').dataset.seq === "5"`)
	check("after a reload")

	b.endSession()
	checkScorecard(t, b, 2, "resolved")
	if acks := storedAcks(t, ts); acks != 2 {
		t.Errorf("stored replies after the end = %d, want 2", acks)
	}
}

func storedAcks(t *testing.T, ts *testServer) int {
	t.Helper()
	ts.store.mu.Lock()
	ids := make([]string, 0, len(ts.store.sessions))
	for id := range ts.store.sessions {
		ids = append(ids, id)
	}
	ts.store.mu.Unlock()
	if len(ids) != 1 {
		t.Fatalf("stored sessions = %d, want 1", len(ids))
	}
	s, err := ts.store.Load(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return s.Turns()
}

// TestLanguageSwitch switches the interface to Chinese and back; the choice
// survives a reload.
func TestLanguageSwitch(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	if got := b.str(`document.documentElement.lang + "|" + document.querySelector("#picker-title").textContent`); got != "en|Choose a scenario" {
		t.Errorf("default interface = %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(`document.documentElement.lang === "zh-CN"`)
	if got := b.str(`document.querySelector("#picker-title").textContent`); got != "选择练习场景" {
		t.Errorf("Chinese title = %q", got)
	}
	if got := b.str(`document.querySelector("#f-lang option").textContent`); got != "全部" {
		t.Errorf("Chinese filter option = %q", got)
	}
	b.open(ts.URL())
	if got := b.str(`document.documentElement.lang + "|" + document.querySelector("#picker-title").textContent`); got != "zh-CN|选择练习场景" {
		t.Errorf("after reload = %q", got)
	}
	// The Chinese scenario, played in Chinese, with a Chinese interface.
	b.startSession("router", "小林", "coach")
	b.reply("您好,非常抱歉 hello sorry", 1)
	if got := b.str(`document.querySelector('[data-testid="state-mode"]').innerText`); !strings.Contains(got, "教练") {
		t.Errorf("state bar mode = %q", got)
	}
	b.screenshot("chat-desktop-zh", false)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(`document.documentElement.lang === "en"`)
	if got := b.str(`document.querySelector('[data-testid="state-mode"]').innerText`); !strings.Contains(got, "Coach") {
		t.Errorf("state bar mode after switching back = %q", got)
	}
}

// TestPhoneAndHostileText plays at phone width with a reply full of markup,
// which must come back as text, and takes the phone screenshots.
func TestPhoneAndHostileText(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.viewport(375, 812, true)
	b.open(ts.URL())

	// The LLM engine is not configured on this server: its message shows.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="late-parcel"]`)))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded"`)
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#trainee`), "Sam"),
		chromedp.Click(chromedp.CSS(`[data-testid="engine-llm"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
	)
	b.wait(`document.querySelector('[data-testid="start-error"]').textContent.includes("language model")`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="engine-scripted"]`)))
	b.startSession("late-parcel", "Sam", "coach")

	hostile := `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> hello, sorry`
	b.reply(hostile, 1)
	if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="1"] .bubble').textContent`); got != hostile {
		t.Errorf("reply shown as %q, want the literal text", got)
	}
	if n := b.num(`document.querySelectorAll('#transcript script, #transcript img, #moves img').length`); n != 0 {
		t.Errorf("%d elements were created from reply text", n)
	}
	if got := b.str(`String(window.__pwned)`); got != "undefined" {
		t.Errorf("injected script ran: window.__pwned = %s", got)
	}
	if w := b.num(`document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("page is %d px wide at a 375 px viewport", w)
	}
	b.reply("I will call the courier. Does that work?", 2)
	b.screenshot("chat-phone", false)

	b.endSession()
	checkScorecard(t, b, 2, "resolved")
	if got := b.str(`[...document.querySelectorAll('[data-testid="report-turn"] .tr-text')][0].textContent`); got != hostile {
		t.Errorf("scorecard transcript shows %q", got)
	}
	if w := b.num(`document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("scorecard is %d px wide at a 375 px viewport", w)
	}
	b.screenshot("scorecard-phone", true)
}
