package redisstore

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
)

// TestAppendEventsBytes: the pooled encoding Append uses stores exactly the
// bytes json.Marshal gives, event by event, also when the buffer is reused
// (HTML characters, invalid UTF-8 and a large report included).
func TestAppendEventsBytes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	a := simulator.Assessment{Score: 3, Hint: "<b>&</b> \u2028", Signals: []simulator.Signal{{Code: "apologize"}}}
	sets := [][]simulator.Event{
		{
			{Seq: 4, Type: simulator.EventAck, Turn: 2, At: at, ReplyID: "r\xff", Text: "a < b & c", Assessment: &a, DelayMS: 1500},
			{Seq: 5, Type: simulator.EventFeedback, Turn: 2, At: at, Feedback: &a},
			{Seq: 6, Type: simulator.EventCustomer, Turn: 2, At: at, Text: "您好", Mood: &simulator.Mood{Anger: 40}},
		},
		{{Seq: 7, Type: simulator.EventReport, At: at, Report: &simulator.Report{Total: 80, HardFails: []string{strings.Repeat("x", 70000)}}}},
		{{Seq: 8, Type: simulator.EventNote, At: at, Kind: "paste", Text: "short"}},
	}
	var buf bytes.Buffer
	for _, evs := range sets {
		args, err := appendEvents([]any{"first"}, &buf, evs)
		if err != nil {
			t.Fatal(err)
		}
		if len(args) != 1+len(evs) || args[0] != "first" {
			t.Fatalf("args = %d values, want %d after the one given", len(args), 1+len(evs))
		}
		for i, e := range evs {
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if got := args[1+i].([]byte); !bytes.Equal(got, want) {
				t.Errorf("event %d: stored %s, json.Marshal gives %s", e.Seq, got, want)
			}
		}
	}
}
