package scripted_test

import (
	"bytes"
	"testing"

	"github.com/sparring-gym/sparring/simulator/scripted"
)

// TestStateCacheChangesNothing: an engine that reuses the states it wrote
// (scripted.New) and one that decodes every state (a zero Engine) play every
// golden conversation identically, down to the stored state bytes.
func TestStateCacheChangesNothing(t *testing.T) {
	lib := mustLibrary(t)
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			sc := mustScenario(t, lib, gc.scenario)
			cached, cachedTurns := playWith(t, scripted.New(), sc, gc.lang, gc.seed, gc.turns, true)
			decoded, decodedTurns := playWith(t, &scripted.Engine{}, sc, gc.lang, gc.seed, gc.turns, true)
			if cached != decoded {
				t.Fatalf("transcripts differ:\ncached:\n%s\ndecoded:\n%s", cached, decoded)
			}
			for i := range cachedTurns {
				if !bytes.Equal(cachedTurns[i].State, decodedTurns[i].State) {
					t.Fatalf("turn %d state differs:\n%s\n%s", i, cachedTurns[i].State, decodedTurns[i].State)
				}
			}
		})
	}
}
