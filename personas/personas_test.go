package personas_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/personas"
	"github.com/sparring-gym/sparring/simulator"
)

func TestBuiltin(t *testing.T) {
	people, err := personas.Load(personas.Builtin())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, abstract := people["base"]; abstract {
		t.Error("abstract base persona returned by Load")
	}
	for _, id := range []string{"angry-complainer", "refund-seeker", "repeat-asker"} {
		p := people[id]
		if p == nil {
			t.Fatalf("named persona %s missing", id)
		}
		if p.Name[simulator.LangZH] == "" || p.Name[simulator.LangEN] == "" {
			t.Errorf("%s: name must be in zh and en", id)
		}
	}
	if !people["angry-complainer"].NeedsAcknowledgement {
		t.Error("angry complainer must need acknowledgement before facts")
	}
	if !people["repeat-asker"].RepeatsQuestion {
		t.Error("repeat asker must repeat its question")
	}
	for id, p := range people {
		// Defaults from GUIDE §2.5 survive unless overridden.
		if got := p.Effects["over_promise"]; got != (simulator.Effect{}) {
			t.Errorf("%s: over_promise moves %+v at once, want nothing until the reveal", id, got)
		}
		for _, code := range append(simulator.PositiveSignals, simulator.NegativeSignals...) {
			if _, ok := p.Effects[code]; !ok {
				t.Errorf("%s: no effect for %s", id, code)
			}
		}
		for _, b := range simulator.Bands {
			press := p.Lines.Stages[simulator.StagePress]
			if len(press[b]) == 0 && len(press[simulator.BandAny]) == 0 {
				t.Errorf("%s: no press lines for %s", id, b)
			}
		}
	}
}

func TestBrokenPersona(t *testing.T) {
	known, err := personas.LoadAll(personas.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	good, err := fs.ReadFile(personas.Builtin(), "refund-seeker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := personas.Validate("refund-seeker.yaml", good, known); err != nil {
		t.Fatalf("good file: %v", err)
	}
	tests := []struct {
		name, from, to, path string
		want                 []string
	}{
		{"bad mood range", "mood: {anger: 45, trust: 35}", "mood: {anger: 45, trust: 135}", "mood.trust", []string{"135 is out of range", "0 to 100"}},
		{"unknown field", "patience: 4", "patience: 4\npatiense: 5", "patiense", []string{"unknown field \"patiense\"", "patience"}},
		{"missing base", "extends: base", "extends: bsae", "extends", []string{"no persona \"bsae\" to extend", "base"}},
		{"syntax error", "patience: 4", "patience: [4", "patience", []string{"YAML syntax error"}},
		{"unknown signal effect", "refuse_with_alternative: {anger: -5, trust: 8}", "refuse_kindly: {anger: -5, trust: 8}", "effects.refuse_kindly", []string{"not a RUBRIC signal code"}},
		{"line in one language", `{zh: "好的。那我换个问法`, `{zh2: "好的。那我换个问法`, "", []string{"unknown language \"zh2\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(string(good), tt.from, tt.to, 1)
			if data == string(good) {
				t.Fatal("edit did not apply")
			}
			_, err := personas.Validate("x.yaml", []byte(data), known)
			var ve personas.ValidationErrors
			if !errors.As(err, &ve) || len(ve) != 1 {
				t.Fatalf("want exactly one ValidationError, got %v", err)
			}
			if ve[0].Line == 0 || ve[0].File != "x.yaml" {
				t.Errorf("missing file/line: %v", ve[0])
			}
			if tt.path != "" && ve[0].Path != tt.path {
				t.Errorf("path = %q, want %q", ve[0].Path, tt.path)
			}
			for _, w := range tt.want {
				if !strings.Contains(ve[0].Message, w) {
					t.Errorf("message %q lacks %q", ve[0].Message, w)
				}
			}
		})
	}
}
