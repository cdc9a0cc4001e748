package e2e_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
)

// TestPlayFullSession picks a scenario, plays it by typing, watches the
// customer answer and the meter move, ends it and reads the scorecard.
func TestPlayFullSession(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())

	all := ts.scenarioCount(func(*simulator.Scenario) bool { return true })
	if n := b.num(`document.querySelectorAll('[data-testid="scenario-card"]').length`); n != all {
		t.Fatalf("scenario cards = %d, want %d", n, all)
	}
	// Each filter keeps what the library says it should.
	setSelect := func(id, v string) int {
		return b.num(`(() => { const s = document.querySelector("#` + id + `"); s.value = "` + v + `";
			s.dispatchEvent(new Event("change")); return document.querySelectorAll('[data-testid="scenario-card"]').length; })()`)
	}
	for _, f := range []struct {
		sel, value string
		keep       func(*simulator.Scenario) bool
	}{
		{"f-lang", "en", func(s *simulator.Scenario) bool { return s.Supports("en") }},
		{"f-diff", "4", func(s *simulator.Scenario) bool { return s.Difficulty == 4 }},
		{"f-persona", "angry-complainer", func(s *simulator.Scenario) bool { return s.PersonaID == "angry-complainer" }},
	} {
		want := ts.scenarioCount(f.keep)
		if n := setSelect(f.sel, f.value); n != want || n == 0 {
			t.Errorf("%s=%s keeps %d cards, want %d", f.sel, f.value, n, want)
		}
		setSelect(f.sel, "")
	}

	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="p01-lost-manuscript-en"]`)))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded"`)
	if brief := b.str(`document.querySelector('[data-testid="brief-details"]').innerText`); !strings.Contains(brief, "AS-20417") || !strings.Contains(brief, "Ms Zhao Min") {
		t.Errorf("brief does not show the customer and the case: %q", brief)
	}
	b.screenshot("picker-desktop", false)

	b.startSession("p01-lost-manuscript-en", "Alex", "coach")
	if got := b.str(`document.querySelector('[data-role="customer"][data-seq="1"] .bubble').textContent`); got == "" {
		t.Error("no opening line")
	}
	if cd := b.str(`document.querySelector('[data-testid="countdown"]').textContent`); !strings.HasPrefix(cd, "15:") && !strings.HasPrefix(cd, "14:") {
		t.Errorf("countdown = %q, want about 15:00", cd)
	}
	// The brief stays at hand during the conversation.
	b.do(chromedp.Click(chromedp.CSS(`#brief-toggle`)))
	b.wait(`!document.querySelector("#chat-brief").hidden && document.querySelector("#chat-brief").innerText.includes("AS-20417")`)
	b.do(chromedp.Click(chromedp.CSS(`#brief-toggle`)))
	b.wait(`document.querySelector("#chat-brief").hidden`)
	anger0 := atoi(t, b.str(`document.querySelector('[data-testid="meter-anger"]').dataset.value`))
	trust0 := atoi(t, b.str(`document.querySelector('[data-testid="meter-trust"]').dataset.value`))

	b.reply("Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.", 1)
	if v := b.str(`document.querySelector("#reply").value`); v != "" {
		t.Errorf("composer not cleared after Enter: %q", v)
	}
	anger1 := atoi(t, b.str(`document.querySelector('[data-testid="meter-anger"]').dataset.value`))
	trust1 := atoi(t, b.str(`document.querySelector('[data-testid="meter-trust"]').dataset.value`))
	if anger1 >= anger0 || trust1 <= trust0 {
		t.Errorf("meter did not move: anger %d→%d, trust %d→%d", anger0, anger1, trust0, trust1)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="move"][data-turn="1"]').length`); n == 0 {
		t.Error("no mood moves shown for turn 1")
	}
	if got := b.str(`document.querySelector('[data-testid="feedback"][data-turn="1"]').innerText`); !strings.Contains(got, "Understand") || !strings.Contains(got, "Apologise") {
		t.Errorf("coach feedback under the reply = %q", got)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="hint"][data-turn="1"]').length`); n != 1 {
		t.Error("no coach hint for turn 1")
	}

	// Shift+Enter makes a new line; Enter alone sends.
	b.do(
		chromedp.Focus(chromedp.CSS(`#reply`)),
		chromedp.KeyEvent("When did you first notice it?"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.KeyEvent("Was there any message on the screen just before?"+kb.Enter),
	)
	b.waitTurn(2)
	if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="2"] .bubble').textContent`); got != "When did you first notice it?\nWas there any message on the screen just before?" {
		t.Errorf("two-line reply = %q", got)
	}

	// A move explains itself: which reply, which signal.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="move"][data-signal="apologize"]`)))
	b.wait(`document.querySelector('[data-testid="move-detail"]').dataset.turn === "1"`)
	if got := b.str(`document.querySelector('[data-testid="move-detail"]').innerText`); !strings.Contains(got, "I'm so sorry") || !strings.Contains(got, "Apologise") {
		t.Errorf("move detail = %q", got)
	}
	if got := b.str(`document.activeElement.dataset.testid || ""`); got != "move" {
		t.Errorf("focus after clicking a move is on %q, want the move", got)
	}
	if st := b.str(`[...document.querySelectorAll('[data-testid="steps-track"] li[data-done="1"]')].map(li => li.dataset.step).join(",")`); !strings.Contains(st, "understand") {
		t.Errorf("steps shown = %q", st)
	}

	b.reply("So the PC we repaired crashed last night and a year's work is gone. Is that right?", 3)
	b.reply("I'd suggest an engineer visit tomorrow for a free diagnosis and a recovery assessment; I can't promise recovery but it often works.", 4)
	b.screenshot("chat-desktop", false)
	if b.str(`document.querySelector('[data-testid="chat"]').dataset.state`) == "active" {
		b.reply("I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work?", 5)
	}
	if b.str(`document.querySelector('[data-testid="chat"]').dataset.state`) == "active" {
		b.endSession()
	} else {
		b.wait(`document.querySelector('[data-testid="chat"]').dataset.report === "1"`)
		b.do(chromedp.Click(chromedp.CSS(`[data-testid="to-report"]`)))
		b.wait(`!!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)
	}
	turns := b.num(`document.querySelectorAll('[data-role="trainee"]').length`)
	checkScorecard(t, b, turns)
	b.screenshot("scorecard-desktop", true)

	// The JSON download is the session as the page holds it.
	var exported struct {
		Session string `json:"session"`
		Report  struct {
			Total int `json:"total"`
		} `json:"report"`
		Events []struct {
			Seq  int    `json:"seq"`
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b.download(`[data-testid="download"]`), &exported); err != nil {
		t.Fatalf("downloaded JSON: %v", err)
	}
	if want := b.str(`JSON.parse(sessionStorage.getItem("sparring.session")).session`); exported.Session != want {
		t.Errorf("exported session %q, want %q", exported.Session, want)
	}
	if shown := atoi(t, b.str(`document.querySelector('[data-testid="total"]').textContent`)); exported.Report.Total != shown {
		t.Errorf("exported total %d, shown %d", exported.Report.Total, shown)
	}
	if n := len(exported.Events); n == 0 || exported.Events[n-1].Type != "report" || exported.Events[0].Seq != 1 {
		t.Errorf("exported events: %+v", exported.Events)
	}

	// The print stylesheet leaves the report and nothing else.
	b.media("print")
	if got := b.str(`[".topbar", ".sc-actions", "#view-chat", "#view-picker"].map(s => getComputedStyle(document.querySelector(s)).display).join(",")`); got != "none,none,none,none" {
		t.Errorf("print media: chrome still displayed: %s", got)
	}
	b.screenshot("scorecard-print", true)
	b.media("")
}

func checkScorecard(t *testing.T, b *browser, turns int) {
	t.Helper()
	total := atoi(t, b.str(`document.querySelector('[data-testid="total"]').textContent`))
	if total < 0 || total > 100 {
		t.Errorf("total = %d", total)
	}
	// The scorecard's outcome is the one the conversation ended with.
	outcome := b.str(`document.querySelector('[data-testid="report-outcome"]').dataset.outcome`)
	ended := b.str(`document.querySelector('[data-testid="state-outcome"]').dataset.outcome`)
	if outcome == "" || outcome != ended {
		t.Errorf("scorecard outcome %q, conversation ended %q", outcome, ended)
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
	if turns == 0 {
		return
	}
	if n := b.num(`document.querySelectorAll('[data-testid="report-turn"] .signals li').length`); n == 0 {
		t.Error("the transcript carries no signal annotations")
	}
	if n := b.num(`document.querySelectorAll('[data-testid="step-card"] .quotes li').length`); n == 0 {
		t.Error("no step quotes any evidence")
	}
}

// TestResumeAfterRestart takes the server away mid-session, sends a reply
// while it is gone, brings it back and checks nothing was lost or doubled;
// then reloads the page and checks the transcript is rebuilt the same.
func TestResumeAfterRestart(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	b.startSession("p03-day-five-return-en", "Robin", "exam")
	b.reply("Hello Mr Chen, I'm sorry the phone isn't what you hoped for.", 1)
	if n := b.num(`document.querySelectorAll('[data-testid="feedback"]').length`); n != 0 {
		t.Errorf("exam mode shows %d feedback lines during the session", n)
	}
	if n := b.num(`document.querySelectorAll('[data-testid="move"], [data-testid="hint"]').length`); n != 0 {
		t.Errorf("exam mode explains %d mood moves or hints during the session", n)
	}

	const offline = "Could you tell me what made you change your mind about it?"
	ts.stop()
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.connected === "0"`)
	b.do(chromedp.SendKeys(chromedp.CSS(`#reply`), offline+kb.Enter))
	b.wait(`!!document.querySelector('[data-role="trainee"][data-pending="1"]')`)
	ts.start()

	b.waitTurn(2)
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.connected === "1"`)
	check := func(when string) {
		t.Helper()
		// Every event once, in order: seqs strictly increase, none pending,
		// two replies and three customer lines.
		seqs := b.str(`[...document.querySelectorAll('[data-testid="msg"]')].map(m => m.dataset.seq || "pending").join(",")`)
		prev := 0
		for _, f := range strings.Split(seqs, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n <= prev {
				t.Errorf("%s: message seqs %s are not strictly increasing", when, seqs)
				break
			}
			prev = n
		}
		roles := b.str(`[...document.querySelectorAll('[data-testid="msg"]')].map(m => m.dataset.role[0]).join("")`)
		if roles != "ctctc" {
			t.Errorf("%s: speakers %s, want ctctc (customer/trainee)", when, roles)
		}
		if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="2"] .bubble').textContent`); got != offline {
			t.Errorf("%s: reply sent while offline = %q", when, got)
		}
	}
	check("after the restart")
	if acks := storedAcks(t, ts, b); acks != 2 {
		t.Errorf("stored replies = %d, want 2", acks)
	}

	lastSeq := b.str(`document.querySelector('[data-testid="chat"]').dataset.seq`)
	b.do(chromedp.Reload())
	b.wait(`document.body.dataset.view === "chat" && document.querySelector('[data-testid="chat"]').dataset.connected === "1" && document.querySelector('[data-testid="chat"]').dataset.seq === "` + lastSeq + `"`)
	check("after a reload")

	b.endSession()
	checkScorecard(t, b, 2)
	if acks := storedAcks(t, ts, b); acks != 2 {
		t.Errorf("stored replies after the end = %d, want 2", acks)
	}
}

