package bounded_test

import (
	"testing"

	"github.com/sparring-gym/sparring/simulator/bounded"
)

func TestMapStaysBounded(t *testing.T) {
	m := bounded.New[int, int](8)
	for i := range 100 {
		m.Put(i, i*i)
		if v, ok := m.Get(i); !ok || v != i*i {
			t.Fatalf("Get(%d) = %d, %v right after Put", i, v, ok)
		}
		if m.Len() > 8 {
			t.Fatalf("%d entries, limit 8", m.Len())
		}
	}
	if _, ok := m.Get(0); ok {
		t.Fatal("the first key survived 99 later ones in a map of 8")
	}
}
