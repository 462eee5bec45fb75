package chat

import (
	"context"
	"errors"

	"github.com/pfinni/pfinni/core/store"
)

// historyWriter batches history rows: concurrent exchanges wait together
// for one INSERT. While one insert is in flight the next requests queue;
// the writer then takes every queued row at once (up to maxBatch), so
// under load there is about one insert per round trip instead of one per
// question.
type historyWriter struct {
	db   *store.DB
	in   chan writeReq
	done chan struct{}
}

type writeReq struct {
	rows []messageRow
	err  chan error
}

// maxBatch caps the rows of one INSERT.
const maxBatch = 500

// errWriterClosed: the Service was closed.
var errWriterClosed = errors.New("chat history writer closed")

func newHistoryWriter(ctx context.Context, db *store.DB) *historyWriter {
	w := &historyWriter{db: db, in: make(chan writeReq, 256), done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// write stores rows (in one batch with other callers' rows) and returns
// when they are stored.
func (w *historyWriter) write(ctx context.Context, rows ...messageRow) error {
	req := writeReq{rows: rows, err: make(chan error, 1)}
	select {
	case w.in <- req:
	case <-w.done:
		return errWriterClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *historyWriter) run(ctx context.Context) {
	defer close(w.done)
	for {
		var batch []writeReq
		select {
		case <-ctx.Done():
			return
		case r := <-w.in:
			batch = append(batch, r)
		}
		n := len(batch[0].rows)
	drain:
		for n < maxBatch {
			select {
			case r := <-w.in:
				batch = append(batch, r)
				n += len(r.rows)
			default:
				break drain
			}
		}
		rows := make([]messageRow, 0, n)
		for _, r := range batch {
			rows = append(rows, r.rows...)
		}
		err := w.db.Exec(ctx, "INSERT INTO chat_message $rows RETURN NONE", map[string]any{"rows": rows})
		for _, r := range batch {
			r.err <- err
		}
	}
}
