package state

import (
	"encoding/binary"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Column family names.
const (
	CFDefault         = "default"
	CFMetadata        = "__metadata__"
	CFExpirationIndex = "__expiration-index__"
	// Windowed stores' collections (collection.go).
	CFValues             = "__values__"
	CFValueDeletionIndex = "__value-deletion-index__"
	CFGlobalCounter      = "__global-counter__"
	// Quix Streams 3.x's per-key latest timestamps (closing.go).
	CFLatestTimestamps = "__latest-timestamps__"
	// Quix Streams 3.x's sliding windows' deletion index (sliding.go).
	CFDeletionIndex = "__deletion-index__"
	// Session windows' index of keys by session end bucket (session.go).
	CFSessionIndex = "__session-index__"
	// Quix Streams 3.x's timestamped stores (timestamped.go).
	CFMinEligibleTimestamps = "__min-eligible-timestamps__"
)

// Metadata keys in CFMetadata.
var (
	keyProcessedOffset = []byte("__topic_offset__")
	keyChangelogOffset = []byte("__changelog_offset__")
)

// Changelog record headers.
const (
	HeaderColumnFamily    = "__column_family__"
	HeaderProcessedOffset = "__processed_tp_offset__"
	// HeaderProcessedOffsets is Quix Streams 3.x's header: JSON of
	// {source topic: processed offset}. Stores changed by the messages of
	// more than one topic (a join's or a concatenation's) write it.
	HeaderProcessedOffsets = "__processed_tp_offsets__"
)

// Separator sits between the message-key prefix and the state key.
const Separator = '|'

// Prefix returns the key prefix for a message key: raw bytes for a bytes
// key, JSON otherwise (so the str "a" gives `"a"` and None gives `null`).
func Prefix(key starlark.Value) ([]byte, error) {
	if b, ok := key.(starlark.Bytes); ok {
		return []byte(b), nil
	}
	p, err := serde.JSON{}.Serialize(nil, key)
	if err != nil {
		return nil, fmt.Errorf("state: message key %s cannot be a state prefix: %w", key.Type(), err)
	}
	return p, nil
}

// Key returns prefix + "|" + JSON(key) (no separator for an empty prefix),
// appended to dst.
func Key(dst, prefix []byte, key starlark.Value) ([]byte, error) {
	dst = append(dst, prefix...)
	if len(prefix) > 0 {
		dst = append(dst, Separator)
	}
	out, err := serde.JSON{}.Serialize(dst, key)
	if err != nil {
		return dst, fmt.Errorf("state: key: %w", err)
	}
	return out, nil
}

// EncodeInt64 is Python's struct.pack(">q", n).
func EncodeInt64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// DecodeInt64 is struct.unpack(">q", b).
func DecodeInt64(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("state: want an 8-byte integer, got %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
