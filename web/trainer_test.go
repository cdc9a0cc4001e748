package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

const (
	trainerToken = "trainer-secret-1"
	otherToken   = "trainer-secret-2"
	authoredID   = "t-late-parcel"
)

func startTrainer(t *testing.T, b redistest.Backend) *webtest.TrainerInstance {
	t.Helper()
	return webtest.StartTrainer(t, webtest.Options{Backend: b, Web: web.Config{TrainerTokens: []string{trainerToken, otherToken}}})
}

func scenarioYAML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/trainer/late-parcel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// trResp is a decoded answer.
type trResp struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r trResp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// fieldErrors returns the paths of a 422 answer.
func (r trResp) fieldPaths(t *testing.T) []string {
	t.Helper()
	var v struct {
		Errors []struct{ Path, Message string } `json:"errors"`
	}
	r.json(t, &v)
	var out []string
	for _, e := range v.Errors {
		if e.Message == "" {
			t.Errorf("field error %q has no message", e.Path)
		}
		out = append(out, e.Path)
	}
	return out
}

func trDo(t *testing.T, method, url, token, contentType, body string) trResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return trResp{Status: resp.StatusCode, Body: b, Header: resp.Header}
}

func publicIDs(t *testing.T, url string) []string {
	t.Helper()
	var list []struct {
		ID string `json:"id"`
	}
	r := trDo(t, "GET", url+"/api/scenarios", "", "", "")
	r.json(t, &list)
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestTrainerRoutesNeedATrainerToken(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	routes := []struct{ method, path, body string }{
		{"POST", "/api/scenarios", scenarioYAML(t)},
		{"PUT", "/api/scenarios/" + authoredID, scenarioYAML(t)},
		{"DELETE", "/api/scenarios/" + authoredID, ""},
		{"GET", "/api/sessions", ""},
		{"GET", "/api/sessions?format=csv", ""},
		{"GET", "/api/sessions/abc/review", ""},
		{"POST", "/api/sessions/abc/comments", `{"turn":1,"text":"x"}`},
		{"POST", "/api/sessions/abc/overrides", `{"step":"help","score":50,"reason":"x"}`},
		{"GET", "/api/sessions/abc/export", ""},
		{"GET", "/api/trainer/me", ""},
		{"POST", "/api/trainer/validate", scenarioYAML(t)},
		{"GET", "/api/trainer/scenarios", ""},
		{"GET", "/api/trainer/scenarios/p01-lost-manuscript-en/source", ""},
		{"POST", "/api/trainer/scenarios/x/publish", ""},
		{"POST", "/api/trainer/personas/card", `{}`},
		{"POST", "/api/trainer/calibrate", `{}`},
	}
	for _, rt := range routes {
		for _, c := range []struct {
			name, header string
			want         int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"wrong token", "Bearer not-a-trainer", http.StatusForbidden},
			{"not bearer", "Basic " + trainerToken, http.StatusUnauthorized},
		} {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				req, _ := http.NewRequestWithContext(t.Context(), rt.method, in.URL+rt.path, strings.NewReader(rt.body))
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
				}
			})
		}
	}
	// Both configured tokens are accepted.
	for _, tok := range []string{trainerToken, otherToken} {
		if r := trDo(t, "GET", in.URL+"/api/trainer/me", tok, "", ""); r.Status != http.StatusOK {
			t.Errorf("token %q: status %d, want 200", tok, r.Status)
		}
	}
}

