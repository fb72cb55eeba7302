package state

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// ChangelogSource reads changelog partitions for recovery.
type ChangelogSource interface {
	// Watermarks returns the partition's low and high watermarks.
	Watermarks(topic string, partition int32) (low, high int64, err error)
	// Read calls fn for each record from offset from up to the end of the
	// partition as it was when Read started (its end may be a transaction
	// marker or a compacted gap: Read goes by position, not by count).
	// Each record is fn's to keep: Read never reuses its key or value.
	Read(ctx context.Context, topic string, partition int32, from int64, fn func(*record.Record) error) error
}

// recoveryBatch is how many changelog records recovery applies to RocksDB
// in one write batch, with the changelog offset after them.
const recoveryBatch = 2000

// NoCommit is the committed offset of a partition whose group never
// committed (librdkafka's OFFSET_INVALID).
const NoCommit = record.NoOffset

// RecoveryStats reports one partition's recovery.
type RecoveryStats struct {
	Applied, Skipped int64
	Took             time.Duration
}

// Recover brings the partition up to date with its changelog partition:
// when the stored changelog offset is behind the high watermark it
// replays the records from there, skipping those whose processed-offset
// header is at or past committed (the source partition's committed
// offset, NoCommit if none), exactly as Quix Streams 2.5.1 does, including
// skipping every such record when nothing was committed.
func (p *Partition) Recover(ctx context.Context, src ChangelogSource, topic string, partition int32, committed int64, log *slog.Logger) (RecoveryStats, error) {
	return p.RecoverOffsets(ctx, src, topic, partition, map[string]int64{"": committed}, log)
}

// RecoverOffsets is Recover for a store changed by the messages of
// several source topics: committed holds each one's committed offset
// (record.NoOffset if none). A record with Quix Streams 3.x's
// HeaderProcessedOffsets is skipped when any of its topics' processed
// offsets is at or after that topic's committed offset (or the topic has
// none); one with 2.5.1's HeaderProcessedOffset is compared with the only
// entry of committed.
func (p *Partition) RecoverOffsets(ctx context.Context, src ChangelogSource, topic string, partition int32, committed map[string]int64, log *slog.Logger) (RecoveryStats, error) {
	single := int64(record.NoOffset)
	if len(committed) == 1 {
		for _, c := range committed {
			single = c
		}
	}
	var stats RecoveryStats
	start := time.Now()
	offset, _, err := p.ChangelogOffset()
	if err != nil {
		return stats, err
	}
	low, high, err := src.Watermarks(topic, partition)
	if err != nil {
		return stats, fmt.Errorf("state: watermarks of %s[%d]: %w", topic, partition, err)
	}
	if offset > 0 && low == 0 && high == 0 {
		// A changelog is compacted, never emptied: the state was written
		// against another broker's data. Found here, before anything is
		// processed, nothing is committed for state that cannot be right.
		return stats, fmt.Errorf("state: %s holds state written up to offset %d of changelog %s[%d], which is now empty: "+
			"the broker's data was reset or the topic recreated; delete the state directory %s (or the whole state directory) "+
			"and start again to rebuild the state from the changelog", p.Path, offset, topic, partition, p.Path)
	}
	if !(low != high && high > offset) {
		if high > 0 && high < offset {
			log.Warn("the stored changelog offset is ahead of the changelog; resetting it", "changelog", topic, "partition", partition, "stored", offset, "high", high)
			if err := p.setChangelogOffset(high); err != nil {
				return stats, err
			}
		}
		return stats, nil
	}
	p.forgetWindows()
	log.Info("recovery required", "changelog", fmt.Sprintf("%s[%d]", topic, partition), "from", offset, "to", high, "records", high-offset)
	var wb batch
	lastLog := time.Now()
	// records are read and not yet written; next is the changelog offset
	// after them, written with them once per batch rather than per record.
	next, records := int64(0), 0
	flush := func() error {
		if records == 0 {
			return nil
		}
		wb.put(CFMetadata, keyChangelogOffset, EncodeInt64(next))
		err := p.write(&wb)
		wb.clear()
		records = 0
		return err
	}
	err = src.Read(ctx, topic, partition, offset, func(r *record.Record) error {
		cfName, skip := "", false
		for _, h := range r.Headers {
			switch h.Key {
			case HeaderColumnFamily:
				cfName = string(h.Value)
			case HeaderProcessedOffset:
				n, err := strconv.ParseInt(string(h.Value), 10, 64)
				if err != nil {
					return fmt.Errorf("state: %s[%d] offset %d: bad %s header %q", topic, partition, r.Offset, HeaderProcessedOffset, h.Value)
				}
				skip = n >= single
			case HeaderProcessedOffsets:
				var offsets map[string]int64
				if err := json.Unmarshal(h.Value, &offsets); err != nil {
					return fmt.Errorf("state: %s[%d] offset %d: bad %s header %q", topic, partition, r.Offset, HeaderProcessedOffsets, h.Value)
				}
				for t, n := range offsets {
					if c, ok := committed[t]; !ok || n >= c {
						skip = true
					}
				}
			}
		}
		if cfName == "" {
			return fmt.Errorf("state: %s[%d] offset %d: the record has no %s header", topic, partition, r.Offset, HeaderColumnFamily)
		}
		if skip {
			stats.Skipped++
		} else {
			// Read hands each record over: the batch keeps its slices.
			if len(r.Value) == 0 {
				wb.del(cfName, r.Key)
			} else {
				wb.put(cfName, r.Key, r.Value)
			}
			stats.Applied++
		}
		next = r.Offset + 1
		records++
		if records >= recoveryBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			done := stats.Applied + stats.Skipped
			log.Info("recovering", "changelog", fmt.Sprintf("%s[%d]", topic, partition), "restored", done,
				"rate_per_s", int64(float64(done)/time.Since(start).Seconds()), "remaining", high-r.Offset-1)
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	if err := flush(); err != nil {
		return stats, err
	}
	stats.Took = time.Since(start)
	log.Info("finished recovering", "changelog", fmt.Sprintf("%s[%d]", topic, partition), "applied", stats.Applied, "skipped", stats.Skipped, "took", stats.Took.Round(time.Millisecond))
	return stats, nil
}

func (p *Partition) setChangelogOffset(offset int64) error {
	var wb batch
	wb.put(CFMetadata, keyChangelogOffset, EncodeInt64(offset))
	return p.write(&wb)
}
