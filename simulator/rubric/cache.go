package rubric

import (
	"maps"
	"slices"
	"strings"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/bounded"
)

// foldCache remembers the folded form of texts that recur from turn to turn:
// the customer's lines (scripted personas draw them from fixed pools) and
// the scenario's facts and policy keywords. A reply is scored against them
// on every turn; folding them once takes a fifth of the scorer's time off
// the turn path. Bounded: when full it starts again, so a stream of unique
// lines (an LLM persona) costs at most limit entries.
type foldCache struct {
	texts *bounded.Map[string, string]
	scens *bounded.Map[*simulator.Scenario, *scenarioPatterns]
}

// foldCacheLimit bounds each of the cache's maps: a few thousand customer
// lines cover every persona pool of the library in both languages.
const foldCacheLimit = 4096

func newFoldCache(limit int) *foldCache {
	return &foldCache{
		texts: bounded.New[string, string](limit),
		scens: bounded.New[*simulator.Scenario, *scenarioPatterns](limit),
	}
}

// text returns z.fold(s), from the cache when it can.
func (c *foldCache) text(z *normalizer, s string) string {
	if f, ok := c.texts.Get(s); ok {
		return f
	}
	f := z.fold(s)
	c.texts.Put(s, f)
	return f
}

// scenarioPatterns are a scenario's facts and policy words, folded and
// trimmed the way readScenario matches them.
type scenarioPatterns struct {
	facts      []string   // briefing facts of at least two characters
	forbidden  [][]string // per forbidden commitment, its keywords
	supervisor []string   // actions that need a supervisor
}

// scenario returns sc's folded patterns. Scenarios are immutable once
// loaded, so the pointer is the key; a trainer's new version is a new
// pointer.
func (c *foldCache) scenario(z *normalizer, sc *simulator.Scenario) *scenarioPatterns {
	if p, ok := c.scens.Get(sc); ok {
		return p
	}
	p := &scenarioPatterns{}
	for _, fact := range sc.Brief.Context {
		p.facts = append(p.facts, strings.TrimSpace(z.fold(fact)))
	}
	for _, f := range sc.Policy.Forbidden {
		var kws []string
		// In language order, so evidence comes out the same every time.
		for _, lang := range slices.Sorted(maps.Keys(f.Keywords)) {
			for _, kw := range f.Keywords[lang] {
				kws = append(kws, strings.TrimSpace(z.fold(kw)))
			}
		}
		p.forbidden = append(p.forbidden, kws)
	}
	for _, action := range sc.Policy.NeedsSupervisor {
		p.supervisor = append(p.supervisor, strings.TrimSpace(z.fold(action)))
	}
	c.scens.Put(sc, p)
	return p
}