// storedAcks counts the replies stored for the page's session: a reply
// processed twice would show up here as an extra ack.
func storedAcks(t *testing.T, ts *testServer, b *browser) int {
	t.Helper()
	id := b.str(`JSON.parse(sessionStorage.getItem("sparring.session")).session`)
	s, err := ts.store.Load(context.Background(), id)
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
	b.screenshot("picker-desktop-zh", false)
	// The Chinese scenario, played in Chinese, with a Chinese interface.
	b.startSession("d01-finance-office", "小林", "coach")
	b.reply("您好,财务室在三楼,出电梯右转第二间。您看这样清楚吗?", 1)
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

// TestPickerSpeaksThePagesLanguage: a bilingual scenario whose first
// language is Chinese is listed under its English title on an English page
// (and its Chinese one after switching), and its brief follows the language
// chosen to play it in.
func TestPickerSpeaksThePagesLanguage(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	card := `document.querySelector('[data-testid="scenario-card"][data-id="d01-finance-office"] .scenario-title').textContent`
	b.wait(card + ` === "Where is the finance office?"`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="d01-finance-office"]`)))
	brief := `document.querySelector('[data-testid="brief-card"]')`
	b.wait(brief + `.dataset.state === "loaded"`)
	if got := b.str(`document.querySelector('#play-lang').value + "|" + document.querySelector('#brief-title').textContent + "|" + document.querySelector('.brief-situation dd').textContent.slice(0, 11)`); got != "en|Where is the finance office?|You are cov" {
		t.Errorf("English brief = %q", got)
	}
	// Choose Chinese in the play-language select, as a user would.
	b.str(`(() => { const s = document.querySelector('#play-lang'); s.value = "zh"; s.dispatchEvent(new Event('change')); return s.value; })()`)
	b.wait(brief + `.dataset.state === "loaded" && document.querySelector('.brief-situation dd').textContent.startsWith("你在")`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(card + ` === "请问财务室在哪？"`)
}

// TestPhoneAndHostileText plays at phone width with a reply full of markup,
// which must come back as text, and takes the phone screenshots.
func TestPhoneAndHostileText(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.viewport(375, 812, true)
	b.open(ts.URL())

	// The LLM engine is not configured on this server: its message shows.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="p02-noon-delivery-en"]`)))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded"`)
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#trainee`), "Sam"),
		chromedp.Click(chromedp.CSS(`[data-testid="engine-llm"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
	)
	b.wait(`document.querySelector('[data-testid="start-error"]').textContent.includes("not available") && document.querySelector('[data-testid="start-error"]').textContent.includes("llm.base_url")`)
	b.screenshot("picker-phone", false)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="engine-scripted"]`)))
	b.startSession("p02-noon-delivery-en", "Sam", "coach")

	hostile := `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Mr Wang, I'm sorry the documents came late.`
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
	b.reply("I'll find out what happened to the delivery and call you back by 3 p.m. Would that work?", 2)
	b.screenshot("chat-phone", false)

	if b.str(`document.querySelector('[data-testid="chat"]').dataset.state`) == "active" {
		b.endSession()
	} else {
		b.wait(`document.querySelector('[data-testid="chat"]').dataset.report === "1"`)
		b.do(chromedp.Click(chromedp.CSS(`[data-testid="to-report"]`)))
		b.wait(`!!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)
	}
	checkScorecard(t, b, 2)
	if got := b.str(`[...document.querySelectorAll('[data-testid="report-turn"] .tr-text')][0].textContent`); got != hostile {
		t.Errorf("scorecard transcript shows %q", got)
	}
	if w := b.num(`document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("scorecard is %d px wide at a 375 px viewport", w)
	}
	b.screenshot("scorecard-phone", true)
}