func TestScenarioAuthoring(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	good := scenarioYAML(t)
	asJSON := func(yamlText string) string {
		// The same scenario as JSON: decode the YAML through the validator's
		// eyes by round-tripping the fixture fields by hand.
		return `{"id":"t-json","title":"JSON parcel","lang":"en","persona":"angry-complainer","difficulty":2,` +
			`"brief":{"customer_name":"Ms Rivera","situation":"A late parcel."},"success":"Courier accepted.",` +
			`"max_turns":6,"customer":{"opening":["Where is my parcel?"],"issue":"my late parcel"}}`
	}
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
		wantPaths                       []string // 422 field paths that must be present
	}{
		{"create", "POST", "/api/scenarios", "application/yaml", good, http.StatusCreated, nil},
		{"create again", "POST", "/api/scenarios", "application/yaml", good, http.StatusConflict, nil},
		{"create json", "POST", "/api/scenarios", "application/json", asJSON(good), http.StatusCreated, nil},
		{"invalid fields", "POST", "/api/scenarios", "application/yaml",
			strings.NewReplacer("id: t-late-parcel", "id: t-broken", "difficulty: 2", "difficulty: 9", "persona: angry-complainer", "persona: nobody").Replace(good),
			http.StatusUnprocessableEntity, []string{"difficulty", "persona"}},
		{"unknown field", "POST", "/api/scenarios", "application/yaml", strings.Replace(good, "max_turns: 8", "max_turns: 8\nmax_turnz: 3", 1),
			http.StatusUnprocessableEntity, []string{"max_turnz"}},
		{"yaml syntax", "POST", "/api/scenarios", "application/yaml", "id: [unclosed", http.StatusUnprocessableEntity, nil},
		{"empty body", "POST", "/api/scenarios", "application/yaml", "", http.StatusUnprocessableEntity, nil},
		{"built-in id", "POST", "/api/scenarios", "application/yaml", strings.Replace(good, "id: t-late-parcel", "id: p01-lost-manuscript-en", 1), http.StatusConflict, nil},
		{"put built-in", "PUT", "/api/scenarios/p01-lost-manuscript-en", "application/yaml", strings.Replace(good, "id: t-late-parcel\n", "", 1), http.StatusConflict, nil},
		{"delete built-in", "DELETE", "/api/scenarios/p01-lost-manuscript-en", "", "", http.StatusConflict, nil},
		{"put unknown", "PUT", "/api/scenarios/t-nobody", "application/yaml", strings.Replace(good, "id: t-late-parcel\n", "", 1), http.StatusNotFound, nil},
		{"put id mismatch", "PUT", "/api/scenarios/" + authoredID, "application/yaml", strings.Replace(good, "id: t-late-parcel", "id: t-other", 1), http.StatusUnprocessableEntity, []string{"id"}},
		{"put", "PUT", "/api/scenarios/" + authoredID, "application/yaml", strings.Replace(good, "The late parcel", "The very late parcel", 1), http.StatusOK, nil},
		{"put invalid", "PUT", "/api/scenarios/" + authoredID, "application/yaml", strings.Replace(good, "max_turns: 8", "max_turns: 0", 1), http.StatusUnprocessableEntity, []string{"max_turns"}},
		{"delete", "DELETE", "/api/scenarios/t-json", "", "", http.StatusOK, nil},
		{"delete twice", "DELETE", "/api/scenarios/t-json", "", "", http.StatusNotFound, nil},
	}
	for _, c := range cases {
		r := trDo(t, c.method, in.URL+c.path, trainerToken, c.ctype, c.body)
		if r.Status != c.want {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.Status, c.want, r.Body)
		}
		if c.want == http.StatusUnprocessableEntity {
			paths := r.fieldPaths(t)
			if len(paths) == 0 {
				t.Errorf("%s: 422 without field errors: %s", c.name, r.Body)
			}
			for _, p := range c.wantPaths {
				if !slices.Contains(paths, p) {
					t.Errorf("%s: errors name %v, want %q among them", c.name, paths, p)
				}
			}
		}
	}
	// The authored scenario is public (published: true) at version 2 with
	// the new title; the deleted one is gone.
	var sc struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Version int    `json:"version"`
	}
	trDo(t, "GET", in.URL+"/api/scenarios/"+authoredID, "", "", "").json(t, &sc)
	if sc.Title != "The very late parcel" || sc.Version != 2 {
		t.Errorf("after PUT: %+v, want title %q at version 2", sc, "The very late parcel")
	}
	ids := publicIDs(t, in.URL)
	if !slices.Contains(ids, authoredID) || slices.Contains(ids, "t-json") || !slices.Contains(ids, "p01-lost-manuscript-en") {
		t.Errorf("public list %v: want the authored and built-in scenarios, not the deleted one", ids)
	}
	if r := trDo(t, "GET", in.URL+"/api/scenarios/t-json", "", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("deleted scenario: status %d, want 404", r.Status)
	}
	// Export: the newest YAML carries the stored version; version 1 is kept.
	r := trDo(t, "GET", in.URL+"/api/trainer/scenarios/"+authoredID+"/source?download=1", trainerToken, "", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), "version: 2") || !strings.Contains(string(r.Body), "langs: [en]") || !strings.Contains(r.Header.Get("Content-Disposition"), authoredID+".yaml") {
		t.Errorf("export: %d %q %s", r.Status, r.Header.Get("Content-Disposition"), r.Body)
	}
	r = trDo(t, "GET", in.URL+"/api/trainer/scenarios/"+authoredID+"/source?version=1", trainerToken, "", "")
	if !strings.Contains(string(r.Body), "title: The late parcel") {
		t.Errorf("version 1 source lost its title:\n%s", r.Body)
	}
	// Import = posting an exported file under a new id.
	exported := strings.Replace(string(r.Body), "id: "+authoredID, "id: t-imported", 1)
	if r := trDo(t, "POST", in.URL+"/api/scenarios", trainerToken, "application/yaml", exported); r.Status != http.StatusCreated {
		t.Errorf("import exported YAML: %d %s", r.Status, r.Body)
	}
}

