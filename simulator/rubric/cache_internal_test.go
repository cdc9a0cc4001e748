package rubric

import (
	"fmt"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
)

// foldSamples cover every branch of the folding loop: case, full width,
// traditional characters, spaces between scripts, doubled letters, line
// breaks, zero-width and emoji.
var foldSamples = []string{
	"", "Hello  WORLD", "Ｉ'ｍ ｓｏｒｒｙ!!!", "您好 ， 我是 小林。", "這個問題我們會處理", "sorrry\n\n\nok",
	"a\u200bb", "😀 great 😀", "Sorry 让您久等了, let me check", "\xff\xfe broken", "tab\there\rcr",
}

// TestFoldIsNormalizeText: fold (the span-free path used for earlier replies,
// customer lines and patterns) folds exactly like normalize.
func TestFoldIsNormalizeText(t *testing.T) {
	z := normalizer{t2s: buildT2S()}
	for _, s := range foldSamples {
		if got, want := z.fold(s), z.normalize(s).text; got != want {
			t.Errorf("fold(%q) = %q, normalize gives %q", s, got, want)
		}
	}
}

// mapDice is the set definition bigramSet and dice implement, on the
// map-based bigrams that quote matching uses.
func mapDice(a, b string) float64 {
	x, y := bigrams(a), bigrams(b)
	if len(x)+len(y) == 0 {
		return 0
	}
	n := 0
	for k := range x {
		if y[k] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(x)+len(y))
}

func TestDiceMatchesSetDefinition(t *testing.T) {
	pairs := [][2]string{
		{"i understand how you feel", "i understand how you feel."},
		{"i understand how you feel", "we understand what you feel"},
		{"非常抱歉让您久等了", "非常抱歉让您等久了"},
		{"aaaa bbbb", "abab"},
		{"", "x"},
		{"", ""},
	}
	for _, p := range pairs {
		got := dice(bigramSet(nil, []byte(p[0])), bigramSet(nil, []byte(p[1])))
		if want := mapDice(p[0], p[1]); got != want {
			t.Errorf("dice(%q, %q) = %v, want %v", p[0], p[1], got, want)
		}
	}
}

// TestFoldCacheBounded: a stream of unique lines never holds more than the
// limit, and a cached answer is the folded text.
func TestFoldCacheBounded(t *testing.T) {
	z := normalizer{t2s: buildT2S()}
	c := newFoldCache(8)
	for i := range 100 {
		s := fmt.Sprintf("Line NUMBER %d", i)
		if got := c.text(&z, s); got != z.fold(s) {
			t.Fatalf("text(%q) = %q", s, got)
		}
		if c.texts.Len() > 8 {
			t.Fatalf("cache holds %d texts, limit 8", c.texts.Len())
		}
	}
	for i := range 20 {
		sc := &simulator.Scenario{Brief: simulator.Brief{Context: []string{fmt.Sprintf("Order AB-%d", i)}}}
		if p := c.scenario(&z, sc); len(p.facts) != 1 || p.facts[0] != z.fold(sc.Brief.Context[0]) {
			t.Fatalf("scenario patterns %+v", p)
		}
		if c.scens.Len() > 8 {
			t.Fatalf("cache holds %d scenarios, limit 8", c.scens.Len())
		}
	}
}
