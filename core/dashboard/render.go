package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
)

// view is what every page template receives: the layout's fields plus
// the page's own Data.
type view struct {
	Title       string
	Base        string
	User        *auth.User
	CSRF        string
	IdleSeconds int
	CSS, JS     string
	Nav         string // active navigation entry
	Page        string // page name sent to the chat assistant as context
	PatientID   string // selected patient, sent to the chat as context
	Status      int    // the response's HTTP status; the chat panel sends it with the page's last error
	Notice      string // one-line success message
	Data        any
}

func (v view) Role() actor.Role {
	if v.User == nil {
		return ""
	}
	return v.User.Role
}

// parsePages parses layout.html and partials/*.html once, then each
// pages/*.html on a clone of them.
func parsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

// view returns the layout fields for the request.
func (db *Dashboard) view(c *fiber.Ctx, title, nav string, data any) view {
	v := view{
		Title: title, Base: db.base, Nav: nav, Page: nav, Data: data,
		CSS: db.assets.url(db.base, "app.css"), JS: db.assets.url(db.base, "app.js"),
		IdleSeconds: int(db.d.IdleTimeout / time.Second),
	}
	if s, ok := sessionOf(c); ok {
		u := s.User
		v.User, v.CSRF = &u, s.CSRFToken
	}
	if n := c.Query("notice"); n != "" {
		v.Notice = notices[n]
	}
	return v
}

// notices are the fixed success messages a redirect may name (?notice=),
// so no free text travels in URLs.
var notices = map[string]string{
	"created":  "Patient created.",
	"saved":    "Changes saved.",
	"status":   "Status changed.",
	"user":     "User saved.",
	"invited":  "User added; the invitation e-mail is on its way (the link works once, for 24 hours).",
	"plugin":   "Plugin updated.",
	"signout":  "You are signed out.",
	"bulk":     "Bulk status change done.",
	"password": "Password reset.",
	"job":      "Job queued again.",
	"webhook":  "Webhook endpoint updated.",
	"replay":   "Delivery queued again.",
	"reviewed": "Review decision recorded.",
}

// render writes page name with v. An htmx request for a fragment
// (HX-Target naming one of the page's blocks) gets just that block.
func (db *Dashboard) render(c *fiber.Ctx, status int, name string, v view) error {
	t, ok := db.pages[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	block := "layout"
	if c.Get("HX-Request") == "true" && c.Get("HX-History-Restore-Request") != "true" {
		if target := c.Get("HX-Target"); target != "" && t.Lookup("fragment:"+target) != nil {
			block = "fragment:" + target
		}
	}
	v.Status = status
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Vary", "HX-Request, HX-Target")
	return c.Status(status).Send(buf.Bytes())
}

// funcs are the template helpers.
func (db *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"path": func(p string) string { return db.base + p },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("Jan 2, 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("Jan 2, 2006 15:04")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dob": formatDOB,
		"age": func(dob string) string { return ageOf(dob, db.d.Now()) },
		"birthday": func(dob string) string {
			t, err := time.Parse(time.DateOnly, dob)
			if err != nil {
				return ""
			}
			now := db.d.Now()
			next := time.Date(now.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			if next.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)) {
				next = next.AddDate(1, 0, 0)
			}
			return next.Format("Jan 2") + " · turns " + fmt.Sprint(next.Year()-t.Year())
		},
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"num": formatInt,
		"add": func(a, b int) int { return a + b },
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"fld":   newFieldCtl,
		"join":  strings.Join,
		"query": func(v url.Values) string { return v.Encode() },
		"with": func(v url.Values, kv ...string) string {
			out := url.Values{}
			for k, vs := range v {
				out[k] = append([]string(nil), vs...)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == "" {
					out.Del(kv[i])
				} else {
					out.Set(kv[i], kv[i+1])
				}
			}
			return out.Encode()
		},
	}
}

// formatDOB renders YYYY-MM-DD as "Mar 4, 1980"; other text is kept.
func formatDOB(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("Jan 2, 2006")
}

// ageOf is the age in whole years on now's date, or "" when dob is not a date.
func ageOf(dob string, now time.Time) string {
	t, err := time.Parse(time.DateOnly, dob)
	if err != nil {
		return ""
	}
	y := now.Year() - t.Year()
	if now.Month() < t.Month() || (now.Month() == t.Month() && now.Day() < t.Day()) {
		y--
	}
	return fmt.Sprint(y)
}

// formatInt writes n with thousands separators.
func formatInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fieldCtl is one labelled form input with its message, for the
// "input" partial.
type fieldCtl struct {
	Name, ID, Label, Value, Type, Autocomplete, Error, Hint string
	Required, Focus                                         bool
}

// newFieldCtl builds a fieldCtl; errs are the form's per-field
// messages and first the field to focus.
func newFieldCtl(errs map[string]string, first, name, label, value, typ, ac string, required bool) fieldCtl {
	return fieldCtl{Name: name, ID: "f-" + strings.ReplaceAll(name, ".", "-"), Label: label, Value: value, Type: typ,
		Autocomplete: ac, Error: sentence(label, errs[name]), Required: required, Focus: first == name}
}

// sentence puts the field's label before a message that starts in
// lower case ("is required" -> "Last name is required").
func sentence(label, msg string) string {
	if msg == "" || strings.ToLower(msg[:1]) != msg[:1] {
		return msg
	}
	if i := strings.Index(label, " ("); i > 0 {
		label = label[:i]
	}
	return label + " " + msg
}
