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

// BenchmarkEncodeTurnEvents compares Append's pooled encoding with one
// json.Marshal per event, on a coach-mode turn (ack, feedback, customer).
func BenchmarkEncodeTurnEvents(b *testing.B) {
	at := time.Now().UTC()
	a := simulator.Assessment{Score: 2, Hint: "Name the next step and when you will call back.",
		Signals: []simulator.Signal{{Code: "apologize"}, {Code: "acknowledge_feeling"}}}
	evs := []simulator.Event{
		{Seq: 4, Type: simulator.EventAck, Turn: 2, At: at, ReplyID: "r2", Text: "I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work?", Assessment: &a, DelayMS: 1500},
		{Seq: 5, Type: simulator.EventFeedback, Turn: 2, At: at, Feedback: &a},
		{Seq: 6, Type: simulator.EventCustomer, Turn: 2, At: at, Text: "Fine. But I want to hear from you by six, not seven.", Mood: &simulator.Mood{Anger: 40, Trust: 30}},
	}
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		args := make([]any, 0, 16)
		for b.Loop() {
			if _, err := appendEvents(args[:0], &buf, evs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		args := make([]any, 0, 16)
		for b.Loop() {
			if _, err := encodeEvents(args[:0], evs); err != nil {
				b.Fatal(err)
			}
		}
	})
}
