package store

import (
	"errors"
	"regexp"
	"strings"
)

// Database messages quote the values they refused ("Found 'Jane' for
// field ...", "found `d'1980-02-03T00:00:00Z'`", "record `patient:['Jane',
// 1]` already exists"). Errors are logged and returned to clients, and a
// value may be PHI, so the store never passes a database message on:
// it recognises the kind of failure and writes its own message, which
// names the schema objects involved (fields, indexes, tables, types) and
// never a value. A message it does not recognise is cut before its first
// quoted or numeric part. The original error stays reachable with
// errors.As for code that must decide on it.

// dbMessage is one kind of database failure: pattern matches the
// engine's message, text builds pfinni's from the submatches (schema
// names only).
type dbMessage struct {
	pattern *regexp.Regexp
	text    func(m []string) string
	kind    error // joined into the error's chain for errors.Is; nil for none
}

// name is a schema identifier as the engine writes it in backticks or
// quotes: letters, digits and underscores only, so a quoted value never
// passes for one.
const name = "([A-Za-z_][A-Za-z0-9_]{0,63})"

var dbMessages = []dbMessage{
	{regexp.MustCompile("index `" + name + "` already contains"), func(m []string) string {
		return "unique index `" + m[1] + "` already holds this value"
	}, ErrConflict},
	// The record id may itself be written with backticks or ⟨⟩ around
	// its key ("Database record `t:`k`` already exists").
	{regexp.MustCompile("(?s)record `?" + name + ":.{0,512}? already exists"), func(m []string) string {
		return "a record with this id already exists in table `" + m[1] + "`"
	}, ErrConflict},
	{regexp.MustCompile("(?s)coerce value for field `" + name + "`.*Expected `([a-z<>|, ]{1,64})` but found"), func(m []string) string {
		return "field `" + m[1] + "`: the value is not of type " + m[2]
	}, nil},
	{regexp.MustCompile("(?s)^Found .* for field `" + name + "`, with record `[^`]*`, but field must conform to"), func(m []string) string {
		return "field `" + m[1] + "`: the value fails the field's ASSERT"
	}, nil},
	{regexp.MustCompile("^Found field '" + name + "', but no such field exists for table '" + name + "'"), func(m []string) string {
		return "field `" + m[1] + "` is not defined on table `" + m[2] + "`"
	}, nil},
	{regexp.MustCompile("Could not cast into `([a-z<>|, ]{1,64})`"), func(m []string) string {
		return "a value could not be cast to " + m[1]
	}, nil},
	{regexp.MustCompile(`(?s)^Parse error: .*?--> \[(\d+:\d+)\]`), func(m []string) string {
		return "the query could not be parsed (at " + m[1] + ")"
	}, nil},
	{regexp.MustCompile(`(?i)can be retried|transaction conflict|read or write conflict`), func([]string) string {
		return "transaction conflict: can be retried"
	}, ErrTxConflict},
	{regexp.MustCompile(`not executed due to a failed transaction`), func([]string) string {
		return "not run: another statement of the transaction failed"
	}, nil},
	// THROW in pfinni's own queries: constant markers, no values.
	{regexp.MustCompile(`^An error occurred: (pfinni:[A-Za-z0-9_.:-]{1,64})$`), func(m []string) string {
		return "An error occurred: " + m[1]
	}, nil},
}

// valueStart is where a message's first value may begin: a quote or
// backtick, a bracket or brace, a digit, or a colon (after which engines
// quote what they found).
var valueStart = regexp.MustCompile("[`'\"\\[{(:0-9]")

// describeErr describes every statement error of a (possibly joined)
// client error, in order and without repeats, with the first kind found.
func describeErr(err error) (string, error) {
	parts := []error{err}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			parts = j.Unwrap()
			break
		}
	}
	var texts []string
	var kind error
	seen := map[string]bool{}
	for _, p := range parts {
		text, k := describe(p.Error())
		if kind == nil {
			kind = k
		}
		if !seen[text] {
			seen[text] = true
			texts = append(texts, text)
		}
	}
	return strings.Join(texts, "; "), kind
}

// describe returns pfinni's message for a database message, and the
// sentinel error of its kind (ErrConflict, ErrTxConflict) or nil.
func describe(msg string) (string, error) {
	for _, d := range dbMessages {
		if m := d.pattern.FindStringSubmatch(msg); m != nil {
			return d.text(m), d.kind
		}
	}
	// Unknown: keep the engine's own words up to the first possible
	// value ("Not enough permissions to perform this action" stays whole).
	head := msg
	if loc := valueStart.FindStringIndex(head); loc != nil {
		head = head[:loc[0]]
	}
	head = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(head), ",;-"))
	if head == "" {
		return "the database refused the query", nil
	}
	return "the database refused the query: " + head + " (details withheld: they may quote stored values)", nil
}
