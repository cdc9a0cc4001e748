package scripted

import (
	"strings"
	"testing"
)

// FuzzFillPlaceholders: the one-pass fill gives strings.NewReplacer's
// output for any line and any replacements (including ones that contain
// placeholders themselves, which must not be expanded again).
func FuzzFillPlaceholders(f *testing.F) {
	f.Add("I want {demand} about {issue}{question}", "{demand}", "退款")
	f.Add("{{alternative}} {reveal", "{reveal}", "")
	f.Add("no braces", "x", "y")
	f.Add("{issue}{issue}{unknown}{", "a{b", "{question}")
	f.Fuzz(func(t *testing.T, s, r1, r2 string) {
		subs := [...][2]string{{"{issue}", r1}, {"{demand}", r2}, {"{question}", r1 + r2}, {"{alternative}", r2}, {"{reveal}", "x"}}
		want := strings.NewReplacer("{issue}", subs[0][1], "{demand}", subs[1][1], "{question}", subs[2][1],
			"{alternative}", subs[3][1], "{reveal}", subs[4][1]).Replace(s)
		if got := fillPlaceholders(s, subs); got != want {
			t.Fatalf("fillPlaceholders(%q) = %q, strings.Replacer gives %q", s, got, want)
		}
	})
}