// scriptedLine finds the line the scripted engine wants worded in the
// customer prompt, so the fake model can answer with a rewording of it.
var scriptedLine = regexp.MustCompile(`(?m)^(?:A line with that meaning: |表达这个意思的台词:)(.+)$`)

// TestLLMStreaming plays the LLM engine against a fake provider that
// streams slowly: the customer's line grows on screen while it streams, and
// the stored line replaces it.
func TestLLMStreaming(t *testing.T) {
	provider := llmtest.New(t, llmtest.WithHandler(func(r llmtest.Request) llmtest.Reply {
		m := scriptedLine.FindStringSubmatch(r.User())
		if m == nil {
			return llmtest.Reply{Text: "Well?"}
		}
		return llmtest.Reply{Text: "Look. " + m[1], ChunkRunes: 3, ChunkDelay: 30 * time.Millisecond}
	}))
	ts := startServer(t, func(ts *testServer) { ts.llmURL = provider.URL() })
	b := newBrowser(t)
	b.open(ts.URL())
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-card"][data-id="p01-lost-manuscript-en"]`)))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded"`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="engine-llm"]`)))
	b.startSession("p01-lost-manuscript-en", "Kim", "coach")

	b.do(chromedp.SendKeys(chromedp.CSS(`#reply`), "Ms Zhao, I'm so sorry. I'm Lin and I'll take this on myself."+kb.Enter))
	// Part of the line is on screen before the whole of it is stored.
	b.wait(`(() => { const s = document.querySelector('[data-testid="msg-streaming"] .bubble');
		return !!s && s.textContent.length > 0 && !document.querySelector('[data-role="customer"][data-turn="1"]'); })()`)
	b.waitTurn(1)
	if n := b.num(`document.querySelectorAll('[data-testid="msg-streaming"]').length`); n != 0 {
		t.Errorf("%d streaming bubbles left after the line was stored", n)
	}
	if got := b.str(`document.querySelector('[data-role="customer"][data-turn="1"] .bubble').textContent`); !strings.HasPrefix(got, "Look. ") {
		t.Errorf("stored line = %q, want the model's wording", got)
	}
	if got := b.str(`document.querySelector('[data-testid="state-mode"]').innerText`); !strings.Contains(got, "Language model") {
		t.Errorf("state bar = %q", got)
	}
}

