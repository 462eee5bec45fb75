package dashboard_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// bodyTag is the page's <body ...> start tag, where the layout tells the
// chat panel where the user is.
var bodyTag = regexp.MustCompile(`<body [^>]*>`)

// Every page tells the chat panel its page id — the one the chat contract
// (sdk.ChatPageOf) gives for its path — and, on a patient's pages, the
// patient on screen; a refused page also says its status (the panel sends
// it with the page's last error).
func TestPagesTellTheChatPanelWhereTheUserIs(t *testing.T) {
	f := newFixture(t, fixtureOpts{base: "/pfinni", patients: 10})
	page, err := f.patients.List(staffCtx(f), patient.Filter{Limit: 1})
	require.NoError(t, err)
	pid := page.Items[0].ID
	admin := f.client().login(adminEmail)
	cases := []struct {
		path    string
		patient string
	}{
		{"/", ""},
		{"/patients", ""},
		{"/patients?status=active", ""},
		{"/patients/" + pid, pid},
		{"/patients/new", ""},
		{"/patients/" + pid + "/edit", pid},
		{"/providers", ""},
		{"/imports", ""},
		{"/audit", ""},
		{"/admin/users", ""},
		{"/admin/plugins", ""},
		{"/admin/settings", ""},
		{"/help", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := admin.get(tc.path)
			require.Equal(t, http.StatusOK, r.status)
			tag := bodyTag.FindString(r.body)
			want := sdk.ChatPageOf(tc.path)
			require.NotEmpty(t, want, "the contract knows %s", tc.path)
			assert.Contains(t, tag, `data-page="`+want+`"`)
			if tc.patient != "" {
				assert.Contains(t, tag, `data-patient-id="`+tc.patient+`"`)
			} else {
				assert.NotContains(t, tag, "data-patient-id")
			}
			assert.NotContains(t, tag, "data-status")
		})
	}
	t.Run("refused page", func(t *testing.T) {
		r := f.client().login(staffEmail).get("/admin/users")
		require.Equal(t, http.StatusForbidden, r.status)
		assert.Contains(t, bodyTag.FindString(r.body), `data-status="403"`)
	})
}
