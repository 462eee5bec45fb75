package sdk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/sdk"
)

func TestChatPageOf(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dashboard", sdk.PageDashboard},
		{"patient-form", sdk.PagePatientForm},
		{"/", sdk.PageDashboard},
		{"", ""},
		{"/activity", sdk.PageDashboard},
		{"/patients", sdk.PagePatients},
		{"/patients/", sdk.PagePatients},
		{"/patients?status=active&q=x", sdk.PagePatients},
		{"/patients/new", sdk.PagePatientForm},
		{"/patients/p_123/edit", sdk.PagePatientForm},
		{"/patients/p_123", sdk.PagePatient},
		{"/providers/pr_1", sdk.PageProviders},
		{"/imports", sdk.PageImports},
		{"/audit/verify", sdk.PageAudit},
		{"/admin", sdk.PageUsers},
		{"/admin/users", sdk.PageUsers},
		{"/admin/plugins", sdk.PagePlugins},
		{"/admin/settings", sdk.PageSettings},
		{"/admin/jobs", sdk.PageJobs},
		{"/admin/webhooks?endpoint=w1", sdk.PageWebhooks},
		{"/admin/backups", sdk.PageBackups},
		{"/review", sdk.PageReview},
		{"/pfinni/account/email", sdk.PageEmail},
		{"/account", ""},
		{"/help/api", sdk.PageHelp},
		{"/repo", sdk.PageRepo},
		{"/help#search", sdk.PageHelp},
		{"/pfinni/patients/new", sdk.PagePatientForm},
		{"/pfinni", ""},
		{"https://example.org/pfinni/audit", sdk.PageAudit},
		{"/login", ""},
		{"Jane Doe", ""},
		{"patients-list", ""},
	} {
		assert.Equal(t, tc.want, sdk.ChatPageOf(tc.in), tc.in)
	}
	for _, p := range sdk.ChatPages() {
		assert.Equal(t, p, sdk.ChatPageOf(p), "every id is its own page")
	}
}

func TestChatContractLists(t *testing.T) {
	assert.Len(t, sdk.ChatPages(), 17)
	assert.Equal(t, []string{"page", "patient_id", "selection", "form", "last_error"}, sdk.ChatContextKeys())
	assert.Equal(t, []string{"navigate", "start_tour", "start_import", "set_status", "check_eligibility"}, sdk.ChatActionTypes())
	assert.Equal(t, 4000, sdk.MaxChatMessageBytes)
}
