package protocol

import (
	"bytes"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeFastPath checks that the json.Unmarshal fast path of Decode
// gives exactly what the json.Decoder path alone gives: the same request
// or the same error, for any frame.
func FuzzDecodeFastPath(f *testing.F) {
	for _, s := range []string{
		`{"type":"reply","id":"1","text":"您好"}`, `{"type":"reply","id":"1","text":"x"} {}`,
		`{"type":"reply","id":"1","text":"x"} garbage`, `{"type":5}`, `{"type":"x","after":1e999}`,
		`{"type":"resume","session":"a","token":"b","after":3}`, `{"type":"a","type":"end"}`,
		`{"text":"\ud800"}`, `{"id":1} {`, `{}`, `{"type":"end"}` + "\n\t ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		var fast, slow Request
		var fastErr error
		if err := decodeSlow(trimmed, &slow); err != nil {
			slow = Request{}
			fastErr = err
		}
		got, err := Decode(data)
		if fastErr != nil {
			// Decode fails the same way, or earlier on invalid UTF-8.
			if err == nil || (utf8.Valid(data) && err.Error() != fastErr.Error()) {
				t.Fatalf("Decode(%q) = %v, the decoder gives %v", data, err, fastErr)
			}
			return
		}
		fast = got
		if err != nil {
			return // decoded, then refused by the field checks: same for both
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("Decode(%q) = %+v, the decoder gives %+v", data, fast, slow)
		}
	})
}

// BenchmarkDecodeReply compares Decode with the Decoder-only path it
// replaced, on a typical reply frame.
func BenchmarkDecodeReply(b *testing.B) {
	frame := []byte(`{"type":"reply","id":"r17","text":"I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work?"}`)
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecoderOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req Request
			if err := decodeSlow(bytes.TrimSpace(frame), &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
