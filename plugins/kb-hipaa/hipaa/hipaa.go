// Package hipaa holds the articles of the kb-hipaa knowledge module:
// HIPAA reminders and guidance for a small practice, written in our own
// words, each citing the sections of 45 CFR it rests on. They are
// reminders, not legal advice.
package hipaa

import (
	"github.com/pfinni/pfinni/plugins/internal/kb"
	"github.com/pfinni/pfinni/sdk"
)

func cfr(section, title string) sdk.Citation {
	return sdk.Citation{Title: title, Source: "45 CFR " + section, URL: "https://www.ecfr.gov/current/title-45/section-" + trimPara(section)}
}

// trimPara turns "164.502(b)" into "164.502" for the eCFR address.
func trimPara(s string) string {
	for i, r := range s {
		if r == '(' {
			return s[:i]
		}
	}
	return s
}

// Articles are the module's articles.
var Articles = []sdk.Article{
	{
		ID: "hipaa-minimum-necessary", Title: "Minimum necessary", Topics: []string{"hipaa"},
		Summary:   "Use, disclose and ask for only the patient information a task really needs — look up one patient rather than browsing lists, and share the fewest fields that do the job.",
		Body:      "The minimum necessary standard asks every workforce member to limit protected health information to what the purpose requires. In pfinni: search for the patient you need instead of scrolling, open a record only for a work reason, share record links rather than copying details, and let the assistant answer with counts where a count is enough. It does not apply to disclosures to the patient or to a provider for treatment.",
		Citations: []sdk.Citation{cfr("164.502(b)", "Minimum necessary standard"), cfr("164.514(d)", "Minimum necessary implementation")},
	},
	{
		ID: "hipaa-phi", Title: "What counts as PHI", Topics: []string{"hipaa"},
		Summary:   "Protected health information is any health or payment information that can identify a person: names, dates such as birth dates, contact details, addresses, record numbers (MRN), insurance ids and similar identifiers.",
		Body:      "PHI is individually identifiable health information held or sent by a covered entity or its business associates, in any form. The de-identification safe harbor lists 18 identifiers — among them names, geographic units smaller than a state, all dates except the year, phone and fax numbers, email addresses, social security numbers, medical record numbers, health plan beneficiary numbers and account numbers. pfinni treats these as PHI: it keeps them out of logs, audit events and the chat history.",
		Citations: []sdk.Citation{cfr("160.103", "Definitions: protected health information"), cfr("164.514(b)", "De-identification safe harbor")},
	},
	{
		ID: "hipaa-audit-controls", Title: "Audit controls", Topics: []string{"hipaa", "audit"},
		Summary:   "Systems holding electronic PHI must record who accessed what and when, and someone must review that activity regularly; pfinni audits every patient read and change and keeps the trail tamper-evident.",
		Body:      "The Security Rule requires hardware, software or procedures that record and examine activity in systems containing ePHI, plus regular review of those records (access reports, security incidents). In pfinni every list, read, change, status change, deletion and sign-in is an audit event with time, user, role, action, record id, outcome and client address — never the PHI itself — chained by hashes so tampering shows. Auditors review it on the Audit pages.",
		Citations: []sdk.Citation{cfr("164.312(b)", "Audit controls"), cfr("164.308(a)(1)", "Security management process: information system activity review")},
	},
	{
		ID: "hipaa-retention", Title: "How long to keep audit logs and policies", Topics: []string{"hipaa", "audit"},
		Summary:   "HIPAA requires its required documentation (policies, procedures, assessments, actions) to be kept for six years; most practices keep audit logs at least as long. State law may require longer.",
		Body:      "The documentation standard says required policies, procedures and records of actions and assessments are retained six years from creation or from when they were last in effect. HIPAA does not name a separate period for audit logs, so keeping them six years is the common, defensible choice. pfinni never deletes audit events through its API.",
		Citations: []sdk.Citation{cfr("164.316(b)(2)", "Documentation: time limit")},
	},
	{
		ID: "hipaa-access-control", Title: "Access control and roles", Topics: []string{"hipaa", "security"},
		Summary:   "Give each person their own login and only the access their job needs; sign out (or let the idle timeout do it) when you leave the screen.",
		Body:      "Access control requires unique user identification, emergency access procedures, automatic logoff and (where reasonable) encryption. The administrative safeguards add workforce security and information access management: access is authorized by role and removed when someone leaves. In pfinni: staff manage patients, admins also manage users, plugins and imports, auditors only read the audit trail; sessions end after 15 idle minutes.",
		Citations: []sdk.Citation{cfr("164.312(a)(1)", "Access control"), cfr("164.308(a)(3)", "Workforce security"), cfr("164.308(a)(4)", "Information access management")},
	},
	{
		ID: "hipaa-breach", Title: "Breach basics: what to do after a breach", Topics: []string{"hipaa", "breach"},
		Summary:   "Report a suspected breach to your privacy officer right away. Unless a risk assessment shows a low probability of compromise, affected patients must be told without unreasonable delay and within 60 days of discovery; HHS, and for large breaches the media, are notified too.",
		Body:      "A breach is an impermissible use or disclosure that compromises PHI; it is presumed unless a documented risk assessment (nature of the data, who received it, whether it was actually viewed, how far the risk was mitigated) shows a low probability of compromise. Notices go to each affected individual no later than 60 calendar days after discovery; to prominent media when more than 500 residents of a state or jurisdiction are affected; to the HHS Secretary — at once for 500 or more, otherwise in an annual log. Business associates must tell the covered entity. Do not investigate on your own: tell the privacy officer and preserve the audit trail.",
		Citations: []sdk.Citation{cfr("164.402", "Definitions: breach"), cfr("164.404", "Notification to individuals"), cfr("164.406", "Notification to the media"), cfr("164.408", "Notification to the Secretary")},
	},
	{
		ID: "hipaa-communications", Title: "Emailing and texting patients", Topics: []string{"hipaa"},
		Summary:   "You may email or text patients if they agreed after being told the risks, sending only what is needed; patients can ask for communication by another means or address, and the practice must accommodate reasonable requests.",
		Body:      "HIPAA does not forbid email or text messages, but they must be reasonably safeguarded: confirm the address or number, share the minimum necessary, prefer the practice's secure portal or encrypted email, and honor a patient's request for confidential communications. Never send PHI to personal accounts of staff. Transmission security requires guarding ePHI sent over networks.",
		Citations: []sdk.Citation{cfr("164.522(b)", "Confidential communications"), cfr("164.312(e)(1)", "Transmission security"), cfr("164.530(c)", "Safeguards")},
	},
	{
		ID: "hipaa-risk-analysis", Title: "Security risk analysis", Topics: []string{"hipaa", "security"},
		Summary:   "Periodically assess the risks to the ePHI you hold and act on them; document what you found and did.",
		Body:      "The security management process requires an accurate and thorough risk analysis, risk management, a sanction policy and activity review. Repeat the analysis when systems or practices change, and keep the records six years.",
		Citations: []sdk.Citation{cfr("164.308(a)(1)", "Security management process")},
	},
	{
		ID: "hipaa-automatic-logoff", Title: "Automatic logoff and unattended screens", Topics: []string{"hipaa", "security"},
		Summary:   "Sessions end after a period of inactivity so an unattended screen does not expose PHI; lock your screen when you step away.",
		Body:      "Automatic logoff is an addressable implementation specification of access control: electronic sessions end after a predetermined time of inactivity. pfinni signs you out after 15 idle minutes by default.",
		Citations: []sdk.Citation{cfr("164.312(a)(2)", "Access control: automatic logoff")},
	},
}

// Keywords are extra search terms per article.
var Keywords = map[string][]string{
	"hipaa-minimum-necessary": {"minimum necessary", "need to know", "least", "rule", "share", "disclose"},
	"hipaa-phi":               {"phi", "protected health information", "identifier", "identifiers", "counts", "personal", "what is phi"},
	"hipaa-audit-controls":    {"audit", "audit log", "audit trail", "logging", "controls", "review", "who accessed", "record"},
	"hipaa-retention":         {"retention", "keep", "kept", "long", "years", "retain", "audit logs", "store"},
	"hipaa-access-control":    {"access", "have access", "patient records", "roles", "role", "permissions", "login", "records", "authorization"},
	"hipaa-breach":            {"breach", "data breach", "incident", "report", "notify", "notification", "leak", "lost laptop", "after"},
	"hipaa-communications":    {"email", "text", "texting", "sms", "message", "results", "send", "information", "communicate"},
	"hipaa-risk-analysis":     {"risk", "assessment", "analysis", "security"},
	"hipaa-automatic-logoff":  {"logoff", "logout", "timeout", "idle", "screen", "lock"},
}

// Module is the knowledge module.
func Module() *kb.Module { return kb.New(Articles, Keywords) }