func TestValidateEndpoint(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	good := scenarioYAML(t)
	cases := []struct {
		name, kind, body string
		want             int
		path             string
	}{
		{"valid scenario", "scenario", good, 200, ""},
		{"bad difficulty", "scenario", strings.Replace(good, "difficulty: 2", "difficulty: 0", 1), 422, "difficulty"},
		{"missing title", "scenario", strings.Replace(good, "title: The late parcel\n", "", 1), 422, "title"},
		{"built-in id", "scenario", strings.Replace(good, "id: t-late-parcel", "id: p01-lost-manuscript-en", 1), 422, "id"},
		{"persona", "persona", "id: t-persona\nextends: base\nname: {zh: 测试, en: Test}\nstyle: sleepy\n", 422, "style"},
		{"bad kind", "widget", good, 422, "kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := trDo(t, "POST", in.URL+"/api/trainer/validate?kind="+c.kind, trainerToken, "application/yaml", c.body)
			if r.Status != c.want {
				t.Fatalf("status %d, want %d: %s", r.Status, c.want, r.Body)
			}
			if c.path != "" && !slices.Contains(r.fieldPaths(t), c.path) {
				t.Errorf("errors %s do not name %q", r.Body, c.path)
			}
		})
	}
}

// playTo plays a short polite session on scenario and ends it; it returns the
// session id.
func playTo(t *testing.T, in *webtest.Instance, scenario, trainee string, replies ...string) string {
	t.Helper()
	c := webtest.Dial(t, in.WSURL, nil)
	sess, _ := c.Start(scenario, map[string]any{"trainee": trainee})
	for i, r := range replies {
		frames := c.Reply(fmt.Sprintf("r%d", i+1), r)
		if last := frames[len(frames)-1]; last.Type() == "error" {
			t.Fatalf("reply %d: %v", i+1, last)
		}
	}
	c.Send(map[string]any{"type": "end"})
	c.Until("report")
	return sess.Str("session")
}

var parcelReplies = []string{
	"Good morning Ms Rivera, I'm Sam from customer care. I'm so sorry your parcel LP-1042 is late, I can see how stressful that is.",
	"When do you need it by? I'll send it by free courier so it reaches you tomorrow morning. Would that work for you?",
}

