package simulator

import (
	"time"
)

// EventType names a session-scoped event; the wire protocol uses the same names.
type EventType string

const (
	EventCustomer EventType = "customer"
	EventAck      EventType = "ack"
	EventFeedback EventType = "feedback"
	EventEnd      EventType = "end"
	EventReport   EventType = "report"
	// EventNote records something the trainer should see but that does not
	// change the conversation (a pasted reply, a lost tab focus).
	EventNote EventType = "note"
)

// Event is one entry of a session's log, stored before it is sent. Seq is its
// 1-based position in the log and is never reused. Only the fields of its
// Type are set.
type Event struct {
	Seq  int       `json:"seq"`
	Type EventType `json:"type"`
	Turn int       `json:"turn"`
	At   time.Time `json:"at"`

	// customer
	Text     string     `json:"text,omitempty"` // also the trainee's text on an ack, the note on a note
	Mood     *Mood      `json:"mood,omitempty"`
	Moves    []MoodMove `json:"moves,omitempty"`
	Fallback bool       `json:"fallback,omitempty"` // LLM engine fell back to the scripted line

	// ack: the trainee's reply and its assessment. The assessment is kept on
	// the ack in every mode, so the report can be rebuilt; it is shown as a
	// separate feedback event in coach mode only.
	ReplyID    string      `json:"id,omitempty"`
	Assessment *Assessment `json:"assessment,omitempty"`
	// DelayMS is how long the trainee took to answer the customer's line.
	DelayMS int64 `json:"delay_ms,omitempty"`

	// feedback (coach mode)
	Feedback *Assessment `json:"feedback,omitempty"`

	// end
	Outcome Outcome `json:"outcome,omitempty"`
	Reason  string  `json:"reason,omitempty"`

	// report
	Report *Report `json:"report,omitempty"`

	// note
	Kind string `json:"kind,omitempty"`
}

// SessionState is active until an end event is stored.
type SessionState string

const (
	StateActive SessionState = "active"
	StateEnded  SessionState = "ended"
)

// Session is one practice conversation: its settings (meta), the persona
// engine's state and the whole event log. Everything else (turn count,
// transcript, processed reply ids) is derived from the log.
type Session struct {
	ID              string       `json:"id"`
	TokenHash       string       `json:"token_hash"` // hex SHA-256 of the resume token
	ScenarioID      string       `json:"scenario"`
	ScenarioVersion int          `json:"scenario_version"`
	PersonaID       string       `json:"persona"`
	Trainee         string       `json:"trainee"`
	Mode            Mode         `json:"mode"`
	Engine          Engine       `json:"engine"`
	Lang            Lang         `json:"lang"`
	Seed            int64        `json:"seed"`
	Contest         string       `json:"contest,omitempty"`
	Team            string       `json:"team,omitempty"`
	Created         time.Time    `json:"created"`
	Deadline        time.Time    `json:"deadline,omitzero"`
	State           SessionState `json:"state"`
	// CustomerState is the persona engine's own state, opaque here.
	CustomerState []byte `json:"customer_state,omitempty"`

	Events []Event `json:"events"`
}

// LastSeq is the seq of the newest stored event (0 for none).
func (s *Session) LastSeq() int { return len(s.Events) }

// Turns counts the trainee's stored replies.
func (s *Session) Turns() int {
	n := 0
	for i := range s.Events {
		if s.Events[i].Type == EventAck {
			n++
		}
	}
	return n
}

// After returns the events with seq > after.
func (s *Session) After(after int) []Event {
	if after < 0 {
		after = 0
	}
	if after >= len(s.Events) {
		return nil
	}
	return s.Events[after:]
}

// ReplyEvents returns the events a reply produced: its ack and everything up
// to the next ack. ok is false if the reply id was never stored.
func (s *Session) ReplyEvents(id string) (events []Event, ok bool) {
	for i, e := range s.Events {
		if e.Type != EventAck || e.ReplyID != id {
			continue
		}
		j := i + 1
		for j < len(s.Events) && s.Events[j].Type != EventAck {
			j++
		}
		return s.Events[i:j], true
	}
	return nil, false
}

// Transcript returns the conversation as lines, in order.
func (s *Session) Transcript() []Line {
	// Sized first: it is rebuilt on every turn (issue 9, allocations per turn).
	n := 0
	for i := range s.Events {
		if t := s.Events[i].Type; t == EventCustomer || t == EventAck {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	lines := make([]Line, 0, n)
	for _, e := range s.Events {
		switch e.Type {
		case EventCustomer:
			lines = append(lines, Line{Turn: e.Turn, Speaker: SpeakerCustomer, Text: e.Text, At: e.At})
		case EventAck:
			lines = append(lines, Line{Turn: e.Turn, Speaker: SpeakerTrainee, Text: e.Text, At: e.At})
		}
	}
	return lines
}

// Assessments returns every stored reply's assessment, in turn order.
func (s *Session) Assessments() []Assessment {
	n := 0
	for i := range s.Events {
		if s.Events[i].Type == EventAck && s.Events[i].Assessment != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Assessment, 0, n)
	for _, e := range s.Events {
		if e.Type == EventAck && e.Assessment != nil {
			out = append(out, *e.Assessment)
		}
	}
	return out
}

// LastCustomer returns the customer's latest line.
func (s *Session) LastCustomer() (Event, bool) {
	for i := len(s.Events) - 1; i >= 0; i-- {
		if s.Events[i].Type == EventCustomer {
			return s.Events[i], true
		}
	}
	return Event{}, false
}

// Mood returns the customer's current mood.
func (s *Session) Mood() Mood {
	if e, ok := s.LastCustomer(); ok && e.Mood != nil {
		return *e.Mood
	}
	return Mood{}
}

// Report is the scorecard of a finished session (PROTOCOL.md `report`).
type Report struct {
	Total      int                `json:"total"`
	Steps      map[Step]StepScore `json:"steps"`
	Dimensions map[Dimension]int  `json:"dimensions"`
	Outcome    Outcome            `json:"outcome"`
	Turns      int                `json:"turns"`
	DurationS  int                `json:"duration_s"`
	Feedback   []TurnFeedback     `json:"feedback"`
	// HardFails names the reasons the total was capped (extension).
	HardFails []string `json:"hard_fails"`
	// Judge lists where an LLM judge disagreed with the rules (extension).
	Judge []string `json:"judge,omitempty"`
}

// StepScore is one step of the report.
type StepScore struct {
	Score    int      `json:"score"`
	Evidence []string `json:"evidence"`
	Advice   string   `json:"advice"`
}

// TurnFeedback is one turn's assessment as the report lists it.
type TurnFeedback struct {
	Turn    int      `json:"turn"`
	Steps   []Step   `json:"steps"`
	Signals []Signal `json:"signals"`
	Hint    string   `json:"hint"`
	Score   int      `json:"score"`
	Verdict Verdict  `json:"verdict"`
}

// Dimension is one of the five service-quality (RATER) dimensions.
type Dimension string

const (
	DimReliability    Dimension = "reliability"
	DimAssurance      Dimension = "assurance"
	DimTangibles      Dimension = "tangibles"
	DimEmpathy        Dimension = "empathy"
	DimResponsiveness Dimension = "responsiveness"
)

// Dimensions lists the five dimensions in RATER order.
var Dimensions = []Dimension{DimReliability, DimAssurance, DimTangibles, DimEmpathy, DimResponsiveness}
