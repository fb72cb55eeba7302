package sinks

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// csvDialect is how a CSV file is written: one of Python's csv dialects.
type csvDialect struct {
	delimiter  byte
	terminator string
	quoteAll   bool
}

// csvDialectNamed is Python's csv module's dialect of that name.
func csvDialectNamed(name string) (csvDialect, bool) {
	switch name {
	case "excel":
		return csvDialect{delimiter: ',', terminator: "\r\n"}, true
	case "excel-tab":
		return csvDialect{delimiter: '\t', terminator: "\r\n"}, true
	case "unix":
		return csvDialect{delimiter: ',', terminator: "\n", quoteAll: true}, true
	}
	return csvDialect{}, false
}

// CSV appends every batch to one file, with the columns key, value,
// timestamp, topic, partition and offset (the header written when the
// file is new): Quix Streams' CSVSink. Items' keys and values are
// serialized strings. Each flush is synced before the checkpoint
// commits; a torn last line (a crash in a write) is cut before the first
// append.
type CSV struct {
	path    string
	dialect csvDialect
	checked bool
}

// NewCSV returns a CSV writer appending to path.
func NewCSV(path, dialect string) (*CSV, error) {
	d, ok := csvDialectNamed(dialect)
	if !ok {
		return nil, fmt.Errorf("unknown CSV dialect %q: want excel, excel-tab or unix", dialect)
	}
	return &CSV{path: path, dialect: d}, nil
}

func (c *CSV) String() string { return "CSVSink(" + c.path + ")" }

// Write implements Writer.
func (c *CSV) Write(b *Batch) error {
	fh, err := os.OpenFile(c.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer fh.Close()
	end, err := fh.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if !c.checked {
		if end, err = cutTornLine(fh, end); err != nil {
			return fmt.Errorf("%s: %w", c.path, err)
		}
		c.checked = true
	}
	var buf []byte
	if end == 0 {
		buf = c.appendRow(buf, "key", "value", "timestamp", "topic", "partition", "offset")
	}
	partition := strconv.Itoa(int(b.Partition))
	for _, it := range b.Items {
		buf = c.appendRow(buf, it.Key.(string), it.Value.(string), strconv.FormatInt(it.Timestamp, 10),
			b.Topic, partition, strconv.FormatInt(it.Offset, 10))
	}
	if _, err := fh.WriteAt(buf, end); err != nil {
		return err
	}
	return fh.Sync()
}

// appendRow writes one row, quoting as Python's csv module does
// (QUOTE_MINIMAL: a field holding the delimiter, a quote or a line
// break; the unix dialect quotes every field), quotes doubled.
func (c *CSV) appendRow(dst []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, c.dialect.delimiter)
		}
		if !c.dialect.quoteAll && !strings.ContainsAny(f, string(c.dialect.delimiter)+"\"\r\n") {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, '"')
		dst = append(dst, strings.ReplaceAll(f, `"`, `""`)...)
		dst = append(dst, '"')
	}
	return append(dst, c.dialect.terminator...)
}