func TestSessionKeepsItsScenarioVersion(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	good := scenarioYAML(t)
	if r := trDo(t, "POST", in.URL+"/api/scenarios", trainerToken, "application/yaml", good); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := playTo(t, in.Instance, authoredID, "Ana", parcelReplies...)
	// Edit the scenario twice after the session.
	for _, title := range []string{"Parcel v2", "Parcel v3"} {
		if r := trDo(t, "PUT", in.URL+"/api/scenarios/"+authoredID, trainerToken, "application/yaml", strings.Replace(good, "The late parcel", title, 1)); r.Status != 200 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
	}
	var view struct {
		Session struct {
			Version int `json:"scenario_version"`
		} `json:"session"`
		Report *struct {
			Total int `json:"total"`
		} `json:"report"`
	}
	trDo(t, "GET", in.URL+"/api/sessions/"+id, trainerToken, "", "").json(t, &view)
	if view.Session.Version != 1 || view.Report == nil {
		t.Fatalf("session: version %d, report %v; want version 1 and a report", view.Session.Version, view.Report)
	}
	// A fresh library (another instance, nothing cached) finds the old version in Redis.
	fresh, err := scenarios.NewComposite(in.Authoring, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := fresh.ScenarioVersion(t.Context(), authoredID, view.Session.Version)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := in.Composite.Scenario(t.Context(), authoredID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Title["en"] != "The late parcel" || old.Version != 1 || cur.Title["en"] != "Parcel v3" || cur.Version != 3 {
		t.Errorf("versions: old %q v%d, current %q v%d", old.Title["en"], old.Version, cur.Title["en"], cur.Version)
	}
	// A new session records the new version.
	id2 := playTo(t, in.Instance, authoredID, "Ben", parcelReplies[0])
	trDo(t, "GET", in.URL+"/api/sessions/"+id2, trainerToken, "", "").json(t, &view)
	if view.Session.Version != 3 {
		t.Errorf("new session: version %d, want 3", view.Session.Version)
	}
	// The export carries the YAML of the version the session used.
	var exp struct {
		Src struct {
			Version int    `json:"version"`
			YAML    string `json:"yaml"`
		} `json:"scenario_source"`
	}
	trDo(t, "GET", in.URL+"/api/sessions/"+id+"/export", trainerToken, "", "").json(t, &exp)
	if exp.Src.Version != 1 || !strings.Contains(exp.Src.YAML, "The late parcel") {
		t.Errorf("export scenario source: v%d %q", exp.Src.Version, exp.Src.YAML)
	}
}

func TestDraftsAreHiddenButPlayable(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	draft := strings.Replace(scenarioYAML(t), "published: true", "published: false", 1)
	if r := trDo(t, "POST", in.URL+"/api/scenarios", trainerToken, "application/yaml", draft); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if slices.Contains(publicIDs(t, in.URL), authoredID) {
		t.Fatal("a draft is in the public list")
	}
	var tl []struct {
		ID    string `json:"id"`
		Draft bool   `json:"draft"`
	}
	trDo(t, "GET", in.URL+"/api/trainer/scenarios", trainerToken, "", "").json(t, &tl)
	if i := slices.IndexFunc(tl, func(s struct {
		ID    string `json:"id"`
		Draft bool   `json:"draft"`
	}) bool {
		return s.ID == authoredID
	}); i < 0 || !tl[i].Draft {
		t.Fatalf("trainer list %+v: want the draft marked", tl)
	}
	playTo(t, in.Instance, authoredID, "Tester", parcelReplies[0]) // test play
	if r := trDo(t, "POST", in.URL+"/api/trainer/scenarios/"+authoredID+"/publish", trainerToken, "", ""); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	if !slices.Contains(publicIDs(t, in.URL), authoredID) {
		t.Fatal("published scenario missing from the public list")
	}
	if r := trDo(t, "POST", in.URL+"/api/trainer/scenarios/"+authoredID+"/unpublish", trainerToken, "", ""); r.Status != 200 {
		t.Fatalf("unpublish: %d %s", r.Status, r.Body)
	}
	if slices.Contains(publicIDs(t, in.URL), authoredID) {
		t.Fatal("unpublished scenario still public")
	}
	r := trDo(t, "GET", in.URL+"/api/trainer/scenarios/"+authoredID+"/source", trainerToken, "", "")
	if r.Header.Get("X-Sparring-Version") != "3" || !strings.Contains(string(r.Body), "published: false") {
		t.Errorf("after publish+unpublish: version %s\n%s", r.Header.Get("X-Sparring-Version"), r.Body)
	}
}

func TestReviewsSitBesideTheReport(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	id := playTo(t, in.Instance, "p01-lost-manuscript-en", "Cleo", goodReplies...)
	before := trDo(t, "GET", in.URL+"/api/sessions/"+id, trainerToken, "", "").Body
	base := in.URL + "/api/sessions/" + id
	cases := []struct {
		name, path, body string
		want             int
		field            string
	}{
		{"comment", "/comments", `{"turn":1,"text":"Good apology, but name the file."}`, 201, ""},
		{"comment whole", "/comments", `{"turn":-1,"text":"Solid overall."}`, 201, ""},
		{"comment bad turn", "/comments", `{"turn":99,"text":"x"}`, 422, "turn"},
		{"comment no turn", "/comments", `{"text":"x"}`, 422, "turn"},
		{"comment empty", "/comments", `{"turn":1,"text":"  "}`, 422, "text"},
		{"comment unknown field", "/comments", `{"turn":1,"text":"x","mood":3}`, 422, ""},
		{"override", "/overrides", `{"step":"help","score":40,"reason":"The plan had no time."}`, 201, ""},
		{"override again", "/overrides", `{"step":"help","score":55,"reason":"On reflection the time was there."}`, 201, ""},
		{"override bad step", "/overrides", `{"step":"charm","score":40,"reason":"x"}`, 422, "step"},
		{"override bad score", "/overrides", `{"step":"help","score":140,"reason":"x"}`, 422, "score"},
		{"override no reason", "/overrides", `{"step":"help","score":40}`, 422, "reason"},
	}
	for _, c := range cases {
		r := trDo(t, "POST", base+c.path, trainerToken, "application/json", c.body)
		if r.Status != c.want {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.Status, c.want, r.Body)
		}
		if c.field != "" && !slices.Contains(r.fieldPaths(t), c.field) {
			t.Errorf("%s: errors %s do not name %q", c.name, r.Body, c.field)
		}
	}
	if r := trDo(t, "POST", in.URL+"/api/sessions/NOPE/comments", trainerToken, "application/json", `{"turn":0,"text":"x"}`); r.Status != 404 {
		t.Errorf("comment on a missing session: %d, want 404", r.Status)
	}
	var rv struct {
		Comments []struct {
			Turn int
			Text string
		} `json:"comments"`
		Overrides []struct{ Score int } `json:"overrides"`
		Steps     map[string]struct {
			Auto     *int `json:"auto"`
			Override *struct {
				Score  int    `json:"score"`
				Reason string `json:"reason"`
			} `json:"override"`
		} `json:"steps"`
	}
	trDo(t, "GET", base+"/review", trainerToken, "", "").json(t, &rv)
	if len(rv.Comments) != 2 || rv.Comments[0].Turn != 1 || len(rv.Overrides) != 2 {
		t.Errorf("review: %+v", rv)
	}
	help := rv.Steps["help"]
	if help.Auto == nil || help.Override == nil || help.Override.Score != 55 || !strings.Contains(help.Override.Reason, "reflection") {
		t.Errorf("help step: %+v, want the automatic score beside the newest override (55)", help)
	}
	if rv.Steps["receive"].Override != nil || rv.Steps["receive"].Auto == nil {
		t.Errorf("receive step: %+v, want only the automatic score", rv.Steps["receive"])
	}
	if after := trDo(t, "GET", in.URL+"/api/sessions/"+id, trainerToken, "", "").Body; !bytes.Equal(before, after) {
		t.Error("the stored session view changed after a review")
	}
}

func TestSessionListFiltersAndCSV(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	a := playTo(t, in.Instance, "p01-lost-manuscript-en", "Dana Lee", goodReplies...)
	b := playTo(t, in.Instance, "p01-lost-manuscript-en", "=HYPERLINK(1)", "whatever")
	c := playTo(t, in.Instance, "p03-day-five-return-en", "Dana Lee", "Hello.")
	trDo(t, "POST", in.URL+"/api/sessions/"+a+"/comments", trainerToken, "application/json", `{"turn":1,"text":"ok"}`)
	list := func(q string) []web.SessionRow {
		t.Helper()
		r := trDo(t, "GET", in.URL+"/api/sessions"+q, trainerToken, "", "")
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		var rows []web.SessionRow
		r.json(t, &rows)
		return rows
	}
	idsOf := func(rows []web.SessionRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	all := list("")
	if got := idsOf(all); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("all: %v, want newest first [%s %s %s]", got, c, b, a)
	}
	var scoreA int
	for _, r := range all {
		if r.Score == nil || r.Outcome == "" || r.State != "ended" {
			t.Errorf("row %+v: want an ended session with score and outcome", r)
		}
		if r.ID == a {
			scoreA = *r.Score
			if r.Comments != 1 || r.ScenarioVersion < 1 {
				t.Errorf("row a: %+v", r)
			}
		}
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"?trainee=dana", []string{c, a}},
		{"?scenario=p03-day-five-return-en", []string{c}},
		{"?scenario=p01-lost-manuscript-en&trainee=DANA", []string{a}},
		{fmt.Sprintf("?min_score=%d&max_score=%d", scoreA, scoreA), nil}, // filled below
		{"?limit=1", []string{c}},
		{"?contest=NOPE", nil},
		{"?from=2000-01-01&to=2000-01-02", nil},
		{"?state=ended&trainee=dana", []string{c, a}},
	}
	for _, tc := range cases {
		got := idsOf(list(tc.q))
		if strings.HasPrefix(tc.q, "?min_score") {
			if !slices.Contains(got, a) {
				t.Errorf("%s: %v, want %s among them", tc.q, got, a)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.q, got, tc.want)
		}
	}
	for _, bad := range []string{"?from=yesterday", "?min_score=101", "?outcome=won", "?limit=0", "?format=xml"} {
		if r := trDo(t, "GET", in.URL+"/api/sessions"+bad, trainerToken, "", ""); r.Status != 422 || len(r.fieldPaths(t)) == 0 {
			t.Errorf("%s: %d %s, want 422 with a field error", bad, r.Status, r.Body)
		}
	}
	// CSV: a header and one row per session, formulas defused.
	r := trDo(t, "GET", in.URL+"/api/sessions?format=csv", trainerToken, "", "")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("csv content type %q", r.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "id" || recs[0][2] != "trainee" || recs[0][12] != "score" {
		t.Fatalf("csv:\n%s", r.Body)
	}
	if recs[2][0] != b || recs[2][2] != "'=HYPERLINK(1)" {
		t.Errorf("csv row %v: want the formula-looking name quoted", recs[2])
	}
}

// TestTwoInstancesShareAuthoredScenarios runs two servers on one Redis: a
// scenario published through one is listed and playable on the other, and
// the session played there is in the first one's review list.
func TestTwoInstancesShareAuthoredScenarios(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		one, two := startTrainer(t, b), startTrainer(t, b)
		draft := strings.Replace(scenarioYAML(t), "published: true", "published: false", 1)
		if r := trDo(t, "POST", one.URL+"/api/scenarios", trainerToken, "application/yaml", draft); r.Status != 201 {
			t.Fatalf("create on one: %d %s", r.Status, r.Body)
		}
		if slices.Contains(publicIDs(t, two.URL), authoredID) {
			t.Fatal("draft visible on two")
		}
		if r := trDo(t, "POST", one.URL+"/api/trainer/scenarios/"+authoredID+"/publish", trainerToken, "", ""); r.Status != 200 {
			t.Fatalf("publish on one: %d %s", r.Status, r.Body)
		}
		if !slices.Contains(publicIDs(t, two.URL), authoredID) {
			t.Fatal("scenario published on one is not listed on two")
		}
		id := playTo(t, two.Instance, authoredID, "Eli", parcelReplies...)
		var rows []web.SessionRow
		trDo(t, "GET", one.URL+"/api/sessions?scenario="+authoredID, trainerToken, "", "").json(t, &rows)
		if len(rows) != 1 || rows[0].ID != id || rows[0].ScenarioVersion != 2 {
			t.Fatalf("review list on one: %+v, want session %s at version 2", rows, id)
		}
		// An edit through two is what one serves next.
		if r := trDo(t, "PUT", two.URL+"/api/scenarios/"+authoredID, trainerToken, "application/yaml", strings.Replace(scenarioYAML(t), "The late parcel", "Edited on two", 1)); r.Status != 200 {
			t.Fatalf("edit on two: %d %s", r.Status, r.Body)
		}
		var sc struct {
			Title   string `json:"title"`
			Version int    `json:"version"`
		}
		trDo(t, "GET", one.URL+"/api/scenarios/"+authoredID, "", "", "").json(t, &sc)
		if sc.Title != "Edited on two" || sc.Version != 3 {
			t.Errorf("one serves %+v, want the edit made on two (v3)", sc)
		}
	})
}