// TestTimeUpEndsSession moves the page's clock past the deadline: the page
// closes the conversation by itself and shows the scorecard.
func TestTimeUpEndsSession(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	b.startSession("d05-same-question", "Ira", "exam")
	if s := atoi(t, b.str(`document.querySelector('[data-testid="countdown"]').dataset.seconds`)); s < 100 || s > 120 {
		t.Errorf("countdown starts at %d s, want about 120", s)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const real = Date.now; Date.now = () => real() + 121000; return true; })()`)); err != nil {
		t.Fatal(err)
	}
	b.wait(`document.body.dataset.view === "report" && !!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)
	checkScorecard(t, b, 0)
}

// TestLostAck loses the connection after the server stored a reply but
// before its ack reached the page. The page must resend it with the same
// id: the server then answers with what it already produced, so the reply
// is stored once and shown once, and the customer's answer arrives.
func TestLostAck(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	// A socket that, when armed, swallows the first ack and everything after
	// it, then closes: the page sees its connection drop with the reply
	// unacknowledged.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		const Real = window.WebSocket;
		window.__armed = false;
		window.WebSocket = class extends Real {
			constructor(...args) {
				super(...args);
				let dead = false;
				this.addEventListener("message", (ev) => {
					if (!dead && window.__armed && JSON.parse(ev.data).type === "ack") {
						window.__armed = false;
						window.__lost = JSON.parse(ev.data).id;
						dead = true;
						this.close();
					}
					if (dead) ev.stopImmediatePropagation();
				});
			}
		};
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	b.startSession("p05-broadband-date-en", "Noor", "coach")
	b.reply("Hello Mrs Liu, I'm sorry for the wait on your broadband.", 1)

	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__armed = true`)); err != nil {
		t.Fatal(err)
	}
	const text = "Could you tell me the address the line is for?"
	b.do(chromedp.SendKeys(chromedp.CSS(`#reply`), text+kb.Enter))
	b.wait(`!!window.__lost`)
	lost := b.str(`window.__lost`)
	pendingID := b.str(`JSON.parse(sessionStorage.getItem("sparring.session")).pending.map(p => p.id).join(",")`)
	if pendingID != lost {
		t.Errorf("pending replies after the lost ack = %q, want just %q", pendingID, lost)
	}
	b.waitTurn(2)
	b.wait(`document.querySelector('[data-testid="chat"]').dataset.connected === "1"`)
	if n := b.num(`[...document.querySelectorAll('[data-role="trainee"] .bubble')].filter(e => e.textContent === "` + text + `").length`); n != 1 {
		t.Errorf("the reply is shown %d times, want once", n)
	}
	if got := b.str(`document.querySelector('[data-role="trainee"][data-turn="2"]').dataset.id`); got != lost {
		t.Errorf("turn 2 has reply id %q, want the one sent first (%q)", got, lost)
	}
	if n := b.num(`document.querySelectorAll('[data-role="customer"][data-turn="2"]').length`); n != 1 {
		t.Errorf("customer answers to turn 2 = %d, want 1", n)
	}
	if acks := storedAcks(t, ts, b); acks != 2 {
		t.Errorf("stored replies = %d, want 2", acks)
	}
}

