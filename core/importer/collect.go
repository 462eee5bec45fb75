package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Archive limits: a zip is opened in memory and every entry is read
// through a limit, whatever its header claims — at most maxBytes, and at
// most ArchiveMaxRatio times its compressed size — so a zip bomb costs at
// most one entry's limit at a time; all that one archive (ExpandZip) or
// one upload (Upload) may expand to is bounded by ExpandedMax.
const (
	// ArchiveMaxEntries is the most entries an archive may hold.
	ArchiveMaxEntries = 10000
	// ArchiveMaxRatio is the highest compression ratio accepted for an
	// entry (XML compresses about 10:1; bombs 1000:1), checked on the
	// bytes actually read, not on what the header claims.
	ArchiveMaxRatio = 200
	// ratioFloor is what any entry may expand to whatever its ratio
	// (a tiny, very regular document can beat 200:1 honestly).
	ratioFloor = 16 << 10
)

// ExpandedMax is the most document bytes one archive, or one upload with
// all its archives, may bring in: as much as an upload could carry
// uncompressed (20 × import_max_bytes), so compression never multiplies
// what one request costs the database.
func ExpandedMax(maxBytes int64) int64 { return archiveMax(maxBytes) }

// ErrNoFiles means the paths named no file at all.
var ErrNoFiles = errors.New("no files to import")

// Collect reads the documents at paths: files, folders (recursively, in
// name order, skipping hidden files and folders) and .zip archives
// (expanded in memory, see ExpandZip). A file larger than maxBytes is not
// read; its Input says why it was refused. A path that does not exist
// fails the whole call, before anything is imported.
func Collect(paths []string, maxBytes int64) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("collect %q: %w", p, err)
		}
		if !info.IsDir() {
			in, err := readInputs(p, filepath.ToSlash(filepath.Clean(p)), info, maxBytes)
			if err != nil {
				return nil, err
			}
			out = append(out, in...)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if fp != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, fp)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("collect %q: %w", p, err)
		}
		sort.Strings(files)
		for _, fp := range files {
			info, err := os.Stat(fp)
			if err != nil {
				return nil, fmt.Errorf("collect %q: %w", fp, err)
			}
			in, err := readInputs(fp, filepath.ToSlash(filepath.Clean(fp)), info, maxBytes)
			if err != nil {
				return nil, err
			}
			out = append(out, in...)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoFiles
	}
	return out, nil
}

// archiveMax is the most an archive file itself may weigh.
func archiveMax(maxBytes int64) int64 { return 20 * maxBytes }

func readInputs(fp, name string, info fs.FileInfo, maxBytes int64) ([]Input, error) {
	isZip := strings.EqualFold(path.Ext(name), ".zip")
	limit := maxBytes
	if isZip {
		limit = archiveMax(maxBytes)
	}
	if info.Size() > limit {
		return []Input{{Name: name, Size: info.Size(), Refused: tooLarge(info.Size(), limit)}}, nil
	}
	b, err := os.ReadFile(fp)
	if err != nil {
		return nil, fmt.Errorf("collect %q: %w", fp, err)
	}
	if isZip || isZipData(b) {
		return ExpandZip(name, b, maxBytes), nil
	}
	return []Input{{Name: name, Data: b, Size: int64(len(b))}}, nil
}

