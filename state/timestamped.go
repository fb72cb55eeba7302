package state

import (
	"bytes"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Timestamped stores keep a message key's values by timestamp, for joins,
// with Quix Streams 3.x's layout (quixstreams/state/rocksdb/timestamped.py):
//
//	CF                             key                                        value
//	default                        prefix|>Q(timestamp)|>Q(counter)          JSON(value)
//	__min-eligible-timestamps__    prefix|__min_eligible_timestamps__        >Q(timestamp)
//	__global-counter__             __global_counter__                        JSON(last counter)
//
// The counter is 0 unless duplicates are kept (then the store's global
// counter, so that values at one timestamp keep their insertion order).
// Each Set moves the key's minimum eligible timestamp up to timestamp -
// grace (never below 0); reads ignore what lies below it, and Prepare
// deletes it for the keys the transaction set.
var keyMinEligible = []byte("__min_eligible_timestamps__")

// TimestampedState is the timestamped state of one message-key prefix.
type TimestampedState struct {
	tx     *Transaction
	prefix []byte
}

// Timestamped returns the timestamped state of a message-key prefix.
func (t *Transaction) Timestamped(prefix []byte) (*TimestampedState, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return &TimestampedState{tx: t, prefix: prefix}, nil
}

func timestampedKey(prefix []byte, ts, counter int64) []byte {
	return WindowKey(make([]byte, 0, len(prefix)+18), prefix, ts, counter)
}

// minEligible returns the key's minimum eligible timestamp (0 if none).
func (s *TimestampedState) minEligible() (int64, error) {
	raw, ok, err := s.tx.GetBytes(CFMinEligibleTimestamps, s.prefix, minEligibleKey(s.prefix))
	if err != nil || !ok {
		return 0, err
	}
	return DecodeInt64(raw)
}

func minEligibleKey(prefix []byte) []byte {
	k := append(append([]byte(nil), prefix...), Separator)
	return append(k, keyMinEligible...)
}

// entries returns the key's values with from <= timestamp < to, in key
// order.
func (s *TimestampedState) entries(from, to int64) ([]entry, error) {
	low, err := s.minEligible()
	if err != nil {
		return nil, err
	}
	from = max(from, low, 0)
	if to <= from {
		return nil, nil
	}
	return s.tx.scan(CFDefault, s.prefix, windowBound(s.prefix, from), windowBound(s.prefix, to))
}

// Latest returns the value with the greatest timestamp at or before ts.
func (s *TimestampedState) Latest(ts int64) (starlark.Value, bool, error) {
	if ts < 0 {
		return nil, false, nil
	}
	es, err := s.entries(0, ts+1)
	if err != nil || len(es) == 0 {
		return nil, false, err
	}
	v, err := decodeTimestamped(es[len(es)-1].value)
	return v, err == nil, err
}

// Interval returns the values with start <= timestamp < end, in
// timestamp and insertion order.
func (s *TimestampedState) Interval(start, end int64) ([]starlark.Value, error) {
	es, err := s.entries(start, end)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, 0, len(es))
	for _, e := range es {
		v, err := decodeTimestamped(e.value)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeTimestamped(raw []byte) (starlark.Value, error) {
	v, err := serde.JSON{}.Deserialize(raw)
	if err != nil {
		return nil, fmt.Errorf("state: stored value is not JSON: %w", err)
	}
	return v, nil
}

// Set stores value at ts (beside the values there when keepDuplicates)
// and moves the key's minimum eligible timestamp up to ts - grace.
func (s *TimestampedState) Set(ts int64, value starlark.Value, grace int64, keepDuplicates bool) error {
	t := s.tx
	if err := t.check(); err != nil {
		return err
	}
	if ts < 0 {
		return t.fail(fmt.Errorf("state: a negative timestamp (%d) cannot be stored", ts))
	}
	var counter int64
	if keepDuplicates {
		n, err := t.nextCounter()
		if err != nil {
			return t.fail(err)
		}
		counter = n
	}
	v, err := serde.JSON{}.Serialize(nil, value)
	if err != nil {
		return t.fail(fmt.Errorf("state: value at timestamp %d: %w", ts, err))
	}
	if err := t.SetBytes(CFDefault, s.prefix, timestampedKey(s.prefix, ts, counter), v); err != nil {
		return err
	}
	low, err := s.minEligible()
	if err != nil {
		return t.fail(err)
	}
	if next := max(ts-grace, 0); next > low {
		if err := t.SetBytes(CFMinEligibleTimestamps, s.prefix, minEligibleKey(s.prefix), EncodeInt64(next)); err != nil {
			return err
		}
	}
	if t.timestamped == nil {
		t.timestamped = map[string]bool{}
	}
	t.timestamped[string(s.prefix)] = true
	return nil
}

// expireTimestamped deletes, for every key the transaction set a
// timestamped value of, the values below its minimum eligible timestamp
// (Quix Streams' TimestampedPartitionTransaction._expire, run at
// Prepare).
func (t *Transaction) expireTimestamped() error {
	for prefix := range t.timestamped {
		s := &TimestampedState{tx: t, prefix: []byte(prefix)}
		low, err := s.minEligible()
		if err != nil {
			return err
		}
		if low <= 0 {
			continue
		}
		lower := append([]byte(prefix), Separator)
		es, err := t.scan(CFDefault, s.prefix, lower, windowBound(s.prefix, low))
		if err != nil {
			return err
		}
		for _, e := range es {
			if !bytes.HasPrefix(e.key, lower) || len(e.key) != len(lower)+17 {
				continue // another kind of key under this prefix
			}
			if err := t.DeleteBytes(CFDefault, s.prefix, e.key); err != nil {
				return err
			}
		}
	}
	clear(t.timestamped)
	return nil
}
