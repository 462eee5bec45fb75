// Package chat is the assistant's bus in the core: it takes a user's
// message with the page it was sent from, lets the enabled intent plugins
// score it (the best claim at or above the registry's threshold answers),
// falls back to the knowledge modules and then to a helpful answer for the
// page, runs the patient-list queries the patient intents return against
// the patient directory as the user, offers actions that change data only
// behind a confirmation that runs through the same services and role
// checks as the pages, and keeps a per-user history from which personal
// identifiers are removed before anything is stored.
//
// Every plugin call has a deadline; a plugin that fails, hangs or
// misbehaves gives a graceful reply, never an error page. Messages fan out
// through SurrealDB: every stored message reaches, through a live query,
// the subscribers (WebSocket tabs) of its user on every core instance that
// shares the database.
//
// An answer is returned before its history rows and its chat.ask audit
// event are stored (the patient reads it made are audited before it):
// History reads this instance's queued rows first, Flush waits for both,
// and Close stores them all, so close the Service before the audit log
// and the store.
//
// Built once by core/app (New) and used by core/api (POST /api/v1/chat,
// GET /api/v1/chat/history, the /ws/chat WebSocket). A Service is safe for
// concurrent use.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/create (CREATE ... CONTENT)
//   - https://surrealdb.com/docs/surrealql/statements/select (SELECT ... WHERE ... ORDER BY ... LIMIT)
//   - https://surrealdb.com/docs/surrealql/statements/update (UPDATE ... MERGE ... WHERE, conditional claim of a pending action)
//   - https://surrealdb.com/docs/surrealql/statements/upsert (UPSERT of tour progress)
//   - https://surrealdb.com/docs/surrealql/statements/live (LIVE SELECT for the fan-out between instances)
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (the user/at index serving the history)
package chat