func TestCalibration(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	good := "Customer: My manuscript is gone! The laptop came back wiped.\n" +
		"Agent: " + goodReplies[0] + "\nAgent: " + goodReplies[1] + "\nAgent: " + goodReplies[2] + "\nAgent: " + goodReplies[3]
	poor := "Customer: My manuscript is gone! The laptop came back wiped.\nAgent: Calm down. You should have made a backup, that's not our problem.\nAgent: I don't know. Nothing I can do."
	body := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	r := trDo(t, "POST", in.URL+"/api/trainer/calibrate", trainerToken, "application/json", body(map[string]any{
		"scenario": "p01-lost-manuscript-en",
		"transcripts": []map[string]any{
			{"label": "good", "name": "model", "text": good},
			{"label": "poor", "name": "rude", "text": poor},
		},
	}))
	if r.Status != 200 {
		t.Fatalf("calibrate: %d %s", r.Status, r.Body)
	}
	var res web.CalibrationResult
	r.json(t, &res)
	if !res.Total.Ordered || len(res.Transcripts) != 2 || res.Transcripts[0].Total <= res.Transcripts[1].Total {
		t.Errorf("a model answer and a rude one are not ordered: %s", r.Body)
	}
	if len(res.Steps) != 5 {
		t.Errorf("steps: %v, want all five", res.Steps)
	}
	// Swapped labels: the rubric must report the inversion.
	r = trDo(t, "POST", in.URL+"/api/trainer/calibrate", trainerToken, "application/json", body(map[string]any{
		"scenario": "p01-lost-manuscript-en",
		"transcripts": []map[string]any{
			{"label": "poor", "name": "model", "text": good},
			{"label": "good", "name": "rude", "text": poor},
		},
	}))
	r.json(t, &res)
	if res.Ordered || res.Total.Ordered || len(res.Total.Inversions) != 1 || res.Total.Inversions[0].Better != "rude" {
		t.Errorf("swapped labels not flagged: %s", r.Body)
	}
	for _, bad := range []struct{ body, path string }{
		{body(map[string]any{"scenario": "nope", "transcripts": []any{}}), "scenario"},
		{body(map[string]any{"scenario": "p01-lost-manuscript-en", "transcripts": []map[string]any{{"label": "great", "text": good}, {"label": "poor", "text": poor}}}), "transcripts[0].label"},
		{body(map[string]any{"scenario": "p01-lost-manuscript-en", "transcripts": []map[string]any{{"label": "good", "text": "hello there"}, {"label": "poor", "text": poor}}}), "transcripts[0].text"},
	} {
		r := trDo(t, "POST", in.URL+"/api/trainer/calibrate", trainerToken, "application/json", bad.body)
		if r.Status != 422 || !slices.Contains(r.fieldPaths(t), bad.path) {
			t.Errorf("%s: %d %s, want 422 naming %s", bad.body, r.Status, r.Body, bad.path)
		}
	}
}

