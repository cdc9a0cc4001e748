package scenarios_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/personas"
	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

func mustPersonas(tb testing.TB) map[string]*simulator.Persona {
	tb.Helper()
	p, err := personas.Load(personas.Builtin())
	if err != nil {
		tb.Fatalf("load personas: %v", err)
	}
	return p
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := fs.ReadFile(scenarios.Builtin(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestBuiltinLibrary(t *testing.T) {
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatalf("BuiltinLibrary: %v", err)
	}
	ctx := context.Background()
	list, err := lib.Scenarios(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string][]simulator.Lang{}
	drills := 0
	for _, s := range list {
		if s.Persona == nil || s.Persona.ID != s.PersonaID {
			t.Errorf("%s: persona not resolved", s.ID)
		}
		if !s.Supports(s.Lang) {
			t.Errorf("%s: lang %s not in langs %v", s.ID, s.Lang, s.Langs)
		}
		if s.Drill {
			drills++
			continue
		}
		// p01-lost-manuscript-en → p01
		byCase[s.ID[:3]] = append(byCase[s.ID[:3]], s.Lang)
		if !strings.HasSuffix(s.ID, "-"+string(s.Lang)) {
			t.Errorf("%s: id should end in its language %s", s.ID, s.Lang)
		}
		for _, l := range s.Langs {
			pb := s.Playbook
			for name, txt := range map[string]simulator.Text{"open": pb.Open, "ask": pb.Ask, "restate": pb.Restate,
				"inform": pb.Inform, "options": pb.Options, "plan": pb.Plan, "close": pb.Close, "cave": pb.Cave, "over_promise": pb.OverPromise} {
				if txt[l] == "" {
					t.Errorf("%s: playbook.%s has no %s text (the fidelity bots need it)", s.ID, name, l)
				}
			}
		}
	}
	if len(byCase) != 14 {
		t.Errorf("got %d seed cases, want 14 (P1–P14)", len(byCase))
	}
	for c, langs := range byCase {
		if len(langs) != 2 {
			t.Errorf("case %s has languages %v, want zh and en", c, langs)
		}
	}
	if drills < 4 {
		t.Errorf("got %d drills, want the micro-drills", drills)
	}
	if len(list) < 28 {
		t.Errorf("got %d scenarios, want at least 28", len(list))
	}
	people, _ := lib.Personas(ctx)
	for _, want := range []string{"angry-complainer", "refund-seeker", "repeat-asker"} {
		found := false
		for _, p := range people {
			found = found || p.ID == want
		}
		if !found {
			t.Errorf("named persona %s missing", want)
		}
	}
}

func TestScenarioNotFound(t *testing.T) {
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	_, err = lib.Scenario(context.Background(), "no-such-scenario")
	if got := simulator.ErrorCode(err); got != simulator.CodeScenarioNotFound {
		t.Fatalf("code = %s, want %s (err %v)", got, simulator.CodeScenarioNotFound, err)
	}
	if _, err := lib.Scenario(context.Background(), "p01-lost-manuscript-zh"); err != nil {
		t.Fatalf("existing scenario: %v", err)
	}
}

// TestBrokenFiles proves each kind of broken file gives exactly one message
// naming file, line, field and fix.
func TestBrokenFiles(t *testing.T) {
	people := mustPersonas(t)
	good := string(mustRead(t, "p03-day-five-return-en.yaml"))
	tests := []struct {
		name     string
		edit     func(string) string
		wantLine int
		wantPath string
		wantMsg  []string
	}{
		{
			name:     "unknown field",
			edit:     func(s string) string { return strings.Replace(s, "difficulty: 3", "difficulty: 3\ndifficultly: 4", 1) },
			wantLine: 8, wantPath: "difficultly",
			wantMsg: []string{"unknown field \"difficultly\"", "known fields here", "difficulty"},
		},
		{
			name:     "missing persona",
			edit:     func(s string) string { return strings.Replace(s, "persona: refund-seeker", "persona: refund-seker", 1) },
			wantLine: 6, wantPath: "persona",
			wantMsg: []string{"no persona \"refund-seker\"", "refund-seeker"},
		},
		{
			name: "bad mood range",
			edit: func(s string) string {
				return strings.Replace(s, "customer:\n", "customer:\n  mood: {anger: 150, trust: 20}\n", 1)
			},
			wantPath: "customer.mood.anger",
			wantMsg:  []string{"150 is out of range", "0 to 100"},
		},
		{
			name:     "YAML syntax error",
			edit:     func(s string) string { return strings.Replace(s, "difficulty: 3", "difficulty: [3", 1) },
			wantLine: 7, wantPath: "difficulty",
			wantMsg: []string{"YAML syntax error", "check the indentation and quoting"},
		},
		{
			name:     "wrong type",
			edit:     func(s string) string { return strings.Replace(s, "max_turns: 14", "max_turns: many", 1) },
			wantPath: "max_turns",
			wantMsg:  []string{"\"many\"", "whole number"},
		},
		{
			name: "unknown signal in a demand",
			edit: func(s string) string {
				return strings.Replace(s, "accepted_by: [refuse_with_alternative,", "accepted_by: [refuse_nicely,", 1)
			},
			wantPath: "customer.demands[0].accepted_by[0]",
			wantMsg:  []string{"\"refuse_nicely\" is not a RUBRIC signal code"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.edit(good)
			if data == good {
				t.Fatal("edit did not change the file")
			}
			_, err := scenarios.Validate("broken.yaml", []byte(data), people)
			var ve scenarios.ValidationErrors
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want ValidationErrors", err, err)
			}
			if len(ve) != 1 {
				t.Fatalf("got %d messages, want exactly one:\n%v", len(ve), ve)
			}
			fe := ve[0]
			if fe.File != "broken.yaml" {
				t.Errorf("file = %q", fe.File)
			}
			if fe.Line == 0 {
				t.Errorf("no line number: %v", fe)
			}
			if tt.wantLine != 0 && fe.Line != tt.wantLine {
				t.Errorf("line = %d, want %d: %v", fe.Line, tt.wantLine, fe)
			}
			if fe.Path != tt.wantPath {
				t.Errorf("path = %q, want %q: %v", fe.Path, tt.wantPath, fe)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(fe.Message, w) {
					t.Errorf("message %q lacks %q", fe.Message, w)
				}
			}
			if !strings.HasPrefix(fe.Error(), "broken.yaml:") {
				t.Errorf("Error() = %q, want it to start with file:line", fe.Error())
			}
		})
	}
}

func TestValidateGood(t *testing.T) {
	people := mustPersonas(t)
	s, err := scenarios.Validate("p03.yaml", mustRead(t, "p03-day-five-return-en.yaml"), people)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "p03-day-five-return-en" || s.Lang != simulator.LangEN || len(s.HiddenFacts) != 2 || len(s.Policy.Forbidden) != 2 {
		t.Fatalf("unexpected scenario: %+v", s)
	}
	if s.Customer.Demands[0].Insist != 1 || len(s.Customer.Demands[0].Alternatives) != 3 {
		t.Fatalf("demand not decoded: %+v", s.Customer.Demands)
	}
}

func TestBilingualTextNeedsBothLanguages(t *testing.T) {
	people := mustPersonas(t)
	data := strings.Replace(string(mustRead(t, "d01-finance-office.yaml")),
		`title: {zh: "请问财务室在哪？", en: "Where is the finance office?"}`, `title: {zh: "请问财务室在哪？"}`, 1)
	_, err := scenarios.Validate("d01.yaml", []byte(data), people)
	var ve scenarios.ValidationErrors
	if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Path != "title" || !strings.Contains(ve[0].Message, "no en text") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	people, err := personas.Load(personas.Builtin())
	if err != nil {
		f.Fatal(err)
	}
	names, _ := fs.Glob(scenarios.Builtin(), "*.yaml")
	for _, n := range names[:3] {
		b, _ := fs.ReadFile(scenarios.Builtin(), n)
		f.Add(b)
	}
	f.Add([]byte("id: x\nlang: zh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Validate("fuzz.yaml", data, people)
		if err == nil && (s == nil || s.Persona == nil) {
			t.Fatalf("valid scenario without persona")
		}
		var ve scenarios.ValidationErrors
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error is %T, want ValidationErrors", err)
		}
	})
}

