// Code generated from CPython 3.11: every want is what codecs.encode,
// codecs.decode and codecs.lookup(name).name gave there ("error: msg"
// for CPython's error message, which qstar's error must equal).

package serde

import (
	"strings"
	"testing"
)

func checkCodec(t *testing.T, label, got string, err error, want string) {
	t.Helper()
	if msg, isErr := strings.CutPrefix(want, "error: "); isErr {
		if err == nil || err.Error() != msg {
			t.Errorf("%s: got %q, %v; want error %q", label, got, err, msg)
		}
		return
	}
	want = strings.TrimPrefix(want, "ok:")
	if err != nil || got != want {
		t.Errorf("%s = %q, %v; want %q", label, got, err, want)
	}
}

func TestCodecEncode(t *testing.T) {
	for _, tc := range []struct{ codec, text, want string }{
		{"utf-8", "a\u00e9\u20ac\U0001f600", "ok:a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
		{"UTF8", "\u00e9", "ok:\xc3\xa9"},
		{"utf_8", "x", "ok:x"},
		{"ascii", "abc", "ok:abc"},
		{"ascii", "a\u00e9", "error: 'ascii' codec can't encode character '\\xe9' in position 1: ordinal not in range(128)"},
		{"ascii", "a\U0001f600", "error: 'ascii' codec can't encode character '\\U0001f600' in position 1: ordinal not in range(128)"},
		{"ascii", "a\u20ac", "error: 'ascii' codec can't encode character '\\u20ac' in position 1: ordinal not in range(128)"},
		{"latin-1", "\u00e9\u00ff", "ok:\xe9\xff"},
		{"latin1", "\u00e9", "ok:\xe9"},
		{"iso-8859-1", "\u00e9", "ok:\xe9"},
		{"latin-1", "\u20ac", "error: 'latin-1' codec can't encode character '\\u20ac' in position 0: ordinal not in range(256)"},
		{"cp1252", "\u20ac\u00e9\u2122", "ok:\x80\xe9\x99"},
		{"windows-1252", "\u0178", "ok:\x9f"},
		{"cp1252", "\u0081", "error: 'charmap' codec can't encode character '\\x81' in position 0: character maps to <undefined>"},
		{"cp1252", "\u0100", "error: 'charmap' codec can't encode character '\\u0100' in position 0: character maps to <undefined>"},
		{"cp1252", "\U0001f600", "error: 'charmap' codec can't encode character '\\U0001f600' in position 0: character maps to <undefined>"},
		{"utf-16", "ab", "ok:\xff\xfea\x00b\x00"},
		{"utf-16", "\U0001f600", "ok:\xff\xfe=\xd8\x00\xde"},
		{"utf-16-le", "a\u00e9", "ok:a\x00\xe9\x00"},
		{"utf-16-be", "a\u00e9", "ok:\x00a\x00\xe9"},
		{"UTF-16LE", "a", "ok:a\x00"},
		{"utf16", "a", "ok:\xff\xfea\x00"},
		{"utf-16-be", "\U0001f600", "ok:\xd8=\xde\x00"},
	} {
		c, err := LookupCodec(tc.codec)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Encode(nil, tc.text)
		checkCodec(t, tc.codec+" encode "+tc.text, string(out), err, tc.want)
	}
}

func TestCodecDecode(t *testing.T) {
	for _, tc := range []struct{ codec, data, want string }{
		{"utf-8", "a\xc3\xa9", "ok:a\u00e9"},
		{"utf-8", "a\xffb", "error: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
		{"utf-8", "\x80", "error: 'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"},
		{"ascii", "abc", "ok:abc"},
		{"ascii", "a\xe9", "error: 'ascii' codec can't decode byte 0xe9 in position 1: ordinal not in range(128)"},
		{"latin-1", "\xe9\xff", "ok:\u00e9\u00ff"},
		{"cp1252", "\x80\xe9\x99", "ok:\u20ac\u00e9\u2122"},
		{"cp1252", "a\x81", "error: 'charmap' codec can't decode byte 0x81 in position 1: character maps to <undefined>"},
		{"cp1252", "\x8d", "error: 'charmap' codec can't decode byte 0x8d in position 0: character maps to <undefined>"},
		{"windows-1252", "\x9f", "ok:\u0178"},
		{"utf-16", "\xff\xfea\x00", "ok:a"},
		{"utf-16", "\xfe\xff\x00a", "ok:a"},
		{"utf-16-le", "a\x00\xe9\x00", "ok:a\u00e9"},
		{"utf-16-be", "\x00a", "ok:a"},
		{"utf-16-le", "a\x00b", "error: 'utf-16-le' codec can't decode byte 0x62 in position 2: truncated data"},
		{"utf-16-le", "=\xd8\x00\xde", "ok:\U0001f600"},
	} {
		c, err := LookupCodec(tc.codec)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Decode([]byte(tc.data))
		checkCodec(t, tc.codec+" decode "+tc.data, s, err, tc.want)
	}
}

func TestLookupCodec(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"utf-8", "utf-8"},
		{"UTF8", "utf-8"},
		{"u8", "utf-8"},
		{"utf_8", "utf-8"},
		{"Latin-1", "iso8859-1"},
		{"latin1", "iso8859-1"},
		{"L1", "iso8859-1"},
		{"iso8859-1", "iso8859-1"},
		{"ISO-8859-1", "iso8859-1"},
		{"cp1252", "cp1252"},
		{"windows-1252", "cp1252"},
		{"Windows-1252", "cp1252"},
		{"ascii", "ascii"},
		{"US-ASCII", "ascii"},
		{"utf-16", "utf-16"},
		{"UTF-16-LE", "utf-16-le"},
		{"utf_16_be", "utf-16-be"},
		{"utf16", "utf-16"},
	} {
		c, err := LookupCodec(tc.name)
		if err != nil {
			t.Errorf("LookupCodec(%q): %v", tc.name, err)
		} else if c.Name() != tc.want {
			t.Errorf("LookupCodec(%q).Name() = %q, want %q", tc.name, c.Name(), tc.want)
		}
	}
	if _, err := LookupCodec("nope"); err == nil || !strings.HasPrefix(err.Error(), "unknown encoding: nope") {
		t.Errorf("LookupCodec(nope): %v, want CPython's \"unknown encoding: nope\"", err)
	}
}