func TestCharacterCardImport(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	card := `{"spec":"chara_card_v2","spec_version":"2.0","data":{"name":"Grumpy Gus","description":"A retired engineer who hates waiting on hold.",
		"personality":"impatient, precise, sarcastic","scenario":"Calls about a broken kettle.","first_mes":"Finally! Twenty minutes on hold.",
		"mes_example":"","creator_notes":"","system_prompt":"","post_history_instructions":"","alternate_greetings":["You again?"],
		"tags":["elderly"],"creator":"someone","character_version":"1.2","extensions":{}}}`
	r := trDo(t, "POST", in.URL+"/api/trainer/personas/card", trainerToken, "application/json", card)
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var imp struct {
		ID    string `json:"id"`
		Draft bool   `json:"draft"`
		YAML  string `json:"yaml"`
		Needs []struct{ Path, Message string }
	}
	r.json(t, &imp)
	var needs []string
	for _, n := range imp.Needs {
		needs = append(needs, n.Path)
	}
	if imp.ID != "card-grumpy-gus" || !imp.Draft || !strings.Contains(imp.YAML, "Grumpy Gus") || !strings.Contains(imp.YAML, "impatient") {
		t.Errorf("import: %+v", imp)
	}
	for _, p := range []string{"mood", "style", "patience", "demands", "lines"} {
		if !slices.Contains(needs, p) {
			t.Errorf("needs %v: want %q flagged", needs, p)
		}
	}
	// The draft is listed for trainers but not yet usable by scenarios.
	var ps []web.TrainerPersona
	trDo(t, "GET", in.URL+"/api/trainer/personas", trainerToken, "", "").json(t, &ps)
	if i := slices.IndexFunc(ps, func(p web.TrainerPersona) bool { return p.ID == imp.ID }); i < 0 || !ps[i].Draft {
		t.Errorf("trainer personas: %+v", ps)
	}
	var pub []struct{ ID string }
	trDo(t, "GET", in.URL+"/api/personas", "", "", "").json(t, &pub)
	if slices.ContainsFunc(pub, func(p struct{ ID string }) bool { return p.ID == imp.ID }) {
		t.Error("a draft persona is in the public persona library")
	}
	// Publishing it (a PUT without ?draft=1) makes it usable.
	if r := trDo(t, "PUT", in.URL+"/api/trainer/personas/"+imp.ID, trainerToken, "application/yaml", imp.YAML); r.Status != 200 {
		t.Fatalf("publish persona: %d %s", r.Status, r.Body)
	}
	withGus := strings.NewReplacer("id: t-late-parcel", "id: t-gus", "persona: angry-complainer", "persona: "+imp.ID).Replace(scenarioYAML(t))
	if r := trDo(t, "POST", in.URL+"/api/scenarios", trainerToken, "application/yaml", withGus); r.Status != 201 {
		t.Fatalf("scenario with the imported persona: %d %s", r.Status, r.Body)
	}
	// The same card embedded in a PNG portrait, as chat tools export it.
	png := pngWithText("chara", base64.StdEncoding.EncodeToString([]byte(strings.Replace(card, "Grumpy Gus", "Png Pat", 1))))
	if r := trDo(t, "POST", in.URL+"/api/trainer/personas/card", trainerToken, "image/png", string(png)); r.Status != 201 || !strings.Contains(string(r.Body), "card-png-pat") {
		t.Errorf("PNG card: %d %s", r.Status, r.Body)
	}
	for _, bad := range []struct{ body, path string }{
		{string(pngWithText("comment", "hello")), ""},
		{`{"spec":"chara_card_v1","data":{"name":"x"}}`, "spec"},
		{`{"spec":"chara_card_v2","data":{"name":""}}`, "data.name"},
	} {
		r := trDo(t, "POST", in.URL+"/api/trainer/personas/card", trainerToken, "application/json", bad.body)
		if r.Status != 422 || !slices.Contains(r.fieldPaths(t), bad.path) {
			t.Errorf("%s: %d %s", bad.body, r.Status, r.Body)
		}
	}
}

