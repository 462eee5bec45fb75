package patients

import (
	"slices"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
)

// Scores; the host routes to the best score at or above its threshold
// (0.5 by default). Data questions with a clear verb beat guidance
// phrasing; guidance phrasing ("how do I", "where can I") lowers them
// below the guide plugin.
const (
	scoreStrong = 0.9
	scoreList   = 0.85
	scoreBare   = 0.75
	scoreWeak   = 0.55
	// scoreFollowUp: a follow-up phrase is about the previous answer.
	scoreFollowUp = 0.8
	scoreGuide    = 0.3
)

var nouns = []string{"patients", "patient", "people", "clients", "client", "records", "persons", "anyone", "everyone", "pts", "folks"}

var listVerbs = []string{"show", "list", "find", "display", "search", "lookup", "look", "view", "give", "pull", "fetch", "get", "which", "who", "see", "locate"}

// statusVerbs are the verbs of a status change; nlu reads the name after
// any of them, so every verb that offers a change also finds the patient.
var statusVerbs = nlu.StatusVerbs()

// imperative reports whether m starts with a status verb ("make Jane Doe
// inactive", "please put him on hold", "can you turn her active"): an
// order, whatever words follow the verb.
func imperative(m nlu.Message) bool {
	ws := m.Norm
	for len(ws) > 0 && (ws[0] == "please" || ws[0] == "pls" || ws[0] == "can" || ws[0] == "could" || ws[0] == "would" || ws[0] == "you" || ws[0] == "kindly") {
		ws = ws[1:]
	}
	return len(ws) > 0 && slices.Contains(statusVerbs, ws[0])
}

// IsFollowUp reports whether m refers to the previous answer's patients:
// "of them/those/these", or a pronoun ("them", "those", "ones") with no
// patient noun of its own.
func IsFollowUp(m nlu.Message) bool {
	if m.AnyPhrase("of them", "of those", "of these") {
		return true
	}
	return !m.Has(nouns...) && m.Has("them", "those", "these", "ones")
}

// classify returns the intent and score of a message.
func classify(m nlu.Message, q nlu.Query) (string, float64) {
	guide := m.AnyPhrase("how do i", "how can i", "how to", "where can i", "where do i", "where is", "what does", "what is", "what are",
		"what do", "explain", "why", "how does", "help me", "can you explain", "tell me about", "should i", "can i", "is it ok",
		"am i allowed", "are we allowed", "best practice", "best practices") || m.Has("should")
	stNamed := len(q.Statuses) > 0
	// Status changes: "mark this patient as active", "activate patient X",
	// "change the status to inactive", "churn this patient".
	if !guide && (stNamed || m.Has("activate", "deactivate", "reactivate")) {
		if m.Has(statusVerbs...) && (m.Has("status", "as", "to") || m.Has("this", "him", "her", "them", "patient") || imperative(m)) && !m.Has("how", "many", "show", "list") {
			return IntentSetStatus, scoreStrong
		}
		if (m.Has("activate", "deactivate", "reactivate") || (m.Norm[0] == "churn")) && (m.Has("this", "him", "her", "patient") || q.Name != "") {
			return IntentSetStatus, scoreStrong
		}
	}
	noun := m.Has(nouns...)
	who := m.Has("who", "whose") // "who left us?": a noun only with a filter
	filters := q.Filters()
	count := m.AnyPhrase("how many", "number of", "count of", "count the", "total number", "how much") || m.Has("count")
	// A follow-up to the previous answer: "only the active ones", "how
	// many of them are over 65", "show them" (the host passes the
	// previous filter to Handle).
	if !guide && IsFollowUp(m) {
		if count {
			return IntentCount, scoreFollowUp
		}
		return IntentList, scoreFollowUp
	}
	// A lookup of one patient: "pull up the record for <name>", "open
	// the chart of <name>", "<name>'s file", or a lone name.
	if !guide && !count && q.Name != "" {
		if m.Has("record", "records", "chart", "file", "profile", "details", "info", "information") || m.AnyPhrase("pull up", "bring up", "look up") || m.Has("open", "find", "lookup", "search", "locate") {
			return IntentList, scoreList
		}
		if q.LoneName {
			return IntentList, scoreWeak
		}
	}
	if m.Has("per", "each", "weekly", "monthly", "trend", "trends", "trending", "breakdown", "rate", "summary", "overview", "backlog", "stuck", "growth", "statistics", "stats", "chart", "insights", "insight") {
		// insights territory: let intent-insights take it
		if count && filters > 0 && !m.Has("per", "trend", "trends", "breakdown", "rate", "chart") {
			return IntentCount, scoreWeak
		}
		return "", 0
	}
	if guide && !count {
		if noun && filters > 0 && m.Has(listVerbs...) && !m.AnyPhrase("where can i", "where do i", "how do i", "how can i", "how to") {
			return IntentList, scoreList
		}
		if noun || filters > 0 {
			return IntentList, scoreGuide
		}
		return "", 0
	}
	switch {
	case count && (noun || filters > 0):
		return IntentCount, scoreStrong
	case m.Has(listVerbs...) && (noun || filters > 0):
		return IntentList, scoreList
	case who && filters > 0:
		return IntentList, scoreList
	case noun && filters > 0:
		return IntentList, scoreBare
	case filters >= 2 || (filters == 1 && (q.BirthdayDays > 0 || len(q.Missing) > 0 || q.AgeMin != nil || q.AgeMax != nil)):
		return IntentList, scoreBare
	case noun && (m.Has("all", "every", "our", "my") || m.Len() <= 2):
		return IntentList, scoreWeak
	}
	return "", 0
}
