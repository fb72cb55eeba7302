package engine

import (
	"time"

	"github.com/qstar-dev/qstar/record"
)

// Timestamp alignment, as Quix Streams 3.14 does for concatenated topics
// (quixstreams/internal_consumer/buffering.py): a task that owns
// partition p of several topics is handed their messages in timestamp
// order. Each partition's polled messages wait in a buffer; the message
// with the smallest timestamp among the buffers' first goes to the task,
// but only while every partition has a message buffered or is idle (read
// up to its high watermark), so that a partition behind in event time is
// read before the others move on.
//
// The bounds: a partition buffers at most alignBuffer messages, then is
// paused until its buffer drains to half; and a partition that neither
// delivers a message nor shows as idle holds the others up for at most
// alignWait (its high watermark may be unknown, or its position: a group
// without committed offsets reading from "latest"), after which the
// others go on without it. Messages are not guaranteed to be in order
// when a producer writes one topic late: what reached a partition after
// the others moved on is processed when it arrives.
const (
	alignBuffer = 10000
	alignWait   = time.Second
	alignPoll   = 10 * time.Millisecond
)

// buffer holds m for alignment and hands on what can go.
func (r *runner) buffer(t *task, m *record.Record) {
	p := t.parts[m.Topic]
	if t.buffered() == 0 {
		r.aligning = append(r.aligning, t)
	}
	p.buf = append(p.buf, m)
	p.received = m.Offset
	p.idleAsked = time.Time{} // its position moved: ask again
	r.align(t, time.Now())
	if !p.ahead && len(p.buf) >= alignBuffer && !r.idleAt(p, time.Now()) {
		p.ahead = true
		if err := r.syncPause(); err != nil {
			r.log.Warn("cannot pause a partition ahead in event time", "partition", p.tp.String(), "error", err.Error())
		}
	}
}

// alignAll hands on what the aligned tasks can (watermarks move, waits
// run out) and forgets those with nothing buffered.
func (r *runner) alignAll(now time.Time) {
	kept := r.aligning[:0]
	resume := false
	for _, t := range r.aligning {
		if !r.live(t) {
			continue
		}
		r.align(t, now)
		for _, p := range t.parts {
			if p.ahead && len(p.buf) <= alignBuffer/2 {
				p.ahead, resume = false, true
			}
		}
		if t.buffered() > 0 {
			kept = append(kept, t)
		}
	}
	clear(r.aligning[len(kept):])
	r.aligning = kept
	if resume {
		if err := r.syncPause(); err != nil {
			r.log.Warn("cannot resume partitions", "error", err.Error())
		}
	}
}

// align hands t the buffered messages in timestamp order while every
// partition of t has one or is idle (or has held the others up for
// alignWait).
func (r *runner) align(t *task, now time.Time) {
	for {
		var next *taskPart
		for _, p := range t.parts {
			if len(p.buf) == 0 {
				if r.idleAt(p, now) {
					p.waiting, p.waited = time.Time{}, false
					continue
				}
				if p.waiting.IsZero() {
					p.waiting = now
				}
				if now.Sub(p.waiting) < alignWait {
					return
				}
				if !p.waited {
					p.waited = true
					r.log.Debug("timestamp alignment: a partition neither delivers nor shows as read to its end; the others go on without it", "partition", p.tp.String(), "waited", alignWait)
				}
				continue
			}
			p.waiting, p.waited = time.Time{}, false
			if next == nil || p.buf[0].Timestamp < next.buf[0].Timestamp ||
				(p.buf[0].Timestamp == next.buf[0].Timestamp && p.tp.Topic < next.tp.Topic) {
				next = p
			}
		}
		if next == nil {
			return
		}
		m := next.buf[0]
		next.buf[0] = nil
		next.buf = next.buf[1:]
		if len(next.buf) == 0 {
			next.buf = nil
		}
		r.enqueue(t, m)
	}
}

// idleAt is idle, asked of the client at most every alignPoll per
// partition: align runs per message, and the client's answers are cgo
// calls that allocate.
func (r *runner) idleAt(p *taskPart, now time.Time) bool {
	if now.Sub(p.idleAsked) >= alignPoll || now.Before(p.idleAsked) {
		p.idle, p.idleAsked = r.idle(p), now
	}
	return p.idle
}

// idle reports whether partition p has been read up to its high
// watermark. The position is the consumer's where it knows it (it moves
// past transaction markers, which take the last offsets of a partition
// written transactionally), else the offset after the last message
// received, else the committed offset.
func (r *runner) idle(p *taskPart) bool {
	wm, ok := r.cfg.Consumer.(watermarker)
	if !ok {
		return true // no watermarks: no alignment
	}
	_, high, err := wm.CachedWatermarks(p.tp)
	if err != nil || high < 0 {
		return false
	}
	position := p.received + 1
	if p.received < 0 {
		position = p.committedAtAssign
	}
	if position >= high && position >= 0 {
		return true
	}
	if pc, ok := r.cfg.Consumer.(positioner); ok {
		if pos, err := pc.Position(p.tp); err == nil && pos > position {
			position = pos
		}
	}
	if position < 0 {
		return high == 0
	}
	return position >= high
}

// positioner is a Consumer that knows its position in a partition (the
// kafka adapter does).
type positioner interface {
	Position(tp record.TopicPartition) (int64, error)
}
