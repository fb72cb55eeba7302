package serde

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Codec is a text encoding as Python's str.encode and bytes.decode name
// them: utf-8, ascii, latin-1, cp1252 and utf-16 (with a byte-order mark;
// utf-16-le and utf-16-be without). Errors are strict, as Python's
// default: a character the encoding cannot hold, or bytes it cannot read,
// fail with Python's message.
type Codec struct {
	name   string // Python's canonical name
	encode func(dst []byte, s string) ([]byte, error)
	decode func(b []byte) (string, error)
}

// Name is the codec's canonical Python name ("utf-8", "iso8859-1", ...).
func (c *Codec) Name() string { return c.name }

// Encode appends the encoding of s to dst.
func (c *Codec) Encode(dst []byte, s string) ([]byte, error) { return c.encode(dst, s) }

// Decode reads b as text.
func (c *Codec) Decode(b []byte) (string, error) { return c.decode(b) }

// IsUTF8 reports whether c is UTF-8 (a nil Codec is too).
func (c *Codec) IsUTF8() bool { return c == nil || c.name == "utf-8" }

var textCodecs = map[string]*Codec{
	"utf_8":     {name: "utf-8", encode: encodeUTF8, decode: decodeUTF8},
	"ascii":     {name: "ascii", encode: encodeTable("ascii", 0x80, nil), decode: decodeTable("ascii", 0x80, nil)},
	"iso8859_1": {name: "iso8859-1", encode: encodeTable("latin-1", 0x100, nil), decode: decodeTable("latin-1", 0x100, nil)},
	"cp1252":    {name: "cp1252", encode: encodeTable("charmap", 0x100, &cp1252High), decode: decodeTable("charmap", 0x100, &cp1252High)},
	"utf_16":    {name: "utf-16", encode: encodeUTF16(binary.LittleEndian, true), decode: decodeUTF16(nil)},
	"utf_16_le": {name: "utf-16-le", encode: encodeUTF16(binary.LittleEndian, false), decode: decodeUTF16(binary.LittleEndian)},
	"utf_16_be": {name: "utf-16-be", encode: encodeUTF16(binary.BigEndian, false), decode: decodeUTF16(binary.BigEndian)},
}

var codecAliases = map[string]string{
	"utf8": "utf_8", "u8": "utf_8", "utf": "utf_8", "cp65001": "utf_8",
	"us_ascii": "ascii", "646": "ascii",
	"latin_1": "iso8859_1", "latin1": "iso8859_1", "iso_8859_1": "iso8859_1", "l1": "iso8859_1", "8859": "iso8859_1", "cp819": "iso8859_1", "latin": "iso8859_1",
	"windows_1252": "cp1252",
	"utf16":        "utf_16", "u16": "utf_16",
	"utf_16le": "utf_16_le", "utf_16be": "utf_16_be",
}

// LookupCodec finds a codec by any of Python's spellings ("utf-8",
// "UTF8", "latin-1", "windows-1252", ...).
func LookupCodec(name string) (*Codec, error) {
	key := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(name)))
	if alias, ok := codecAliases[key]; ok {
		key = alias
	}
	if c, ok := textCodecs[key]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown encoding: %s (qstar has utf-8, ascii, latin-1, cp1252, utf-16, utf-16-le, utf-16-be)", name)
}

func encodeUTF8(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return dst, fmt.Errorf("'utf-8' codec can't encode: the string holds bytes that are not UTF-8")
	}
	return append(dst, s...), nil
}

func decodeUTF8(b []byte) (string, error) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return "", fmt.Errorf("'utf-8' codec can't decode byte 0x%02x in position %d: invalid start byte", b[i], i)
		}
		i += size
	}
	return string(b), nil
}

// cp1252High maps bytes 0x80-0x9f of Windows-1252; 0 marks the five
// bytes it leaves undefined. The other bytes are Latin-1.
var cp1252High = [32]rune{
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
}

// encodeTable encodes one byte per character: characters below limit
// map to themselves, except 0x80-0x9f where high (if any) says.
func encodeTable(codec string, limit rune, high *[32]rune) func([]byte, string) ([]byte, error) {
	return func(dst []byte, s string) ([]byte, error) {
		pos := 0
		for _, r := range s {
			switch {
			case high != nil && r >= 0x80 && r < 0xa0:
				return dst, fmt.Errorf("'%s' codec can't encode character '\\x%02x' in position %d: character maps to <undefined>", codec, r, pos)
			case r < limit:
				dst = append(dst, byte(r))
			case high != nil && highByte(high, r) != 0:
				dst = append(dst, highByte(high, r))
			case high != nil:
				return dst, fmt.Errorf("'%s' codec can't encode character %s in position %d: character maps to <undefined>", codec, charRepr(r), pos)
			default:
				return dst, fmt.Errorf("'%s' codec can't encode character %s in position %d: ordinal not in range(%d)", codec, charRepr(r), pos, limit)
			}
			pos++
		}
		return dst, nil
	}
}

func highByte(high *[32]rune, r rune) byte {
	for i, h := range high {
		if h == r && h != 0 {
			return byte(0x80 + i)
		}
	}
	return 0
}

func decodeTable(codec string, limit rune, high *[32]rune) func([]byte) (string, error) {
	return func(b []byte) (string, error) {
		var sb strings.Builder
		for i, c := range b {
			switch {
			case high != nil && c >= 0x80 && c < 0xa0:
				r := high[c-0x80]
				if r == 0 {
					return "", fmt.Errorf("'%s' codec can't decode byte 0x%02x in position %d: character maps to <undefined>", codec, c, i)
				}
				sb.WriteRune(r)
			case rune(c) < limit:
				sb.WriteRune(rune(c))
			default:
				return "", fmt.Errorf("'%s' codec can't decode byte 0x%02x in position %d: ordinal not in range(%d)", codec, c, i, limit)
			}
		}
		return sb.String(), nil
	}
}

func charRepr(r rune) string {
	switch {
	case r < 0x100:
		return fmt.Sprintf("'\\x%02x'", r)
	case r < 0x10000:
		return fmt.Sprintf("'\\u%04x'", r)
	}
	return fmt.Sprintf("'\\U%08x'", r)
}

func encodeUTF16(order binary.AppendByteOrder, bom bool) func([]byte, string) ([]byte, error) {
	return func(dst []byte, s string) ([]byte, error) {
		if bom {
			dst = order.AppendUint16(dst, 0xfeff)
		}
		for _, u := range utf16.Encode([]rune(s)) {
			dst = order.AppendUint16(dst, u)
		}
		return dst, nil
	}
}

// decodeUTF16 reads UTF-16 in the given order, or (order nil) in the
// order of a leading byte-order mark, little-endian without one.
func decodeUTF16(order binary.ByteOrder) func([]byte) (string, error) {
	name := "utf-16"
	switch order {
	case binary.LittleEndian:
		name = "utf-16-le"
	case binary.BigEndian:
		name = "utf-16-be"
	}
	return func(b []byte) (string, error) {
		o := order
		if o == nil {
			o = binary.LittleEndian
			switch {
			case len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe:
				b = b[2:]
			case len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff:
				o, b = binary.BigEndian, b[2:]
			}
		}
		if len(b)%2 == 1 {
			return "", fmt.Errorf("'%s' codec can't decode byte 0x%02x in position %d: truncated data", name, b[len(b)-1], len(b)-1)
		}
		units := make([]uint16, len(b)/2)
		for i := range units {
			units[i] = o.Uint16(b[2*i:])
		}
		return string(utf16.Decode(units)), nil
	}
}