func isZipData(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

func tooLarge(size, limit int64) string {
	return fmt.Sprintf("the file is %s, larger than the limit of %s per document (import_max_bytes); it was not read or kept", human(size), human(limit))
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// ExpandInputs replaces every archive among ins (a .zip name or zip
// content) by its entries; other inputs pass through. All the archives
// together expand to at most ExpandedMax.
func ExpandInputs(ins []Input, maxBytes int64) []Input {
	var out []Input
	budget := ExpandedMax(maxBytes)
	emit := func(in Input) error {
		out = append(out, in)
		return nil
	}
	for _, in := range ins {
		if isArchive(in) {
			_ = expandZip(in.Name, in.Data, maxBytes, &budget, emit)
			continue
		}
		out = append(out, in)
	}
	return out
}

// isArchive reports whether in is a zip archive to expand (by name or
// content).
func isArchive(in Input) bool {
	return in.Refused == "" && (isZipData(in.Data) || strings.EqualFold(path.Ext(in.Name), ".zip"))
}

// ExpandZip returns the entries of the zip archive data, each named
// "name/entry/path". It never writes to disk and guards against hostile
// archives: entries whose path is absolute or climbs out of the archive
// (../), links, nested archives, entries larger than maxBytes or
// compressed more than ArchiveMaxRatio:1 are refused with the reason
// (and not kept); an archive that cannot be opened, or has more than
// ArchiveMaxEntries entries, becomes one refused input; entries past
// ExpandedMax in all are refused unread.
func ExpandZip(name string, data []byte, maxBytes int64) []Input {
	var out []Input
	budget := ExpandedMax(maxBytes)
	_ = expandZip(name, data, maxBytes, &budget, func(in Input) error {
		out = append(out, in)
		return nil
	})
	return out
}

// expandZip hands each entry of the archive data to emit, one at a
// time, as ExpandZip describes; budget is what may still be expanded
// (shared by all the archives of one upload) and is decreased. It stops
// at emit's first error.
func expandZip(name string, data []byte, maxBytes int64, budget *int64, emit func(Input) error) error {
	if int64(len(data)) > archiveMax(maxBytes) {
		return emit(Input{Name: name, Size: int64(len(data)), Refused: tooLarge(int64(len(data)), archiveMax(maxBytes))})
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return emit(Input{Name: name, Size: int64(len(data)), Refused: "the file looks like a zip archive but cannot be opened: it is damaged or not a zip file"})
	}
	if len(zr.File) > ArchiveMaxEntries {
		return emit(Input{Name: name, Size: int64(len(data)), Refused: fmt.Sprintf("the archive has %d entries, more than the %d accepted", len(zr.File), ArchiveMaxEntries)})
	}
	for _, f := range zr.File {
		entry := name + "/" + safeEntryName(f.Name)
		if f.FileInfo().IsDir() {
			continue
		}
		in := Input{Name: entry, Size: int64(f.UncompressedSize64)}
		if in.Refused = refuseEntry(f, maxBytes); in.Refused == "" {
			if *budget <= 0 {
				in.Refused = "the upload expands to more than the total accepted (20 × import_max_bytes); this entry was not read"
			} else {
				in = readEntryInput(f, entry, min(maxBytes, *budget))
				*budget -= int64(len(in.Data))
			}
		}
		if err := emit(in); err != nil {
			return err
		}
	}
	return nil
}

// readEntryInput reads one entry through its limits.
func readEntryInput(f *zip.File, entry string, maxBytes int64) Input {
	b, err := readEntry(f, maxBytes)
	switch {
	case errors.Is(err, errEntryTooLarge):
		return Input{Name: entry, Size: int64(f.UncompressedSize64), Refused: "the archive entry is larger than its header says and than the limit per document (import_max_bytes), or than what is left of the total accepted per upload; it was not kept"}
	case errors.Is(err, errEntryRatio):
		return Input{Name: entry, Size: int64(f.UncompressedSize64), Refused: fmt.Sprintf("the archive entry expands more than %d:1, as zip bombs do; it was not kept", ArchiveMaxRatio)}
	case err != nil:
		return Input{Name: entry, Refused: "the archive entry cannot be read: it is damaged"}
	}
	return Input{Name: entry, Data: b, Size: int64(len(b))}
}

// safeEntryName keeps a refused entry's name readable without letting it
// look like a path outside the archive.
func safeEntryName(n string) string {
	n = strings.ReplaceAll(n, "\\", "/")
	return strings.TrimLeft(n, "/")
}

func refuseEntry(f *zip.File, maxBytes int64) string {
	n := strings.ReplaceAll(f.Name, "\\", "/")
	switch {
	case strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':'):
		return "the archive entry has an absolute path; entries must stay inside the archive, so it was not read"
	case n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.HasSuffix(n, "/.."):
		return "the archive entry's path climbs out of the archive (../); it was not read"
	case f.Mode()&fs.ModeSymlink != 0 || !f.Mode().IsRegular():
		return "the archive entry is a link or special file, not a document; it was not read"
	case strings.EqualFold(path.Ext(n), ".zip"):
		return "archives inside archives are not opened; extract it and import its files"
	case f.UncompressedSize64 > uint64(maxBytes):
		return tooLarge(int64(f.UncompressedSize64), maxBytes)
	case f.UncompressedSize64 > ratioFloor && f.UncompressedSize64/max(f.CompressedSize64, 1) > ArchiveMaxRatio:
		return fmt.Sprintf("the archive entry is compressed more than %d:1, as zip bombs are; it was not read", ArchiveMaxRatio)
	}
	return ""
}

var (
	errEntryTooLarge = errors.New("archive entry too large")
	errEntryRatio    = errors.New("archive entry compressed beyond the accepted ratio")
)

// readEntry reads f through its limits, whatever its header claims: at
// most maxBytes, and at most ArchiveMaxRatio times its compressed size
// (but always ratioFloor).
func readEntry(f *zip.File, maxBytes int64) ([]byte, error) {
	byRatio := int64(ratioFloor)
	if c := f.CompressedSize64; c < uint64(1<<62)/ArchiveMaxRatio {
		byRatio = max(byRatio, int64(c)*ArchiveMaxRatio)
	} else {
		byRatio = maxBytes
	}
	limit := min(maxBytes, byRatio)
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open archive entry: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read archive entry: %w", err)
	}
	switch {
	case int64(len(b)) <= limit:
		return b, nil
	case limit < maxBytes:
		return nil, errEntryRatio
	default:
		return nil, errEntryTooLarge
	}
}

// IsArchiveName reports whether a file name is that of a zip archive.
func IsArchiveName(name string) bool { return strings.EqualFold(path.Ext(name), ".zip") }
