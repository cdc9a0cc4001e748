package simulator

import (
	"context"
	"errors"
	"time"
)

// Customer plays a persona. Implementations: simulator/scripted (deterministic)
// and simulator/llm (a model words what the scripted state machine decides).
type Customer interface {
	// Open returns the customer's opening line (turn 0) and initial state.
	Open(ctx context.Context, req OpenRequest) (CustomerTurn, error)
	// Respond answers an assessed trainee reply.
	Respond(ctx context.Context, req RespondRequest) (CustomerTurn, error)
	// Conclude decides the outcome when the trainee ends the conversation.
	Conclude(ctx context.Context, req ConcludeRequest) (Outcome, string, error)
}

// OpenRequest asks for the opening line.
type OpenRequest struct {
	Scenario *Scenario
	Lang     Lang
	Seed     int64
}

// RespondRequest carries an assessed reply to the customer.
type RespondRequest struct {
	Scenario   *Scenario
	Lang       Lang
	Seed       int64
	Turn       int    // the trainee's turn being answered, from 1
	State      []byte // the state returned by the previous Open/Respond
	Reply      string
	Assessment Assessment
	Transcript []Line // before this reply
	// Delta, when not nil, receives pieces of the line while it streams.
	Delta func(text string)
}

// ConcludeRequest asks how the conversation ends when the trainee closes it.
type ConcludeRequest struct {
	Scenario   *Scenario
	Lang       Lang
	State      []byte
	Transcript []Line
}

// CustomerTurn is what the customer does in one turn.
type CustomerTurn struct {
	Text  string
	Mood  Mood
	Moves []MoodMove
	// Outcome is set when the customer ends the conversation this turn.
	Outcome Outcome
	Reason  string
	State   []byte
	// Intent says in plain words what the state machine means this line to
	// do ("still angry, presses for the refund again"); the LLM engine words it.
	Intent string
	// Fallback is true when the LLM engine used the scripted line instead.
	Fallback bool
}

// Assessor scores trainee replies and builds the session report.
type Assessor interface {
	Assess(ctx context.Context, req AssessRequest) (Assessment, error)
	Report(ctx context.Context, req ReportRequest) (Report, error)
}

// AssessRequest is one reply with its context.
type AssessRequest struct {
	Reply    string
	Lang     Lang   // empty: detect
	Customer string // the customer's message it answers; may be empty
	// Transcript is the conversation before this reply; Previous the earlier
	// replies' assessments in order (order rules, repeated boilerplate).
	Transcript []Line
	Previous   []Assessment
	Scenario   *Scenario // may be nil (batch scoring without a scenario)
	Turn       int
	Delay      time.Duration // time since the customer's line; 0 if unknown
}

// ReportRequest is a finished session to score as a whole.
type ReportRequest struct {
	Scenario *Scenario
	Lang     Lang
	Mode     Mode
	Turns    []TurnRecord
	Outcome  Outcome
	Mood     Mood // the customer's final mood
	Duration time.Duration
}

// TurnRecord is one trainee turn as the report sees it.
type TurnRecord struct {
	Turn       int
	Customer   string // the line the reply answered
	Reply      string
	Assessment Assessment
	Delay      time.Duration
}

// Store persists sessions. Append is the turn path: one atomic round trip.
type Store interface {
	// Create stores a new session and its first events.
	Create(ctx context.Context, s *Session) error
	// Load returns a session with its whole event log, or ErrSessionNotFound.
	Load(ctx context.Context, id string) (*Session, error)
	// Append stores c atomically: all of its events or none. It fails with
	// ErrConflict when the log no longer ends at c.After (another writer got
	// there first) and with ErrDuplicateReply when c.ReplyID was stored before.
	Append(ctx context.Context, id string, c Commit) error
}

// Commit is one atomic change to a session.
type Commit struct {
	After         int    // the seq the writer last saw
	ReplyID       string // idempotency key; empty for none
	Events        []Event
	State         SessionState
	CustomerState []byte
}

// Store errors.
var (
	ErrSessionNotFound = errors.New("session not found")
	ErrConflict        = errors.New("session changed concurrently")
	ErrDuplicateReply  = errors.New("reply already stored")
)
