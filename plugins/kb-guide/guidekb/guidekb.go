// Package guidekb holds the articles of the kb-guide knowledge module:
// healthcare workflow best practices, explanations of pfinni's features
// and troubleshooting, each citing the guide section it comes from.
package guidekb

import (
	"github.com/pfinni/pfinni/plugins/internal/kb"
	"github.com/pfinni/pfinni/sdk"
)

func guide(section string) sdk.Citation {
	return sdk.Citation{Title: "pfinni user guide: " + section, Source: "docs/chat.md#" + section}
}

// Articles are the module's articles.
var Articles = []sdk.Article{
	{
		ID: "bp-onboarding", Title: "Best practices for onboarding new patients", Topics: []string{"workflow"},
		Summary:   "Collect identity, contact, provider and insurance before the first visit, verify insurance early, and move the patient to active once the first visit is booked; review anyone in onboarding longer than 14 days.",
		Body:      "Start with what identifies the patient (MRN, names, date of birth), then contact details and preferred language, the assigned provider and insurance. Verify eligibility before the visit. Keep onboarding short: the dashboard flags patients stuck for more than 14 days — call them or close them out with a reason.",
		Citations: []sdk.Citation{guide("onboarding")},
	},
	{
		ID: "bp-status-hygiene", Title: "Keeping statuses accurate", Topics: []string{"workflow"},
		Summary:   "Update a patient's status when their situation changes, always give a real reason for churn, and review inactive patients regularly for outreach.",
		Body:      "Accurate statuses make the figures and the assistant's answers right. Churn needs a reason (moved away, switched practice, insurance no longer accepted...), which powers the churn report. Inactive patients are a good outreach list.",
		Citations: []sdk.Citation{guide("statuses")},
	},
	{
		ID: "feat-assistant", Title: "What the assistant can do", Topics: []string{"features"},
		Summary:   "The assistant answers patient questions, summarises trends, guides workflows, explains fields and errors, answers HIPAA questions, and changes a status after you confirm — always with your own permissions.",
		Body:      "It runs offline by default; no patient data leaves pfinni. Its history keeps no names or identifiers. Anything that changes data needs your confirmation and is audited like the same change on the page.",
		Citations: []sdk.Citation{guide("assistant")},
	},
	{
		ID: "feat-search", Title: "Finding patients", Topics: []string{"features"},
		Summary:   "Search by name, MRN, phone or email; typos are tolerated (\"Jonh Smtih\" finds John Smith). Filters narrow by status, provider, birthday, dates, city, age and missing data.",
		Body:      "The patient list keeps its filters in the address, so you can bookmark or share a view. The assistant's answers open the same filtered list.",
		Citations: []sdk.Citation{guide("search")},
	},
	{
		ID: "feat-import", Title: "Importing patients from C-CDA and FHIR", Topics: []string{"features"},
		Summary:   "Admins upload HL7 C-CDA or FHIR XML; records are matched by MRN, so importing a file twice changes nothing, and every record is reported as created, updated, skipped or rejected with a reason.",
		Body:      "Rejected files are kept with their reason. Hostile XML (entity expansion, excessive depth or size) is refused safely.",
		Citations: []sdk.Citation{guide("import")},
	},
	{
		ID: "ts-slow", Title: "Troubleshooting: the app is slow", Topics: []string{"troubleshooting"},
		Summary:   "Reload the page, narrow large lists with filters, and check your network; if everything is slow for everyone, tell your admin — the health page shows whether the database is answering.",
		Body:      "Lists and searches are served from memory and should answer in milliseconds. Persistent slowness usually means the database or network is struggling; admins can check /readyz and the server's metrics.",
		Citations: []sdk.Citation{guide("troubleshooting")},
	},
	{
		ID: "ts-login", Title: "Troubleshooting: I can't log in", Topics: []string{"troubleshooting"},
		Summary:   "Check the email and password (passwords are case-sensitive). After repeated failures the account locks for a few minutes; wait and retry, or ask an admin to reset your password.",
		Body:      "Sessions also end after 15 idle minutes, so you may simply need to sign in again. Admins can reset passwords and re-enable disabled accounts under Admin → Users.",
		Citations: []sdk.Citation{guide("sign-in")},
	},
	{
		ID: "ts-import-rejected", Title: "Troubleshooting: an import was rejected", Topics: []string{"troubleshooting"},
		Summary:   "Open the import's report: each rejected record or file names its reason (missing MRN, invalid date, not a C-CDA/FHIR document). Fix the source and upload it again.",
		Body:      "Files are never lost; rejected documents are kept with their reason for review.",
		Citations: []sdk.Citation{guide("import")},
	},
	{
		ID: "feat-roles", Title: "Roles: admin, staff and auditor", Topics: []string{"features"},
		Summary:   "Staff work with patients and the assistant; admins also manage users, plugins, imports and settings; auditors read the audit trail and change nothing.",
		Body:      "Every API call and every assistant action is checked against your role on the server.",
		Citations: []sdk.Citation{guide("roles")},
	},
}

// Keywords are extra search terms per article.
var Keywords = map[string][]string{
	"bp-onboarding":      {"best practice", "best practices", "onboarding", "new patients", "intake", "checklist"},
	"bp-status-hygiene":  {"best practice", "status", "churn reason", "accurate"},
	"feat-assistant":     {"assistant", "chat", "ai", "features"},
	"feat-search":        {"search", "find", "typo", "filter"},
	"feat-import":        {"import", "ccda", "fhir", "upload", "formats"},
	"ts-slow":            {"slow", "slowness", "performance", "loading", "hangs", "lag"},
	"ts-login":           {"log in", "login", "sign in", "password", "locked", "locked out", "cant", "can't"},
	"ts-import-rejected": {"rejected", "import failed", "import error"},
	"feat-roles":         {"roles", "role", "admin", "staff", "auditor", "permissions"},
}

// Module is the knowledge module.
func Module() *kb.Module { return kb.New(Articles, Keywords) }
