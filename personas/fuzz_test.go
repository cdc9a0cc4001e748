package personas_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/sparring-gym/sparring/personas"
)

// FuzzValidate feeds arbitrary YAML to the persona loader: it must never
// panic, and every failure must be the ValidationErrors that name the file,
// line, field and fix.
func FuzzValidate(f *testing.F) {
	known, err := personas.Load(personas.Builtin())
	if err != nil {
		f.Fatal(err)
	}
	names, _ := fs.Glob(personas.Builtin(), "*.yaml")
	for _, n := range names {
		b, _ := fs.ReadFile(personas.Builtin(), n)
		f.Add(b)
	}
	f.Add([]byte("id: x\nextends: base\n"))
	f.Add([]byte("id: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := personas.Validate("fuzz.yaml", data, known)
		if err == nil && p == nil {
			t.Fatal("no persona and no error")
		}
		var ve personas.ValidationErrors
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error is %T (%v), want ValidationErrors", err, err)
		}
	})
}
