// Package trainer holds the trainer-side records that sit beside practice
// sessions: authored scenario and persona sources (every change a new,
// immutable version), per-session reviews (comments and step-score
// overrides, kept apart from the stored report), and the index of recent
// sessions. It does no I/O; simulator/redisstore implements the interfaces.
package trainer

import (
	"context"
	"errors"
	"time"

	"github.com/sparring-gym/sparring/simulator"
)

// Kind says what a Source defines.
type Kind string

const (
	KindScenario Kind = "scenario"
	KindPersona  Kind = "persona"
)

// Source is one stored version of a trainer-authored scenario or persona:
// the YAML exactly as the loader reads it, plus bookkeeping. Versions are
// never changed once saved, so a session can always find the one it used.
type Source struct {
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`
	Version int       `json:"version"`
	Body    string    `json:"body"` // YAML
	Draft   bool      `json:"draft"`
	Deleted bool      `json:"deleted,omitempty"` // a tombstone version: gone from the library, old versions kept
	Author  string    `json:"author,omitempty"`
	Saved   time.Time `json:"saved"`
}

// Sources stores authored sources by version.
type Sources interface {
	// Save stores s as version s.Version, which must be the latest version
	// plus one (1 for a new id); otherwise it fails with ErrVersionConflict.
	Save(ctx context.Context, s Source) error
	// Latest returns the newest version of id, or ErrNotFound.
	Latest(ctx context.Context, kind Kind, id string) (Source, error)
	// Version returns one version of id, or ErrNotFound.
	Version(ctx context.Context, kind Kind, id string, version int) (Source, error)
	// List returns the newest version of every id of kind, tombstones included.
	List(ctx context.Context, kind Kind) ([]Source, error)
}

// Errors of the stores.
var (
	ErrNotFound        = errors.New("trainer: not found")
	ErrVersionConflict = errors.New("trainer: version changed concurrently")
)

// Comment is a trainer's note on one turn of a session (turn 0 is the
// opening; a comment on the whole session uses turn -1).
type Comment struct {
	ID     string    `json:"id"`
	Turn   int       `json:"turn"`
	Text   string    `json:"text"`
	Author string    `json:"author,omitempty"`
	At     time.Time `json:"at"`
}

// Override replaces the automatic score of one step in the trainer's view
// of a session. The stored report keeps the automatic score; the newest
// override of a step wins and earlier ones stay as history.
type Override struct {
	Step   simulator.Step `json:"step"`
	Score  int            `json:"score"`
	Reason string         `json:"reason"`
	Author string         `json:"author,omitempty"`
	At     time.Time      `json:"at"`
}

// Review is everything trainers added to one session.
type Review struct {
	Comments  []Comment  `json:"comments"`
	Overrides []Override `json:"overrides"` // in the order given
}

// Current returns the newest override of each step.
func (r Review) Current() map[simulator.Step]Override {
	out := map[simulator.Step]Override{}
	for _, o := range r.Overrides {
		out[o.Step] = o
	}
	return out
}

// Reviews stores reviews beside their sessions.
type Reviews interface {
	// AddComment stores c; ErrNotFound when the session does not exist.
	AddComment(ctx context.Context, session string, c Comment) error
	// AddOverride stores o; ErrNotFound when the session does not exist.
	AddOverride(ctx context.Context, session string, o Override) error
	// Review returns the session's review (empty when there is none).
	Review(ctx context.Context, session string) (Review, error)
}

// SessionIndex lists sessions by creation time.
type SessionIndex interface {
	// Recent returns up to limit session ids created in [from, to] (zero
	// times are open ends), newest first.
	Recent(ctx context.Context, from, to time.Time, limit int) ([]string, error)
	// Forget drops ids whose sessions have expired.
	Forget(ctx context.Context, ids ...string) error
}

// Store is everything the trainer tools keep.
type Store interface {
	Sources
	Reviews
	SessionIndex
}
