package patients

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// ListPath is the patient list page; its query parameters are the API's
// list filters.
const ListPath = "/patients"

// Values turns q into the patient list's query parameters.
func Values(q nlu.Query) url.Values {
	v := url.Values{}
	if len(q.Statuses) > 0 {
		v.Set(sdk.FilterStatus, strings.Join(q.Statuses, ","))
	}
	if q.Provider != nil {
		v.Set(sdk.FilterProvider, q.Provider.Term.ID)
	}
	if q.Name != "" {
		v.Set(sdk.FilterText, q.Name)
	}
	if q.City != nil {
		v.Set(sdk.FilterCity, q.City.Term.Name)
	} else if q.CityPhrase != "" {
		v.Set(sdk.FilterCity, q.CityPhrase)
	}
	if q.BirthdayDays > 0 {
		v.Set(sdk.FilterBirthdayWithinDays, strconv.Itoa(q.BirthdayDays))
	}
	if q.Date != nil {
		prefix := map[string]string{nlu.FieldCreated: "created", nlu.FieldUpdated: "updated", nlu.FieldStatusChanged: "status_changed"}[q.DateField]
		if prefix != "" {
			if !q.Date.From.IsZero() {
				v.Set(prefix+"_from", q.Date.From.Format(time.DateOnly))
			}
			if !q.Date.To.IsZero() {
				v.Set(prefix+"_to", q.Date.To.Format(time.DateOnly))
			}
		}
	}
	if len(q.Missing) > 0 {
		v.Set(sdk.FilterMissing, strings.Join(q.Missing, ","))
	}
	if q.AgeMin != nil {
		v.Set(sdk.FilterAgeMin, strconv.Itoa(max(*q.AgeMin, 0)))
	}
	if q.AgeMax != nil {
		v.Set(sdk.FilterAgeMax, strconv.Itoa(max(*q.AgeMax, 0)))
	}
	if q.Sort != "" {
		v.Set(sdk.FilterSort, q.Sort)
	}
	if q.Limit > 0 {
		v.Set(sdk.FilterLimit, strconv.Itoa(q.Limit))
	}
	return v
}

// Describe says in words what q selects, without the count: "active
// patients of Dr. Emily Chen in Springfield aged 61 or older". The word
// "patients" is written as the placeholder {patients}, which the host
// makes singular or plural.
func Describe(q nlu.Query) string {
	var b strings.Builder
	if len(q.Statuses) > 0 {
		b.WriteString(joinOr(q.Statuses) + " ")
	}
	b.WriteString("{patients}")
	if q.Name != "" {
		fmt.Fprintf(&b, " matching %q", q.Name)
	}
	if q.Provider != nil {
		b.WriteString(" of " + q.Provider.Term.Name)
	} else if q.ProviderPhrase != "" {
		fmt.Fprintf(&b, " of provider %q", q.ProviderPhrase)
	}
	if q.City != nil {
		b.WriteString(" in " + q.City.Term.Name)
	} else if q.CityPhrase != "" {
		b.WriteString(" in " + q.CityPhrase)
	}
	switch {
	case q.AgeMin != nil && q.AgeMax != nil && *q.AgeMin == *q.AgeMax:
		fmt.Fprintf(&b, " aged %d", *q.AgeMin)
	case q.AgeMin != nil && q.AgeMax != nil:
		fmt.Fprintf(&b, " aged %d to %d", *q.AgeMin, *q.AgeMax)
	case q.AgeMin != nil:
		fmt.Fprintf(&b, " aged %d or older", *q.AgeMin)
	case q.AgeMax != nil:
		fmt.Fprintf(&b, " aged %d or younger", max(*q.AgeMax, 0))
	}
	if len(q.Missing) > 0 {
		b.WriteString(" without " + joinAnd(q.Missing))
	}
	if q.BirthdayDays > 0 {
		if q.BirthdayDays == 1 {
			b.WriteString(" with a birthday today")
		} else {
			fmt.Fprintf(&b, " with a birthday in the next %d days", q.BirthdayDays)
		}
	}
	if q.Date != nil {
		verb := map[string]string{nlu.FieldCreated: "added", nlu.FieldUpdated: "updated", nlu.FieldStatusChanged: "whose status changed"}[q.DateField]
		b.WriteString(" " + verb + " " + describeRange(q.Date))
	}
	if q.Sort != "" {
		b.WriteString(", " + sortWords[q.Sort])
	}
	return b.String()
}

var sortWords = map[string]string{
	"-created_at": "newest first", "created_at": "oldest records first", "-updated_at": "most recently updated first",
	"date_of_birth": "oldest first", "-date_of_birth": "youngest first", "last_name": "by last name",
	"first_name": "by first name", "birthday": "next birthday first", "status": "by status", "mrn": "by MRN",
}

func describeRange(d *nlu.DateExpr) string {
	f, t := d.From.Format(time.DateOnly), d.To.Format(time.DateOnly)
	switch {
	case d.From.IsZero():
		return "before " + d.To.AddDate(0, 0, 1).Format(time.DateOnly)
	case d.To.IsZero():
		return "after " + d.From.AddDate(0, 0, -1).Format(time.DateOnly)
	case f == t:
		return "on " + f
	}
	return "from " + f + " to " + t
}

func joinOr(ss []string) string  { return joinWith(ss, "or") }
func joinAnd(ss []string) string { return joinWith(ss, "and") }

func joinWith(ss []string, conj string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " " + conj + " " + ss[len(ss)-1]
}

// answerQuery builds the reply to a list or count question.
func answerQuery(intent string, q nlu.Query, today time.Time) sdk.IntentReply {
	v := Values(q)
	desc := Describe(q)
	out := sdk.IntentReply{Intent: intent, Data: map[string]any{sdk.DataQuery: v.Encode()}}
	params := map[string]any{}
	for k := range v {
		params[k] = v.Get(k)
	}
	target := ListPath
	if len(v) > 0 {
		target += "?" + v.Encode()
	}
	out.Actions = []sdk.Action{{Type: "navigate", Label: "Open in patient list", Target: target, Params: params}}
	if intent == IntentCount {
		out.Data["view"] = "count"
		out.Reply = "There are {total} " + desc + "."
	} else {
		out.Data["view"] = "list"
		if q.Limit > 0 {
			out.Data["top"] = q.Limit
			out.Reply = fmt.Sprintf("Here are the top %d: ", q.Limit) + desc + " ({total} shown)."
		} else {
			out.Reply = "I found {total} " + desc + "."
		}
	}
	if q.ProviderPhrase != "" {
		out.Reply += fmt.Sprintf(" I don't know a provider called %q; check the spelling on the Providers page.", q.ProviderPhrase)
	}
	out.Suggestions = suggestionsFor(q, intent)
	_ = today
	return out
}

// suggestionsFor offers natural follow-ups.
func suggestionsFor(q nlu.Query, intent string) []string {
	var s []string
	if intent == IntentList {
		s = append(s, "how many of them are there?")
	} else {
		s = append(s, "show them")
	}
	if len(q.Statuses) == 0 {
		s = append(s, "only the active ones")
	}
	if q.BirthdayDays == 0 {
		s = append(s, "upcoming birthdays")
	}
	if len(q.Missing) == 0 {
		s = append(s, "patients without insurance")
	}
	return s[:min(len(s), 3)]
}
