// Package nlu is the entity understanding shared by pfinni's first-party
// intent plugins: it turns a chat message into words that are
// case-insensitive and typo-tolerant, and recognises patient statuses and
// their synonyms ("current" -> active, "left" -> churned), relative dates
// and ranges ("this month", "last 2 weeks", "next 30 days", "since
// March", "in 2025"), numbers in digits or words ("top five"), ages,
// missing data, sort orders, and names, providers and cities matched with
// typo tolerance against vocabularies the host provides.
//
// It uses the standard library, internal/textmatch (folding and typo
// distance, shared with the core) and the SDK's contract types only, so
// it compiles into WASM guests.
// Everything is a pure function of its inputs (the practice's "today" is
// passed in, never read from a clock), so plugins stay deterministic.
//
// Only plugins under plugins/ may import it (it is internal); the core
// never does. Safe for concurrent use: it holds no mutable state.
package nlu
