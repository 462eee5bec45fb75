package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
)

func TestUsersAPI(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	app := env.srv.App()
	admin := []string{"Authorization", "Bearer " + env.login(t, "admin@x.example").token}
	staffID := env.users[actor.RoleStaff].ID

	tests := []struct {
		name, method, path, body string
		status                   int
		fields                   []string // field errors expected
		check                    func(t *testing.T, body []byte)
	}{
		{name: "list", method: "GET", path: "/api/v1/users", status: 200, check: func(t *testing.T, body []byte) {
			var l struct {
				Items []map[string]any `json:"items"`
				Total int              `json:"total"`
			}
			require.NoError(t, json.Unmarshal(body, &l))
			assert.Equal(t, 3, l.Total)
			require.Len(t, l.Items, 3)
			assert.Equal(t, "admin@x.example", l.Items[0]["email"])
			assert.NotContains(t, l.Items[0], "password_hash")
		}},
		{name: "create", method: "POST", path: "/api/v1/users", status: 201,
			body: `{"email":"New@X.example","name":"New Person","role":"auditor","password":"` + apiTestPassword + `"}`,
			check: func(t *testing.T, body []byte) {
				var u auth.User
				require.NoError(t, json.Unmarshal(body, &u))
				assert.NotEmpty(t, u.ID)
				assert.Equal(t, "new@x.example", u.Email)
				assert.Equal(t, actor.RoleAuditor, u.Role)
			}},
		{name: "duplicate email", method: "POST", path: "/api/v1/users", status: 409,
			body: `{"email":"staff@x.example","name":"Again","role":"staff","password":"` + apiTestPassword + `"}`},
		{name: "invalid fields", method: "POST", path: "/api/v1/users", status: 422,
			body: `{"email":"nope","name":"","role":"boss","password":"short"}`, fields: []string{"email", "name", "password", "role"}},
		{name: "unknown field", method: "POST", path: "/api/v1/users", status: 422,
			body: `{"email":"a@x.example","admin":true}`, fields: []string{"admin"}},
		{name: "wrong type", method: "PATCH", path: "/api/v1/users/" + staffID, status: 422,
			body: `{"disabled":"yes"}`, fields: []string{"disabled"}},
		{name: "get", method: "GET", path: "/api/v1/users/" + staffID, status: 200, check: func(t *testing.T, body []byte) {
			assert.Contains(t, string(body), `"email":"staff@x.example"`)
		}},
		{name: "get missing", method: "GET", path: "/api/v1/users/nobody", status: 404},
		{name: "patch", method: "PATCH", path: "/api/v1/users/" + staffID, status: 200,
			body: `{"name":"Renamed","role":"auditor","disabled":true}`,
			check: func(t *testing.T, body []byte) {
				var u auth.User
				require.NoError(t, json.Unmarshal(body, &u))
				assert.Equal(t, "Renamed", u.Name)
				assert.Equal(t, actor.RoleAuditor, u.Role)
				assert.True(t, u.Disabled)
			}},
		{name: "patch email taken", method: "PATCH", path: "/api/v1/users/" + staffID, status: 409, body: `{"email":"admin@x.example"}`},
		{name: "patch nothing", method: "PATCH", path: "/api/v1/users/" + staffID, status: 400, body: `{}`},
		{name: "patch missing", method: "PATCH", path: "/api/v1/users/nobody", status: 404, body: `{"name":"X"}`},
		{name: "demote last admin", method: "PATCH", path: "/api/v1/users/" + env.users[actor.RoleAdmin].ID, status: 409, body: `{"role":"staff"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, app, tt.method, tt.path, tt.body, admin...)
			require.Equal(t, tt.status, res.StatusCode, string(body))
			if tt.status >= 400 {
				p := problemOfBody(t, body)
				var fields []string
				for _, f := range p.Errors {
					fields = append(fields, f.Field)
				}
				assert.Equal(t, tt.fields, fields)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
	assert.Contains(t, env.audit.actions(), "user.role_change success")
	assert.Contains(t, env.audit.actions(), "user.disable success")
}

func TestUsersAPIIsAdminOnly(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	for _, email := range []string{"staff@x.example", "auditor@x.example"} {
		tok := env.login(t, email).token
		res, _ := do(t, env.srv.App(), "GET", "/api/v1/users", "", "Authorization", "Bearer "+tok)
		assert.Equal(t, 403, res.StatusCode, email)
		res, _ = do(t, env.srv.App(), "PATCH", "/api/v1/users/"+env.users[actor.RoleStaff].ID, `{"role":"admin"}`, "Authorization", "Bearer "+tok)
		assert.Equal(t, 403, res.StatusCode, email)
	}
	res, _ := do(t, env.srv.App(), "GET", "/api/v1/users", "")
	assert.Equal(t, 401, res.StatusCode)
}