func TestDesignerForm(t *testing.T) {
	in := startTrainer(t, redistest.Mini(t))
	form := func(yamlText string, set map[string]any) web.FormResponse {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"yaml": yamlText, "set": set})
		r := trDo(t, "POST", in.URL+"/api/trainer/form", trainerToken, "application/json", string(b))
		if r.Status != 200 {
			t.Fatalf("form: %d %s", r.Status, r.Body)
		}
		var fr web.FormResponse
		r.json(t, &fr)
		return fr
	}
	good := scenarioYAML(t)
	fr := form(good, nil)
	if !fr.Valid || fr.Fields["title"] != "The late parcel" || fr.Fields["difficulty"] != float64(2) || fr.YAML != good {
		t.Fatalf("read: valid %v fields %v", fr.Valid, fr.Fields)
	}
	fr = form(good, map[string]any{"title": "A new title", "difficulty": 9, "customer.opening": []string{"Where is it?", "Hello?"}})
	var paths []string
	for _, e := range fr.Errors {
		paths = append(paths, e.Path)
	}
	if fr.Valid || !slices.Equal(paths, []string{"difficulty"}) {
		t.Errorf("errors %v, want only difficulty", fr.Errors)
	}
	if !strings.Contains(fr.YAML, "title: A new title") || !strings.Contains(fr.YAML, "- Where is it?") ||
		!strings.Contains(fr.YAML, "hidden_facts:") || !strings.Contains(fr.YAML, "# A small trainer-authored scenario") {
		t.Errorf("patched YAML lost or missed something:\n%s", fr.YAML)
	}
	fr = form(fr.YAML, map[string]any{"difficulty": "2"})
	if !fr.Valid {
		t.Errorf("after the fix: %v", fr.Errors)
	}
	// From nothing: the form builds the file field by field.
	fr = form("", map[string]any{"id": "t-new", "brief.situation": "Late.", "published": false})
	if !strings.Contains(fr.YAML, "id: t-new") || !strings.Contains(fr.YAML, "brief:\n  situation: Late.") || fr.Valid {
		t.Errorf("from empty:\n%s\n%v", fr.YAML, fr.Errors)
	}
	// Broken YAML: no fields, the validator's line.
	fr = form("id: [x", nil)
	if fr.Valid || len(fr.Errors) != 1 || fr.Errors[0].Line == 0 {
		t.Errorf("broken YAML: %+v", fr)
	}
	// The bots' scripts for the scenario.
	if r := trDo(t, "POST", in.URL+"/api/scenarios", trainerToken, "application/yaml", good); r.Status != 201 {
		t.Fatal(r.Status)
	}
	var bots struct {
		Bots []web.BotScript `json:"bots"`
	}
	trDo(t, "GET", in.URL+"/api/trainer/scenarios/"+authoredID+"/bots", trainerToken, "", "").json(t, &bots)
	if len(bots.Bots) != 5 || bots.Bots[0].Bot != "excellent" || len(bots.Bots[2].Replies) == 0 {
		t.Errorf("bots: %+v", bots)
	}
}

