package sinks

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// FileConfig configures a file sink: Quix Streams 3.x's LocalFileSink
// and its formats, with rolling by size (qstar's).
type FileConfig struct {
	// Directory is the base directory; a topic-partition's files are in
	// Directory/<topic>/<partition>.
	Directory string
	// Format is "json" (JSON Lines) or "parquet".
	Format string
	// Extension is the files' extension (".jsonl", ".parquet" by default;
	// ".gz" is added to a compressed JSON file's).
	Extension string
	// Compress gzips JSON Lines files.
	Compress bool
	// ParquetCompression is none, snappy (the default), gzip, brotli, lz4
	// or zstd.
	ParquetCompression string
	// Append appends each batch to the partition's last file (JSON only)
	// instead of writing a file per batch.
	Append bool
	// MaxFileBytes, when positive, rolls files by size: once a file holds
	// at least this many bytes, the next item starts a new file (a batch
	// larger than that is split across files).
	MaxFileBytes int64
}

// unsafeChars are the characters replaced by "_" in a topic's directory
// name, as in Quix Streams; unsafeDirChars are those refused in the base
// directory: Quix Streams' set, where qstar allows "-" too (temporary
// and home directories have them).
var (
	unsafeChars    = regexp.MustCompile(`[^a-zA-Z0-9 ._/]`)
	unsafeDirChars = regexp.MustCompile(`[^a-zA-Z0-9 ._/-]`)
)

// File writes each batch to files of its topic-partition's directory,
// named by the offset of their first item (19 digits, so they sort in
// offset order): Quix Streams' LocalFileSink. A file per batch is
// written under a temporary name and renamed, so a crash never leaves a
// torn file; in append mode a torn last line (a crash in a write) is cut
// before the first append. Every write is synced before the checkpoint
// commits.
type File struct {
	cfg   FileConfig
	codec parquet.WriterOption
	// checked are the files appended to since the start (their torn
	// last line, if any, was cut).
	checked map[string]bool
}

