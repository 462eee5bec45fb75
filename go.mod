module github.com/pfinni/pfinni

go 1.26.8

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gofrs/uuid v4.4.0+incompatible // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.8.9 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

require (
	github.com/fxamacker/cbor/v2 v2.7.0
	github.com/gorilla/websocket v1.5.3
	github.com/pfinni/pfinni/sdk v0.0.0
	github.com/stretchr/testify v1.12.1
	github.com/surrealdb/surrealdb.go v1.3.0
	golang.org/x/text v0.44.0
)

replace github.com/pfinni/pfinni/sdk => ./sdk
