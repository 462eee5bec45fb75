package chat

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// historyWriter batches history rows: concurrent exchanges share one
// INSERT. While one insert is in flight the next requests queue; the
// writer then takes every queued row at once (up to maxBatch), so under
// load there is about one insert per round trip instead of one per
// question.
//
// Rows are written in the order they were queued. Ask queues its rows
// without waiting (enqueue): the answer does not wait for the history;
// flush waits until every row queued before it is stored (History reads
// this instance's own writes that way), and close stores every queued row
// before it returns, so a shutdown loses none.
type historyWriter struct {
	db  *store.DB
	log *slog.Logger

	mu     sync.RWMutex // guards closed and sends on in
	closed bool
	in     chan writeReq
	done   chan struct{} // closed when run has stored the last batch
}

// writeReq is rows to store; err, when set, receives the outcome (a
// queued write without a waiter logs a failure instead).
type writeReq struct {
	rows []messageRow
	err  chan error
}

// maxBatch caps the rows of one INSERT.
const maxBatch = 500

// batchTimeout bounds the storing of one batch.
const batchTimeout = 30 * time.Second

// errWriterClosed: the Service was closed.
var errWriterClosed = errors.New("chat history writer closed")

func newHistoryWriter(db *store.DB, log *slog.Logger) *historyWriter {
	w := &historyWriter{db: db, log: log, in: make(chan writeReq, 1024), done: make(chan struct{})}
	go w.run()
	return w
}

// write stores rows (in one batch with other callers' rows) and returns
// when they are stored.
func (w *historyWriter) write(ctx context.Context, rows ...messageRow) error {
	req := writeReq{rows: rows, err: make(chan error, 1)}
	if err := w.send(ctx, req); err != nil {
		return err
	}
	select {
	case err := <-req.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueue queues rows and returns at once; a failure to store them is
// logged (without their content).
func (w *historyWriter) enqueue(ctx context.Context, rows ...messageRow) error {
	return w.send(ctx, writeReq{rows: rows})
}

// flush returns when every row queued before it is stored (or failed).
func (w *historyWriter) flush(ctx context.Context) error { return w.write(ctx) }

func (w *historyWriter) send(ctx context.Context, req writeReq) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return errWriterClosed
	}
	select {
	case w.in <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops accepting rows and returns once every queued row is stored
// (or ctx ends).
func (w *historyWriter) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *historyWriter) run() {
	defer close(w.done)
	for {
		r, ok := <-w.in
		if !ok {
			return
		}
		batch := []writeReq{r}
		n := len(r.rows)
		open := true
	drain:
		for n < maxBatch {
			select {
			case r, more := <-w.in:
				if !more {
					open = false
					break drain
				}
				batch = append(batch, r)
				n += len(r.rows)
			default:
				break drain
			}
		}
		w.store(batch, n)
		if !open {
			return
		}
	}
}

// store inserts the rows of batch and answers its waiters.
func (w *historyWriter) store(batch []writeReq, n int) {
	var err error
	if n > 0 {
		rows := make([]messageRow, 0, n)
		for _, r := range batch {
			rows = append(rows, r.rows...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		err = w.db.Exec(ctx, "INSERT INTO chat_message $rows RETURN NONE", map[string]any{"rows": rows})
		cancel()
	}
	lost := 0
	for _, r := range batch {
		if r.err != nil {
			r.err <- err
		} else if err != nil {
			lost += len(r.rows)
		}
	}
	if lost > 0 {
		w.log.Warn("store chat history", "rows", lost, "err", err)
	}
}