// NewFile checks cfg and returns a file writer.
func NewFile(cfg FileConfig) (*File, error) {
	if unsafeDirChars.MatchString(cfg.Directory) {
		return nil, fmt.Errorf("invalid characters in directory path %q: only letters, digits, spaces, dots, underscores, hyphens and slashes are allowed", cfg.Directory)
	}
	f := &File{cfg: cfg, checked: map[string]bool{}}
	switch cfg.Format {
	case "json":
		if f.cfg.Extension == "" {
			f.cfg.Extension = ".jsonl"
		}
		if cfg.Compress {
			f.cfg.Extension += ".gz"
		}
	case "parquet":
		if cfg.Append {
			return nil, fmt.Errorf("file format %s does not support appending", orDefault(cfg.Extension, ".parquet"))
		}
		if f.cfg.Extension == "" {
			f.cfg.Extension = ".parquet"
		}
		codecs := map[string]parquet.WriterOption{
			"none": parquet.Compression(&parquet.Uncompressed), "snappy": parquet.Compression(&parquet.Snappy),
			"gzip": parquet.Compression(&parquet.Gzip), "brotli": parquet.Compression(&parquet.Brotli),
			"lz4": parquet.Compression(&parquet.Lz4Raw), "zstd": parquet.Compression(&parquet.Zstd),
		}
		c, ok := codecs[orDefault(cfg.ParquetCompression, "snappy")]
		if !ok {
			return nil, fmt.Errorf("invalid Parquet compression %q: want none, snappy, gzip, brotli, lz4 or zstd", cfg.ParquetCompression)
		}
		f.codec = c
	default:
		return nil, fmt.Errorf("invalid format name %q: allowed values: json, parquet", cfg.Format)
	}
	return f, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (f *File) String() string {
	return fmt.Sprintf("FileSink(%s, %s)", orDefault(f.cfg.Directory, "."), f.cfg.Format)
}

// Write implements Writer.
func (f *File) Write(b *Batch) error {
	dir := filepath.Join(f.cfg.Directory, unsafeChars.ReplaceAllString(b.Topic, "_"), strconv.Itoa(int(b.Partition)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for items := b.Items; len(items) > 0; {
		var n int
		var err error
		if f.cfg.Format == "parquet" {
			n, err = f.writeParquet(dir, items)
		} else {
			n, err = f.writeJSON(dir, items)
		}
		if err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// fileName is the name of a file whose first item has offset off.
func (f *File) fileName(off int64) string { return fmt.Sprintf("%019d%s", off, f.cfg.Extension) }

// full reports whether n bytes fill a file.
func (f *File) full(n int64) bool { return f.cfg.MaxFileBytes > 0 && n >= f.cfg.MaxFileBytes }

// writeJSON writes a file's worth of items as JSON Lines
// ({"_timestamp", "_key", "_value"} each) and returns how many.
func (f *File) writeJSON(dir string, items []Item) (int, error) {
	var path string
	var size int64
	name := f.fileName(items[0].Offset)
	if f.cfg.Append {
		last, n, err := f.lastFile(dir)
		if err != nil {
			return 0, err
		}
		switch {
		case last != "" && !f.full(n):
			path, size = last, n
		case last != "" && filepath.Base(last) >= name:
			// A restart writes again from its last commit, offsets the
			// last file may already hold: the new file is named after
			// it, so names keep the order of writing.
			off, _ := strconv.ParseInt(strings.TrimSuffix(filepath.Base(last), f.cfg.Extension), 10, 64)
			name = f.fileName(off + 1)
		}
	}
	var buf []byte
	n := 0
	for n < len(items) && (n == 0 || !f.full(size+int64(len(buf)))) {
		it := items[n]
		buf = append(buf, `{"_timestamp":`...)
		buf = strconv.AppendInt(buf, it.Timestamp, 10)
		buf = append(buf, `,"_key":`...)
		buf = appendJSONString(buf, it.Key.(string))
		buf = append(buf, `,"_value":`...)
		var err error
		if buf, err = appendJSON(buf, it.Value); err != nil {
			return 0, fmt.Errorf("offset %d: %w", it.Offset, err)
		}
		buf = append(buf, '}', '\n')
		n++
	}
	if f.cfg.Compress {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(buf)
		_ = zw.Close()
		buf = z.Bytes()
	}
	if path == "" {
		return n, writeNew(filepath.Join(dir, name), buf)
	}
	return n, f.appendTo(path, buf)
}

// lastFile is the last file of dir in name order and its size ("" when
// dir has none).
func (f *File) lastFile(dir string) (string, int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), f.cfg.Extension) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", 0, nil
	}
	sort.Strings(names)
	path := filepath.Join(dir, names[len(names)-1])
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	return path, st.Size(), nil
}

// appendTo appends data to path and syncs it; the first time in this
// process, an uncompressed file's torn last line is cut first.
func (f *File) appendTo(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer fh.Close()
	end, err := fh.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if !f.checked[path] && !f.cfg.Compress {
		if end, err = cutTornLine(fh, end); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	f.checked[path] = true
	if _, err := fh.WriteAt(data, end); err != nil {
		return err
	}
	return fh.Sync()
}

// cutTornLine truncates a file of size end after its last newline and
// returns its new size.
func cutTornLine(fh *os.File, end int64) (int64, error) {
	if end == 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := int64(len(buf))
		if n > pos {
			n = pos
		}
		pos -= n
		if _, err := fh.ReadAt(buf[:n], pos); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if cut := pos + int64(i) + 1; cut != end {
				return cut, fh.Truncate(cut)
			}
			return end, nil
		}
	}
	return 0, fh.Truncate(0)
}

// writeNew writes a whole file under a temporary name, syncs it and
// renames it into place (replacing a file of the same batch written
// before a crash).
func writeNew(path string, data []byte) error {
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// parquetRowGroup is how many rows are written between size checks.
const parquetRowGroup = 4096

// writeParquet writes a file's worth of items as Parquet: the columns
// _timestamp, _key and every column of the items' values (dicts), a
// missing one null. It returns how many items it wrote.
func (f *File) writeParquet(dir string, items []Item) (int, error) {
	cols, err := parquetColumns(items)
	if err != nil {
		return 0, err
	}
	group := parquet.Group{"_timestamp": parquet.Leaf(parquet.Int64Type), "_key": parquet.String()}
	for _, c := range cols {
		group[c.name] = parquet.Optional(c.node)
	}
	schema := parquet.NewSchema("row", group)
	// The schema orders columns by name: find each one's place.
	index := map[string]int{}
	for i, path := range schema.Columns() {
		index[path[0]] = i
	}
	for i := range cols {
		cols[i].index = index[cols[i].name]
	}
	byName := make(map[string]*parquetColumn, len(cols))
	for i := range cols {
		byName[cols[i].name] = &cols[i]
	}
	ts, key := index["_timestamp"], index["_key"]
	var out bytes.Buffer
	w := parquet.NewWriter(&out, schema, f.codec)
	rows := make([]parquet.Row, 0, parquetRowGroup)
	n := 0
	for n < len(items) && (n == 0 || !f.full(int64(out.Len()))) {
		rows = rows[:0]
		for ; n < len(items) && len(rows) < parquetRowGroup; n++ {
			row, err := parquetRow(items[n], len(cols)+2, ts, key, byName)
			if err != nil {
				return 0, err
			}
			rows = append(rows, row)
		}
		if _, err := w.WriteRows(rows); err != nil {
			return 0, err
		}
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return n, writeNew(filepath.Join(dir, f.fileName(items[0].Offset)), out.Bytes())
}

// parquetColumn is a value column: its name, type, kind of Go value and
// place in the schema.
type parquetColumn struct {
	name  string
	node  parquet.Node
	kind  string // bool, int, float, str, bytes, json
	index int
}

// parquetColumns infers the value columns of a batch, in first-seen
// order: bool → BOOLEAN, int → INT64, float (or int and float) → DOUBLE,
// str → STRING, bytes → BYTE_ARRAY, dict and list → JSON. Values of one
// column must be of one kind (None aside), as pyarrow requires.
func parquetColumns(items []Item) ([]parquetColumn, error) {
	kinds := map[string]string{}
	var names []string
	for _, it := range items {
		c, ok := it.Value.(*Columns)
		if !ok {
			return nil, fmt.Errorf("offset %d: the Parquet format writes dict values (a column each), not %s", it.Offset, goKind(it.Value))
		}
		for i, name := range c.Names {
			if name == "_timestamp" || name == "_key" {
				return nil, fmt.Errorf("offset %d: column %q is written by the sink itself", it.Offset, name)
			}
			k := goKind(c.Values[i])
			if k == "None" {
				if _, seen := kinds[name]; !seen {
					kinds[name] = ""
					names = append(names, name)
				}
				continue
			}
			old, seen := kinds[name]
			switch {
			case !seen:
				names = append(names, name)
				kinds[name] = k
			case old == "" || old == k:
				kinds[name] = k
			case (old == "int" && k == "float") || (old == "float" && k == "int"):
				kinds[name] = "float"
			default:
				return nil, fmt.Errorf("offset %d: column %q holds %s and %s values in one batch", it.Offset, name, old, k)
			}
		}
	}
	nodes := map[string]parquet.Node{
		"bool": parquet.Leaf(parquet.BooleanType), "int": parquet.Int(64), "float": parquet.Leaf(parquet.DoubleType),
		"str": parquet.String(), "bytes": parquet.Leaf(parquet.ByteArrayType), "json": parquet.JSON(), "": parquet.String(),
	}
	cols := make([]parquetColumn, len(names))
	for i, name := range names {
		cols[i] = parquetColumn{name: name, node: nodes[kinds[name]], kind: kinds[name]}
	}
	return cols, nil
}

func goKind(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	}
	return "json"
}

// parquetRow is an item's row of width columns, its values in the
// schema's column order (ts and key: the places of _timestamp and _key).
func parquetRow(it Item, width, ts, key int, cols map[string]*parquetColumn) (parquet.Row, error) {
	row := make(parquet.Row, width)
	row[ts] = parquet.Int64Value(it.Timestamp).Level(0, 0, ts)
	row[key] = parquet.ByteArrayValue([]byte(it.Key.(string))).Level(0, 0, key)
	for _, c := range cols {
		row[c.index] = parquet.NullValue().Level(0, 0, c.index)
	}
	v := it.Value.(*Columns)
	for i, name := range v.Names {
		x, c := v.Values[i], cols[name]
		if x == nil {
			continue
		}
		var pv parquet.Value
		switch x := x.(type) {
		case bool:
			pv = parquet.BooleanValue(x)
		case int64:
			pv = parquet.Int64Value(x)
			if c.kind == "float" {
				pv = parquet.DoubleValue(float64(x))
			}
		case float64:
			pv = parquet.DoubleValue(x)
		case string:
			pv = parquet.ByteArrayValue([]byte(x))
		case []byte:
			pv = parquet.ByteArrayValue(x)
		default:
			js, err := appendJSON(nil, x)
			if err != nil {
				return nil, fmt.Errorf("offset %d: %s: %w", it.Offset, name, err)
			}
			pv = parquet.ByteArrayValue(js)
		}
		row[c.index] = pv.Level(0, 1, c.index)
	}
	return row, nil
}
