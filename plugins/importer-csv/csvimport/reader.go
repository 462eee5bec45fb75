package csvimport

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// row is one record of the file: its cells and the line it starts on.
type row struct {
	line  int
	cells []string
	err   string // a syntax fault of this row, in plain words; cells are then partial
	over  bool   // the row had more than limits.maxColumns cells; the rest were dropped
}

// limits bound what one document may cost.
type limits struct {
	maxColumns int // cells per row beyond which the rest is dropped (the header: refused)
	maxCell    int // bytes per cell beyond which the cell is cut and the row rejected
	maxRows    int // data rows
}

// decode strips a UTF-8 BOM and returns the text as UTF-8; a file that
// is not valid UTF-8 is read as Windows-1252 (the usual spreadsheet
// export), which the caller reports as a warning.
func decode(doc []byte) (text []byte, reencoded bool) {
	doc = bytes.TrimPrefix(doc, []byte("\xEF\xBB\xBF"))
	if utf8.Valid(doc) {
		return doc, false
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(doc)
	if err != nil {
		return bytes.ToValidUTF8(doc, []byte("\uFFFD")), true
	}
	return out, true
}

// sniffDelimiter picks the delimiter of the header line: the most
// frequent of comma, semicolon and tab outside quotes (comma on a tie).
func sniffDelimiter(text []byte) byte {
	counts := map[byte]int{}
	quoted := false
	for _, c := range text {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, d := range []byte{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// split reads text into rows (RFC 4180 with the usual tolerances: CRLF,
// LF or CR line ends, quoted fields spanning lines, "" inside quotes,
// stray quotes inside unquoted fields kept as text). Blank lines are
// skipped. It never fails: a fault is reported on its row. It stops
// after lim.maxRows+2 rows (the header, the rows, and one to tell the
// caller there were more).
func split(text []byte, delim byte, lim limits) []row {
	var (
		rows   []row
		cur    row
		cell   []byte
		line   = 1
		i      = 0
		n      = len(text)
		inRow  = false
		capped = false
	)
	endCell := func() {
		if len(cur.cells) >= lim.maxColumns {
			cur.over = true
			cell = cell[:0]
			return
		}
		cur.cells = append(cur.cells, string(cell))
		cell = cell[:0]
		capped = false
	}
	add := func(c byte) {
		if len(cell) >= lim.maxCell {
			if !capped && cur.err == "" {
				cur.err = "a value is longer than the limit per cell"
			}
			capped = true
			return
		}
		cell = append(cell, c)
	}
	endRow := func() {
		endCell()
		if !(len(cur.cells) == 1 && len(bytes.TrimSpace([]byte(cur.cells[0]))) == 0 && cur.err == "") {
			rows = append(rows, cur)
		}
		cur, inRow = row{}, false
	}
	for i < n && len(rows) < lim.maxRows+2 {
		if !inRow {
			cur.line, inRow = line, true
		}
		c := text[i]
		switch {
		case c == '"' && len(cell) == 0 && !capped:
			// A quoted field: up to the closing quote.
			i++
			closed := false
			for i < n {
				if text[i] == '"' {
					if i+1 < n && text[i+1] == '"' {
						add('"')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				if text[i] == '\n' {
					line++
				}
				add(text[i])
				i++
			}
			if !closed && cur.err == "" {
				cur.err = "a quoted value is not closed (a \" is missing)"
			}
			// Text after the closing quote, up to the delimiter, is kept.
			for i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r' {
				add(text[i])
				i++
			}
			continue
		case c == delim:
			endCell()
		case c == '\r':
			if i+1 < n && text[i+1] == '\n' {
				i++
			}
			line++
			endRow()
		case c == '\n':
			line++
			endRow()
		default:
			add(c)
		}
		i++
	}
	if inRow {
		endRow()
	}
	return rows
}
