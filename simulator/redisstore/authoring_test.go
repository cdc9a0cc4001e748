package redisstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

func TestAuthoringSourcesAreVersioned(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		a := redisstore.NewAuthoring(b.Client(t), b.Prefix)
		src := func(id string, v int, body string) trainer.Source {
			return trainer.Source{Kind: trainer.KindScenario, ID: id, Version: v, Body: body, Saved: time.Unix(int64(v), 0).UTC()}
		}
		steps := []struct {
			name string
			s    trainer.Source
			err  error
		}{
			{"first", src("s1", 1, "one"), nil},
			{"skip a version", src("s1", 3, "three"), trainer.ErrVersionConflict},
			{"same version again", src("s1", 1, "again"), trainer.ErrVersionConflict},
			{"second", src("s1", 2, "two"), nil},
			{"other id", src("s2", 1, "other"), nil},
			{"zero version", src("s3", 0, "x"), redisstore.ErrInvalidCommit},
			{"brace in id", src("s{4}", 1, "x"), redisstore.ErrInvalidCommit},
		}
		for _, st := range steps {
			if err := a.Save(ctx, st.s); !errors.Is(err, st.err) {
				t.Fatalf("%s: err %v, want %v", st.name, err, st.err)
			}
		}
		latest, err := a.Latest(ctx, trainer.KindScenario, "s1")
		if err != nil || latest.Version != 2 || latest.Body != "two" {
			t.Fatalf("latest: %+v %v", latest, err)
		}
		v1, err := a.Version(ctx, trainer.KindScenario, "s1", 1)
		if err != nil || v1.Body != "one" {
			t.Fatalf("version 1: %+v %v", v1, err)
		}
		for _, miss := range []func() error{
			func() error { _, err := a.Version(ctx, trainer.KindScenario, "s1", 9); return err },
			func() error { _, err := a.Latest(ctx, trainer.KindScenario, "nobody"); return err },
			func() error { _, err := a.Latest(ctx, trainer.KindPersona, "s1"); return err }, // kinds are apart
		} {
			if err := miss(); !errors.Is(err, trainer.ErrNotFound) {
				t.Errorf("missing: err %v, want ErrNotFound", err)
			}
		}
		list, err := a.List(ctx, trainer.KindScenario)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(list, func(x, y trainer.Source) int { return x.Version - y.Version })
		if len(list) != 2 || list[0].ID != "s2" || list[1].ID != "s1" || list[1].Version != 2 {
			t.Errorf("list: %+v", list)
		}
		if ps, err := a.List(ctx, trainer.KindPersona); err != nil || len(ps) != 0 {
			t.Errorf("persona list: %+v %v", ps, err)
		}
	})
}

func TestAuthoringReviewsAndIndex(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		client := b.Client(t)
		a := redisstore.NewAuthoring(client, b.Prefix)
		store := redisstore.New(client, time.Hour, b.Prefix)
		indexed := a.Indexed(store)
		base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		for i, id := range []string{"old", "mid", "new"} {
			s := &simulator.Session{ID: id, State: simulator.StateActive, Created: base.Add(time.Duration(i) * 24 * time.Hour),
				Events: []simulator.Event{{Seq: 1, Type: simulator.EventCustomer, Text: "hi"}}}
			if err := indexed.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		recent := func(from, to time.Time, n int) []string {
			t.Helper()
			ids, err := a.Recent(ctx, from, to, n)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		for _, c := range []struct {
			name     string
			from, to time.Time
			n        int
			want     []string
		}{
			{"all", time.Time{}, time.Time{}, 0, []string{"new", "mid", "old"}},
			{"limit", time.Time{}, time.Time{}, 2, []string{"new", "mid"}},
			{"from", base.Add(time.Hour), time.Time{}, 0, []string{"new", "mid"}},
			{"to", time.Time{}, base.Add(25 * time.Hour), 0, []string{"mid", "old"}},
		} {
			if got := recent(c.from, c.to, c.n); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		if err := a.Forget(ctx, "mid"); err != nil {
			t.Fatal(err)
		}
		if got := recent(time.Time{}, time.Time{}, 0); !slices.Equal(got, []string{"new", "old"}) {
			t.Errorf("after forget: %v", got)
		}

		// Reviews live beside the session and expire with it.
		if err := a.AddComment(ctx, "new", trainer.Comment{ID: "c1", Turn: 1, Text: "good"}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []trainer.Override{{Step: simulator.StepHelp, Score: 40, Reason: "a"}, {Step: simulator.StepHelp, Score: 60, Reason: "b"}} {
			if err := a.AddOverride(ctx, "new", o); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.AddComment(ctx, "ghost", trainer.Comment{Text: "x"}); !errors.Is(err, trainer.ErrNotFound) {
			t.Errorf("comment on a missing session: %v, want ErrNotFound", err)
		}
		r, err := a.Review(ctx, "new")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Comments) != 1 || len(r.Overrides) != 2 || r.Current()[simulator.StepHelp].Score != 60 {
			t.Errorf("review: %+v", r)
		}
		meta, _, _ := store.Keys("new")
		ttl := client.PTTL(ctx, meta).Val()
		rttl := client.PTTL(ctx, b.Prefix+"sess:{new}:review").Val()
		if rttl <= 0 || rttl > ttl+time.Second {
			t.Errorf("review ttl %v, session ttl %v: want the review to expire with the session", rttl, ttl)
		}
		if empty, err := a.Review(ctx, "old"); err != nil || len(empty.Comments) != 0 || empty.Comments == nil {
			t.Errorf("empty review: %+v %v", empty, err)
		}
	})
}
