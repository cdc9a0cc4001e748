package scripted

import (
	"reflect"
	"testing"
)

// TestCloneSharesNothing: a cached state's copy shares no map, slice or
// pointer with it, whatever fields state gains later (the walk is by
// reflection), so one turn can never change the state a cache holds.
func TestCloneSharesNothing(t *testing.T) {
	st := &state{V: stateVersion, Turn: 3,
		Counts: map[string]int{"apologize": 1}, Used: map[string]int{"react": 2},
		Demands: []demandState{{ID: "refund", Offers: 1}}, Revealed: []string{"when"},
		Pending: []pending{{Made: 1, Due: 3, Demand: "refund"}}}
	// Every reference-typed field must be non-empty here, or the walk
	// proves nothing for it.
	requireFilled(t, reflect.ValueOf(st).Elem(), "state")
	c := st.clone()
	if !reflect.DeepEqual(c, st) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, st)
	}
	assertDisjoint(t, reflect.ValueOf(c).Elem(), reflect.ValueOf(st).Elem(), "state")
	c.Counts["apologize"]++
	c.Demands[0].Met = true
	if st.Counts["apologize"] != 1 || st.Demands[0].Met {
		t.Fatal("changing the copy changed the original")
	}
}

func requireFilled(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer:
		if v.IsNil() || (v.Kind() != reflect.Pointer && v.Len() == 0) {
			t.Fatalf("%s is empty in the test state: fill it so the copy is checked", path)
		}
		if v.Kind() == reflect.Slice {
			requireFilled(t, v.Index(0), path+"[0]")
		}
	case reflect.Struct:
		for i := range v.NumField() {
			requireFilled(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	}
}

func assertDisjoint(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			t.Fatalf("%s is shared between the copy and the original", path)
		}
		if a.Kind() == reflect.Slice {
			for i := range a.Len() {
				assertDisjoint(t, a.Index(i), b.Index(i), path)
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			assertDisjoint(t, a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
		}
	}
}
