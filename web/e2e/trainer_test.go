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
