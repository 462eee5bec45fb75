package importer

import (
	"context"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
)

// PatientDocuments lists the original documents a patient was imported
// from (without their content), oldest first. Staff and admins only;
// the read is audited as document.read on the patient.
func (s *Service) PatientDocuments(ctx context.Context, patientID string) ([]Document, error) {
	if err := s.authorize(ctx, "document.read", "patient", patientID); err != nil {
		return nil, err
	}
	type row struct {
		Document  string    `json:"document"`
		Name      string    `json:"name"`
		Format    string    `json:"format"`
		Size      int64     `json:"size"`
		CreatedAt time.Time `json:"created_at"`
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, `SELECT document, name, format, size, created_at FROM patient_document
		WHERE patient_id = $p ORDER BY created_at`, map[string]any{"p": patientID})
	if err != nil {
		return nil, fmt.Errorf("list patient documents: %w", err)
	}
	out := make([]Document, len(rows))
	for i, r := range rows {
		out[i] = Document{ID: r.Document, Name: r.Name, Format: r.Format, Size: r.Size, PatientIDs: []string{patientID}, CreatedAt: r.CreatedAt.UTC()}
	}
	if err := s.audit(ctx, "document.read", "patient", patientID, audit.OutcomeSuccess, fmt.Sprintf("list documents=%d", len(out))); err != nil {
		return nil, err
	}
	return out, nil
}

// Document returns a kept original document with its content. Staff and
// admins only; every read is audited as document.read.
func (s *Service) Document(ctx context.Context, id string) (*Document, error) {
	if err := s.authorize(ctx, "document.read", "source_document", id); err != nil {
		return nil, err
	}
	type row struct {
		SHA256     string    `json:"sha256"`
		Name       string    `json:"name"`
		Format     string    `json:"format"`
		Size       int64     `json:"size"`
		Content    []byte    `json:"content"`
		PatientIDs []string  `json:"patient_ids"`
		CreatedAt  time.Time `json:"created_at"`
	}
	var rows []row
	var err error
	if len(id) == 64 {
		rows, err = store.Query[[]row](ctx, s.d.DB, "SELECT sha256, name, format, size, content, created_at FROM $doc", map[string]any{"doc": docID(id)})
	}
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	if len(rows) == 0 {
		if aerr := s.audit(ctx, "document.read", "source_document", id, audit.OutcomeFailure, "not_found"); aerr != nil {
			return nil, aerr
		}
		return nil, fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	r := rows[0]
	if err := s.audit(ctx, "document.read", "source_document", id, audit.OutcomeSuccess, ""); err != nil {
		return nil, err
	}
	r.PatientIDs, err = store.Query[[]string](ctx, s.d.DB, "SELECT VALUE patient_id FROM patient_document WHERE document = $d", map[string]any{"d": id})
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	if r.PatientIDs == nil {
		r.PatientIDs = []string{}
	}
	return &Document{ID: r.SHA256, Name: r.Name, Format: r.Format, Size: r.Size, Content: r.Content, PatientIDs: r.PatientIDs, CreatedAt: r.CreatedAt.UTC()}, nil
}
