package webhooks

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// Patient events are derived from patient_history, which every patient
// write stores in the same transaction as the record itself: the history
// is the outbox. The patient service's observer publishes a write's
// events at once (PublishPatient); a sweep on the job queue reads the
// history again (Sweep) and publishes whatever a process killed between
// its commit and its publish left out. Both derive one message id from
// the history row and one delivery id from the message and the
// endpoint, so publishing an event twice (the observer and the sweep,
// two instances, two sweeps) stores one delivery and sends one message.

// KindSweep is the job kind of the patient-event sweep.
const KindSweep = "webhooks.sweep"

// sweepCursor is the webhook_sweep record of the patient-event sweep.
const sweepCursor = "patient"

// sweepPage is how many history rows one sweep query reads.
const sweepPage = 500

// historyRow is a patient_history row: record ids, a version, an action
// and field names, never values.
type historyRow struct {
	ID        string    `json:"id"`
	PatientID string    `json:"patient_id"`
	Version   int       `json:"version"`
	Action    string    `json:"action"`
	Fields    []string  `json:"fields"`
	At        time.Time `json:"at"`
}

const historyFields = `record::id(id) AS id, patient_id, version, action, fields, at`

// subscriber is an endpoint that takes deliveries now.
type subscriber struct {
	ID        string    `json:"id"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

// stableID derives an id of this package's shape from key, so that the
// same event always gets the same webhook-id and delivery record.
func stableID(prefix, key string) string {
	h := sha256.Sum256([]byte(key))
	return prefix + hex.EncodeToString(h[:12])
}

// registerSweep makes q run the sweep and schedules it.
func (s *Service) registerSweep(q *jobs.Queue) error {
	if err := q.Register(KindSweep, jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Sweep(ctx)
		return err
	})); err != nil {
		return err
	}
	return q.Schedule("webhooks-sweep", s.opt.SweepSchedule, KindSweep, map[string]any{})
}

// Init records, on a database that has none, that patient events are
// derived from the history from now on (webhook_sweep.since): rows older
// than that were published by an earlier version, with other message
// ids, and are never sent again. core/app calls it at start, before this
// process writes; it is idempotent.
func (s *Service) Init(ctx context.Context) error {
	if err := s.db.Exec(ctx, `INSERT IGNORE INTO webhook_sweep {id: $rid, at: $now, since: $now, updated_at: time::now()} RETURN NONE`,
		map[string]any{"rid": store.RecordID("webhook_sweep", sweepCursor), "now": models.CustomDateTime{Time: s.opt.Now().UTC()}}); err != nil {
		return fmt.Errorf("start webhook sweep cursor: %w", err)
	}
	return nil
}

// since returns the sweep's cursor and start. Without Init, the start is
// one overlap back, so that the write that made this call is included.
func (s *Service) since(ctx context.Context) (cursor, start time.Time, _ error) {
	type row struct {
		At    time.Time `json:"at"`
		Since time.Time `json:"since"`
	}
	rows, err := store.Query[[]row](ctx, s.db, `INSERT IGNORE INTO webhook_sweep {id: $rid, at: $back, since: $back, updated_at: time::now()} RETURN NONE;
		SELECT at, since FROM $rid;`, map[string]any{"rid": store.RecordID("webhook_sweep", sweepCursor),
		"back": models.CustomDateTime{Time: s.opt.Now().Add(-s.opt.SweepOverlap).UTC()}})
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("read webhook sweep cursor: %w", err)
	}
	if len(rows) != 1 {
		return time.Time{}, time.Time{}, errors.New("read webhook sweep cursor: missing")
	}
	return rows[0].At, rows[0].Since, nil
}

// PublishPatient publishes the events of patient id's recent writes
// (within Options.SweepOverlap) that are not published yet. The patient
// service's observer calls it after each committed write.
func (s *Service) PublishPatient(ctx context.Context, id string) error {
	op := "publish events of patient " + id
	_, start, err := s.since(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	from := later(s.opt.Now().Add(-s.opt.SweepOverlap), start)
	rows, err := store.Query[[]historyRow](ctx, s.db, `SELECT `+historyFields+` FROM patient_history
		WHERE patient_id = $id AND at >= $from AND source != 'demo' ORDER BY at`,
		map[string]any{"id": id, "from": models.CustomDateTime{Time: from.UTC()}})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := s.publishHistory(ctx, rows); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Sweep publishes every patient event in the history since the cursor
// (less Options.SweepOverlap) that has no delivery yet, and moves the
// cursor on; it returns how many deliveries it stored. It is safe to run
// on several instances at once.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	const op = "sweep patient events"
	cursor, start, err := s.since(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	from := later(cursor.Add(-s.opt.SweepOverlap), start)
	newest, total := cursor, 0
	for off := 0; ; off += sweepPage {
		rows, err := store.Query[[]historyRow](ctx, s.db, `SELECT `+historyFields+` FROM patient_history
			WHERE at >= $from AND source != 'demo' ORDER BY at LIMIT $limit START $off`,
			map[string]any{"from": models.CustomDateTime{Time: from.UTC()}, "limit": sweepPage, "off": off})
		if err != nil {
			return total, fmt.Errorf("%s: %w", op, err)
		}
		n, err := s.publishHistory(ctx, rows)
		total += n
		if err != nil {
			return total, fmt.Errorf("%s: %w", op, err)
		}
		for _, r := range rows {
			newest = later(newest, r.At)
		}
		if len(rows) < sweepPage {
			break
		}
	}
	if newest.After(cursor) {
		err := s.db.Exec(ctx, `UPDATE $rid SET at = $at, updated_at = time::now() WHERE at < $at RETURN NONE`,
			map[string]any{"rid": store.RecordID("webhook_sweep", sweepCursor), "at": models.CustomDateTime{Time: newest.UTC()}})
		if err != nil {
			return total, fmt.Errorf("%s: move cursor: %w", op, err)
		}
	}
	return total, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// eventOf is the webhook event of a history row (false for actions that
// send none).
func (s *Service) eventOf(ctx context.Context, r historyRow) (Event, bool, error) {
	switch r.Action {
	case "create":
		return PatientEvent(PatientCreated, r.PatientID, r.Version, nil), true, nil
	case "update", "merge":
		return PatientEvent(PatientUpdated, r.PatientID, r.Version, r.Fields), true, nil
	case "unmerge":
		if slices.Contains(r.Fields, "merged_into") { // the merged record is a patient again
			return PatientEvent(PatientCreated, r.PatientID, r.Version, nil), true, nil
		}
		return PatientEvent(PatientUpdated, r.PatientID, r.Version, r.Fields), true, nil
	case "delete", "merged_into":
		return PatientEvent(PatientDeleted, r.PatientID, 0, nil), true, nil
	case "status":
		// The status_change row was written in the same transaction,
		// with the same time: the closest one within a second is it
		// (one patient's status changes are serialized by its version).
		type change struct {
			From string    `json:"from"`
			To   string    `json:"to"`
			At   time.Time `json:"at"`
		}
		scs, err := store.Query[[]change](ctx, s.db, `SELECT from, to, at FROM status_change
			WHERE patient_id = $id AND at >= $lo AND at <= $hi`, map[string]any{"id": r.PatientID,
			"lo": models.CustomDateTime{Time: r.At.Add(-time.Second).UTC()}, "hi": models.CustomDateTime{Time: r.At.Add(time.Second).UTC()}})
		if err != nil {
			return Event{}, false, fmt.Errorf("read status change of %s: %w", r.PatientID, err)
		}
		if len(scs) == 0 {
			return Event{}, false, nil
		}
		best := slices.MinFunc(scs, func(a, b change) int {
			return cmp.Compare(a.At.Sub(r.At).Abs(), b.At.Sub(r.At).Abs())
		})
		return StatusChanged(r.PatientID, r.Version, best.From, best.To), true, nil
	}
	return Event{}, false, nil
}

// planned is one delivery a history row asks for.
type planned struct {
	id, endpoint, msg string
	event             EventType
	body              []byte
}

// publishHistory stores and queues the deliveries rows ask for that do
// not exist yet, and queues again the first attempt of those still
// waiting for it after a minute (a crash between storing and queuing).
func (s *Service) publishHistory(ctx context.Context, rows []historyRow) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	subs, err := store.Query[[]subscriber](ctx, s.db, `SELECT record::id(id) AS id, events, created_at FROM webhook_endpoint
		WHERE paused = false AND disabled = false`, nil)
	if err != nil || len(subs) == 0 {
		return 0, err
	}
	var plan []planned
	for _, r := range rows {
		e, ok, err := s.eventOf(ctx, r)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		msg := stableID("msg_", "patient_history/"+r.ID)
		var body []byte
		for _, sub := range subs {
			if !slices.Contains(sub.Events, string(e.Type)) || sub.CreatedAt.After(r.At) {
				continue
			}
			if body == nil {
				if body, err = json.Marshal(message{Type: e.Type, Timestamp: r.At.UTC(), Data: e.Data}); err != nil {
					return 0, err
				}
			}
			plan = append(plan, planned{id: stableID("dl_", msg+"/"+sub.ID), endpoint: sub.ID, msg: msg, event: e.Type, body: body})
		}
	}
	if len(plan) == 0 {
		return 0, nil
	}
	rids := make([]models.RecordID, len(plan))
	for i, p := range plan {
		rids[i] = store.RecordID("webhook_delivery", p.id)
	}
	type have struct {
		ID          string    `json:"id"`
		Status      string    `json:"status"`
		LastAttempt int       `json:"last_attempt"`
		UpdatedAt   time.Time `json:"updated_at"`
	}
	found, err := store.Query[[]have](ctx, s.db, `SELECT record::id(id) AS id, status, last_attempt, updated_at FROM $rids WHERE id != NONE`,
		map[string]any{"rids": rids})
	if err != nil {
		return 0, fmt.Errorf("read deliveries: %w", err)
	}
	stored := make(map[string]have, len(found))
	for _, h := range found {
		stored[h.ID] = h
	}
	n := 0
	for _, p := range plan {
		h, ok := stored[p.id]
		switch {
		case !ok:
			if err := s.storeDelivery(ctx, p.id, p.endpoint, p.event, p.msg, p.body); err != nil {
				return n, err
			}
			n++
		case h.Status == string(Pending) && h.LastAttempt == 0 && s.opt.Now().Sub(h.UpdatedAt) > time.Minute:
			// Its first attempt may never have been queued; the unique
			// key makes this a no-op when it was.
			if err := s.enqueueAttempt(ctx, p.id, 1, time.Time{}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