// TestPlaybookAgainstPolicy keeps the data honest whatever the rubric does:
// the cave-in and over-promise replies each commit to a forbidden keyword,
// and the good replies commit to none.
func TestPlaybookAgainstPolicy(t *testing.T) {
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	list, _ := lib.Scenarios(context.Background())
	hits := func(s *simulator.Scenario, lang simulator.Lang, reply string) []string {
		var out []string
		low := strings.ToLower(reply)
		for _, c := range s.Policy.Forbidden {
			for _, k := range c.Keywords[lang] {
				if strings.Contains(low, strings.ToLower(k)) {
					out = append(out, c.ID+":"+k)
				}
			}
		}
		return out
	}
	for _, s := range list {
		for _, lang := range s.Langs {
			pb := s.Playbook
			for name, txt := range map[string]simulator.Text{"cave": pb.Cave, "over_promise": pb.OverPromise} {
				if len(hits(s, lang, txt[lang])) == 0 {
					t.Errorf("%s %s: playbook.%s %q matches no policy.forbidden keyword", s.ID, lang, name, txt[lang])
				}
			}
			for name, txt := range map[string]simulator.Text{"open": pb.Open, "ask": pb.Ask, "restate": pb.Restate,
				"inform": pb.Inform, "options": pb.Options, "plan": pb.Plan, "close": pb.Close} {
				if h := hits(s, lang, txt[lang]); len(h) > 0 {
					t.Errorf("%s %s: good reply playbook.%s contains forbidden keywords %v", s.ID, lang, name, h)
				}
			}
		}
	}
}
