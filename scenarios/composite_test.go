package scenarios_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

func newComposite(t *testing.T, b redistest.Backend) *scenarios.Composite {
	t.Helper()
	c, err := scenarios.NewComposite(redisstore.NewAuthoring(b.Client(t), b.Prefix), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func authored(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/authored.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCompositeVersionsAndBuiltins(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		c := newComposite(t, b)
		src := authored(t)
		save := func(req scenarios.SaveRequest) (trainer.Source, error) {
			req.Kind = trainer.KindScenario
			return c.Save(ctx, req)
		}
		steps := []struct {
			name    string
			req     scenarios.SaveRequest
			err     error
			version int
		}{
			{"create", scenarios.SaveRequest{Body: []byte(src), Create: true}, nil, 1},
			{"create twice", scenarios.SaveRequest{Body: []byte(src), Create: true}, scenarios.ErrExists, 0},
			{"update", scenarios.SaveRequest{ID: "t-late-parcel", Body: []byte(strings.Replace(src, "The late parcel", "Second", 1))}, nil, 2},
			{"publish off", scenarios.SaveRequest{ID: "t-late-parcel", Body: []byte(src), Publish: new(false)}, nil, 3},
			{"built-in", scenarios.SaveRequest{Body: []byte(strings.Replace(src, "id: t-late-parcel", "id: p01-lost-manuscript-en", 1)), Create: true}, scenarios.ErrBuiltin, 0},
			{"unknown", scenarios.SaveRequest{ID: "t-nobody", Body: []byte(strings.Replace(src, "id: t-late-parcel\n", "", 1))}, scenarios.ErrNoSuch, 0},
		}
		for _, s := range steps {
			got, err := save(s.req)
			if !errors.Is(err, s.err) {
				t.Fatalf("%s: err %v, want %v", s.name, err, s.err)
			}
			if err == nil && got.Version != s.version {
				t.Fatalf("%s: version %d, want %d", s.name, got.Version, s.version)
			}
		}
		cur, err := c.Scenario(ctx, "t-late-parcel")
		if err != nil || cur.Version != 3 || !cur.Draft || cur.Title.In(simulator.LangEN) != "The late parcel" {
			t.Fatalf("current: %+v %v", cur, err)
		}
		v2, err := c.ScenarioVersion(ctx, "t-late-parcel", 2)
		if err != nil || v2.Title.In(simulator.LangEN) != "Second" || v2.Version != 2 || v2.Draft {
			t.Fatalf("v2: %+v %v", v2, err)
		}
		if _, err := c.ScenarioVersion(ctx, "t-late-parcel", 9); simulator.ErrorCode(err) != simulator.CodeScenarioNotFound {
			t.Errorf("missing version: %v", err)
		}
		// Delete: gone from the library, its versions kept.
		if _, err := c.Delete(ctx, trainer.KindScenario, "t-late-parcel", "me"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Scenario(ctx, "t-late-parcel"); simulator.ErrorCode(err) != simulator.CodeScenarioNotFound {
			t.Errorf("deleted scenario: %v", err)
		}
		if old, err := c.ScenarioVersion(ctx, "t-late-parcel", 1); err != nil || old.Version != 1 {
			t.Errorf("a deleted scenario's old version: %+v %v", old, err)
		}
		if _, err := c.Delete(ctx, trainer.KindScenario, "p01-lost-manuscript-en", "me"); !errors.Is(err, scenarios.ErrBuiltin) {
			t.Errorf("delete built-in: %v", err)
		}
		list, err := c.Scenarios(ctx)
		if err != nil {
			t.Fatal(err)
		}
		builtin, _ := scenarios.BuiltinLibrary()
		all, _ := builtin.Scenarios(ctx)
		if len(list) != len(all) {
			t.Errorf("library has %d scenarios after the delete, want the %d built-in", len(list), len(all))
		}
		// Built-in ones answer with their own version.
		if s, err := c.ScenarioVersion(ctx, "p01-lost-manuscript-en", 1); err != nil || s.ID != "p01-lost-manuscript-en" {
			t.Errorf("built-in by version: %v", err)
		}
	})
}

// TestCompositeConcurrentSaves: two trainers saving the same scenario at
// once never both win the same version.
func TestCompositeConcurrentSaves(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		c := newComposite(t, b)
		src := authored(t)
		if _, err := c.Save(ctx, scenarios.SaveRequest{Kind: trainer.KindScenario, Body: []byte(src), Create: true}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		versions := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				s, err := c.Save(ctx, scenarios.SaveRequest{Kind: trainer.KindScenario, ID: "t-late-parcel", Body: []byte(src)})
				versions[i], errs[i] = s.Version, err
			})
		}
		wg.Wait()
		seen := map[int]bool{}
		won := 0
		for i := range n {
			switch {
			case errs[i] == nil:
				if seen[versions[i]] {
					t.Errorf("version %d saved twice", versions[i])
				}
				seen[versions[i]] = true
				won++
			case !errors.Is(errs[i], trainer.ErrVersionConflict):
				t.Errorf("save %d: %v", i, errs[i])
			}
		}
		latest, _, err := c.Source(ctx, trainer.KindScenario, "t-late-parcel", 0)
		if err != nil || latest.Version != 1+won {
			t.Errorf("latest v%d after %d successful saves: %v", latest.Version, won, err)
		}
	})
}

func TestCompositeValidatesAgainstAuthoredPersonas(t *testing.T) {
	ctx := t.Context()
	c := newComposite(t, redistest.Mini(t))
	persona := "id: t-persona\nextends: base\nname: {zh: 测试客户, en: Test customer}\n"
	withPersona := strings.Replace(authored(t), "persona: angry-complainer", "persona: t-persona", 1)
	if _, err := c.ValidateScenario(ctx, "x", []byte(withPersona)); err == nil {
		t.Fatal("a scenario naming an unknown persona validated")
	}
	// A draft persona is not usable yet; a published one is.
	if _, err := c.Save(ctx, scenarios.SaveRequest{Kind: trainer.KindPersona, ID: "t-persona", Body: []byte(persona), Create: true, Draft: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ValidateScenario(ctx, "x", []byte(withPersona)); err == nil {
		t.Fatal("a draft persona was usable")
	}
	if _, err := c.Save(ctx, scenarios.SaveRequest{Kind: trainer.KindPersona, ID: "t-persona", Body: []byte(persona)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ValidateScenario(ctx, "x", []byte(withPersona)); err != nil {
		t.Fatalf("published persona: %v", err)
	}
	ps, _ := c.Personas(ctx)
	found := false
	for _, p := range ps {
		found = found || p.ID == "t-persona"
	}
	if !found {
		t.Error("the published persona is not in the library")
	}
	builtinID := strings.Replace(persona, "id: t-persona", "id: angry-complainer", 1)
	if _, err := c.Save(ctx, scenarios.SaveRequest{Kind: trainer.KindPersona, ID: "angry-complainer", Body: []byte(builtinID)}); !errors.Is(err, scenarios.ErrBuiltin) {
		t.Errorf("overwrite a built-in persona: %v, want ErrBuiltin", err)
	}
}
