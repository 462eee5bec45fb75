package api

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/views"
)

// TestViewsAPI: saved views through the API — create, list (own and
// shared), pin, edit and delete, with the permission errors a non-owner
// and an auditor get, and bad input answered as problem details.
func TestViewsAPI(t *testing.T) {
	env := newPatientEnv(t, nil)
	var mine, shared views.View
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/views", `{"name":"My actives","query":"status=active"}`, &mine))
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/views",
		`{"name":"Overdue onboarding","query":"status=onboarding&sort=-created_at","shared":true,"pinned":true}`, &shared))
	assert.True(t, shared.Pinned)
	var practice views.View
	require.Equal(t, 201, env.call(t, actor.RoleAdmin, "POST", "/api/v1/views", `{"name":"Practice churn","query":"status=churned","shared":true}`, &practice))

	var list struct {
		Items []views.View `json:"items"`
	}
	require.Equal(t, 200, env.call(t, actor.RoleAdmin, "GET", "/api/v1/views", "", &list))
	require.Len(t, list.Items, 2, "the admin sees the shared views, not staff's personal one")
	assert.Equal(t, shared.ID, list.Items[0].ID, "by name")
	assert.True(t, list.Items[0].CanEdit, "an admin may edit a shared view")
	assert.False(t, list.Items[0].Pinned)
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/views", "", &list))
	assert.Len(t, list.Items, 3)

	cases := []struct {
		name         string
		role         actor.Role
		method, path string
		body         string
		status       int
		field        string
	}{
		{"no name", actor.RoleStaff, "POST", "/api/v1/views", `{"name":"","query":"status=active"}`, 422, "name"},
		{"bad query", actor.RoleStaff, "POST", "/api/v1/views", `{"name":"x","query":"colour=red"}`, 422, "query"},
		{"unknown field", actor.RoleStaff, "POST", "/api/v1/views", `{"name":"x","filter":"a"}`, 422, ""},
		{"duplicate name", actor.RoleStaff, "POST", "/api/v1/views", `{"name":"my ACTIVES","query":""}`, 409, "name"},
		{"auditor", actor.RoleAuditor, "GET", "/api/v1/views", "", 403, ""},
		{"not owner", actor.RoleAdmin, "PATCH", "/api/v1/views/" + mine.ID, `{"name":"x"}`, 404, ""},
		{"unknown", actor.RoleStaff, "GET", "/api/v1/views/v_000000000000", "", 404, ""},
		{"staff edits the admin's shared view", actor.RoleStaff, "PATCH", "/api/v1/views/" + practice.ID, `{"name":"x"}`, 403, ""},
		{"staff deletes the admin's shared view", actor.RoleStaff, "DELETE", "/api/v1/views/" + practice.ID, "", 403, ""},
		{"admin deletes personal", actor.RoleAdmin, "DELETE", "/api/v1/views/" + mine.ID, "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Problem
			assert.Equal(t, tc.status, env.call(t, tc.role, tc.method, tc.path, tc.body, &p))
			if tc.field != "" {
				require.NotEmpty(t, p.Errors, "%+v", p)
				assert.Equal(t, tc.field, p.Errors[0].Field)
			}
		})
	}

	// The admin pins the shared view for themselves and edits it.
	var v views.View
	require.Equal(t, 200, env.call(t, actor.RoleAdmin, "PATCH", "/api/v1/views/"+shared.ID, `{"pinned":true,"query":"status=onboarding"}`, &v))
	assert.True(t, v.Pinned)
	assert.Equal(t, "status=onboarding", v.Query)
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/views/"+shared.ID, "", &v))
	assert.Equal(t, "status=onboarding", v.Query, "staff sees the admin's edit")
	assert.True(t, v.Pinned, "staff's own pin is kept")

	require.Equal(t, 204, env.call(t, actor.RoleStaff, "DELETE", "/api/v1/views/"+mine.ID, "", nil))
	assert.Equal(t, 404, env.call(t, actor.RoleStaff, "GET", "/api/v1/views/"+mine.ID, "", nil))
	require.Equal(t, 204, env.call(t, actor.RoleAdmin, "DELETE", "/api/v1/views/"+shared.ID, "", nil))
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/views", "", &list))
	assert.Len(t, list.Items, 1)
}

// TestChatShowsSavedView: "show my view Overdue onboarding" through the
// real chat path answers with the view's query and the same total as
// the patient list for that query; an unknown name is said so.
func TestChatShowsSavedView(t *testing.T) {
	env, _ := newChatEnv(t)
	var v views.View
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/views",
		`{"name":"Overdue onboarding","query":"status=onboarding&created_to=2030-01-01&sort=-created_at"}`, &v))
	var list struct {
		Total int `json:"total"`
	}
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?"+v.Query, "", &list))
	require.Positive(t, list.Total, "the seeded practice has patients in onboarding")

	for _, msg := range []string{"show my view Overdue onboarding", "Open the saved view “overdue ONBOARDING”?"} {
		var r chat.Reply
		require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", `{"message":"`+msg+`","context":{"page":"/dashboard"}}`, &r))
		assert.Equal(t, chat.IntentSavedView, r.Intent, msg)
		assert.Equal(t, v.Query, r.Data["query"])
		assert.EqualValues(t, list.Total, r.Data["total"], "the same total as the list")
		assert.Contains(t, r.Reply, "Overdue onboarding")
		require.NotEmpty(t, r.Actions)
		assert.Equal(t, "/patients?"+v.Query, r.Actions[0].Target)
	}

	var r chat.Reply
	require.Equal(t, 200, env.call(t, actor.RoleAdmin, "POST", "/api/v1/chat", `{"message":"show my view Overdue onboarding"}`, &r))
	assert.Equal(t, chat.IntentSavedView, r.Intent)
	assert.Contains(t, r.Reply, "no saved view", "staff's personal view is not the admin's")
	assert.Nil(t, r.Data["total"])
}
