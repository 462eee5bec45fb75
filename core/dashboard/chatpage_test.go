package dashboard_test

import (
	"net/http"
	"regexp"
	"strings"
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

// navLink is a link of the side menu (the layout's <nav class="sidenav">).
var navLink = regexp.MustCompile(`<li[^>]*><a href="([^"]+)"`)

// Every page of the side menu, for every role, is a page of the chat
// contract: the page id the panel sends from it (sdk.ChatPageOf of its
// path, which the layout publishes as data-page) is one the server keeps
// rather than drops. A new page added to the menu without its id in
// sdk.ChatPages fails here.
func TestEveryMenuPageIsAChatPage(t *testing.T) {
	f := newFixture(t, fixtureOpts{base: "/pfinni"})
	for _, email := range []string{adminEmail, staffEmail, auditorEmail} {
		c := f.client().login(email)
		r := c.get("/help")
		require.Equal(t, http.StatusOK, r.status)
		i := strings.Index(r.body, `class="sidenav"`)
		require.Positive(t, i, "the page has the side menu")
		menu := r.body[i:]
		menu = menu[:strings.Index(menu, "</nav>")]
		links := navLink.FindAllStringSubmatch(menu, -1)
		require.NotEmpty(t, links)
		for _, l := range links {
			path := strings.TrimPrefix(l[1], "/pfinni")
			t.Run(email+path, func(t *testing.T) {
				id := sdk.ChatPageOf(path)
				require.NotEmpty(t, id, "the chat contract has no page id for %s", path)
				assert.Contains(t, sdk.ChatPages(), id)
				if r := c.get(path); r.status == http.StatusOK {
					assert.Contains(t, bodyTag.FindString(r.body), `data-page="`+id+`"`)
				}
			})
		}
	}
}
