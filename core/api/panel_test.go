package api

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
)

// panelEnv is the chat environment plus two providers' panels made
// through the API, and a provider user signed in.
type panelEnv struct {
	*patientEnv
	t            *testing.T
	provA, provB string
	a1, a2, b1   patient.Patient
	doc          string // bearer token of the provider user of provA
}

// call sends a JSON request with a bearer token and decodes the answer.
func (e *panelEnv) call(token, method, path, body string, out any) int {
	e.t.Helper()
	res, b := do(e.t, e.srv.App(), method, path, body, "Authorization", "Bearer "+token)
	if text, ok := out.(*string); ok {
		*text = string(b)
	} else if out != nil && res.StatusCode < 300 {
		require.NoError(e.t, json.Unmarshal(b, out), string(b))
	}
	return res.StatusCode
}

func newPanelEnv(t *testing.T) *panelEnv {
	t.Helper()
	env, _ := newChatEnv(t)
	e := &panelEnv{patientEnv: env, t: t}
	admin := env.tokens[actor.RoleAdmin]
	for _, p := range []*string{&e.provA, &e.provB} {
		var pr patient.Provider
		require.Equal(t, 201, e.call(admin, "POST", "/api/v1/providers", `{"name":"Dr. Panel"}`, &pr))
		*p = pr.ID
	}
	mk := func(mrn, first, last, dob, provider string) patient.Patient {
		var p patient.Patient
		body := `{"mrn":"` + mrn + `","first_name":"` + first + `","last_name":"` + last + `","date_of_birth":"` + dob + `","sex":"female","provider_id":"` + provider + `"}`
		require.Equal(t, 201, e.call(admin, "POST", "/api/v1/patients", body, &p))
		return p
	}
	e.a1 = mk("PANEL-A1", "Amelia", "Archibaldsen", "1961-01-11", e.provA)
	e.a2 = mk("PANEL-A2", "Bruno", "Bellweather", "1972-02-12", e.provA)
	e.b1 = mk("PANEL-B1", "Cosima", "Quenneville", "1983-03-13", e.provB)
	for _, p := range []patient.Patient{e.a1, e.b1} {
		require.Equal(t, 200, e.call(admin, "POST", "/api/v1/patients/"+p.ID+"/status", `{"to":"active"}`, nil))
	}

	// The admin makes the provider user through the API; the link is required.
	var problem string
	require.Equal(t, 422, e.call(admin, "POST", "/api/v1/users", `{"email":"doc@x.example","name":"Doc","role":"provider","password":"`+apiTestPassword+`"}`, &problem))
	assert.Contains(t, problem, "provider_id")
	var u struct {
		ProviderID string `json:"provider_id"`
		Role       string `json:"role"`
	}
	require.Equal(t, 201, e.call(admin, "POST", "/api/v1/users",
		`{"email":"doc@x.example","name":"Doc","role":"provider","provider_id":"`+e.provA+`","password":"`+apiTestPassword+`"}`, &u))
	assert.Equal(t, e.provA, u.ProviderID)
	var s sessionResponse
	res, b := do(t, e.srv.App(), "POST", "/api/v1/auth/login", `{"email":"doc@x.example","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 200, res.StatusCode, string(b))
	require.NoError(t, json.Unmarshal(b, &s))
	e.doc = s.Token
	return e
}

func pageIDs(p patient.Page) []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestProviderSeesOnlyTheirPanel(t *testing.T) {
	e := newPanelEnv(t)
	staff := e.tokens[actor.RoleStaff]

	t.Run("list and search", func(t *testing.T) {
		var p patient.Page
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients?sort=mrn", "", &p))
		assert.Equal(t, []string{e.a1.ID, e.a2.ID}, pageIDs(p))
		assert.Equal(t, 2, p.Total)
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients?q=Quenneville", "", &p))
		assert.Equal(t, 0, p.Total, "another panel's patient is not found by search")
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients?q=Quenneville", "", &p))
		assert.Equal(t, []string{e.b1.ID}, pageIDs(p), "staff find everybody")
		var problem string
		assert.Equal(t, 400, e.call(e.doc, "GET", "/api/v1/patients?panel=all", "", &problem))
		assert.Contains(t, problem, "providers_see_all")
	})

	t.Run("dashboard figures", func(t *testing.T) {
		var st patient.Stats
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients/stats", "", &st))
		assert.Equal(t, 2, st.Total)
		assert.Equal(t, 1, st.ByStatus[patient.StatusActive])
		var all patient.Stats
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients/stats", "", &all))
		assert.Greater(t, all.Total, 3, "staff see the whole practice (seeded patients too)")
	})

	t.Run("export", func(t *testing.T) {
		var body string
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients/export.csv?sort=mrn", "", &body))
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 3, body)
		assert.Equal(t, "id", rows[0][0])
		assert.Equal(t, []string{e.a1.ID, "PANEL-A1"}, rows[1][:2])
		assert.Equal(t, []string{e.a2.ID, "PANEL-A2"}, rows[2][:2])
		assert.NotContains(t, body, "Quenneville")
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients/export.csv?q=Quenneville", "", &body))
		assert.Contains(t, body, "Quenneville")
	})

	t.Run("another panel's patient is a 404", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/v1/patients/" + e.b1.ID, ""},
			{"PATCH", "/api/v1/patients/" + e.b1.ID, `{"version":2,"language":"fr"}`},
			{"POST", "/api/v1/patients/" + e.b1.ID + "/status", `{"to":"inactive"}`},
			{"GET", "/api/v1/patients/" + e.b1.ID + "/history", ""},
		} {
			var problem string
			assert.Equal(t, 404, e.call(e.doc, c.method, c.path, c.body, &problem), c.method+" "+c.path)
			assert.Contains(t, problem, "patient not found")
			assert.NotContains(t, problem, "Quenneville")
		}
		var p patient.Patient
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients/"+e.b1.ID, "", &p))
		assert.Equal(t, 2, p.Version, "nothing changed behind the 404")
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients/"+e.a2.ID, "", &p))
		require.Equal(t, 200, e.call(e.doc, "PATCH", "/api/v1/patients/"+e.a2.ID, `{"version":1,"language":"de"}`, &p))
		assert.Equal(t, "de", p.Language)
	})

	t.Run("the assistant", func(t *testing.T) {
		ask := func(token, msg string) (r struct {
			Intent string         `json:"intent"`
			Reply  string         `json:"reply"`
			Data   map[string]any `json:"data"`
		}) {
			require.Equal(t, 200, e.call(token, "POST", "/api/v1/chat", `{"message":"`+msg+`"}`, &r))
			return r
		}
		r := ask(e.doc, "how many active patients?")
		assert.Equal(t, "patients.count", r.Intent)
		assert.EqualValues(t, 1, r.Data["total"], r.Reply)
		all := ask(staff, "how many active patients?")
		assert.Greater(t, all.Data["total"], float64(1), all.Reply)

		r = ask(e.doc, "find Cosima Quenneville")
		assert.EqualValues(t, 0, r.Data["total"], r.Reply)
		raw, _ := json.Marshal(r)
		assert.NotContains(t, string(raw), e.b1.ID)
		r = ask(staff, "find Cosima Quenneville")
		raw, _ = json.Marshal(r)
		assert.Contains(t, string(raw), e.b1.ID, "staff find the patient")
	})

	t.Run("staff filter by my panel once linked", func(t *testing.T) {
		var problem string
		assert.Equal(t, 400, e.call(staff, "GET", "/api/v1/patients?panel=mine", "", &problem))
		assert.Contains(t, problem, "linked to a provider")
		var users userList
		require.Equal(t, 200, e.call(e.tokens[actor.RoleAdmin], "GET", "/api/v1/users", "", &users))
		var staffID string
		for _, u := range users.Items {
			if u.Role == actor.RoleStaff {
				staffID = u.ID
			}
		}
		require.Equal(t, 200, e.call(e.tokens[actor.RoleAdmin], "PATCH", "/api/v1/users/"+staffID, `{"provider_id":"`+e.provB+`"}`, nil))
		var p patient.Page
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients?panel=mine", "", &p))
		assert.Equal(t, []string{e.b1.ID}, pageIDs(p))
		var st patient.Stats
		require.Equal(t, 200, e.call(staff, "GET", "/api/v1/patients/stats?panel=mine", "", &st))
		assert.Equal(t, 1, st.Total)
	})

	t.Run("reads are audited like everyone's", func(t *testing.T) {
		var p patient.Patient
		require.Equal(t, 200, e.call(e.doc, "GET", "/api/v1/patients/"+e.a1.ID, "", &p))
		var page struct {
			Items []struct {
				Role, Action, Record, Outcome, Detail string
			} `json:"items"`
		}
		require.Equal(t, 200, e.call(e.tokens[actor.RoleAdmin], "GET", "/api/v1/audit?action=patient.read&record="+e.a1.ID, "", &page))
		require.NotEmpty(t, page.Items)
		assert.Equal(t, "provider", page.Items[0].Role)
		assert.Equal(t, "success", page.Items[0].Outcome)
		require.Equal(t, 200, e.call(e.tokens[actor.RoleAdmin], "GET", "/api/v1/audit?action=patient.read&record="+e.b1.ID+"&outcome=failure", "", &page))
		require.NotEmpty(t, page.Items, "the refused read is audited too")
		assert.Equal(t, "provider", page.Items[0].Role)
	})
}
