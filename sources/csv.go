package sources

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/qstar-dev/qstar/record"
)

// CSV is a CSV file: a header row of column names, then a record per
// row (Quix Streams' CSVSource). Convert turns a row (its fields, and
// the header's names) into the record to produce; where names the row
// (file:line) for errors.
type CSV struct {
	Path      string
	Delimiter rune
	Convert   func(names, fields []string, where string) (*record.Record, error)
}

func (c *CSV) String() string { return "CSVSource(" + c.Path + ")" }

// csvPosition is a CSV reader's position: the byte offset after the
// last row produced, and the rows produced.
type csvPosition struct {
	Offset int64 `json:"offset"`
	Rows   int64 `json:"rows"`
}

type csvReader struct {
	c     *CSV
	f     *os.File
	r     *csv.Reader
	names []string
	base  int64 // the file offset r started at
	pos   csvPosition
}

// Open implements Source: it reads the header, then goes to pos.
func (c *CSV) Open(pos []byte) (Reader, error) {
	f, err := os.Open(c.Path)
	if err != nil {
		return nil, err
	}
	rd := &csvReader{c: c, f: f}
	rd.r = rd.newReader(f)
	names, err := rd.r.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no header row", c.Path)
		}
		return nil, fmt.Errorf("%s: header: %w", c.Path, err)
	}
	rd.names = append([]string(nil), names...) // the reader reuses its record
	rd.pos.Offset = rd.r.InputOffset()
	if pos != nil {
		var p csvPosition
		if err := json.Unmarshal(pos, &p); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: the saved position %q: %w", c.Path, pos, err)
		}
		if p.Offset > rd.pos.Offset {
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, err
			}
			if p.Offset > st.Size() {
				f.Close()
				return nil, fmt.Errorf("%s: the saved position (byte %d, after %d rows) is past the end of the file (%d bytes): was the file replaced?", c.Path, p.Offset, p.Rows, st.Size())
			}
			if _, err := f.Seek(p.Offset, io.SeekStart); err != nil {
				f.Close()
				return nil, err
			}
			rd.r, rd.base = rd.newReader(f), p.Offset
		}
		rd.pos = p
	}
	return rd, nil
}

func (rd *csvReader) newReader(f io.Reader) *csv.Reader {
	r := csv.NewReader(f)
	if rd.c.Delimiter != 0 {
		r.Comma = rd.c.Delimiter
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return r
}

func (rd *csvReader) Next() (*record.Record, error) {
	fields, err := rd.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	line, _ := rd.r.FieldPos(0)
	where := fmt.Sprintf("%s: row %d", rd.c.Path, rd.pos.Rows+1)
	if rd.base == 0 {
		where = fmt.Sprintf("%s:%d", rd.c.Path, line)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if len(fields) > len(rd.names) {
		return nil, fmt.Errorf("%s: %d fields, but the header names %d columns", where, len(fields), len(rd.names))
	}
	rec, err := rd.c.Convert(rd.names, fields, where)
	if err != nil {
		return nil, err
	}
	rd.pos.Offset = rd.base + rd.r.InputOffset()
	rd.pos.Rows++
	return rec, nil
}

func (rd *csvReader) Position() []byte {
	b, _ := json.Marshal(rd.pos)
	return b
}

func (rd *csvReader) Close() error { return rd.f.Close() }
