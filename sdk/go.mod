module github.com/pfinni/pfinni/sdk

go 1.26