// TestKeyboardOnly plays a session with the keyboard alone: Tab and Enter
// through the picker, the start form, the chat and the end.
func TestKeyboardOnly(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	active := `(() => { const a = document.activeElement; return a.dataset.testid || a.id || a.tagName; })()`
	tab := func(want string) {
		t.Helper()
		b.do(chromedp.KeyEvent(kb.Tab))
		if got := b.str(active); got != want {
			t.Fatalf("Tab reached %q, want %q", got, want)
		}
	}
	b.do(chromedp.Focus(chromedp.CSS(`#f-persona`)))
	tab("scenario-card")
	first := b.str(`document.activeElement.dataset.id`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded" && document.activeElement.dataset.testid === "brief-card"`)
	tab("trainee")
	b.do(chromedp.KeyEvent("Kai"))
	tab("mode-coach")
	b.do(chromedp.KeyEvent(kb.ArrowRight)) // radio groups move with arrows
	if got := b.str(active); got != "mode-exam" {
		t.Fatalf("arrow in the mode group reached %q", got)
	}
	tab("engine-scripted")
	if b.num(`document.querySelectorAll("#play-lang").length`) == 1 {
		tab("play-lang")
	}
	tab("start")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait(`document.body.dataset.view === "chat" && document.querySelector('[data-testid="chat"]').dataset.connected === "1"`)
	if got := b.str(`document.querySelector('[data-testid="chat"]').dataset.mode`); got != "exam" {
		t.Errorf("mode = %q, want exam (chosen with an arrow key)", got)
	}
	if got := b.str(active); got != "reply" {
		t.Fatalf("focus in the chat is on %q, want the reply box", got)
	}
	b.do(chromedp.KeyEvent("Hello, how can I help you today?" + kb.Enter))
	b.waitTurn(1)
	if b.str(`document.querySelector('[data-testid="chat"]').dataset.state`) == "active" {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)); err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.Focus(chromedp.CSS(`#reply`)))
		tab("send")
		tab("end")
		b.do(chromedp.KeyEvent(kb.Enter))
	} else {
		b.wait(`document.querySelector('[data-testid="chat"]').dataset.report === "1"`)
		b.do(chromedp.Focus(chromedp.CSS(`[data-testid="to-report"]`)), chromedp.KeyEvent(kb.Enter))
	}
	b.wait(`document.body.dataset.view === "report" && !!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)
	t.Logf("played %s with the keyboard", first)
}
