package store

import "github.com/surrealdb/surrealdb.go/surrealcbor"

// Unmarshal decodes CBOR the database sent (a record kept raw, e.g. by a
// backup) into v, with the client's own codec: record ids, datetimes and
// the other SurrealDB tags decode as they do in Query.
func Unmarshal(data []byte, v any) error {
	return surrealcbor.Unmarshal(data, v)
}
