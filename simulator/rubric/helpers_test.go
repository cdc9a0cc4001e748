package rubric_test

import (
	"testing"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

func mustNew(tb testing.TB) *rubric.Assessor {
	tb.Helper()
	a, err := rubric.New()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
