package protocol_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/web/protocol"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		code  simulator.Code // empty: valid
		field string         // the message must name it
	}{
		{"start", `{"type":"start","scenario":"s","trainee":"Lin"}`, "", ""},
		{"start with extras", `{"type":"start","scenario":"s","trainee":"Lin","mode":"exam","future":1}`, "", ""},
		{"resume", `{"type":"resume","session":"a","token":"b","after":0}`, "", ""},
		{"reply", `{"type":"reply","id":"1","text":"hi"}`, "", ""},
		{"end", `{"type":"end"}`, "", ""},
		{"subscribe", `{"type":"subscribe","contest":"ABC"}`, "", ""},
		{"not json", `hello`, simulator.CodeBadJSON, ""},
		{"truncated", `{"type":"reply"`, simulator.CodeBadJSON, ""},
		{"array", `[1,2]`, simulator.CodeBadJSON, ""},
		{"two objects", `{"type":"end"}{"type":"end"}`, simulator.CodeBadJSON, ""},
		{"empty", ``, simulator.CodeBadJSON, ""},
		{"bad utf8", "{\"type\":\"reply\",\"id\":\"1\",\"text\":\"\xff\"}", simulator.CodeBadJSON, ""},
		{"no type", `{"id":"1"}`, simulator.CodeInvalid, "type"},
		{"numeric type", `{"type":5}`, simulator.CodeInvalid, "type"},
		{"unknown type", `{"type":"dance"}`, simulator.CodeUnknownType, "type"},
		{"start no scenario", `{"type":"start","trainee":"Lin"}`, simulator.CodeInvalid, "scenario"},
		{"start no trainee", `{"type":"start","scenario":"s"}`, simulator.CodeInvalid, "trainee"},
		{"resume no after", `{"type":"resume","session":"a","token":"b"}`, simulator.CodeInvalid, "after"},
		{"resume negative after", `{"type":"resume","session":"a","token":"b","after":-1}`, simulator.CodeInvalid, "after"},
		{"resume no token", `{"type":"resume","session":"a","after":1}`, simulator.CodeInvalid, "token"},
		{"reply no id", `{"type":"reply","text":"hi"}`, simulator.CodeInvalid, "id"},
		{"reply no text", `{"type":"reply","id":"1"}`, simulator.CodeInvalid, "text"},
		{"reply text number", `{"type":"reply","id":"1","text":5}`, simulator.CodeInvalid, "text"},
		{"subscribe no contest", `{"type":"subscribe"}`, simulator.CodeInvalid, "contest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.Decode([]byte(tt.frame))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			de, ok := errors.AsType[*protocol.DecodeError](err)
			if !ok {
				t.Fatalf("err = %v, want a DecodeError %s", err, tt.code)
			}
			if de.Code != tt.code {
				t.Fatalf("code = %s (%v), want %s", de.Code, err, tt.code)
			}
			if !strings.Contains(de.Message.In(simulator.LangEN), tt.field) || de.Message.In(simulator.LangZH) == "" {
				t.Fatalf("message %q should name %q and have a zh text", de.Message, tt.field)
			}
		})
	}
}

func TestEventFrameNeverNull(t *testing.T) {
	frames := []any{
		protocol.EventFrame(simulator.Event{Seq: 3, Type: simulator.EventFeedback, Turn: 1, Feedback: &simulator.Assessment{}}),
		protocol.EventFrame(simulator.Event{Seq: 4, Type: simulator.EventReport, Report: &simulator.Report{}}),
		protocol.EventFrame(simulator.Event{Seq: 1, Type: simulator.EventCustomer, Text: "hi"}),
	}
	for _, f := range frames {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("frame has null: %s", b)
		}
	}
	b, _ := json.Marshal(frames[2])
	if got, want := string(b), `{"type":"customer","seq":1,"turn":0,"text":"hi","mood":{"anger":0,"trust":0}}`; got != want {
		t.Errorf("customer frame = %s, want %s", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"start","scenario":"s","trainee":"Lin"}`,
		`{"type":"resume","session":"a","token":"b","after":3}`,
		`{"type":"reply","id":"1","text":"您好"}`,
		`{"type":"end"}`, `{"type":5}`, `[]`, `{`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := protocol.Decode(data)
		if err != nil {
			if _, ok := errors.AsType[*protocol.DecodeError](err); !ok {
				t.Fatalf("non-protocol error %T: %v", err, err)
			}
			return
		}
		if req.Type == "" {
			t.Fatalf("accepted a frame without type: %q", data)
		}
		if req.Type == protocol.TypeReply && (req.ID == "" || req.Text == "") {
			t.Fatalf("accepted an incomplete reply: %q", data)
		}
	})
}
