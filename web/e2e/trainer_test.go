package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/static"
	"github.com/sparring-gym/sparring/web/webtest"
)

const e2eTrainerToken = "e2e-trainer-token"

// setField types into a designer form field the way a person does: the
// value changes and an input (or change) event fires.
func (b *browser) setField(path, value string) {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector('#designer-form [data-path=%q]');
		if (!el) return false;
		el.focus();
		if (el.type === 'checkbox') { el.checked = %q === 'true'; el.dispatchEvent(new Event('change', {bubbles: true})); }
		else { el.value = %q; el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true})); }
		el.blur();
		return true; })()`, path, value, value)))
	if err != nil || !ok {
		b.t.Fatalf("set field %s: %v %v", path, ok, err)
	}
}

// settled is true when the designer has no request in flight.
const settled = `document.querySelector('[data-testid="designer"]').dataset.pending === "0"`

// TestTrainerDesignsPublishesAndReviews is the trainer's whole loop in a
// real browser against the real server (composite library and authoring
// store on Redis): sign in, create a scenario, see a validation error, fix
// it, publish, play it as a trainee, find the session in the review list,
// comment on a turn and override a step score.
func TestTrainerDesignsPublishesAndReviews(t *testing.T) {
	in := webtest.StartTrainer(t, webtest.Options{Backend: redistest.Mini(t), Static: static.FS(),
		Web: web.Config{TrainerTokens: []string{e2eTrainerToken}}})
	b := newBrowser(t)

	// Sign in: a wrong token is refused, the right one opens the scenarios.
	b.open(in.URL + "/trainer/")
	b.wait(`document.body.dataset.view === "signin"`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="token"]`), "not-the-token"), chromedp.Click(chromedp.CSS(`[data-testid="signin"]`)))
	b.wait(`document.querySelector('[data-testid="signin-error"]').textContent !== ""`)
	b.str(`(document.querySelector('[data-testid="token"]').value = "")`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="token"]`), e2eTrainerToken), chromedp.Click(chromedp.CSS(`[data-testid="signin"]`)))
	b.wait(`document.body.dataset.view === "scenarios" && document.querySelector('[data-testid="scenarios-view"]').dataset.loaded === "1"`)
	if n := b.num(`document.querySelectorAll('[data-testid="scenario-row"][data-status="builtin"]').length`); n == 0 {
		t.Fatal("no built-in scenarios listed")
	}
	b.audit("trainer scenario list")
	if got := b.str(`sessionStorage.getItem("sparring.trainer.token") + "|" + (localStorage.getItem("sparring.trainer.token") || "")`); got != e2eTrainerToken+"|" {
		t.Errorf("token storage %q: want it in sessionStorage only", got)
	}

	// Create: the template loads valid; an out-of-range difficulty is shown
	// at the field and in the problem list; fixing it clears both.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="new-scenario"]`)))
	b.wait(`document.body.dataset.view === "designer" && document.querySelector('[data-testid="designer"]').dataset.ready === "1" && ` + settled)
	const id = "e2e-returned-gift"
	b.setField("id", id)
	b.setField("title", "The returned gift")
	b.setField("brief.situation", "A customer wants to return a gift without the receipt.")
	b.setField("customer.opening", "I want to return this gift, and no, I don't have the receipt.")
	b.setField("difficulty", "9")
	b.wait(settled + ` && document.querySelector('[data-testid="designer"]').dataset.valid === "0" &&
		!!document.querySelector('[data-testid="errors"] li[data-path="difficulty"]') &&
		document.querySelector('[data-error-for="difficulty"]').textContent.includes("out of range") &&
		document.querySelector('[data-path="difficulty"]').getAttribute("aria-invalid") === "true"`)
	if y := b.str(`document.querySelector('[data-testid="yaml"]').value`); !strings.Contains(y, "id: "+id) || !strings.Contains(y, "difficulty: 9") || !strings.Contains(y, "title: The returned gift") {
		t.Errorf("the YAML view does not follow the form:\n%s", y)
	}
	b.screenshot("trainer-designer-error", true)
	b.audit("trainer designer with a validation error")
	b.setField("difficulty", "3")
	b.wait(settled + ` && document.querySelector('[data-testid="designer"]').dataset.valid === "1" &&
		document.querySelectorAll('[data-testid="errors"] li').length === 0 && document.querySelector('[data-error-for="difficulty"]').textContent === ""`)

	// Save (a draft: the template says published: false), then publish.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="save"]`)))
	b.wait(`(() => { const d = document.querySelector('[data-testid="designer"]').dataset;
		return d.savedId === "` + id + `" && d.version === "1" && d.draft === "1" && d.pending === "0"; })()`)
	if n := countPublic(t, in.URL, id); n != 0 {
		t.Fatal("a draft is public")
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="publish"]`)))
	b.wait(`(() => { const d = document.querySelector('[data-testid="designer"]').dataset;
		return d.version === "2" && d.draft === "0" && d.pending === "0"; })()`)
	if n := countPublic(t, in.URL, id); n != 1 {
		t.Fatal("the published scenario is not in GET /api/scenarios")
	}
	if y := b.str(`document.querySelector('[data-testid="yaml"]').value`); !strings.Contains(y, "published: true") || !strings.Contains(y, "version: 2") {
		t.Errorf("after publishing the YAML shows:\n%s", y)
	}
	b.screenshot("trainer-designer", true)

	// Play it as a trainee in the trainee app.
	b.open(in.URL + "/")
	b.startSession(id, "E2E Trainee", "coach")
	b.reply("Hello, I'm Sam from customer care. I'm sorry for the trouble with the gift, I understand it's frustrating.", 1)
	b.reply("Could you tell me when and where it was bought? Then I can offer you an exchange or store credit today. Would that work for you?", 2)
	b.endSession()

	// Find the session in the review list.
	b.open(in.URL + "/trainer/#sessions")
	b.wait(`document.body.dataset.view === "sessions" && document.querySelector('[data-testid="sessions-view"]').dataset.loaded === "1"`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="f-trainee"]`), "e2e"), chromedp.Click(chromedp.CSS(`[data-testid="f-apply"]`)))
	b.wait(`document.querySelector('[data-testid="sessions-view"]').dataset.loaded === "1" &&
		document.querySelectorAll('[data-testid="session-row"]').length === 1 &&
		document.querySelector('[data-testid="session-row"]').dataset.scenario === "` + id + `"`)
	sessID := b.str(`document.querySelector('[data-testid="session-row"]').dataset.id`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="session-row"] [data-testid="open-session"]`)))
	b.wait(`document.body.dataset.view === "session" && document.querySelector('[data-testid="session-view"]').dataset.loaded === "1"`)
	if meta := b.str(`document.querySelector('[data-testid="session-meta"]').textContent`); !strings.Contains(meta, id+" v2") {
		t.Errorf("session meta %q: want the scenario version it was played on (v2)", meta)
	}

	// Comment on turn 1 and override the help step, beside its automatic score.
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="comment-text-1"]`), "Good apology; name the gift next time."),
		chromedp.Click(chromedp.CSS(`[data-testid="comment-save-1"]`)))
	b.wait(`!!document.querySelector('[data-testid="comments-1"] [data-testid="comment"][data-turn="1"]')`)
	auto := b.str(`document.querySelector('[data-testid="step-help"]').dataset.auto`)
	if auto == "" {
		t.Fatal("no automatic help score shown")
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="override-score-help"]`), "55"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="override-reason-input-help"]`), "The options were real; the rubric missed them."),
		chromedp.Click(chromedp.CSS(`[data-testid="override-save-help"]`)))
	b.wait(`document.querySelector('[data-testid="step-help"]').dataset.override === "55" &&
		document.querySelector('[data-testid="step-help"]').dataset.auto === "` + auto + `" &&
		document.querySelector('[data-testid="override-reason-help"]').textContent.includes("rubric missed")`)
	b.screenshot("trainer-review", true)
	b.audit("trainer session review")

	// The server kept both, and the report itself is unchanged.
	var rv struct {
		Comments []struct{ Turn int } `json:"comments"`
		Steps    map[string]struct {
			Auto     *int `json:"auto"`
			Override *struct{ Score int }
		} `json:"steps"`
	}
	trainerGET(t, in.URL+"/api/sessions/"+sessID+"/review", &rv)
	if len(rv.Comments) != 1 || rv.Comments[0].Turn != 1 || rv.Steps["help"].Override == nil || rv.Steps["help"].Override.Score != 55 ||
		rv.Steps["help"].Auto == nil || fmt.Sprint(*rv.Steps["help"].Auto) != auto {
		t.Errorf("stored review: %+v", rv)
	}
}