// pngWithText builds a minimal PNG whose only metadata is one tEXt chunk.
func pngWithText(key, text string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		b.Write(n[:])
	}
	chunk("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0})
	chunk("tEXt", append([]byte(key+"\x00"), text...))
	chunk("IEND", nil)
	return b.Bytes()
}

// TestEditDuringASessionDoesNotChangeIt: a trainer edits (and then deletes)
// a scenario while a trainee is playing it; the session carries on under the
// version it started with, on this instance and on another one.
func TestEditDuringASessionDoesNotChangeIt(t *testing.T) {
	b := redistest.Mini(t)
	one, two := startTrainer(t, b), startTrainer(t, b)
	good := scenarioYAML(t)
	if r := trDo(t, "POST", one.URL+"/api/scenarios", trainerToken, "application/yaml", good); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	c := webtest.Dial(t, one.WSURL, nil)
	sess, _ := c.Start(authoredID, map[string]any{"trainee": "Mid"})
	// Version 2 allows one reply only: under it the next reply would end the session.
	if r := trDo(t, "PUT", one.URL+"/api/scenarios/"+authoredID, trainerToken, "application/yaml", strings.Replace(good, "max_turns: 8", "max_turns: 1", 1)); r.Status != 200 {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	last := 0
	for _, f := range c.Reply("r1", parcelReplies[0]) {
		if f.Type() == "end" || f.Type() == "error" {
			t.Fatalf("the edit reached the running session: %v", f)
		}
		last = max(last, f.Seq())
	}
	if r := trDo(t, "DELETE", one.URL+"/api/scenarios/"+authoredID, trainerToken, "", ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	// Resume on the other instance, whose library has cached nothing.
	c2 := webtest.Dial(t, two.WSURL, nil)
	c2.Send(map[string]any{"type": "resume", "session": sess.Str("session"), "token": sess.Str("token"), "after": last})
	c2.Expect("session")
	frames := c2.Reply("r2", parcelReplies[1])
	if f := frames[0]; f.Type() != "ack" || f.Seq() != last+1 {
		t.Fatalf("first frame after resume: %v, want the ack of r2 at seq %d", f, last+1)
	}
	for _, f := range frames {
		if f.Type() == "end" || f.Type() == "error" {
			t.Fatalf("after the delete, on another instance: %v", f)
		}
	}
	c2.Send(map[string]any{"type": "end"})
	rep := c2.Until("report")
	if last := rep[len(rep)-1]; last.Obj("report").Int("turns") != 2 {
		t.Errorf("report: %v", last)
	}
	if r := trDo(t, "GET", two.URL+"/api/scenarios/"+authoredID, "", "", ""); r.Status != 404 {
		t.Errorf("deleted scenario still served: %d", r.Status)
	}
}
