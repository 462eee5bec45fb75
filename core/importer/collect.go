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
// through a limit, whatever its header claims, so a zip bomb costs at
// most maxBytes per entry and ArchiveMaxTotal per archive.
const (
	// ArchiveMaxEntries is the most entries an archive may hold.
	ArchiveMaxEntries = 10000
	// ArchiveMaxRatio is the highest compression ratio accepted for an
	// entry larger than 1 MiB (XML compresses about 10:1; bombs 1000:1).
	ArchiveMaxRatio = 200
)

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
// content) by its entries; other inputs pass through.
func ExpandInputs(ins []Input, maxBytes int64) []Input {
	var out []Input
	for _, in := range ins {
		if in.Refused == "" && (isZipData(in.Data) || strings.EqualFold(path.Ext(in.Name), ".zip")) {
			out = append(out, ExpandZip(in.Name, in.Data, maxBytes)...)
			continue
		}
		out = append(out, in)
	}
	return out
}

// ExpandZip returns the entries of the zip archive data, each named
// "name/entry/path". It never writes to disk and guards against hostile
// archives: entries whose path is absolute or climbs out of the archive
// (../), links, nested archives, entries larger than maxBytes or
// compressed more than ArchiveMaxRatio:1 are refused with the reason
// (and not read); an archive that cannot be opened, or has more than
// ArchiveMaxEntries entries, becomes one refused input.
func ExpandZip(name string, data []byte, maxBytes int64) []Input {
	if int64(len(data)) > archiveMax(maxBytes) {
		return []Input{{Name: name, Size: int64(len(data)), Refused: tooLarge(int64(len(data)), archiveMax(maxBytes))}}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return []Input{{Name: name, Size: int64(len(data)), Refused: "the file looks like a zip archive but cannot be opened: it is damaged or not a zip file"}}
	}
	if len(zr.File) > ArchiveMaxEntries {
		return []Input{{Name: name, Size: int64(len(data)), Refused: fmt.Sprintf("the archive has %d entries, more than the %d accepted", len(zr.File), ArchiveMaxEntries)}}
	}
	var out []Input
	var total int64
	for _, f := range zr.File {
		entry := name + "/" + safeEntryName(f.Name)
		if f.FileInfo().IsDir() {
			continue
		}
		if reason := refuseEntry(f, maxBytes); reason != "" {
			out = append(out, Input{Name: entry, Size: int64(f.UncompressedSize64), Refused: reason})
			continue
		}
		b, err := readEntry(f, maxBytes)
		switch {
		case errors.Is(err, errEntryTooLarge):
			out = append(out, Input{Name: entry, Size: int64(f.UncompressedSize64), Refused: "the archive entry is larger than its header says and than the limit per document (import_max_bytes); it was not kept"})
			continue
		case err != nil:
			out = append(out, Input{Name: entry, Refused: "the archive entry cannot be read: it is damaged"})
			continue
		}
		total += int64(len(b))
		if total > archiveMax(maxBytes)*5 {
			out = append(out, Input{Name: entry, Size: int64(len(b)), Refused: "the archive expands to more than the total accepted per archive; this entry and the rest were not read"})
			break
		}
		out = append(out, Input{Name: entry, Data: b, Size: int64(len(b))})
	}
	return out
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
	case f.UncompressedSize64 > 1<<20 && f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > ArchiveMaxRatio:
		return fmt.Sprintf("the archive entry is compressed more than %d:1, as zip bombs are; it was not read", ArchiveMaxRatio)
	}
	return ""
}

var errEntryTooLarge = errors.New("archive entry too large")

func readEntry(f *zip.File, maxBytes int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxBytes {
		return nil, errEntryTooLarge
	}
	return b, nil
}

// IsArchiveName reports whether a file name is that of a zip archive.
func IsArchiveName(name string) bool { return strings.EqualFold(path.Ext(name), ".zip") }
