package sources

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/qstar-dev/qstar/record"
)

// Files are JSON Lines files: Path itself, or every file under the
// directory Path in name order, recursively (Quix Streams' FileSource,
// which reads what FileSink wrote). Convert turns a line into the record
// to produce; where names it (file:line) for errors. Gzip reads the
// files as gzip (a name ending .gz is read so anyway).
type Files struct {
	Path    string
	Gzip    bool
	Convert func(line []byte, where string) (*record.Record, error)
}

func (f *Files) String() string { return "FileSource(" + f.Path + ")" }

// filePosition is a Files reader's position: the file being read
// (relative to Path) and the byte offset in it (of its uncompressed
// data) after the last line produced, and the line's number.
type filePosition struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Line   int64  `json:"line"`
}

type filesReader struct {
	f     *Files
	files []string // relative to f.Path, in order
	i     int      // files[i] is open
	fh    *os.File
	r     *bufio.Reader
	pos   filePosition
}

// Open implements Source.
func (f *Files) Open(pos []byte) (Reader, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return nil, err
	}
	rd := &filesReader{f: f}
	if st.IsDir() {
		err := filepath.WalkDir(f.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && !strings.HasSuffix(p, ".tmp") {
				rel, _ := filepath.Rel(f.Path, p)
				rd.files = append(rd.files, rel)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(rd.files)
	} else {
		rd.files = []string{"."}
	}
	rd.i = -1
	if pos != nil {
		var p filePosition
		if err := json.Unmarshal(pos, &p); err != nil {
			return nil, fmt.Errorf("%s: the saved position %q: %w", f.Path, pos, err)
		}
		i := sort.SearchStrings(rd.files, p.File)
		if i == len(rd.files) || rd.files[i] != p.File {
			return nil, fmt.Errorf("%s: the saved position is in %s, which is gone", f.Path, filepath.Join(f.Path, p.File))
		}
		if err := rd.open(i); err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, rd.r, p.Offset); err != nil {
			return nil, fmt.Errorf("%s: the saved position (byte %d) is past its end: was it replaced? %w", rd.name(), p.Offset, err)
		}
		rd.pos = p
	}
	return rd, nil
}

func (rd *filesReader) name() string { return filepath.Join(rd.f.Path, rd.files[rd.i]) }

// open opens files[i].
func (rd *filesReader) open(i int) error {
	if rd.fh != nil {
		rd.fh.Close()
		rd.fh = nil
	}
	rd.i = i
	fh, err := os.Open(rd.name())
	if err != nil {
		return err
	}
	rd.fh, rd.r = fh, bufio.NewReaderSize(fh, 64<<10)
	if rd.f.Gzip || strings.HasSuffix(rd.files[i], ".gz") {
		z, err := gzip.NewReader(rd.r)
		if err != nil {
			return fmt.Errorf("%s: %w", rd.name(), err)
		}
		rd.r = bufio.NewReaderSize(z, 64<<10)
	}
	rd.pos = filePosition{File: rd.files[i]}
	return nil
}

func (rd *filesReader) Next() (*record.Record, error) {
	for {
		if rd.r == nil {
			if rd.i+1 >= len(rd.files) {
				return nil, io.EOF
			}
			if err := rd.open(rd.i + 1); err != nil {
				return nil, err
			}
		}
		line, err := rd.r.ReadBytes('\n')
		if len(line) > 0 && (err == nil || err == io.EOF) {
			rd.pos.Offset += int64(len(line))
			rd.pos.Line++
			line = bytes.TrimRight(line, "\r\n")
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return rd.f.Convert(line, fmt.Sprintf("%s:%d", rd.name(), rd.pos.Line))
		}
		if err == io.EOF {
			rd.r = nil
			continue
		}
		return nil, fmt.Errorf("%s: %w", rd.name(), err)
	}
}

func (rd *filesReader) Position() []byte {
	b, _ := json.Marshal(rd.pos)
	return b
}

func (rd *filesReader) Close() error {
	if rd.fh != nil {
		return rd.fh.Close()
	}
	return nil
}
