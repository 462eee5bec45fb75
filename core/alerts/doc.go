// Package alerts tells the right people what happened: a patient in
// onboarding too long, today's birthdays, a status change by someone
// else on a patient of theirs, an import they started that finished or
// failed, a plugin taken out of service by its breaker, a background job
// that went dead.
//
// Rules run on the durable job queue (core/jobs): event-driven ones are
// enqueued by the patient and importer observers core/app wires; the
// periodic ones are cron schedules, enqueued once per tick across all
// instances. A rule stores one row per target user in the alert table,
// PHI-free by construction (kind, record references, statuses, counts,
// time, read flag); the row's id is a hash of the user and the rule's
// firing key, so a retried job or a second instance stores nothing twice.
// Titles and bodies are composed when shown (Compose), for the user who
// reads them: the patient's name only if that user may read the patient.
//
// Delivery: a live query on the alert table reaches the subscribers
// (the /ws/chat sockets of core/api) of the target user on every core
// instance that shares the database; Since replays what a reconnecting
// socket missed.
//
// Built once by core/app (New, Register; Close on shutdown) and used by
// core/api (GET /api/v1/alerts, the read routes, /ws/chat), core/chat
// ("any alerts?") and core/email (the digest's counts). A Service is safe
// for concurrent use.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/insert (INSERT IGNORE: one alert per user and firing)
//   - https://surrealdb.com/docs/surrealql/statements/select (SELECT ... WHERE ... ORDER BY ... LIMIT)
//   - https://surrealdb.com/docs/surrealql/statements/update (UPDATE ... SET read = true WHERE)
//   - https://surrealdb.com/docs/surrealql/statements/live (LIVE SELECT for delivery across instances)
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (the user/at and user/read indexes)
package alerts