func countPublic(t *testing.T, base, id string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range list {
		if s.ID == id {
			n++
		}
	}
	return n
}

func trainerGET(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+e2eTrainerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// signInTrainer opens the trainer pages and signs in.
func (b *browser) signInTrainer(url string) {
	b.t.Helper()
	b.open(url + "/trainer/")
	b.wait(`document.body.dataset.view === "signin"`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="token"]`), e2eTrainerToken), chromedp.Click(chromedp.CSS(`[data-testid="signin"]`)))
	b.wait(`document.body.dataset.view === "scenarios" && document.querySelector('[data-testid="scenarios-view"]').dataset.loaded === "1"`)
}

// TestTrainerTestPlayCalibrationAndCards covers the other trainer pages:
// copy a built-in scenario, test-play the draft by hand and watch a bot play
// it, run a calibration, and import a Character Card.
func TestTrainerTestPlayCalibrationAndCards(t *testing.T) {
	in := webtest.StartTrainer(t, webtest.Options{Backend: redistest.Mini(t), Static: static.FS(),
		Web: web.Config{TrainerTokens: []string{e2eTrainerToken}}})
	b := newBrowser(t)
	b.signInTrainer(in.URL)

	// Chinese is first-class here too.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(`document.querySelector('[data-testid="nav-scenarios"]').textContent === "场景" && document.documentElement.lang === "zh-CN" &&
		document.querySelector('[data-testid="scenarios-view"]').dataset.loaded === "1"`)
	b.audit("trainer scenario list, zh")
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(`document.querySelector('[data-testid="nav-scenarios"]').textContent === "Scenarios" && document.querySelector('[data-testid="scenarios-view"]').dataset.loaded === "1"`)

	const from, id = "p03-day-five-return-en", "p03-day-five-return-en-copy"
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="scenario-row"][data-id="` + from + `"] a[href^="#designer/copy:"]`)))
	b.wait(`document.querySelector('[data-testid="designer"]').dataset.ready === "1" && ` + settled +
		` && document.querySelector('[data-testid="designer"]').dataset.valid === "1"`)
	if got := b.str(`document.querySelector('#designer-form [data-path="id"]').value`); got != id {
		t.Fatalf("copy id %q, want %q", got, id)
	}
	for path, want := range map[string]string{"success": "battery test", "customer.opening": "Nova 12", "max_turns": "14", "brief.context": "PH-88213"} {
		if got := b.str(`document.querySelector('#designer-form [data-path="` + path + `"]').value`); !strings.Contains(got, want) {
			t.Errorf("copied form field %s = %q, want it to contain %q", path, got, want)
		}
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="save"]`)))
	b.wait(`document.querySelector('[data-testid="designer"]').dataset.savedId === "` + id + `" && document.querySelector('[data-testid="designer"]').dataset.draft === "1"`)

	// Test play by hand: the draft plays over /ws.
	panel := `document.querySelector('[data-testid="testplay"]').dataset`
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="tp-start"]`)))
	b.wait(panel + `.state === "active" && !!document.querySelector('[data-testid="tp-transcript"] li[data-role="customer"][data-turn="0"]')`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="tp-reply"]`), "Good afternoon Mr Chen, I'm Lin. I'm sorry it isn't working out; what's made you want to return it?"),
		chromedp.Click(chromedp.CSS(`[data-testid="tp-send"]`)))
	b.wait(`!!document.querySelector('[data-testid="tp-transcript"] li[data-role="customer"][data-turn="1"]') && ` + panel + `.pending === "0"`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="tp-end"]`)))
	b.wait(panel + `.state === "ended" && ` + panel + `.total !== undefined`)

	// Watch the excellent bot play it to the end.
	b.str(`(() => { const s = document.querySelector('[data-testid="tp-bot"]'); s.value = "excellent"; return s.value; })()`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="tp-watch"]`)))
	b.wait(panel + `.mode === "bot" && ` + panel + `.state === "ended" && ` + panel + `.total !== undefined`)
	if n := b.num(`document.querySelectorAll('[data-testid="tp-transcript"] li[data-role="trainee"]').length`); n < 3 {
		t.Errorf("the bot sent %d replies, want its playbook", n)
	}
	b.screenshot("trainer-testplay", true)
	b.audit("trainer test play")

	// Calibration: the model and the rude transcript are ordered.
	b.open(in.URL + "/trainer/#calibrate")
	b.wait(`document.body.dataset.view === "calibrate" && document.querySelectorAll('[data-testid="cal-scenario"] option').length > 0`)
	b.str(`(() => { document.querySelector('[data-testid="cal-scenario"]').value = "` + from + `";
		const ta = document.querySelectorAll('[data-testid="cal-text"]');
		ta[0].value = "Customer: I want a full refund for this phone.\nAgent: Good afternoon Mr Chen, I'm Lin from customer care. I can see your Nova 12, order PH-88213. I'm sorry it isn't working out. What's made you want to return it?\nAgent: I understand it stings to see it cheaper elsewhere. Phones without a fault can't be refunded after three days, so I can't make an exception. What I can do is run a free battery test today and give you a ¥50 accessory voucher. Would that help?";
		ta[1].value = "Customer: I want a full refund for this phone.\nAgent: No. Read the policy, that's not my problem.\nAgent: I don't know, calm down.";
		return ""; })()`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="cal-run"]`)))
	b.wait(`document.querySelector('[data-testid="cal-result"]').dataset.state === "done"`)
	b.audit("trainer calibration")
	if got := b.str(`document.querySelector('[data-testid="cal-result"] tr[data-step="total"]').dataset.ordered`); got != "1" {
		t.Errorf("calibration total ordered = %q, want 1", got)
	}

	// Character Card import: a draft persona with the fields to fill flagged.
	b.open(in.URL + "/trainer/#personas")
	b.wait(`document.body.dataset.view === "personas" && document.querySelectorAll('[data-testid="persona-row"]').length > 0`)
	b.str(`(document.querySelector('[data-testid="card-json"]').value = JSON.stringify({spec: "chara_card_v2", spec_version: "2.0",
		data: {name: "Auntie Lin", description: "Runs a noodle stall; hates waiting.", personality: "blunt, warm underneath",
		scenario: "", first_mes: "Is anyone there?", mes_example: "", creator_notes: "", system_prompt: "", post_history_instructions: "",
		alternate_greetings: [], tags: ["elderly"], creator: "", character_version: "1", extensions: {}}}), "")`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="card-import"]`)))
	b.wait(`!document.querySelector('[data-testid="persona-editor"]').hidden && !!document.querySelector('[data-testid="persona-needs"] li[data-path="mood"]') &&
		!!document.querySelector('[data-testid="persona-row"][data-id="card-auntie-lin"][data-status="draft"]')`)
	if y := b.str(`document.querySelector('[data-testid="persona-yaml"]').value`); !strings.Contains(y, "Auntie Lin") || !strings.Contains(y, "extends: base") {
		t.Errorf("imported persona YAML:\n%s", y)
	}
	b.audit("trainer card import")
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="persona-publish"]`)))
	b.wait(`!!document.querySelector('[data-testid="persona-row"][data-id="card-auntie-lin"][data-status="published"]')`)

	// A persona written from the template.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="persona-new"]`)))
	b.str(`(() => { const ta = document.querySelector('[data-testid="persona-yaml"]'); ta.value = ta.value.replace("id: my-persona", "id: e2e-persona"); return ""; })()`)
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="persona-publish"]`)))
	b.wait(`!!document.querySelector('[data-testid="persona-row"][data-id="e2e-persona"][data-status="published"]')`)
}
