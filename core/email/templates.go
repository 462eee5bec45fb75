package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// The templates. Each carries a link and, for the digest, counts: never
// a patient's name, birth date or contact data.
const (
	TemplateInvite = "invite"
	TemplateReset  = "reset"
	TemplateDigest = "digest"
)

// Counts are the figures of a daily digest.
type Counts struct {
	Onboarding     int `json:"onboarding"`      // patients in onboarding
	OnboardingLong int `json:"onboarding_long"` // of them, there longer than the threshold
	Days           int `json:"days"`            // the threshold in days
	Alerts         int `json:"alerts"`          // the recipient's unread alerts (core/alerts)
}

type view struct {
	Link   string
	Counts Counts
	Day    string
}

type tmpl struct {
	subject string
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

func parse(name, subject, text, html string) tmpl {
	return tmpl{subject: subject, text: texttemplate.Must(texttemplate.New(name).Parse(text)),
		html: htmltemplate.Must(htmltemplate.New(name).Parse(html))}
}

var templates = map[string]tmpl{
	TemplateInvite: parse(TemplateInvite, "You are invited to pfinni",
		"An administrator of your practice created a pfinni account for you.\n\n"+
			"Set your password here (the link works once, for 24 hours):\n{{.Link}}\n\n"+
			"If you did not expect this, ignore this message.\n",
		`<p>An administrator of your practice created a pfinni account for you.</p>`+
			`<p><a href="{{.Link}}">Set your password</a> (the link works once, for 24 hours).</p>`+
			`<p>If you did not expect this, ignore this message.</p>`),
	TemplateReset: parse(TemplateReset, "Reset your pfinni password",
		"Someone asked to reset the password of your pfinni account.\n\n"+
			"Choose a new password here (the link works once, for 1 hour):\n{{.Link}}\n\n"+
			"If it was not you, ignore this message: your password stays as it is.\n",
		`<p>Someone asked to reset the password of your pfinni account.</p>`+
			`<p><a href="{{.Link}}">Choose a new password</a> (the link works once, for 1 hour).</p>`+
			`<p>If it was not you, ignore this message: your password stays as it is.</p>`),
	TemplateDigest: parse(TemplateDigest, "pfinni daily summary",
		"pfinni summary for {{.Day}}:\n\n"+
			"- {{.Counts.Onboarding}} patients in onboarding\n"+
			"- {{.Counts.OnboardingLong}} of them for more than {{.Counts.Days}} days\n"+
			"- {{.Counts.Alerts}} unread alerts\n\n"+
			"Open pfinni: {{.Link}}\n\n"+
			"You get this because you turned the daily summary on; turn it off in pfinni under E-mail preferences.\n",
		`<p>pfinni summary for {{.Day}}:</p><ul>`+
			`<li>{{.Counts.Onboarding}} patients in onboarding</li>`+
			`<li>{{.Counts.OnboardingLong}} of them for more than {{.Counts.Days}} days</li>`+
			`<li>{{.Counts.Alerts}} unread alerts</li></ul>`+
			`<p><a href="{{.Link}}">Open pfinni</a></p>`+
			`<p>You get this because you turned the daily summary on; turn it off in pfinni under E-mail preferences.</p>`),
}

// render builds the message of template name for to.
func render(name, to string, v view) (Message, error) {
	t, ok := templates[name]
	if !ok {
		return Message{}, fmt.Errorf("render e-mail: unknown template %q", name)
	}
	var text, html bytes.Buffer
	if err := t.text.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("render e-mail %s: %w", name, err)
	}
	if err := t.html.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render e-mail %s: %w", name, err)
	}
	subject := t.subject
	if name == TemplateDigest && v.Counts.OnboardingLong > 0 {
		subject = fmt.Sprintf("pfinni daily summary: %d patients waiting in onboarding", v.Counts.OnboardingLong)
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// link joins base (https://host/base) and a path with a query.
func link(base, path string, q url.Values) string {
	s := strings.TrimSuffix(base, "/") + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}
