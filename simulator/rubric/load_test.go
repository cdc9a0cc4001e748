package rubric_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

func defaultYAML(tb testing.TB) string {
	tb.Helper()
	b, err := rubric.DefaultYAML()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestLoadErrors: a broken rubric names the file, the line, the field and
// the fix.
func TestLoadErrors(t *testing.T) {
	base := defaultYAML(t)
	tests := []struct {
		name  string
		edit  func(string) string
		wants []string
	}{
		{"unknown field", func(s string) string {
			return strings.Replace(s, "  saturation: 45", "  saturation: 45\n  saturaton: 3", 1)
		}, []string{"my.yaml", "line", "saturaton", "fix"}},
		{"weights do not sum to 1", func(s string) string {
			return strings.Replace(s, "  receive: 0.15\n  understand: 0.25", "  receive: 0.5\n  understand: 0.25", 1)
		}, []string{"my.yaml:", "weights", "sum", "fix"}},
		{"wrong polarity", func(s string) string {
			return strings.Replace(s, "  blame:\n    polarity: \"-\"", "  blame:\n    polarity: \"+\"", 1)
		}, []string{"my.yaml:", "signals.blame.polarity", "RUBRIC.md"}},
		{"unknown step", func(s string) string {
			return strings.Replace(s, "  greet:\n    polarity: \"+\"\n    step: receive", "  greet:\n    polarity: \"+\"\n    step: welcome", 1)
		}, []string{"my.yaml:", "signals.greet.step", "fix"}},
		{"bad lexicon entry", func(s string) string {
			return strings.Replace(s, "zh: [您好, 你好,", "zh: [\"…您好\", 你好,", 1)
		}, []string{"my.yaml:", "signals.greet.zh", "fix"}},
		{"yaml syntax", func(s string) string { return s + "\n  : [\n" }, []string{"my.yaml", "fix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"my.yaml": {Data: []byte(tt.edit(base))}}
			_, err := rubric.Load(fsys, "my.yaml")
			if err == nil {
				t.Fatal("loaded a broken rubric")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := rubric.Load(fstest.MapFS{"ok.yaml": {Data: []byte(base)}}, "ok.yaml"); err != nil {
		t.Fatalf("the default rubric does not load from a file: %v", err)
	}
}
