package api

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/patient"
)

// TestMergeAPI: a merge through the API moves the identifiers and the
// history, the merged-away id answers 410 with merged_into, both audit
// trails say so, the undo within 24 h restores both records, and after
// 24 h (clock moved on) the undo is refused with 409 and a reason.
func TestMergeAPI(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC).UnixNano())
	env := newPatientEnv(t, nil, patient.WithClock(func() time.Time { return time.Unix(0, now.Load()).UTC() }))
	keep := env.createAnn(t)
	var from patient.Patient
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients",
		`{"mrn":"MRN-2","first_name":"Anabel","last_name":"Leeward","date_of_birth":"1984-02-29","identifiers":[{"system":"urn:oid:1.2.3","value":"777","type":"MR"}],"confirm_duplicate":true}`, &from))
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+from.ID+"/status", `{"to":"active"}`, nil))

	cases := []struct {
		name, path, body string
		role             actor.Role
		status           int
		field            string
	}{
		{"auditor", "/api/v1/patients/" + keep.ID + "/merge", `{"from_id":"` + from.ID + `"}`, actor.RoleAuditor, 403, ""},
		{"no from_id", "/api/v1/patients/" + keep.ID + "/merge", `{}`, actor.RoleStaff, 422, "from_id"},
		{"unknown field", "/api/v1/patients/" + keep.ID + "/merge", `{"from":"x"}`, actor.RoleStaff, 422, ""},
		{"itself", "/api/v1/patients/" + keep.ID + "/merge", `{"from_id":"` + keep.ID + `"}`, actor.RoleStaff, 422, "from_id"},
		{"unknown keep", "/api/v1/patients/p_none/merge", `{"from_id":"` + from.ID + `"}`, actor.RoleStaff, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Problem
			assert.Equal(t, tc.status, env.call(t, tc.role, "POST", tc.path, tc.body, &p))
			if tc.field != "" {
				require.NotEmpty(t, p.Errors)
				assert.Equal(t, tc.field, p.Errors[0].Field)
			}
		})
	}

	var res patient.MergeResult
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+keep.ID+"/merge", `{"from_id":"`+from.ID+`"}`, &res))
	assert.Equal(t, from.ID, res.Merge.FromID)
	assert.Contains(t, res.Keep.Identifiers, patient.Identifier{System: "urn:oid:1.2.3", Value: "777", Type: "MR"})
	assert.Contains(t, res.Keep.Identifiers, patient.Identifier{System: patient.MergedMRNSystem, Value: "MRN-2", Type: "MR"})

	var gone struct {
		Problem
		MergedInto string `json:"merged_into"`
	}
	res2, body := do(t, env.srv.App(), "GET", "/api/v1/patients/"+from.ID, "", env.as(actor.RoleStaff)...)
	require.Equal(t, 410, res2.StatusCode, string(body))
	assert.Equal(t, "application/problem+json", res2.Header.Get("Content-Type"))
	assert.Contains(t, res2.Header.Get("Link"), "/api/v1/patients/"+keep.ID)
	require.NoError(t, json.Unmarshal(body, &gone))
	assert.Equal(t, keep.ID, gone.MergedInto)
	assert.Equal(t, 410, gone.Status)

	var h patient.History
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+keep.ID+"/history", "", &h))
	assert.Len(t, h.StatusChanges, 3, "the other record's status history moved here")

	trail := func(record string) []audit.Event {
		var page audit.Page
		require.Equal(t, 200, env.call(t, actor.RoleAuditor, "GET", "/api/v1/audit?record="+record, "", &page))
		return page.Items
	}
	hasAction := func(events []audit.Event, action string) bool {
		for _, e := range events {
			if e.Action == action && e.Outcome == audit.OutcomeSuccess {
				return true
			}
		}
		return false
	}
	assert.True(t, hasAction(trail(keep.ID), "patient.merge"))
	assert.True(t, hasAction(trail(from.ID), "patient.merged_into"))

	var merges struct {
		Items []patient.Merge `json:"items"`
	}
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+keep.ID+"/merges", "", &merges))
	require.Len(t, merges.Items, 1)
	assert.True(t, merges.Items[0].Undoable)

	// Undo within 24 hours restores both records.
	now.Add(int64(23 * time.Hour))
	var undo patient.MergeResult
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+keep.ID+"/merge/undo", "", &undo))
	var back patient.Patient
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+from.ID, "", &back))
	assert.Equal(t, patient.StatusActive, back.Status)
	var kept patient.Patient
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+keep.ID, "", &kept))
	assert.Empty(t, kept.Identifiers)
	assert.True(t, hasAction(trail(keep.ID), "patient.unmerge"))
	assert.True(t, hasAction(trail(from.ID), "patient.unmerge"))
	var p Problem
	assert.Equal(t, 409, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+keep.ID+"/merge/undo", `{"merge_id":"`+res.Merge.ID+`"}`, &p))
	assert.Contains(t, p.Detail, "already been undone")

	// Merge again; 24 hours later the undo is refused.
	require.Equal(t, 200, env.call(t, actor.RoleAdmin, "POST", "/api/v1/patients/"+keep.ID+"/merge", `{"from_id":"`+from.ID+`"}`, &res))
	now.Add(int64(24*time.Hour + time.Second))
	p = Problem{}
	assert.Equal(t, 409, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+keep.ID+"/merge/undo", `{"merge_id":"`+res.Merge.ID+`"}`, &p))
	assert.Contains(t, p.Detail, "more than 24 hours ago")
	assert.Equal(t, 410, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+from.ID, "", nil), "a refused undo changes nothing")
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients/"+keep.ID+"/merge/undo", `{"merge_id":1}`, nil))
}
